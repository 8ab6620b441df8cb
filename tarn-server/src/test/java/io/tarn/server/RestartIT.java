package io.tarn.server;

import static io.tarn.server.Fixtures.await;
import static io.tarn.server.Fixtures.number;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.tarn.lake.LakeCatalog;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The crash matrix: SIGKILL (three times), SIGSTOP/SIGCONT and SIGTERM a running server at random moments while
 * events stream in over HTTP and a pipeline lands them, restart it on the same data dir each time, and require that
 * the lake holds exactly the records of the log (read through Tarn's query path and through Iceberg's Java reader):
 * none lost, none twice, every acknowledged record among them, and every file of the current snapshot present.
 */
class RestartIT {
    private static final Map<String, String> ENVIRONMENT = Map.of("TARN_COMPUTE_CHECKPOINT_INTERVAL", "1s");

    @TempDir
    Path dir;

    @Test
    void lakeEqualsLogAcrossKillsPausesAndTerminate() throws Exception {
        Path dataDir = dir.resolve("data");
        // Kept in target/ (not the temporary dir) so a failed or slow run can be read afterwards.
        Path log = Path.of("target", "restart-it-server.log").toAbsolutePath();
        java.nio.file.Files.deleteIfExists(log);
        AtomicReference<Http> current = new AtomicReference<>();
        Set<Long> acknowledged = ConcurrentHashMap.newKeySet();
        AtomicBoolean sending = new AtomicBoolean(true);
        ServerProcess server = ServerProcess.start(dataDir, log, ENVIRONMENT);
        try {
            Http http = new Http(server.http);
            current.set(http);
            assertThat(http.post(
                                    "/v1/topics",
                                    Map.of(
                                            "name",
                                            "events",
                                            "partitions",
                                            2,
                                            "columns",
                                            List.of(Map.of("name", "id", "type", "BIGINT"))))
                            .status())
                    .isEqualTo(201);
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

            Thread sender = new Thread(() -> send(current, acknowledged, sending), "ledger-sender");
            sender.start();

            long seed = Long.getLong("tarn.crash.seed", System.nanoTime());
            Random random = new Random(seed);
            List<Disruption> plan = plan(random);
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
                        server = restart(dataDir, log, current, "after kill -9");
                    }
                    case TERM -> {
                        // A JVM ended by SIGTERM exits with 128 + 15 after its shutdown hooks ran.
                        assertThat(server.terminate())
                                .as("exit code after SIGTERM")
                                .isEqualTo(143);
                        server = restart(dataDir, log, current, "after SIGTERM");
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
            phase("rows landed after the last disruption", started);
            sending.set(false);
            sender.join();
            phase("sender stopped", started);

            Set<Long> logged = readLog(server.kafka);
            phase("log read", started);
            assertThat(acknowledged).isNotEmpty();
            // AssertJ's containsAll scans linearly (minutes for 10^5 ids); a set difference is instant.
            Set<Long> lost = new HashSet<>(acknowledged);
            lost.removeAll(logged);
            assertThat(lost).as("acknowledged ids missing from the log").isEmpty();
            Http http2 = current.get();
            await(
                    "the lake to catch up with the log",
                    Duration.ofMinutes(2),
                    () -> lakeCount(http2) == logged.size(),
                    () -> "lake " + lakeCount(http2) + " log " + logged.size());
            phase("lake caught up", started);
            JsonNode row = Fixtures.rows(
                            http2,
                            "SELECT count(*), count(DISTINCT id), sum(id), count(DISTINCT kafka_partition || '/' || kafka_offset) FROM lake.ledger.events")
                    .get(0);
            assertThat(row.get(0).asLong()).as("rows").isEqualTo(logged.size());
            assertThat(row.get(1).asLong()).as("distinct ids").isEqualTo(logged.size());
            assertThat(row.get(2).asLong())
                    .as("sum of ids")
                    .isEqualTo(logged.stream().mapToLong(Long::longValue).sum());
            assertThat(row.get(3).asLong()).as("distinct log positions").isEqualTo(logged.size());
            System.out.printf(
                    "ledger: %d acknowledged, %d in the log, %d in the lake, 0 lost, 0 duplicated%n",
                    acknowledged.size(), logged.size(), row.get(0).asLong());
            JsonNode pipeline = http2.get("/v1/pipelines/events-to-lake").body();
            assertThat(pipeline.path("state").asText()).isEqualTo("RUNNING");
            phase("lake checked", started);
            assertThat(readWithIceberg(dataDir))
                    .as("ids read with Iceberg's Java reader")
                    .isEqualTo(logged);
        } finally {
            sending.set(false);
            server.close();
        }
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
            java.util.Collections.shuffle(plan, random);
        } else {
            for (int i = 0; i < rounds; i++) {
                plan.add(Disruption.values()[random.nextInt(Disruption.values().length)]);
            }
        }
        return plan;
    }

    /** Every id in the lake table as Iceberg's own reader sees it; each file of the current snapshot must exist. */
    private static Set<Long> readWithIceberg(Path dataDir) throws java.io.IOException {
        Set<Long> ids = new HashSet<>();
        try (LakeCatalog lake = LakeCatalog.open(
                dataDir.resolve("catalog.db"), dataDir.resolve("warehouse").toString())) {
            Table table = lake.load("ledger.events");
            try (CloseableIterable<FileScanTask> tasks = table.newScan().planFiles()) {
                for (FileScanTask task : tasks) {
                    assertThat(Path.of(
                                    java.net.URI.create(task.file().location()).getPath()))
                            .exists();
                    task.deletes().forEach(d -> assertThat(
                                    Path.of(java.net.URI.create(d.location()).getPath()))
                            .exists());
                }
            }
            long rows = 0;
            try (CloseableIterable<Record> records = IcebergGenerics.read(table).build()) {
                for (Record record : records) {
                    rows++;
                    ids.add((Long) record.getField("id"));
                }
            }
            assertThat(rows).as("rows read with Iceberg's reader").isEqualTo(ids.size());
        }
        return ids;
    }

    private static ServerProcess restart(Path dataDir, Path log, AtomicReference<Http> current, String when)
            throws Exception {
        ServerProcess server = ServerProcess.start(dataDir, log, ENVIRONMENT);
        Http http = new Http(server.http);
        current.set(http);
        assertThat(http.get("/v1/topics/events").status()).as("topic " + when).isEqualTo(200);
        await(
                "pipeline RUNNING " + when,
                Duration.ofMinutes(2),
                () -> http.get("/v1/pipelines/events-to-lake")
                        .body()
                        .path("state")
                        .asText()
                        .equals("RUNNING"),
                () -> http.get("/v1/pipelines/events-to-lake").text());
        return server;
    }

    /** Sends batches of increasing ids until told to stop; a batch counts only when answered 200. Never resends. */
    private static void send(AtomicReference<Http> current, Set<Long> acknowledged, AtomicBoolean sending) {
        long next = 0;
        while (sending.get()) {
            List<Map<String, Long>> batch = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                batch.add(Map.of("id", next++));
            }
            try {
                if (current.get().post("/v1/topics/events/records", batch).status() == 200) {
                    batch.forEach(r -> acknowledged.add(r.get("id")));
                }
                Thread.sleep(50);
            } catch (RuntimeException e) {
                sleepQuietly();
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static void sleepQuietly() {
        try {
            Thread.sleep(200);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static long lakeCount(Http http) {
        try {
            return number(http, "SELECT count(*) FROM lake.ledger.events");
        } catch (RuntimeException | AssertionError e) {
            return -1;
        }
    }

    /** Every id in the topic, failing if the log holds one twice. */
    private static Set<Long> readLog(String bootstrap) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        Set<Long> ids = new HashSet<>();
        long records = 0;
        try (var consumer = new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> partitions = List.of(new TopicPartition("events", 0), new TopicPartition("events", 1));
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                for (var record : consumer.poll(Duration.ofMillis(500))) {
                    records++;
                    ids.add(Http.JSON.readTree(record.value()).path("id").asLong());
                }
            }
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
        assertThat(records).as("records in the log (no id twice)").isEqualTo(ids.size());
        return ids;
    }
}
