package io.tarn.cdc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tarn.core.error.TarnException;
import io.tarn.log.EmbeddedKafka;
import io.tarn.log.KafkaLog;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.BooleanSupplier;
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
        String topic = Capture.topic("shop", "public.orders");
        log.createTopic(topic, 1);
        var spec = new Capture.Spec(
                "shop",
                new PostgresDatabase(
                        ConnectionUrl.parse("jdbc:postgresql://localhost:" + postgres.getPort()
                                + "/postgres?sslmode=disable&connectTimeout=10"),
                        "postgres",
                        "postgres"),
                List.of("public.orders"));
        Path state = dir.resolve("cdc-shop");
        try (Capture capture = Capture.start(spec, state, kafka.bootstrapServers(), Duration.ofSeconds(10))) {
            List<JsonNode[]> snapshot = read(kafka, topic, 0, 1000);
            assertThat(snapshot)
                    .allSatisfy(r -> assertThat(r[1].path("op").asText()).isEqualTo("r"));
            JsonNode first = snapshot.get(0)[1].path("after");
            assertThat(snapshot.get(0)[0].toString()).isEqualTo("{\"id\":1}");
            assertThat(first.path("customer").asText()).isEqualTo("c1");
            assertThat(first.path("amount").asText()).isEqualTo("0.25");
            assertThat(first.path("updated_at").asText()).isEqualTo("2026-01-01T00:00:01.25");
            Capture.Progress progress = capture.progress();
            assertThat(progress.snapshotCompleted()).isTrue();
            assertThat(progress.tablesTotal()).isEqualTo(1);
            assertThat(progress.tablesRemaining()).isZero();
            assertThat(progress.rowsScanned()).isEqualTo(Map.of("public.orders", 1000L));
            assertThat(progress.records()).isEqualTo(1000);
            assertThat((Long) progress.captured().get("lsn")).isPositive();
            sql("UPDATE orders SET amount = amount + 1 WHERE id <= 100", "DELETE FROM orders WHERE id > 990");
            List<JsonNode[]> changes = read(kafka, topic, 1000, 100 + 10 * 2);
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
        try (Capture capture = Capture.start(spec, state, kafka.bootstrapServers(), Duration.ofSeconds(10))) {
            List<JsonNode[]> resumed = read(kafka, topic, 1120, 1);
            JsonNode insert = resumed.get(0)[1];
            assertThat(insert.path("op").asText()).isEqualTo("c");
            assertThat(insert.path("after").path("amount").asText()).isEqualTo("12.34");
            assertThat(insert.path("after").path("updated_at").asText()).isEqualTo("2026-02-03T04:05:06.789012");
            assertThat(capture.failure()).isEmpty();
        }
        assertThat(count(kafka, topic)).isEqualTo(1121); // no second snapshot after the restart
    }

    @Test
    void columnsAreDescribedAndWrittenAsFlinkReadsThem() throws Exception {
        sql(
                "CREATE TYPE mood AS ENUM ('sad', 'happy')",
                """
                CREATE TABLE kinds (
                  k1 INT, k2 TEXT, s SMALLINT, b BOOLEAN, r REAL, d DOUBLE PRECISION, n NUMERIC, n2 NUMERIC(5, 3),
                  big NUMERIC(50, 2), t TIME, tz TIMETZ, ts TIMESTAMP(3), tstz TIMESTAMPTZ, dt DATE, iv INTERVAL,
                  u UUID, j JSONB, by BYTEA, m mood, PRIMARY KEY (k2, k1))""",
                """
                INSERT INTO kinds VALUES (1, 'a', 7, true, 1.5, 2.25, 123.4567890123, 12.5, 1e40, '04:05',
                  '04:05:06+02', '2026-01-02 03:04:05.678', '2026-01-02 03:04:05.25+00', '2026-01-02',
                  '1 day 2 hours', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"x": 1}', '\\x0102ff', 'happy')""",
                "CREATE TABLE keyless (a INT)",
                "CREATE TABLE tagged (id INT PRIMARY KEY, tags TEXT[])");
        var url = ConnectionUrl.parse("postgresql://localhost:" + postgres.getPort() + "/postgres");
        PostgresDatabase database = new PostgresDatabase(url, "postgres", "postgres");
        var schema = database.describe(List.of("public.kinds")).get(0);
        assertThat(schema.primaryKey()).containsExactly("k2", "k1");
        assertThat(schema.columns().stream().map(c -> c.name() + " " + c.type().sql()))
                .containsExactly(
                        "k1 INT NOT NULL",
                        "k2 STRING NOT NULL",
                        "s INT",
                        "b BOOLEAN",
                        "r FLOAT",
                        "d DOUBLE",
                        "n STRING",
                        "n2 DECIMAL(5, 3)",
                        "big STRING",
                        "t STRING",
                        "tz STRING",
                        "ts TIMESTAMP(6)",
                        "tstz TIMESTAMP_LTZ(6)",
                        "dt DATE",
                        "iv STRING",
                        "u STRING",
                        "j STRING",
                        "by BYTES",
                        "m STRING");
        assertThatThrownBy(() -> database.describe(List.of("public.keyless")))
                .hasMessage("table 'public.keyless' has no primary key; Tarn captures tables by key (its changes are"
                        + " upserts into the lake)");
        assertThatThrownBy(() -> database.describe(List.of("public.tagged")))
                .hasMessage("column 'tags' of table 'public.tagged' has type text[], which Tarn cannot capture yet;"
                        + " leave the table out or change the column's type");
        assertThatThrownBy(() -> database.describe(List.of("public.nothing")))
                .hasMessage("table 'public.nothing' does not exist in the database (or the user may not see it)");
        var missing = ConnectionUrl.parse("postgresql://localhost:" + postgres.getPort() + "/nothing");
        assertThatThrownBy(() -> new PostgresDatabase(missing, "postgres", "secret-password").describe(List.of()))
                .isInstanceOf(TarnException.class)
                .hasMessageStartingWith(
                        "database nothing at localhost:" + postgres.getPort() + " could not be described: ")
                .hasMessageNotContaining("secret-password");

        String topic = Capture.topic("kinds", "public.kinds");
        log.createTopic(topic, 1);
        // with the columns checked: every kind of column must fit what it was described as
        var spec =
                new Capture.Spec("kinds", database, List.of("public.kinds"), Map.of("public.kinds", schema.columns()));
        try (Capture capture =
                Capture.start(spec, dir.resolve("cdc-kinds"), kafka.bootstrapServers(), Duration.ofSeconds(1))) {
            JsonNode after = read(kafka, topic, 0, 1).get(0)[1].path("after");
            assertThat(after.toString())
                    .isEqualTo("{\"k1\":1,\"k2\":\"a\",\"s\":7,\"b\":true,\"r\":1.5,\"d\":2.25,"
                            + "\"n\":\"123.4567890123\",\"n2\":\"12.500\",\"big\":\"10000000000000000000000000000000000000000.00\","
                            + "\"t\":\"04:05:00\",\"tz\":\"02:05:06Z\",\"ts\":\"2026-01-02T03:04:05.678\","
                            + "\"tstz\":\"2026-01-02T03:04:05.250000Z\",\"dt\":\"2026-01-02\",\"iv\":\"P0Y0M1DT2H0M0S\","
                            + "\"u\":\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\",\"j\":\"{\\\"x\\\": 1}\",\"by\":\"AQL/\","
                            + "\"m\":\"happy\"}");
            String slot = PostgresDatabase.slotName("kinds");
            await(() -> database.slot(slot)
                    .map(PostgresDatabase.SlotPosition::active)
                    .orElse(false));
            sql("INSERT INTO keyless SELECT generate_series(1, 20000)"); // WAL of a table the capture does not read
            long written = database.slot(slot).orElseThrow().currentLsn();
            // heartbeats (every second here) confirm positions past it, so the server may recycle that WAL
            await(() -> database.slot(slot).orElseThrow().confirmedLsn() >= written);
            assertThat(capture.failure()).isEmpty();
            sql("TRUNCATE kinds"); // Debezium would skip it by default: the topic would keep the row for good
            await(() -> capture.failure().isPresent());
            Throwable root = capture.failure().get();
            while (root.getCause() != null) {
                root = root.getCause();
            }
            assertThat(root.getMessage())
                    .isEqualTo("capture kinds stopped at a TRUNCATE of public.kinds: a truncate has no rows to upsert"
                            + " or delete, so the topic and the lake table would keep rows the table no longer has;"
                            + " delete and re-create the source to snapshot the table again");
            assertThat(count(kafka, topic)).isEqualTo(1);
        }
        PostgresDatabase.SlotPosition stopped =
                database.slot(PostgresDatabase.slotName("kinds")).orElseThrow();
        assertThat(stopped.active()).isFalse();
        database.dropSlotAndPublication(PostgresDatabase.slotName("kinds"), PostgresDatabase.slotName("kinds"));
        assertThat(database.slot(PostgresDatabase.slotName("kinds"))).isEmpty();
        assertThat(query("SELECT count(*) FROM pg_publication WHERE pubname = 'tarn_kinds'"))
                .isEqualTo(0);
        database.dropSlotAndPublication(PostgresDatabase.slotName("kinds"), PostgresDatabase.slotName("kinds"));
    }

    static long query(String sql) throws Exception {
        try (Connection connection = postgres.getPostgresDatabase().getConnection();
                Statement statement = connection.createStatement();
                var rs = statement.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /**
     * A captured table that stays quiet while other databases of the same server write WAL (the README tour's case): the
     * heartbeat must still move the slot, or the server keeps that WAL for good.
     */
    @Test
    void aQuietCaptureConfirmsTheWalOtherDatabasesWrite() throws Exception {
        sql("CREATE TABLE quiet (id INT PRIMARY KEY)", "INSERT INTO quiet VALUES (1)", "CREATE DATABASE busy");
        var url = ConnectionUrl.parse("postgresql://localhost:" + postgres.getPort() + "/postgres");
        PostgresDatabase database = new PostgresDatabase(url, "postgres", "postgres");
        String topic = Capture.topic("quiet", "public.quiet");
        log.createTopic(topic, 1);
        var spec = new Capture.Spec("quiet", database, List.of("public.quiet"), Map.of());
        String slot = PostgresDatabase.slotName("quiet");
        try (Capture capture =
                Capture.start(spec, dir.resolve("cdc-quiet"), kafka.bootstrapServers(), Duration.ofSeconds(1))) {
            read(kafka, topic, 0, 1);
            await(() -> database.slot(slot)
                    .map(PostgresDatabase.SlotPosition::active)
                    .orElse(false));
            long before = database.slot(slot).orElseThrow().currentLsn();
            try (Connection busy = DriverManager.getConnection(
                            "jdbc:postgresql://localhost:" + postgres.getPort() + "/busy", "postgres", "postgres");
                    Statement statement = busy.createStatement()) {
                statement.execute("CREATE TABLE noise (id INT, pad TEXT)");
                for (int round = 0; round < 5; round++) {
                    statement.execute("INSERT INTO noise SELECT g, repeat('x', 100) FROM generate_series(1, 20000) g");
                }
            }
            long written = database.slot(slot).orElseThrow().currentLsn();
            // within a few heartbeats (1 s here) the slot confirms past all of it, so the server may recycle that WAL;
            // without the heartbeat table it waited for the server's keepalive, or, in the README's tour, forever
            await(() -> database.slot(slot).orElseThrow().confirmedLsn() >= written, Duration.ofSeconds(15));
            // and the WAL the slot holds back shrinks to a fraction of what the other database wrote (the slot's
            // restart point follows at the server's next snapshot of running transactions, every 15 s)
            long noise = written - before;
            await(() -> database.slot(slot).orElseThrow().retainedBytes() < noise / 4, Duration.ofSeconds(60));
            assertThat(query("SELECT count(*) FROM tarn_heartbeat WHERE source = 'quiet'"))
                    .isEqualTo(1);
            assertThat(capture.failure()).isEmpty();
            assertThat(count(kafka, topic))
                    .as("heartbeats are not changes of the table")
                    .isEqualTo(1);
        }
        database.dropCapture("quiet");
        assertThat(query("SELECT count(*) FROM tarn_heartbeat WHERE source = 'quiet'"))
                .isZero();
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
    static List<JsonNode[]> read(EmbeddedKafka kafka, String topic, long from, int n) throws Exception {
        List<JsonNode[]> records = new ArrayList<>();
        try (var consumer = consumer(kafka)) {
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

    static long count(EmbeddedKafka kafka, String topic) {
        try (var consumer = consumer(kafka)) {
            TopicPartition partition = new TopicPartition(topic, 0);
            return consumer.endOffsets(List.of(partition)).get(partition);
        }
    }

    static KafkaConsumer<byte[], byte[]> consumer(EmbeddedKafka kafka) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        Map<String, Object> config = new HashMap<>();
        props.forEach((k, v) -> config.put((String) k, v));
        return new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }
}
