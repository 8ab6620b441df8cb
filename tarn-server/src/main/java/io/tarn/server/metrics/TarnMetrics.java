package io.tarn.server.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.tarn.core.pipeline.PipelineState;
import io.tarn.core.pipeline.PipelineStatus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Tarn's metrics in Prometheus' text format ({@code GET /metrics}), kept by Micrometer: every name starts with {@code
 * tarn_}. Counters of what HTTP ingest accepted and refused per topic; query latency per engine; per pipeline, what its
 * status shows (records in and out, dead letters, restarts, whether it runs), its lag per topic partition and its
 * checkpoints; per lake table its commits and freshness; per source its lag and retained WAL — read when the metrics
 * are ({@link MetricReadings}); the process's resident memory and the JVM's memory, GC, threads, CPU and uptime.
 */
public final class TarnMetrics implements AutoCloseable {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gc = new JvmGcMetrics();
    private final Supplier<List<PipelineStatus>> pipelines;
    private final MultiGauge recordsIn;
    private final MultiGauge recordsOut;
    private final MultiGauge deadLetters;
    private final MultiGauge restarts;
    private final MultiGauge running;
    private final Supplier<List<Reading>> readings;
    private final Map<String, MultiGauge> measured = new HashMap<>();

    /** A value read at a scrape: the meter (one of {@link #MEASURED}), its tags. */
    public record Reading(String meter, Map<String, String> tags, double value) {}

    /** The meters of {@link Reading}s, with their descriptions. */
    static final Map<String, String> MEASURED = Map.of(
            "tarn.pipeline.lag.records",
            "Records of a topic partition a pipeline has not committed yet (a landing pipeline: to its lake table)",
            "tarn.pipeline.checkpoints.completed",
            "Checkpoints the current job of a pipeline completed",
            "tarn.pipeline.checkpoints.failed",
            "Checkpoints the current job of a pipeline failed",
            "tarn.pipeline.checkpoint.duration.seconds",
            "How long the newest completed checkpoint of a pipeline's job took",
            "tarn.table.commits",
            "Commits to a lake table a pipeline writes (its current snapshot's sequence number)",
            "tarn.table.last.commit.timestamp.seconds",
            "When a lake table was last committed to (Unix time)",
            "tarn.table.freshness.seconds",
            "0 while the pipelines writing a lake table have committed all they read, else the seconds since its last"
                    + " commit",
            "tarn.source.lag.bytes",
            "How far a source's capture is behind its database's log (PostgreSQL WAL, MariaDB binlog)",
            "tarn.source.retained.bytes",
            "Log the database keeps for a source's capture",
            "tarn.source.active",
            "1 while a source's capture is connected to its database, else 0");

    /**
     * @param pipelines the pipelines' statuses, read at each scrape
     * @param readings the other values read at each scrape
     */
    public TarnMetrics(Supplier<List<PipelineStatus>> pipelines, Supplier<List<Reading>> readings) {
        this.pipelines = pipelines;
        this.readings = readings;
        registry.config().meterFilter(new MeterFilter() {
            @Override
            public Meter.Id map(Meter.Id id) {
                return id.getName().startsWith("tarn.") ? id : id.withName("tarn." + id.getName());
            }
        });
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        recordsIn = gauge("tarn.pipeline.records.in", "Records a pipeline's sources read, over all its runs");
        recordsOut = gauge("tarn.pipeline.records.out", "Records a pipeline's sinks received, over all its runs");
        deadLetters = gauge("tarn.pipeline.dead.letters", "Bad records a pipeline committed to its dead letters");
        restarts = gauge("tarn.pipeline.restarts", "Task restarts of a pipeline's current run");
        running = gauge("tarn.pipeline.running", "1 while a pipeline's job runs, else 0");
        MEASURED.forEach((name, description) -> measured.put(name, gauge(name, description)));
        Gauge.builder("tarn.process.resident.memory", TarnMetrics::residentBytes)
                .description("Memory of the Tarn process in RAM (Linux: VmRSS)")
                .baseUnit("bytes")
                .register(registry);
    }

    /** The process's resident set size from /proc/self/status (Linux), or NaN where there is none. */
    private static double residentBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024.0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return Double.NaN;
        }
        return Double.NaN;
    }

    /** Times a query, per engine and outcome. */
    public void queried(String engine, long nanos, boolean failed) {
        Timer.builder("tarn.query")
                .description("Lake SQL queries, from their arrival to their answer (a DuckDB answer: its last row)")
                .tag("engine", engine)
                .tag("outcome", failed ? "failed" : "answered")
                .publishPercentileHistogram()
                .register(registry)
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    private MultiGauge gauge(String name, String description) {
        return MultiGauge.builder(name).description(description).register(registry);
    }

    /** Counts records HTTP ingest wrote to a topic, and those it refused. */
    public void ingested(String topic, long accepted, long refused) {
        counter("tarn.ingest.records", "Records HTTP ingest wrote to a topic", topic)
                .increment(accepted);
        counter("tarn.ingest.refused", "Records HTTP ingest refused (invalid), per topic", topic)
                .increment(refused);
    }

    private Counter counter(String name, String description, String topic) {
        return Counter.builder(name)
                .description(description)
                .tag("topic", topic)
                .register(registry);
    }

    /** The metrics in Prometheus' text format (version 0.0.4). */
    public String scrape() {
        List<PipelineStatus> statuses = pipelines.get();
        recordsIn.register(rows(statuses, s -> s.recordsIn()), true);
        recordsOut.register(rows(statuses, s -> s.recordsOut()), true);
        deadLetters.register(rows(statuses, s -> s.deadLetters()), true);
        restarts.register(rows(statuses, s -> s.restarts()), true);
        running.register(rows(statuses, s -> s.state() == PipelineState.RUNNING ? 1 : 0), true);
        Map<String, List<MultiGauge.Row<?>>> read = new HashMap<>();
        MEASURED.keySet().forEach(meter -> read.put(meter, new ArrayList<>()));
        for (Reading reading : readings.get()) {
            List<Tag> tags = new ArrayList<>();
            reading.tags().forEach((key, value) -> tags.add(Tag.of(key, value)));
            read.get(reading.meter()).add(MultiGauge.Row.of(Tags.of(tags), reading.value()));
        }
        read.forEach((meter, rows) -> measured.get(meter).register(rows, true));
        return registry.scrape();
    }

    private static List<MultiGauge.Row<?>> rows(
            List<PipelineStatus> statuses, java.util.function.ToLongFunction<PipelineStatus> value) {
        return statuses.stream()
                .<MultiGauge.Row<?>>map(
                        s -> MultiGauge.Row.of(Tags.of("pipeline", s.spec().name()), value.applyAsLong(s)))
                .toList();
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }
}
