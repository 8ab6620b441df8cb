package io.tarn.server;

import static io.tarn.server.Fixtures.await;
import static io.tarn.server.Fixtures.number;
import static org.assertj.core.api.Assertions.assertThat;

import io.tarn.app.launcher.ServerProcess;
import io.tarn.lake.LakeCatalog;
import io.tarn.s3proxy.S3Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The crash matrix: SIGKILL (three times), SIGSTOP/SIGCONT and SIGTERM a running server at random moments while
 * events stream in over HTTP and over the Kafka protocol and a pipeline lands them, restart it on the same data dir
 * each time, and require with the {@link Ledger} that the lake holds exactly the records of the log (read through
 * Iceberg's Java reader and through Tarn's query path): none lost, none twice, every acknowledged record among them,
 * and every file of the current snapshot present. Once more with the warehouse, checkpoints and savepoints in an
 * S3-compatible store (S3Proxy).
 */
class RestartIT {
    private static final Map<String, String> ENVIRONMENT = Map.of("TARN_COMPUTE_CHECKPOINT_INTERVAL", "1s");

    @TempDir
    Path dir;

    @Test
    void lakeEqualsLogAcrossKillsPausesAndTerminate() throws Exception {
        Path dataDir = dir.resolve("data");
        long seed = Long.getLong("tarn.crash.seed", System.nanoTime());
        Random random = new Random(seed);
        crashMatrix(
                dataDir,
                "restart-it-server.log",
                ENVIRONMENT,
                seed,
                random,
                plan(random),
                () -> Ledger.readLake(dataDir, "ledger.events"));
    }

    @Test
    void lakeInObjectStorageEqualsLogAcrossKills() throws Exception {
        Path dataDir = dir.resolve("data");
        try (S3Proxy s3 = S3Proxy.start(dir.resolve("s3"), List.of("lake"))) {
            Map<String, String> environment = new HashMap<>(ENVIRONMENT);
            environment.putAll(Fixtures.s3Environment(s3));
            environment.put("TARN_LAKE_WAREHOUSE", "s3://lake/warehouse");
            environment.put("TARN_COMPUTE_STATE_DIR", "s3://lake/state");
            long seed = Long.getLong("tarn.crash.seed", System.nanoTime());
            crashMatrix(
                    dataDir,
                    "restart-it-s3-server.log",
                    environment,
                    seed,
                    new Random(seed),
                    List.of(Disruption.KILL, Disruption.KILL),
                    () -> {
                        try (LakeCatalog lake = LakeCatalog.open(
                                new LakeCatalog.Database("jdbc:sqlite:" + dataDir.resolve("catalog.db"), "", ""),
                                "s3://lake/warehouse",
                                Optional.empty(),
                                List.of(),
                                s3.ioProperties())) {
                            return Ledger.readLake(lake, "ledger.events");
                        }
                    });
            assertThat(s3.bucketDirectory("lake").resolve("state/checkpoints/events-to-lake"))
                    .as("the pipeline's checkpoints, in the bucket")
                    .isDirectory();
        }
    }

    /** How a test reads the lake with Iceberg's own reader. */
    private interface LakeReader {
        Ledger.LakeIds read() throws Exception;
    }

    private static void crashMatrix(
            Path dataDir,
            String logName,
            Map<String, String> environment,
            long seed,
            Random random,
            List<Disruption> plan,
            LakeReader lakeReader)
            throws Exception {
        // Kept in target/ (not the temporary dir) so a failed or slow run can be read afterwards.
        Path log = Path.of("target", logName).toAbsolutePath();
        Files.deleteIfExists(log);
        int kafkaPort = ServerProcess.freePort();
        AtomicReference<Http> current = new AtomicReference<>();
        ServerProcess server = ServerProcess.start(dataDir, log, environment, kafkaPort);
        try (Ledger ledger = new Ledger("events")) {
            Http http = new Http(server.http, server.token);
            current.set(http);
            createTopicAndPipeline(http);
            ledger.sendOverHttp(current::get, 200, Duration.ofMillis(50));
            ledger.sendOverKafka(server.kafka, 100, Duration.ofMillis(50));

            System.out.printf("crash matrix: seed %d, plan %s%n", seed, plan);
            long started = System.nanoTime();
            for (Disruption disruption : plan) {
                long before = lakeCount(current.get());
                await(
                        "rows landing before " + disruption,
                        Duration.ofMinutes(2),
                        () -> lakeCount(current.get()) > before + 500);
                Thread.sleep(random.nextInt(3_000));
                switch (disruption) {
                    case KILL -> {
                        server.kill();
                        server = restart(dataDir, log, environment, kafkaPort, current, "after kill -9");
                    }
                    case TERM -> {
                        // A JVM ended by SIGTERM exits with 128 + 15 after its shutdown hooks ran.
                        assertThat(server.terminate())
                                .as("exit code after SIGTERM")
                                .isEqualTo(143);
                        server = restart(dataDir, log, environment, kafkaPort, current, "after SIGTERM");
                    }
                    case PAUSE -> server.pause(Duration.ofSeconds(5));
                }
                System.out.printf(
                        "%s done after %d s, lake %d rows%n",
                        disruption, (System.nanoTime() - started) / 1_000_000_000, lakeCount(current.get()));
            }
            long beforeDrain = lakeCount(current.get());
            await(
                    "rows landing after the last disruption",
                    Duration.ofMinutes(2),
                    () -> lakeCount(current.get()) > beforeDrain + 500);
            ledger.stop();
            phase("senders stopped", started);

            Set<Long> logged = ledger.readLog(server.kafka, 2);
            Http last = current.get();
            await(
                    "the lake to catch up with the log",
                    Duration.ofMinutes(2),
                    () -> lakeCount(last) == logged.size(),
                    () -> "lake " + lakeCount(last) + " log " + logged.size());
            phase("lake caught up", started);
            assertThat(number(
                            last,
                            "SELECT count(DISTINCT kafka_partition || '/' || kafka_offset) FROM lake.ledger.events"))
                    .as("distinct log positions in the lake")
                    .isEqualTo(logged.size());
            Ledger.LakeIds lake = lakeReader.read();
            Ledger.assertQueryPathAgrees(last, "ledger.events", lake);
            Ledger.Report report = ledger.check(logged, lake);
            System.out.println("ledger: " + report);
            report.assertExactlyOnce();
            assertThat(ledger.acknowledged().stream().filter(id -> id >= Ledger.KAFKA_IDS))
                    .as("ids acknowledged over the Kafka protocol")
                    .isNotEmpty();
            assertThat(last.get("/v1/pipelines/events-to-lake")
                            .body()
                            .path("state")
                            .asText())
                    .isEqualTo("RUNNING");
            phase("lake checked", started);
        } finally {
            server.close();
        }
    }

    static void createTopicAndPipeline(Http http) {
        Fixtures.createIdTopic(http, "events", 2);
        assertThat(http.post(
                                "/v1/pipelines",
                                Map.of(
                                        "name",
                                        "events-to-lake",
                                        "sql",
                                        """
                CREATE DATABASE IF NOT EXISTS lake.ledger;
                CREATE TABLE IF NOT EXISTS lake.ledger.events (id BIGINT, kafka_partition INT, kafka_offset BIGINT);
                INSERT INTO lake.ledger.events SELECT id, kafka_partition, kafka_offset FROM stream.events;
                """))
                        .status())
                .isEqualTo(201);
    }

    private static void phase(String what, long started) {
        System.out.printf("%s after %d s%n", what, (System.nanoTime() - started) / 1_000_000_000);
    }

    /** What happens to the running server in one round of the crash matrix. */
    enum Disruption {
        KILL,
        TERM,
        PAUSE
    }

    /**
     * The CI plan: three SIGKILLs, a SIGSTOP/SIGCONT pause and a SIGTERM, in random order. {@code -Dtarn.crash.rounds=N}
     * draws N random disruptions instead, for long manual runs.
     */
    private static List<Disruption> plan(Random random) {
        Integer rounds = Integer.getInteger("tarn.crash.rounds");
        List<Disruption> plan = new ArrayList<>();
        if (rounds == null) {
            plan.addAll(List.of(Disruption.KILL, Disruption.KILL, Disruption.KILL, Disruption.PAUSE, Disruption.TERM));
            Collections.shuffle(plan, random);
        } else {
            for (int i = 0; i < rounds; i++) {
                plan.add(Disruption.values()[random.nextInt(Disruption.values().length)]);
            }
        }
        return plan;
    }

    private static ServerProcess restart(
            Path dataDir,
            Path log,
            Map<String, String> environment,
            int kafkaPort,
            AtomicReference<Http> current,
            String when)
            throws Exception {
        ServerProcess server = ServerProcess.start(dataDir, log, environment, kafkaPort);
        Http http = new Http(server.http, server.token);
        current.set(http);
        assertThat(http.get("/v1/topics/events").status()).as("topic " + when).isEqualTo(200);
        Fixtures.awaitPipelineRunning(http, "events-to-lake", when);
        return server;
    }

    static long lakeCount(Http http) {
        try {
            return number(http, "SELECT count(*) FROM lake.ledger.events");
        } catch (RuntimeException | AssertionError e) {
            return -1;
        }
    }
}
