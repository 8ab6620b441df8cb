package io.tarn.server.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
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
import java.util.List;
import java.util.function.Supplier;

/**
 * Tarn's metrics in Prometheus' text format ({@code GET /metrics}), kept by Micrometer: every name starts with {@code
 * tarn_}. Counters of what HTTP ingest accepted and refused per topic; per pipeline, what its status shows (records in
 * and out, dead letters, restarts, whether it runs), read when the metrics are; the JVM's memory, GC, threads, CPU and
 * uptime.
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

    /** @param pipelines the pipelines' statuses, read at each scrape */
    public TarnMetrics(Supplier<List<PipelineStatus>> pipelines) {
        this.pipelines = pipelines;
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
