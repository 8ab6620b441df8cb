package io.tarn.server;

import static io.tarn.server.Fixtures.await;
import static io.tarn.server.Fixtures.number;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kill -9 and SIGTERM a running server while events stream in over HTTP and a pipeline lands them, restart it on the
 * same data dir each time, and require that the lake holds exactly the records of the log: none lost, none twice,
 * and every acknowledged record among them.
 */
class RestartIT {
    private static final Map<String, String> ENVIRONMENT = Map.of("TARN_COMPUTE_CHECKPOINT_INTERVAL", "1s");

    @TempDir
    Path dir;

    @Test
    void lakeEqualsLogAcrossKillAndTerminate() throws Exception {
        Path dataDir = dir.resolve("data");
        Path log = dir.resolve("server.log");
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

            await("rows landing before the kill", Duration.ofMinutes(2), () -> lakeCount(current.get()) > 2_000);
            server.kill();
            server = restart(dataDir, log, current, "after kill -9");

            long beforeTerminate = lakeCount(current.get());
            await(
                    "rows landing after the kill",
                    Duration.ofMinutes(2),
                    () -> lakeCount(current.get()) > beforeTerminate + 2_000);
            // A JVM ended by SIGTERM exits with 128 + 15 after its shutdown hooks ran.
            assertThat(server.terminate()).as("exit code after SIGTERM").isEqualTo(143);
            server = restart(dataDir, log, current, "after SIGTERM");

            long beforeDrain = lakeCount(current.get());
            await(
                    "rows landing after SIGTERM",
                    Duration.ofMinutes(2),
                    () -> lakeCount(current.get()) > beforeDrain + 2_000);
            sending.set(false);
            sender.join();

            Set<Long> logged = readLog(server.kafka);
            assertThat(acknowledged).isNotEmpty();
            assertThat(logged).containsAll(acknowledged);
            Http http2 = current.get();
            await(
                    "the lake to catch up with the log",
                    Duration.ofMinutes(2),
                    () -> lakeCount(http2) == logged.size(),
                    () -> "lake " + lakeCount(http2) + " log " + logged.size());
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
        } finally {
            sending.set(false);
            server.close();
        }
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
                Thread.sleep(20);
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
