package io.tarn.server;

import static io.tarn.server.Fixtures.await;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.tarn.cdc.EmbeddedPostgreSql;
import io.tarn.core.config.ConfigKeys;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Change data capture end to end: a real PostgreSQL (logical replication) captured by a Tarn server in this JVM into
 * topics, mirrored into upsert lake tables, driven only through the HTTP API.
 */
class SourceIT {
    /** Distinct from every other string here, so that finding it anywhere means it leaked. */
    static final String PASSWORD = "pw-7f3a9c-never-shown";

    @RegisterExtension
    static final TarnServerExtension tarn =
            new TarnServerExtension(config -> config.with(ConfigKeys.COMPUTE_CHECKPOINT_INTERVAL, "1s")
                    .with(ConfigKeys.CDC_HEARTBEAT_INTERVAL, "1s")
                    .with(ConfigKeys.CDC_WAL_WARNING_BYTES, String.valueOf(16 << 20)));

    static Path dataDir;
    static EmbeddedPostgres postgres;
    static TarnServer server;
    static Http http;

    @BeforeAll
    static void start() throws Exception {
        postgres = EmbeddedPostgreSql.start();
        server = tarn.server();
        http = tarn.http();
        dataDir = tarn.dataDir();
    }

    @AfterAll
    static void stop() throws Exception {
        if (postgres != null) {
            postgres.close();
        }
    }

    @Test
    void tableIsMirroredExactlyThroughSnapshotUpdatesDeletesAndInserts() throws Exception {
        sql(
                "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer TEXT NOT NULL, amount NUMERIC(10, 2),"
                        + " updated_at TIMESTAMP)",
                "INSERT INTO orders SELECT g, 'c' || (g % 97), (g % 1000) / 4.0, TIMESTAMP '2026-01-01 00:00:00'"
                        + " + g * INTERVAL '1.25 second' FROM generate_series(1, 2000) g");
        Http.Reply created = http.post("/v1/sources", source("shop", List.of("public.orders")));
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        assertThat(created.body().path("topics").path("public.orders").asText()).isEqualTo("shop.public.orders");
        assertThat(created.body().path("lakeTables").path("public.orders").asText())
                .isEqualTo("shop.orders");
        assertThat(created.body().path("mirrorPipeline").asText()).isEqualTo("shop-mirror");
        assertThat(created.text()).doesNotContain(PASSWORD);

        await(
                "snapshot read",
                Duration.ofMinutes(2),
                () -> http.get("/v1/sources/shop")
                        .body()
                        .path("snapshot")
                        .path("completed")
                        .asBoolean(),
                () -> http.get("/v1/sources/shop").text());
        JsonNode status = http.get("/v1/sources/shop").body();
        assertThat(status.path("state").asText()).isEqualTo("STREAMING");
        assertThat(status.path("snapshot")
                        .path("rowsScanned")
                        .path("public.orders")
                        .asLong())
                .isEqualTo(2000);
        awaitMirrored("after the snapshot");

        sql(
                "UPDATE orders SET amount = amount + 1, updated_at = updated_at + INTERVAL '1 day' WHERE id % 10 = 0",
                "DELETE FROM orders WHERE id % 40 = 1",
                "INSERT INTO orders SELECT g, 'new' || g, g / 8.0, TIMESTAMP '2026-03-01 12:00:00.123456'"
                        + " FROM generate_series(5001, 5100) g",
                // several changes of one key in one transaction: only the last may remain
                "BEGIN; UPDATE orders SET customer = 'first' WHERE id = 7; UPDATE orders SET customer = 'second'"
                        + " WHERE id = 7; DELETE FROM orders WHERE id = 8; INSERT INTO orders VALUES (8, 'back',"
                        + " 0.01, NULL); COMMIT");
        awaitMirrored("after updates, deletes and inserts");

        // the mirror keeps no state of its own: Flink's plan has no ChangelogNormalize in front of the upsert sink
        String job = http.get("/v1/pipelines/shop-mirror").body().path("jobId").asText();
        String vertices = Http.flink(server).get("/jobs/" + job).text();
        assertThat(vertices).contains("shop.public.orders").doesNotContain("ChangelogNormalize");

        // lineage: the captured table feeds its topic, which the mirror lands, column by column
        JsonNode lineage = http.get("/v1/lineage?table=shop.orders").body();
        assertThat(LineageIT.nodes(lineage))
                .containsExactlyInAnyOrder(
                        "table:shop.orders root",
                        "pipeline:shop-mirror upstream",
                        "topic:shop.public.orders upstream",
                        "source:shop/public.orders upstream");
        assertThat(LineageIT.edges(lineage))
                .containsExactlyInAnyOrder(
                        "source:shop/public.orders > topic:shop.public.orders",
                        "topic:shop.public.orders > pipeline:shop-mirror",
                        "pipeline:shop-mirror > table:shop.orders");
        Set<String> columns = new TreeSet<>();
        for (String column : List.of("id", "customer", "amount", "updated_at")) {
            columns.add("source:shop/public.orders.%s > topic:shop.public.orders.%s".formatted(column, column));
            columns.add("topic:shop.public.orders.%s > table:shop.orders.%s via shop-mirror".formatted(column, column));
        }
        assertThat(LineageIT.columns(lineage)).isEqualTo(columns);
        assertThat(LineageIT.nodes(http.get("/v1/lineage?source=shop").body()))
                .contains("source:shop root", "table:shop.orders downstream");

        // the source's lag and the WAL it holds back, in the metrics as in its status
        HttpResponse<String> scraped = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(http.uri("/metrics"))
                                .header(
                                        "Authorization",
                                        "Bearer " + http.token().orElseThrow())
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        PrometheusText metrics = PrometheusText.parse(scraped.body());
        assertThat(metrics.value("tarn_source_active", Map.of("source", "shop")))
                .isEqualTo(1.0);
        assertThat(metrics.value("tarn_source_retained_bytes", Map.of("source", "shop")))
                .isGreaterThanOrEqualTo(0.0);
        assertThat(metrics.named("tarn_source_lag_bytes")).hasSize(1);

        JsonNode topic = http.get("/v1/topics/shop.public.orders").body();
        assertThat(topic.path("format").asText()).isEqualTo("debezium-json");
        Http.Reply refused = http.post("/v1/topics/shop.public.orders/records", List.of(Map.of("id", 1)));
        assertThat(refused.status()).isEqualTo(400);
        assertThat(refused.body().path("error").path("message").asText())
                .isEqualTo("topic 'shop.public.orders' holds change events written by its source; it does not accept"
                        + " records over HTTP");

        status = http.get("/v1/sources/shop").body();
        assertThat(status.path("lag").path("active").asBoolean()).isTrue();
        String listed = cli("sources", "list");
        assertThat(listed).containsPattern("shop \\| STREAMING +\\| \\d+ +\\| \\d+ +\\| 0");
        assertThat(cli("sources", "describe", "shop", "--json"))
                .contains("\"mirrorPipeline\" : \"shop-mirror\"")
                .doesNotContain(PASSWORD);
        assertThat(cli("sources", "describe", "shop"))
                .containsPattern("\nstate +STREAMING\n")
                .containsPattern("\nsnapshot +complete\n")
                .containsPattern("\nmirror pipeline +shop-mirror\n")
                .contains("\n  public.orders → topic shop.public.orders, lake.shop.orders\n")
                .doesNotContain(PASSWORD);
        assertThat(cli("sources", "snapshot", "shop"))
                .isEqualTo("snapshot of source shop complete: "
                        + status.path("snapshot")
                                .path("rowsScanned")
                                .path("public.orders")
                                .asLong()
                        + " rows of 1 tables\n");
        assertThat(status.path("warnings")).isEmpty();
        assertThat(http.get("/v1/sources").text()).doesNotContain(PASSWORD);

        Http.Reply inUse = http.delete("/v1/topics/shop.public.orders?force=true");
        assertThat(inUse.status()).isEqualTo(409);
        assertThat(inUse.errorMessage())
                .isEqualTo(
                        "topic 'shop.public.orders' holds the changes source 'shop' captures; delete the source first"
                                + " (its topics stay)");

        assertThat(http.delete("/v1/sources/shop").status()).isEqualTo(204);
        assertThat(query("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'tarn_shop'"))
                .isEqualTo(0);
        assertThat(query("SELECT count(*) FROM pg_publication WHERE pubname = 'tarn_shop'"))
                .isEqualTo(0);
        assertThat(http.get("/v1/sources/shop").status()).isEqualTo(404);
        assertThat(http.get("/v1/pipelines/shop-mirror").status()).isEqualTo(404);
        assertThat(Fixtures.number(http, "SELECT count(*) FROM lake.shop.orders"))
                .as("the lake table stays")
                .isEqualTo(query("SELECT count(*) FROM orders"));
        assertThat(Files.exists(dataDir.resolve("sources").resolve("shop"))).isFalse();
        try (var files = Files.walk(dataDir)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                if (!file.getFileName().toString().startsWith("tarn.db") && Files.exists(file)) {
                    assertThat(Files.readString(file, StandardCharsets.ISO_8859_1))
                            .as(file.toString())
                            .doesNotContain(PASSWORD);
                }
            }
        }
    }

    @Test
    void addedAndWidenedColumnsFlowIntoTheTopicAndTheLake() throws Exception {
        sql(
                "CREATE TABLE accounts (id INT PRIMARY KEY, name TEXT, score REAL)",
                "INSERT INTO accounts SELECT g, 'n' || g, g / 4.0 FROM generate_series(1, 10) g");
        Http.Reply created = http.post("/v1/sources", source("crm", List.of("public.accounts")));
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        await(
                "snapshot in the lake",
                Duration.ofMinutes(2),
                () -> Fixtures.number(http, "SELECT count(*) FROM lake.crm.accounts") == 10);
        sql(
                "UPDATE accounts SET name = 'before the change' WHERE id = 1",
                "ALTER TABLE accounts ADD COLUMN email TEXT",
                "INSERT INTO accounts VALUES (11, 'k', 0.5, 'k@example.com')",
                "UPDATE accounts SET email = 'a@example.com' WHERE id = 2",
                "ALTER TABLE accounts ALTER COLUMN id TYPE BIGINT, ALTER COLUMN score TYPE DOUBLE PRECISION",
                "INSERT INTO accounts VALUES (3000000000, 'wide', 0.1, NULL)",
                "DELETE FROM accounts WHERE id = 3");
        String expected = "[[1,\"before the change\",0.25,null],[2,\"n2\",0.5,\"a@example.com\"],"
                + "[4,\"n4\",1.0,null],[5,\"n5\",1.25,null],[6,\"n6\",1.5,null],[7,\"n7\",1.75,null],"
                + "[8,\"n8\",2.0,null],[9,\"n9\",2.25,null],[10,\"n10\",2.5,null],[11,\"k\",0.5,\"k@example.com\"],"
                + "[3000000000,\"wide\",0.1,null]]";
        await(
                "the new columns and values in the lake",
                Duration.ofMinutes(3),
                () -> http.post(
                                "/v1/query",
                                Map.of("sql", "SELECT id, name, score, email FROM lake.crm.accounts ORDER BY id"))
                        .body()
                        .path("rows")
                        .toString()
                        .equals(expected),
                () -> Fixtures.rows(http, "SELECT * FROM lake.crm.accounts ORDER BY id") + "; "
                        + http.get("/v1/sources/crm").text());
        JsonNode status = http.get("/v1/sources/crm").body();
        assertThat(status.path("state").asText()).isEqualTo("STREAMING");
        assertThat(status.path("lastError").isNull()).as(status.toString()).isTrue();
        assertThat(http.get("/v1/tables/crm.accounts").body().path("columns").toString())
                .as("Iceberg's schema evolution: a column added, types widened, field ids kept")
                .isEqualTo("[{\"id\":1,\"name\":\"id\",\"type\":\"long\",\"required\":true},{\"id\":2,\"name\":"
                        + "\"name\",\"type\":\"string\",\"required\":false},{\"id\":3,\"name\":\"score\",\"type\":"
                        + "\"double\",\"required\":false},{\"id\":4,\"name\":\"email\",\"type\":\"string\","
                        + "\"required\":false}]");
        assertThat(http.get("/v1/topics/crm.public.accounts")
                        .body()
                        .path("columns")
                        .toString())
                .isEqualTo(
                        "[{\"name\":\"id\",\"type\":\"BIGINT NOT NULL\"},{\"name\":\"name\",\"type\":\"STRING\"},"
                                + "{\"name\":\"score\",\"type\":\"DOUBLE\"},{\"name\":\"email\",\"type\":\"STRING\"},{\"name\":\"kafka_key\",\"type\":\"STRING\"}]");
        assertThat(cli("sources", "delete", "crm")).isEqualTo("deleted source crm\n");
    }

    @Test
    void aSchemaChangeThatCannotFlowStopsTheCaptureNamingTheChangeAndWritesNothingAfterIt() throws Exception {
        sql(
                "CREATE TABLE people (id INT PRIMARY KEY, name TEXT)",
                "INSERT INTO people SELECT g, 'n' || g FROM generate_series(1, 10) g");
        Http.Reply created = http.post("/v1/sources", source("hr", List.of("public.people")));
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        await(
                "snapshot in the lake",
                Duration.ofMinutes(2),
                () -> Fixtures.number(http, "SELECT count(*) FROM lake.hr.people") == 10);
        sql(
                "UPDATE people SET name = 'before the change' WHERE id = 1",
                "ALTER TABLE people RENAME COLUMN name TO full_name",
                "INSERT INTO people VALUES (11, 'k')");
        await(
                "the capture stopped",
                Duration.ofMinutes(1),
                () -> http.get("/v1/sources/hr").body().path("state").asText().equals("FAILED"));
        assertThat(http.get("/v1/sources/hr").body().path("lastError").asText())
                .isEqualTo("capture hr stopped at a schema change of public.people: column full_name STRING added;"
                        + " column name dropped (or renamed). Nothing from this change on was written (the database"
                        + " keeps it for the replication slot). It cannot flow into the lake: [name] gone and"
                        + " [full_name] new at once, which the change stream cannot tell from a rename; delete and"
                        + " re-create the source to capture the table with its new columns");
        await(
                "the change before the schema change in the lake",
                Duration.ofMinutes(1),
                () -> Fixtures.number(http, "SELECT count(*) FROM lake.hr.people WHERE name = 'before the change'")
                        == 1);
        assertThat(http.get("/v1/topics/hr.public.people")
                        .body()
                        .path("records")
                        .asLong())
                .as("10 snapshot rows and the update; nothing after the schema change")
                .isEqualTo(11);
        assertThat(Fixtures.number(http, "SELECT count(*) FROM lake.hr.people")).isEqualTo(10);
        // the stopped capture's slot keeps all WAL written since: past cdc.wal-warning-bytes the status says so
        assertThat(http.get("/v1/sources/hr").body().path("warnings")).isEmpty();
        sql(
                "CREATE TABLE filler (id INT, pad TEXT)",
                "INSERT INTO filler SELECT g, repeat('x', 200) FROM generate_series(1, 100000) g");
        JsonNode failed = http.get("/v1/sources/hr").body();
        assertThat(failed.path("lag").path("retainedBytes").asLong()).isGreaterThan(16 << 20);
        assertThat(failed.path("warnings").get(0).asText())
                .matches("the database keeps \\d+ MiB of WAL for this source's replication slot \\(more than"
                        + " cdc.wal-warning-bytes\\); it is freed as the capture confirms its position");
        assertThat(cli("sources", "delete", "hr")).isEqualTo("deleted source hr\n");
        assertThat(query("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'tarn_hr'"))
                .isEqualTo(0);
    }

    /** The README's tour, steps 3 and 7: a mirror must not append changes into a lake table without its key. */
    @Test
    void aMirrorRefusesALakeTableOfAnotherShapeAndChangesNothing() throws Exception {
        sql(
                "CREATE TABLE invoices (id BIGINT PRIMARY KEY, customer TEXT, amount NUMERIC(10, 2))",
                "INSERT INTO invoices VALUES (1, 'ada', 12.50), (2, 'bob', 3.20)");
        Fixtures.createIdTopic(http, "invoice-ids", 1);
        Http.Reply pipeline = http.post(
                "/v1/pipelines",
                Map.of(
                        "name",
                        "invoices-to-lake",
                        "sql",
                        """
                        CREATE DATABASE IF NOT EXISTS lake.billing;
                        CREATE TABLE IF NOT EXISTS lake.billing.invoices (id BIGINT, customer STRING, amount DECIMAL(10, 2));
                        INSERT INTO lake.billing.invoices SELECT id, 'step 3', 0 FROM stream.`invoice-ids`;
                        """));
        assertThat(pipeline.status()).as(pipeline.text()).isEqualTo(201);
        assertThat(http.post("/v1/topics/invoice-ids/records", List.of(Map.of("id", 1), Map.of("id", 2)))
                        .status())
                .isEqualTo(200);
        await(
                "step 3's rows",
                Duration.ofMinutes(2),
                () -> Fixtures.number(http, "SELECT count(*) FROM lake.billing.invoices") == 2);

        Http.Reply refused = http.post("/v1/sources", source("billing", List.of("public.invoices")));
        assertThat(refused.status()).as(refused.text()).isEqualTo(409);
        assertThat(refused.errorName()).isEqualTo("TABLE_MISMATCH");
        assertThat(refused.errorMessage())
                .isEqualTo("pipeline 'billing-mirror': lake table 'billing.invoices' exists as (id BIGINT, customer"
                        + " STRING, amount DECIMAL(10, 2)) without primary key; the statement declares (id BIGINT NOT"
                        + " NULL, customer STRING, amount DECIMAL(10, 2), PRIMARY KEY (id)). Tarn does not write into a"
                        + " table of another shape: use another name, or delete the table first (DELETE"
                        + " /v1/tables/billing.invoices)");
        assertThat(http.get("/v1/sources/billing").status()).isEqualTo(404);
        assertThat(http.get("/v1/pipelines/billing-mirror").status()).isEqualTo(404);
        assertThat(http.get("/v1/topics/billing.public.invoices").status()).isEqualTo(404);
        assertThat(query("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'tarn_billing'"))
                .isEqualTo(0);
        sql("UPDATE invoices SET amount = 99 WHERE id = 1", "DELETE FROM invoices WHERE id = 2");
        assertThat(Fixtures.rows(http, "SELECT id, customer FROM lake.billing.invoices ORDER BY id")
                        .toString())
                .as("step 3's table, exactly as step 3 wrote it")
                .isEqualTo("[[1,\"step 3\"],[2,\"step 3\"]]");
        assertThat(http.delete("/v1/pipelines/invoices-to-lake").status()).isEqualTo(204);
    }

    @Test
    void badSourcesAreRefusedWithTheirReason() throws Exception {
        sql("CREATE TABLE keyless (a INT)", "CREATE TABLE things (id INT PRIMARY KEY, tags TEXT[])");
        assertRefused(
                Map.of(
                        "name",
                        "bad",
                        "connection",
                        url() + "?socketFactory=x.Y",
                        "user",
                        "postgres",
                        "tables",
                        List.of("public.keyless")),
                400,
                "connection parameter 'socketFactory' is not allowed: it makes the database driver load a class or"
                        + " write a file");
        assertRefused(
                source("bad", List.of("public.keyless")),
                400,
                "table 'public.keyless' has no primary key; Tarn captures tables by key (its changes are upserts into"
                        + " the lake)");
        assertRefused(
                source("bad", List.of("public.things")),
                400,
                "column 'tags' of table 'public.things' has type text[], which Tarn cannot capture yet; leave the table"
                        + " out or change the column's type");
        assertRefused(
                source("Bad-Name", List.of("public.things")),
                400,
                "source name 'Bad-Name' must be 1-40 characters of lower-case letters, digits and '_', starting with a"
                        + " letter");
        assertRefused(source("bad", List.of()), 400, "a source needs at least one table to capture");
        assertThat(http.get("/v1/topics").text()).doesNotContain("bad.public");
        assertThat(query("SELECT count(*) FROM pg_replication_slots")).isEqualTo(0);
    }

    /** Runs the command line client against the server and returns what it printed, failing on an error exit. */
    private static String cli(String... args) {
        List<String> withUrl = new ArrayList<>(List.of(
                "--url", server.httpAddress(), "--data-dir", server.dataDir().toString()));
        withUrl.addAll(List.of(args));
        Cli.Result result = Cli.run(withUrl.toArray(String[]::new));
        assertThat(result.code()).as(result.err()).isZero();
        return result.out();
    }

    private static void assertRefused(Map<String, Object> body, int status, String message) {
        Http.Reply reply = http.post("/v1/sources", body);
        assertThat(reply.status()).as(reply.text()).isEqualTo(status);
        assertThat(reply.body().path("error").path("message").asText()).isEqualTo(message);
        assertThat(reply.text()).doesNotContain(PASSWORD);
    }

    /** Waits until the lake table holds exactly the source table's rows. */
    private static void awaitMirrored(String when) throws Exception {
        await(
                "lake table equal to the source table " + when,
                Duration.ofMinutes(3),
                () -> lakeRows().equals(sourceRows()),
                () -> "source " + sourceRows().size() + " rows, lake "
                        + lakeRows().size() + " rows");
    }

    static List<String> sourceRows() {
        List<String> rows = new ArrayList<>();
        try (Connection connection = postgres.getPostgresDatabase().getConnection();
                Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery(
                        "SELECT id, customer, amount::text, to_char(updated_at, 'YYYY-MM-DD HH24:MI:SS.US')"
                                + " FROM orders ORDER BY id")) {
            while (rs.next()) {
                rows.add(rs.getLong(1) + "|" + rs.getString(2) + "|" + rs.getString(3) + "|" + rs.getString(4));
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return rows;
    }

    static List<String> lakeRows() {
        Http.Reply reply = http.post(
                "/v1/query",
                Map.of(
                        "sql",
                        "SELECT id, customer, CAST(amount AS VARCHAR),"
                                + " strftime(updated_at, '%Y-%m-%d %H:%M:%S.%f') FROM lake.shop.orders ORDER BY id"));
        if (reply.status() == 404) {
            return List.of();
        }
        if (reply.status() != 200) {
            throw new AssertionError("query failed: " + reply.text());
        }
        List<String> rows = new ArrayList<>();
        for (JsonNode row : reply.body().path("rows")) {
            rows.add(row.get(0).asLong() + "|" + row.get(1).asText() + "|" + text(row.get(2)) + "|" + text(row.get(3)));
        }
        return rows;
    }

    private static String text(JsonNode value) {
        return value == null || value.isNull() ? "null" : value.asText();
    }

    static Map<String, Object> source(String name, List<String> tables) {
        return Map.of("name", name, "connection", url(), "user", "postgres", "password", PASSWORD, "tables", tables);
    }

    static String url() {
        return "postgresql://localhost:" + postgres.getPort() + "/postgres";
    }

    static void sql(String... statements) throws Exception {
        try (Connection connection = postgres.getPostgresDatabase().getConnection();
                Statement statement = connection.createStatement()) {
            for (String sql : statements) {
                statement.execute(sql);
            }
        }
    }

    static long query(String sql) throws Exception {
        try (Connection connection = postgres.getPostgresDatabase().getConnection();
                Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
