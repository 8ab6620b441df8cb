package io.tarn.cdc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tarn.log.EmbeddedKafka;
import io.tarn.log.KafkaLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;

/**
 * What a capture does whatever the database: snapshot, changes as upserts and tombstones, resume without a second
 * snapshot, refuse a table without a key, stop at a TRUNCATE. Each database's test class runs it against a real server
 * and a real Kafka node, and adds what only that database has.
 *
 * <p>The database holds a table {@code orders (id BIGINT PRIMARY KEY, customer, amount DECIMAL(10, 2), updated_at
 * TIMESTAMP(6))} with ids 1 to 1000: customer {@code 'c' || id % 97}, amount {@code (id % 1000) / 4}, updated at
 * 2026-01-01 00:00:00 plus 1.25 s per id.
 */
abstract class CaptureContract {
    static final ObjectMapper JSON = new ObjectMapper();

    static EmbeddedKafka kafka;
    static KafkaLog log;

    /** Starts the Kafka node the captures write to. */
    static void startKafka(Path dir) {
        kafka = EmbeddedKafka.start(dir.resolve("kafka"), "localhost", 0, 1 << 20, false);
        log = new KafkaLog(kafka.bootstrapServers(), 1 << 20);
    }

    static void stopKafka() {
        if (log != null) {
            log.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    /** The database as a source sees it. */
    abstract SourceDatabase database();

    /** Runs statements on the database. */
    abstract void sql(String... statements) throws Exception;

    /** A table's name as captures name it ({@code schema.table}). */
    abstract String qualified(String table);

    /** Where the capture's state goes. */
    abstract Path stateDirectory(String source);

    /** What only this database says about the position a capture confirmed after changes. */
    abstract void assertPosition(Capture capture) throws Exception;

    @Test
    void snapshotThenChangesThenResumeAfterARestart() throws Exception {
        String table = qualified("orders");
        String topic = Capture.topic("shop", table);
        log.createTopic(topic, 1);
        SourceDatabase database = database();
        TableSchema schema = database.describe(List.of(table)).get(0);
        var spec = new Capture.Spec("shop", database, List.of(table), Map.of(table, schema.columns()));
        Path state = stateDirectory("shop");
        try (Capture capture = Capture.start(spec, state, kafka.bootstrapServers(), Duration.ofSeconds(10))) {
            List<JsonNode[]> snapshot = read(topic, 0, 1000);
            assertThat(snapshot)
                    .allSatisfy(r -> assertThat(r[1].path("op").asText()).isEqualTo("r"));
            JsonNode first = snapshot.get(0)[1].path("after");
            assertThat(snapshot.get(0)[0].toString()).isEqualTo("{\"id\":1}");
            assertThat(first.path("customer").asText()).isEqualTo("c1");
            assertThat(first.path("amount").asText()).isEqualTo("0.25");
            assertThat(first.path("updated_at").asText()).isEqualTo("2026-01-01T00:00:01.25");
            Capture.Progress progress = capture.progress();
            assertThat(progress.snapshotCompleted()).isTrue();
            assertThat(progress.rowsScanned()).isEqualTo(Map.of(table, 1000L));
            assertThat(progress.records()).isEqualTo(1000);
            sql(
                    "UPDATE %s SET amount = amount + 1 WHERE id <= 100".formatted(table),
                    "DELETE FROM %s WHERE id > 990".formatted(table));
            List<JsonNode[]> changes = read(topic, 1000, 100 + 10 * 2);
            assertThat(changes.stream()
                            .filter(r ->
                                    r[1] != null && r[1].path("op").asText().equals("u")))
                    .hasSize(100);
            assertThat(changes.stream().filter(r -> r[1] == null))
                    .as("tombstones")
                    .hasSize(10);
            assertThat(changes.get(0)[1].path("after").path("amount").asText()).isEqualTo("1.25");
            assertPosition(capture);
            assertThat(capture.failure()).isEmpty();
        }
        sql("INSERT INTO %s VALUES (5000, 'late', 12.34, '2026-02-03 04:05:06.789012')".formatted(table));
        try (Capture capture = Capture.start(spec, state, kafka.bootstrapServers(), Duration.ofSeconds(10))) {
            JsonNode insert = read(topic, 1120, 1).get(0)[1];
            assertThat(insert.path("op").asText()).isEqualTo("c");
            assertThat(insert.path("after").path("amount").asText()).isEqualTo("12.34");
            assertThat(insert.path("after").path("updated_at").asText()).isEqualTo("2026-02-03T04:05:06.789012");
            assertThat(capture.failure()).isEmpty();
        }
        assertThat(count(topic)).isEqualTo(1121); // no second snapshot after the restart

        // offsets cut short (Kafka Connect's own file store could be cut by a crash inside a save): a capture that
        // read them as none would snapshot again; it stops and says why
        Path offsets = state.resolve("offsets.dat");
        byte[] whole = Files.readAllBytes(offsets);
        Files.write(offsets, Arrays.copyOf(whole, whole.length / 2));
        sql("DELETE FROM %s WHERE id = 1".formatted(table));
        try (Capture capture = Capture.start(spec, state, kafka.bootstrapServers(), Duration.ofSeconds(10))) {
            await(() -> capture.failure().isPresent());
            Throwable root = capture.failure().get();
            while (root.getCause() != null && root.getCause().getMessage() != null) {
                root = root.getCause();
            }
            assertThat(root.getMessage())
                    .isEqualTo("the capture's stored offsets are unreadable (EOFException), so where it stopped is"
                            + " unknown; delete and re-create the source to snapshot its tables again");
        }
        assertThat(count(topic)).isEqualTo(1121);
    }

    @Test
    void aTableWithoutAKeyOrThatIsMissingIsRefusedByName() throws Exception {
        sql("CREATE TABLE %s (a INT)".formatted(qualified("keyless")));
        assertThatThrownBy(() -> database().describe(List.of(qualified("keyless"))))
                .hasMessage(
                        "table '%s' has no primary key; Tarn captures tables by key (its changes are upserts into"
                                + " the lake)",
                        qualified("keyless"));
        assertThatThrownBy(() -> database().describe(List.of(qualified("nothing"))))
                .hasMessage(
                        "table '%s' does not exist in the database (or the user may not see it)", qualified("nothing"));
    }

    /** A truncate has no rows to upsert or delete: the capture stops rather than leave rows in the topic for good. */
    @Test
    void aTruncateOfACapturedTableStopsTheCapture() throws Exception {
        String table = qualified("truncated");
        String other = qualified("untouched");
        sql(
                "CREATE TABLE %s (id INT PRIMARY KEY, n INT)".formatted(table),
                "INSERT INTO %s VALUES (1, 1)".formatted(table),
                "CREATE TABLE %s (id INT PRIMARY KEY)".formatted(other),
                "INSERT INTO %s VALUES (1)".formatted(other));
        String topic = Capture.topic("cut", table);
        log.createTopic(topic, 1);
        var spec = new Capture.Spec("cut", database(), List.of(table), Map.of());
        try (Capture capture =
                Capture.start(spec, stateDirectory("cut"), kafka.bootstrapServers(), Duration.ofSeconds(1))) {
            read(topic, 0, 1);
            // a truncate of a table the capture does not read changes nothing
            sql("TRUNCATE TABLE %s".formatted(other), "UPDATE %s SET n = 2 WHERE id = 1".formatted(table));
            assertThat(read(topic, 1, 1).get(0)[1].path("op").asText()).isEqualTo("u");
            assertThat(capture.failure()).isEmpty();
            sql("TRUNCATE TABLE %s".formatted(table));
            await(() -> capture.failure().isPresent());
            Throwable root = capture.failure().get();
            while (root.getCause() != null) {
                root = root.getCause();
            }
            assertThat(root.getMessage())
                    .isEqualTo(
                            ("capture cut stopped at a TRUNCATE of %s: a truncate has no rows to upsert or delete, so"
                                            + " the topic and the lake table would keep rows the table no longer has; delete and"
                                            + " re-create the source to snapshot the table again")
                                    .formatted(table));
            assertThat(count(topic)).isEqualTo(2);
        }
    }

    static void await(BooleanSupplier condition) throws InterruptedException {
        await(condition, Duration.ofSeconds(60));
    }

    static void await(BooleanSupplier condition, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out");
            }
            Thread.sleep(100);
        }
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

    private static KafkaConsumer<byte[], byte[]> consumer() {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        Map<String, Object> config = new HashMap<>();
        props.forEach((k, v) -> config.put((String) k, v));
        return new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }
}
