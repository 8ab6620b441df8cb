package io.tarn.bench;

import io.tarn.app.launcher.ServerProcess;
import io.tarn.core.io.Directories;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Workload 6, start and recovery, on {@code tarn server} in a child process with a fresh data directory: the cold
 * start (launch to READY, and to the first row of a new pipeline committed and visible in {@code POST /v1/query})
 * and, under steady HTTP ingest, recovery from {@code kill -9} (to READY again, to the first acknowledged ingest, and
 * to the pipeline's next commit). Afterwards the lake must hold every acknowledged event exactly once.
 */
final class StartRecovery {
    static final String NAME = "start-recovery";
    private static final String TOPIC = "bench_start";
    private static final String TABLE = "bench.startup";
    private static final int BATCH = 100;
    private static final Duration TIMEOUT = Duration.ofMinutes(3);

    private final BenchContext context;
    private final Duration steady;

    StartRecovery(BenchContext context, Duration steady) {
        this.context = context;
        this.steady = steady;
    }

    List<Run> run() throws Exception {
        return context.repeat(round -> List.of(measure(round)));
    }

    private Run measure(int round) throws Exception {
        Path dataDir = Files.createTempDirectory("tarn-bench-start");
        Path log = Files.createTempFile("tarn-bench-start", ".log");
        int kafkaPort = ServerProcess.freePort();
        Sender sender = new Sender();
        ServerProcess server = null;
        try {
            long launched = System.nanoTime();
            server = ServerProcess.start(dataDir, log, Map.of(), kafkaPort);
            context.register(server);
            long firstReady = server.startNanos;
            context.createTopic(server.http, TOPIC, 2);
            context.createPipeline(server.http, "bench-start", BenchContext.landingSql(TABLE, TOPIC));
            sender.base = server.http;
            sender.start();
            String base = server.http;
            BenchContext.awaitAtLeast("first row", () -> Math.min(count(base), 1), 1, TIMEOUT, Optional::empty);
            long firstRow = System.nanoTime() - launched;
            Thread.sleep(steady.toMillis());

            long committedBeforeKill = count(server.http);
            double cpu = server.cpuSeconds();
            long killed = System.nanoTime();
            server.kill();
            server = ServerProcess.start(dataDir, log, Map.of(), kafkaPort);
            long ready = System.nanoTime() - killed;
            context.register(server);
            sender.ackedSince.set(Long.MAX_VALUE);
            sender.base = server.http;
            BenchContext.awaitAtLeast(
                    "ingest after restart",
                    () -> sender.ackedSince.get() == Long.MAX_VALUE ? 0 : 1,
                    1,
                    TIMEOUT,
                    Optional::empty);
            long ingestResumed = sender.ackedSince.get() - killed;
            String restarted = server.http;
            BenchContext.awaitAtLeast(
                    "a commit after restart",
                    () -> Math.min(count(restarted), committedBeforeKill + 1),
                    committedBeforeKill + 1,
                    TIMEOUT,
                    Optional::empty);
            long pipelineResumed = System.nanoTime() - killed;

            sender.stop();
            long acked = sender.acked.get();
            BenchContext.awaitAtLeast(
                    "acknowledged events in the lake",
                    () -> Math.min(count(restarted), acked),
                    acked,
                    TIMEOUT,
                    Optional::empty);
            long[] lake = context.countAndDistinct(restarted, TABLE);
            if (lake[0] != lake[1] || lake[0] > sender.sent.get()) {
                throw new IllegalStateException(
                        "the lake holds %d rows, %d distinct ids; %d events acknowledged, %d sent"
                                .formatted(lake[0], lake[1], acked, sender.sent.get()));
            }
            double seconds = (System.nanoTime() - launched) / 1e9;
            cpu += server.cpuSeconds();
            Map<String, Object> extra = new LinkedHashMap<>();
            extra.put("readyMs", firstReady / 1_000_000);
            extra.put("firstRowMs", firstRow / 1_000_000);
            extra.put("restartReadyMs", ready / 1_000_000);
            extra.put("ingestResumedMs", ingestResumed / 1_000_000);
            extra.put("pipelineResumedMs", pipelineResumed / 1_000_000);
            extra.put("unacknowledged", sender.sent.get() - acked);
            return new Run(NAME, "tarn", round, lake[0], seconds, cpu, extra);
        } finally {
            sender.stop();
            if (server != null) {
                server.close();
            }
            Directories.deleteRecursively(dataDir);
            Files.deleteIfExists(log);
        }
    }

    private long count(String base) {
        try {
            return context.count(base, TABLE);
        } catch (IllegalStateException e) {
            return 0;
        }
    }

    /**
     * Sends batches of click events over HTTP, 20 a second, to whatever server {@link #base} names; a batch whose
     * request fails is not resent (its events may or may not have been written), the next batch has new ids.
     */
    private final class Sender {
        volatile String base;
        final AtomicLong sent = new AtomicLong();
        final AtomicLong acked = new AtomicLong();
        /** When the first batch after the last reset was acknowledged. */
        final AtomicLong ackedSince = new AtomicLong(Long.MAX_VALUE);

        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread = new Thread(this::loop, "bench-start-sender");

        void start() {
            thread.start();
        }

        void stop() throws InterruptedException {
            running.set(false);
            if (thread.isAlive()) {
                thread.join();
            }
        }

        private void loop() {
            while (running.get()) {
                long first = sent.getAndAdd(BATCH);
                StringBuilder body = new StringBuilder("[");
                for (long n = first; n < first + BATCH; n++) {
                    body.append(n > first ? "," : "").append(Events.json(n));
                }
                body.append(']');
                try {
                    HttpResponse<String> response = context.http.send(
                            HttpRequest.newBuilder(URI.create(base + "/v1/topics/" + TOPIC + "/records"))
                                    .header("Content-Type", "application/json")
                                    .header("Authorization", context.authorization(base))
                                    .timeout(Duration.ofSeconds(10))
                                    .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
                    if (response.statusCode() == 200) {
                        acked.addAndGet(BATCH);
                        ackedSince.compareAndSet(Long.MAX_VALUE, System.nanoTime());
                    }
                } catch (IOException e) {
                    // the server is down or restarting: these events are in doubt, the next batch has new ids
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }
}
