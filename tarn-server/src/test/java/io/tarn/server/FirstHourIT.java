package io.tarn.server;

import static io.tarn.server.Fixtures.await;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** What a new user hit in the first hour with Tarn (issue 16), each reproduced and now answered right. */
class FirstHourIT {
    private static final Duration LANDING = Duration.ofMinutes(2);

    @RegisterExtension
    static final TarnServerExtension tarn = new TarnServerExtension();

    static Http http;

    @BeforeAll
    static void start() {
        http = tarn.http();
    }

    @Test
    void aTopicInUseIsNotDeletedUnlessForcedAndItsPipelinesThenFail() {
        Fixtures.createIdTopic(http, "orders", 1);
        createPipeline("orders-to-lake", "orders", "orders");
        expectError(
                http.delete("/v1/topics/orders"),
                409,
                "TOPIC_IN_USE",
                "topic 'orders' is used by pipeline 'orders-to-lake'; delete or change the pipelines first, or delete"
                        + " the topic with force=true (they then fail)");
        assertThat(http.get("/v1/topics/orders").status()).isEqualTo(200);
        Fixtures.awaitPipelineRunning(http, "orders-to-lake", "after the refused delete");

        assertThat(http.delete("/v1/topics/orders?force=true").status()).isEqualTo(204);
        assertThat(http.get("/v1/topics/orders").status()).isEqualTo(404);
        var pipeline = http.get("/v1/pipelines/orders-to-lake").body();
        assertThat(pipeline.path("state").asText()).isEqualTo("FAILED");
        assertThat(pipeline.path("lastError").asText()).isEqualTo("its topic 'orders' was deleted");
        assertThat(Http.flink(tarn.server()).get("/jobs").text()).doesNotContain("\"RUNNING\"");
        assertThat(http.delete("/v1/topics/orders?force=maybe").status()).isEqualTo(400);
    }

    @Test
    void aTopicDeletedBehindTarnsBackFailsItsPipelinesInsteadOfSpinning() throws Exception {
        Fixtures.createIdTopic(http, "vanishing", 1);
        createPipeline("vanishing-to-lake", "vanishing", "vanishing");
        try (Admin admin =
                Admin.create(Map.of("bootstrap.servers", tarn.server().bootstrapServers()))) {
            admin.deleteTopics(List.of("vanishing")).all().get();
        }
        await("the pipeline failed", Duration.ofSeconds(60), () -> http.get("/v1/pipelines/vanishing-to-lake")
                .body()
                .path("state")
                .asText()
                .equals("FAILED"));
        assertThat(http.get("/v1/pipelines/vanishing-to-lake")
                        .body()
                        .path("lastError")
                        .asText())
                .isEqualTo("its topic 'vanishing' no longer exists; re-create the topic and start the pipeline");
    }

    @Test
    void aRefusedPipelineLeavesNoTableAndTablesCanBeDeleted() throws Exception {
        Fixtures.createIdTopic(http, "events", 1);
        Http.Reply typo = http.post(
                "/v1/pipelines",
                Map.of(
                        "name",
                        "typo",
                        "sql",
                        "CREATE DATABASE IF NOT EXISTS lake.typo; CREATE TABLE lake.typo.t (id BIGINT);"
                                + " INSERT INTO lake.typo.t SELECT idd FROM stream.events"));
        assertThat(typo.status()).isEqualTo(400);
        assertThat(typo.errorName()).isEqualTo("INVALID_SQL");
        assertThat(http.get("/v1/tables/typo.t").status()).isEqualTo(404);
        assertThat(http.get("/v1/tables").text()).doesNotContain("typo");

        createPipeline("events-to-lake", "events", "events");
        assertThat(http.post("/v1/topics/events/records", List.of(Map.of("id", 1), Map.of("id", 2)))
                        .status())
                .isEqualTo(200);
        await("rows in the lake", LANDING, () -> Fixtures.number(http, "SELECT count(*) FROM lake.first.events") == 2);
        expectError(
                http.delete("/v1/tables/first.events"),
                409,
                "TABLE_IN_USE",
                "lake table 'first.events' is used by pipeline 'events-to-lake'; delete or change the pipelines first,"
                        + " or delete the table with force=true (they then fail)");
        assertThat(Fixtures.number(http, "SELECT count(*) FROM lake.first.events"))
                .isEqualTo(2);
        assertThat(http.delete("/v1/pipelines/events-to-lake").status()).isEqualTo(204);

        Cli.Result deleted = Cli.run(
                "--url",
                tarn.server().httpAddress(),
                "--data-dir",
                tarn.dataDir().toString(),
                "tables",
                "delete",
                "lake.first.events");
        assertThat(deleted.out()).as(deleted.err()).isEqualTo("deleted table lake.first.events\n");
        assertThat(http.get("/v1/tables/first.events").status()).isEqualTo(404);
        try (Stream<Path> files = Files.walk(tarn.dataDir().resolve("warehouse"))) {
            assertThat(files.filter(Files::isRegularFile).map(Path::toString))
                    .noneMatch(f -> f.contains("/first/events/"));
        }
        expectError(http.delete("/v1/tables/first.events"), 404, "TABLE_NOT_FOUND", null);
    }

    @Test
    void userMistakesAre400WithAHintOnBothEnginesAndTheCliPrintsNoStackTrace() {
        Fixtures.createIdTopic(http, "mistakes", 1);
        createPipeline("mistakes-to-lake", "mistakes", "mistakes");
        assertThat(http.post("/v1/topics/mistakes/records", List.of(Map.of("id", 7)))
                        .status())
                .isEqualTo(200);
        await("a row", LANDING, () -> Fixtures.number(http, "SELECT count(*) FROM lake.first.mistakes") == 1);

        Cli.Result typo = cli("sql", "SELECT idd FROM lake.first.mistakes");
        assertThat(typo.code()).isEqualTo(3);
        assertThat(typo.err())
                .startsWith(
                        "error: INVALID_SQL: query is not valid: Binder Error: Referenced column \"idd\" not found");
        Http.Reply bare = http.post("/v1/query", Map.of("sql", "SELECT count(*) FROM first.mistakes"));
        expectError(
                bare,
                404,
                "TABLE_NOT_FOUND",
                "table 'first.mistakes' does not exist; lake tables are named lake.<namespace>.<table>: did you mean"
                        + " lake.first.mistakes?");
        for (String engine : List.of("duckdb", "flink")) {
            expectError(
                    http.post("/v1/query", Map.of("sql", "SELECT * FROM lake.first.nope", "engine", engine)),
                    404,
                    "TABLE_NOT_FOUND",
                    "lake table 'first.nope' does not exist");
        }
        Cli.Result badUrl = Cli.run("--url", "localhost:18080", "topics", "list");
        assertThat(badUrl.code()).isEqualTo(3);
        assertThat(badUrl.err())
                .isEqualTo("error: --url 'localhost:18080' is not an http:// or https:// URL; write it as"
                        + " http://localhost:18080\n");
        assertThat(http.delete("/v1/pipelines/mistakes-to-lake").status()).isEqualTo(204);
    }

    @Test
    void produceWritesAWholeFileOrNothingAndNamesTheLine() throws Exception {
        Fixtures.createIdTopic(http, "lines", 2);
        StringBuilder file = new StringBuilder();
        for (int id = 1; id <= 12_000; id++) {
            file.append(id == 11_001 ? "{\"id\":\"eleven thousand one\"}" : "{\"id\":" + id + "}")
                    .append('\n');
        }
        Path ndjson = tarn.dataDir().resolve("lines.ndjson");
        Files.writeString(ndjson, file);
        Cli.Result refused = cli("produce", "lines", ndjson.toString(), "--batch", "1000");
        assertThat(refused.code()).isEqualTo(3);
        assertThat(refused.err())
                .isEqualTo("error: INVALID_RECORDS: 1 of 12000 records are invalid; nothing was written\n"
                        + "  line 11001: field 'id' expected BIGINT, got string \"eleven thousand one\"\n");
        assertThat(records("lines")).isZero();

        Files.writeString(ndjson, file.toString().replace("\"eleven thousand one\"", "11001"));
        assertThat(cli("produce", "lines", ndjson.toString(), "--batch", "1000").out())
                .isEqualTo("accepted 12000\n");
        assertThat(records("lines")).isEqualTo(12_000);

        Fixtures.createIdTopic(http, "resumed", 1);
        assertThat(cli("produce", "resumed", ndjson.toString(), "--from-line", "6001")
                        .out())
                .isEqualTo("accepted 6000\n");
        Http.Reply ids = http.post(
                "/v1/query", Map.of("sql", "SELECT min(id), max(id), count(*) FROM stream.resumed", "engine", "flink"));
        assertThat(ids.body().path("rows").toString()).as(ids.text()).isEqualTo("[[6001,12000,6000]]");
    }

    private static long records(String topic) {
        return http.get("/v1/topics/" + topic).body().path("records").asLong();
    }

    private static Cli.Result cli(String... args) {
        List<String> all = new java.util.ArrayList<>(List.of(
                "--url",
                tarn.server().httpAddress(),
                "--data-dir",
                tarn.dataDir().toString()));
        all.addAll(List.of(args));
        return Cli.run(all.toArray(String[]::new));
    }

    /** A pipeline landing a topic of ids in {@code lake.first.<table>}. */
    private static void createPipeline(String name, String topic, String table) {
        Http.Reply created = http.post(
                "/v1/pipelines",
                Map.of(
                        "name",
                        name,
                        "sql",
                        ("CREATE DATABASE IF NOT EXISTS lake.first; CREATE TABLE IF NOT EXISTS lake.first.%s (id BIGINT);"
                                        + " INSERT INTO lake.first.%s SELECT id FROM stream.`%s`")
                                .formatted(table, table, topic)));
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        Fixtures.awaitPipelineRunning(http, name, "after its creation");
    }

    private static void expectError(Http.Reply reply, int status, String name, String message) {
        assertThat(reply.status()).as(reply.text()).isEqualTo(status);
        assertThat(reply.errorName()).isEqualTo(name);
        if (message != null) {
            assertThat(reply.errorMessage()).isEqualTo(message);
        }
    }
}
