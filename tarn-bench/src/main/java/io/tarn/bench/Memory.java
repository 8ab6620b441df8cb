package io.tarn.bench;

import io.tarn.app.launcher.ServerProcess;
import io.tarn.core.io.Directories;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Workload 7, memory: resident set size of {@code tarn server} (a child process started as {@code ./tarn server} is,
 * 2 GiB heap) idle, and while a Kafka producer writes click events at a fixed rate into a topic that a pipeline lands
 * in the lake. Reports the idle RSS, the median RSS over the second half of the load (steady) and the peak
 * ({@code VmHWM}); the lake must then hold exactly the events sent.
 */
final class Memory {
    static final String NAME = "memory";
    private static final String TOPIC = "bench_memory";
    private static final String TABLE = "bench.memory_load";
    private static final double MIB = 1024 * 1024;

    private final BenchContext context;
    private final int rate;
    private final Duration idle;
    private final Duration load;

    Memory(BenchContext context, int rate, Duration idle, Duration load) {
        this.context = context;
        this.rate = rate;
        this.idle = idle;
        this.load = load;
    }

    List<Run> run() throws Exception {
        return context.repeat(round -> List.of(measure(round)));
    }

    private Run measure(int round) throws Exception {
        Path dataDir = Files.createTempDirectory("tarn-bench-memory");
        Path log = Files.createTempFile("tarn-bench-memory", ".log");
        try (ServerProcess server = ServerProcess.start(dataDir, log, Map.of(), ServerProcess.freePort())) {
            context.register(server);
            Thread.sleep(idle.toMillis());
            long idleRss = server.rssBytes();
            context.createTopic(server.http, TOPIC, 2);
            context.createPipeline(server.http, "bench-memory", BenchContext.landingSql(TABLE, TOPIC));

            List<Long> samples = new ArrayList<>();
            double cpu = server.cpuSeconds();
            long start = System.nanoTime();
            long sent = produce(server, start, samples);
            double seconds = (System.nanoTime() - start) / 1e9;
            BenchContext.awaitAtLeast(
                    "events in the lake",
                    () -> committed(server.http, sent),
                    sent,
                    Duration.ofMinutes(5),
                    Optional::empty);
            // the peak of ingesting, before the check below runs count(DISTINCT) over every row in the same process
            long peakRss = server.peakRssBytes();
            long[] lake = context.countAndDistinct(server.http, TABLE);
            if (lake[0] != sent || lake[1] != sent) {
                throw new IllegalStateException("sent %d events, the lake holds %d rows with %d distinct ids"
                        .formatted(sent, lake[0], lake[1]));
            }
            cpu = server.cpuSeconds() - cpu;
            List<Long> steady = new ArrayList<>(samples.subList(samples.size() / 2, samples.size()));
            steady.sort(null);
            Map<String, Object> extra = new LinkedHashMap<>();
            extra.put("ratePerSecond", rate);
            extra.put("rssIdleMiB", Math.round(idleRss / MIB));
            extra.put("rssSteadyMiB", Math.round(steady.get(steady.size() / 2) / MIB));
            extra.put("rssPeakMiB", Math.round(peakRss / MIB));
            extra.put("rssPeakWithQueryMiB", Math.round(server.peakRssBytes() / MIB));
            return new Run(NAME, "tarn-" + rate + "/s", round, sent, seconds, cpu, extra);
        } finally {
            Directories.deleteRecursively(dataDir);
            Files.deleteIfExists(log);
        }
    }

    /** Sends at {@link #rate} events a second for {@link #load}, sampling RSS every second; returns events sent. */
    private long produce(ServerProcess server, long start, List<Long> samples) throws Exception {
        AtomicReference<Exception> failure = new AtomicReference<>();
        long sent = 0;
        try (KafkaProducer<byte[], byte[]> producer = BenchContext.producer(server.kafka)) {
            long tickNanos = 10_000_000L;
            long perTick = Math.max(1, rate / 100);
            long end = start + load.toNanos();
            long nextSample = start;
            for (long tick = start; tick < end; tick += tickNanos) {
                long wait = tick - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
                for (long i = 0; i < perTick; i++, sent++) {
                    producer.send(new ProducerRecord<>(TOPIC, Events.bytes(sent)), (metadata, e) -> {
                        if (e != null) {
                            failure.compareAndSet(null, e);
                        }
                    });
                }
                if (System.nanoTime() >= nextSample) {
                    samples.add(server.rssBytes());
                    nextSample += 1_000_000_000L;
                }
            }
            producer.flush();
        }
        if (failure.get() != null) {
            throw new IllegalStateException("producing failed", failure.get());
        }
        return sent;
    }

    private long committed(String base, long target) {
        try {
            return Math.min(context.count(base, TABLE), target);
        } catch (IllegalStateException e) {
            return 0;
        }
    }
}
