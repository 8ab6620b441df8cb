package io.tarn.cdc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.tarn.core.error.TarnException;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
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

/** A real PostgreSQL (logical replication) captured into a real Kafka topic: the contract, and what only it has. */
class PostgresCaptureIT extends CaptureContract {
    @TempDir
    static Path dir;

    static EmbeddedPostgres postgres;

    @BeforeAll
    static void start() throws Exception {
        postgres = EmbeddedPostgreSql.start();
        startKafka(dir);
        run(
                "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer TEXT, amount NUMERIC(10, 2), updated_at TIMESTAMP)",
                "INSERT INTO orders SELECT g, 'c' || (g % 97), (g % 1000) / 4.0, TIMESTAMP '2026-01-01 00:00:00'"
                        + " + g * INTERVAL '1.25 second' FROM generate_series(1, 1000) g");
    }

    @AfterAll
    static void stop() throws Exception {
        stopKafka();
        if (postgres != null) {
            postgres.close();
        }
    }

    static void run(String... statements) throws Exception {
        try (Connection connection = postgres.getPostgresDatabase().getConnection();
                Statement statement = connection.createStatement()) {
            for (String sql : statements) {
                statement.execute(sql);
            }
        }
    }

    @Override
    void sql(String... statements) throws Exception {
        run(statements);
    }

    @Override
    PostgresDatabase database() {
        return new PostgresDatabase(
                ConnectionUrl.parse(
                        "postgresql://localhost:" + postgres.getPort() + "/postgres?sslmode=disable&connectTimeout=10"),
                "postgres",
                "postgres");
    }

    @Override
    String qualified(String table) {
        return "public." + table;
    }

    @Override
    Path stateDirectory(String source) {
        return dir.resolve("cdc-" + source);
    }

    @Override
    void assertPosition(Capture capture) {
        Capture.Progress progress = capture.progress();
        assertThat(progress.tablesTotal()).isEqualTo(1);
        assertThat(progress.tablesRemaining()).isZero();
        assertThat((Long) progress.captured().get("lsn")).isPositive();
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
                "CREATE TABLE tagged (id INT PRIMARY KEY, tags TEXT[])",
                "CREATE TABLE other (a INT)");
        PostgresDatabase database = database();
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
        assertThatThrownBy(() -> database.describe(List.of("public.tagged")))
                .hasMessage("column 'tags' of table 'public.tagged' has type text[], which Tarn cannot capture yet;"
                        + " leave the table out or change the column's type");
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
            JsonNode after = read(topic, 0, 1).get(0)[1].path("after");
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
            sql("INSERT INTO other SELECT generate_series(1, 20000)"); // WAL of a table the capture does not read
            long written = database.slot(slot).orElseThrow().currentLsn();
            // heartbeats (every second here) confirm positions past it, so the server may recycle that WAL
            await(() -> database.slot(slot).orElseThrow().confirmedLsn() >= written);
            assertThat(capture.failure()).isEmpty();
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
        PostgresDatabase database = database();
        String topic = Capture.topic("quiet", "public.quiet");
        log.createTopic(topic, 1);
        var spec = new Capture.Spec("quiet", database, List.of("public.quiet"), Map.of());
        String slot = PostgresDatabase.slotName("quiet");
        try (Capture capture =
                Capture.start(spec, dir.resolve("cdc-quiet"), kafka.bootstrapServers(), Duration.ofSeconds(1))) {
            read(topic, 0, 1);
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
            assertThat(count(topic))
                    .as("heartbeats are not changes of the table")
                    .isEqualTo(1);
        }
        database.dropCapture("quiet");
        assertThat(query("SELECT count(*) FROM tarn_heartbeat WHERE source = 'quiet'"))
                .isZero();
    }
}
