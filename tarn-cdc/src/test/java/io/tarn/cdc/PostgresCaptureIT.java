package io.tarn.cdc;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tarn.log.EmbeddedKafka;
import io.tarn.log.KafkaLog;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real PostgreSQL (logical replication) captured into a real Kafka topic, stopped and resumed. */
class PostgresCaptureIT {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;

    static EmbeddedPostgres postgres;
    static EmbeddedKafka kafka;
    static KafkaLog log;

    @BeforeAll
    static void start() throws Exception {
        postgres = EmbeddedPostgres.builder()
                .setServerConfig("wal_level", "logical")
                .setServerConfig("synchronous_commit", "on")
                .setServerConfig("max_replication_slots", "4")
                .setServerConfig("max_wal_senders", "4")
                .start();
        kafka = EmbeddedKafka.start(dir.resolve("kafka"), "localhost", 0, 1 << 20, false);
        log = new KafkaLog(kafka.bootstrapServers(), 1 << 20);
        sql(
                "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer TEXT, amount NUMERIC(10, 2), updated_at TIMESTAMP)",
                "INSERT INTO orders SELECT g, 'c' || (g % 97), (g % 1000) / 4.0, TIMESTAMP '2026-01-01 00:00:00'"
                        + " + g * INTERVAL '1.25 second' FROM generate_series(1, 1000) g");
    }

    @AfterAll
    static void stop() throws Exception {
        log.close();
        kafka.close();
        postgres.close();
    }

    static void sql(String... statements) throws Exception {
        try (Connection connection = postgres.getPostgresDatabase().getConnection();
                Statement statement = connection.createStatement()) {
            for (String sql : statements) {
                statement.execute(sql);
            }
        }
    }

    @Test
    void snapshotThenChangesThenResumeAfterARestart() throws Exception {
        String topic = PostgresCapture.topic("shop", "public.orders");
        log.createTopic(topic, 1);
        var spec = new PostgresCapture.Spec(
                "shop",
                ConnectionUrl.parse("jdbc:postgresql://localhost:" + postgres.getPort()
                        + "/postgres?sslmode=disable&connectTimeout=10"),
                "postgres",
                "postgres",
                List.of("public.orders"));
        Path state = dir.resolve("cdc-shop");
        try (PostgresCapture capture = PostgresCapture.start(spec, state, kafka.bootstrapServers())) {
            List<JsonNode[]> snapshot = read(topic, 0, 1000);
            assertThat(snapshot)
                    .allSatisfy(r -> assertThat(r[1].path("op").asText()).isEqualTo("r"));
            JsonNode first = snapshot.get(0)[1].path("after");
            assertThat(snapshot.get(0)[0].toString()).isEqualTo("{\"id\":1}");
            assertThat(first.path("customer").asText()).isEqualTo("c1");
            assertThat(first.path("amount").asText()).isEqualTo("0.25");
            assertThat(first.path("updated_at").asText()).isEqualTo("2026-01-01T00:00:01.25");
            sql("UPDATE orders SET amount = amount + 1 WHERE id <= 100", "DELETE FROM orders WHERE id > 990");
            List<JsonNode[]> changes = read(topic, 1000, 100 + 10 * 2);
            assertThat(changes.stream()
                            .filter(r ->
                                    r[1] != null && r[1].path("op").asText().equals("u")))
                    .hasSize(100);
            assertThat(changes.stream().filter(r -> r[1] == null))
                    .as("tombstones")
                    .hasSize(10);
            JsonNode update = changes.get(0)[1];
            assertThat(update.path("after").path("amount").asText()).isEqualTo("1.25");
            assertThat(capture.failure()).isEmpty();
        }
        sql("INSERT INTO orders VALUES (5000, 'late', 12.34, TIMESTAMP '2026-02-03 04:05:06.789012')");
        try (PostgresCapture capture = PostgresCapture.start(spec, state, kafka.bootstrapServers())) {
            List<JsonNode[]> resumed = read(topic, 1120, 1);
            JsonNode insert = resumed.get(0)[1];
            assertThat(insert.path("op").asText()).isEqualTo("c");
            assertThat(insert.path("after").path("amount").asText()).isEqualTo("12.34");
            assertThat(insert.path("after").path("updated_at").asText()).isEqualTo("2026-02-03T04:05:06.789012");
            assertThat(capture.failure()).isEmpty();
        }
        assertThat(count(topic)).isEqualTo(1121); // no second snapshot after the restart
    }

    /** Records [key, value] of a topic from an offset, waiting for {@code n} of them. */
    static List<JsonNode[]> read(String topic, long from, int n) throws Exception {
        List<JsonNode[]> records = new ArrayList<>();
        try (var consumer = consumer()) {
            TopicPartition partition = new TopicPartition(topic, 0);
            consumer.assign(List.of(partition));
            consumer.seek(partition, from);
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (records.size() < n) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("timed out at " + records.size() + " of " + n + " records");
                }
                for (var record : consumer.poll(Duration.ofMillis(200))) {
                    if (records.size() < n) {
                        records.add(new JsonNode[] {
                            JSON.readTree(record.key()), record.value() == null ? null : JSON.readTree(record.value())
                        });
                    }
                }
            }
        }
        return records;
    }

    static long count(String topic) {
        try (var consumer = consumer()) {
            TopicPartition partition = new TopicPartition(topic, 0);
            return consumer.endOffsets(List.of(partition)).get(partition);
        }
    }

    static KafkaConsumer<byte[], byte[]> consumer() {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        Map<String, Object> config = new HashMap<>();
        props.forEach((k, v) -> config.put((String) k, v));
        return new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }
}
