package io.tarn.server;

import static io.tarn.server.Fixtures.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tarn.app.launcher.ServerProcess;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two Tarn processes share one lake through one PostgreSQL ({@code metadata.uri}, {@code lake.catalog-uri}), one
 * warehouse and one Kafka: the server whose {@code node.role} is {@code all} runs the pipeline, the {@code query} one
 * takes the events in over HTTP and answers lake SQL over the table that pipeline writes. The query server refuses to
 * run pipelines, and a second server that would run them does not start while the first one holds the lease.
 */
class SharedMetadataIT {
    @TempDir
    Path dir;

    @Test
    void aQueryServerTakesEventsInAndReadsTheLakeThatTheOtherServersPipelineWrites() throws Exception {
        try (EmbeddedPostgres postgres = EmbeddedPostgres.start()) {
            try (Connection admin = postgres.getPostgresDatabase().getConnection();
                    Statement statement = admin.createStatement()) {
                statement.execute("CREATE DATABASE tarn_metadata");
                statement.execute("CREATE DATABASE tarn_lake");
            }
            Map<String, String> shared = new HashMap<>();
            shared.put(
                    "TARN_METADATA_URI", "jdbc:postgresql://localhost:%d/tarn_metadata".formatted(postgres.getPort()));
            shared.put("TARN_METADATA_USER", "postgres");
            shared.put("TARN_METADATA_PASSWORD", "postgres");
            shared.put(
                    "TARN_LAKE_CATALOG_URI", "jdbc:postgresql://localhost:%d/tarn_lake".formatted(postgres.getPort()));
            shared.put("TARN_LAKE_CATALOG_USER", "postgres");
            shared.put("TARN_LAKE_CATALOG_PASSWORD", "postgres");
            shared.put("TARN_LAKE_WAREHOUSE", dir.resolve("warehouse").toString());
            shared.put("TARN_COMPUTE_CHECKPOINT_INTERVAL", "1s");

            ServerProcess runner = ServerProcess.start(dir.resolve("runner"), log("runner"), shared, 0);
            try {
                Http runs = new Http(runner.http, runner.token);
                Fixtures.createIdTopic(runs, "events", 2);
                Fixtures.createIdLanding(runs, "land-events", "events", "shared.events");

                Map<String, String> query = new HashMap<>(shared);
                query.put("TARN_NODE_ROLE", "query");
                query.put("TARN_LOG_BOOTSTRAP_SERVERS", runner.kafka);
                ServerProcess querier = ServerProcess.start(dir.resolve("querier"), log("querier"), query, 0);
                try {
                    Http queries = new Http(querier.http, querier.token);
                    Fixtures.sendIds(queries, "events", 0, 1000);
                    await(
                            "the other server's pipeline to land what this one took in",
                            Duration.ofMinutes(2),
                            () -> Fixtures.number(queries, "SELECT count(*) FROM lake.shared.events") == 1000);
                    assertThat(Fixtures.rows(queries, "SELECT count(DISTINCT id), sum(id) FROM lake.shared.events")
                                    .toString())
                            .isEqualTo("[[1000,499500]]");

                    // the query server runs no pipeline, and creates none
                    Http.Reply refused = queries.post(
                            "/v1/pipelines",
                            Map.of("name", "second", "sql", "INSERT INTO lake.shared.events SELECT 1"));
                    assertThat(refused.status()).isEqualTo(409);
                    assertThat(refused.errorName()).isEqualTo("NOT_ON_THIS_NODE");
                    assertThat(refused.errorMessage())
                            .isEqualTo("this server's node.role is query: pipelines, views (but reads of their"
                                    + " rows), sources and table maintenance are on the server whose node.role is"
                                    + " all");
                    assertThat(runs.get("/v1/pipelines").text()).doesNotContain("second");
                    assertThat(queries.get("/v1/views").status()).isEqualTo(409);
                    assertThat(queries.post("/v1/views", Map.of("name", "x", "sql", "SELECT 1 AS a"))
                                    .status())
                            .isEqualTo(409);

                    // a view made on the other server: this one serves its rows and live.<view> from its own store
                    Http.Reply view = runs.post(
                            "/v1/views",
                            Map.of(
                                    "name",
                                    "buckets",
                                    "sql",
                                    "SELECT id % 10 AS bucket, count(*) AS n FROM stream.events GROUP BY id % 10"));
                    assertThat(view.status()).as(view.text()).isEqualTo(201);
                    await("the view's rows on the query server", Duration.ofMinutes(2), () -> queries.get(
                                    "/v1/views/buckets?key=3")
                            .body()
                            .path("rows")
                            .toString()
                            .equals("[{\"bucket\":3,\"n\":100}]"));
                    assertThat(Fixtures.rows(queries, "SELECT count(*), sum(n) FROM live.buckets")
                                    .toString())
                            .isEqualTo("[[10,1000]]");
                    assertThat(queries.get("/v1/views/buckets/status").status()).isEqualTo(409);
                    assertThat(queries.delete("/v1/views/buckets").status()).isEqualTo(409);
                    Fixtures.sendIds(queries, "events", 1000, 1010);
                    await("the view's new rows on the query server", Duration.ofMinutes(1), () -> Fixtures.rows(
                                    queries, "SELECT sum(n) FROM live.buckets")
                            .toString()
                            .equals("[[1010]]"));
                    // deleted there, gone here, and made again under its name: a store of its own
                    assertThat(runs.delete("/v1/views/buckets").status()).isEqualTo(204);
                    await(
                            "the deleted view gone from the query server",
                            Duration.ofSeconds(30),
                            () -> queries.get("/v1/views/buckets?key=3").status() == 404);
                    Http.Reply again = runs.post(
                            "/v1/views",
                            Map.of(
                                    "name",
                                    "buckets",
                                    "sql",
                                    "SELECT id % 2 AS bucket, count(*) AS n FROM stream.events GROUP BY id % 2"));
                    assertThat(again.status()).as(again.text()).isEqualTo(201);
                    // until the query server has read the new view from the metadata, live.buckets is unknown there
                    await("the view made again, on the query server", Duration.ofMinutes(2), () -> {
                        Http.Reply rows =
                                queries.post("/v1/query", Map.of("sql", "SELECT count(*), sum(n) FROM live.buckets"));
                        return rows.status() == 200
                                && rows.body().path("rows").toString().equals("[[2,1010]]");
                    });

                    // a token made on one server is a token of both
                    Http.Reply token = runs.post(
                            "/v1/tokens",
                            Map.of(
                                    "name",
                                    "analyst",
                                    "grants",
                                    List.of(Map.of("privilege", "read", "resource", "table:shared.*"))));
                    assertThat(token.status()).as(token.text()).isEqualTo(201);
                    Http analyst =
                            new Http(querier.http, token.body().path("token").asText());
                    assertThat(analyst.get("/v1/tables").text()).contains("shared.events");
                    // and one revoked on one server stops working on both (the other reads tokens every 5 s)
                    assertThat(runs.delete("/v1/tokens/analyst").status()).isEqualTo(204);
                    await(
                            "the revoked token to be refused by the other server",
                            Duration.ofSeconds(30),
                            () -> analyst.get("/v1/tables").status() == 401);
                    // each server's admin token is its own data directory's, and stays valid
                    assertThat(runs.get("/v1/tables").status()).isEqualTo(200);
                    assertThat(queries.get("/v1/tables").status()).isEqualTo(200);
                } finally {
                    querier.terminate();
                }

                // a second server that would run the pipelines too does not start
                Path third = log("third");
                assertThatThrownBy(() -> ServerProcess.start(dir.resolve("third"), third, shared, 0))
                        .hasMessageStartingWith("server exited before READY");
                assertThat(Files.readString(third))
                        .contains("another Tarn server (node "
                                + Files.readString(dir.resolve("runner").resolve("node.id"))
                                        .strip()
                                + ") runs the pipelines of this metadata database; give this one node.role=query");
            } finally {
                runner.terminate();
            }
        }
    }

    /** A server's log, kept in target/ so that a failed run can be read afterwards. */
    private static Path log(String server) throws Exception {
        Path log = Path.of("target", "shared-metadata-it-" + server + ".log").toAbsolutePath();
        Files.deleteIfExists(log);
        return log;
    }
}
