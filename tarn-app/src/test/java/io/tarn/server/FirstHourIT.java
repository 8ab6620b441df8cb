package io.tarn.server;

import static io.tarn.server.Fixtures.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.tarn.app.launcher.ServerProcess;
import io.tarn.app.launcher.TarnMain;
import io.tarn.core.config.ConfigKeys;
import io.tarn.core.config.TarnConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

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
        assertThat(Http.flink(tarn.server())
                        .get("/jobs/" + pipeline.path("jobId").asText())
                        .body()
                        .path("state")
                        .asText())
                .isEqualTo("CANCELED");
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

    @Test
    void aCleanRunAndStopLogOneLinePerEventAndNoStackTrace(@TempDir Path other) throws Exception {
        Path log = other.resolve("server.log");
        try (ServerProcess process = ServerProcess.start(other.resolve("data"), log, Map.of(), 0)) {
            Http client = new Http(process.http, process.token);
            Fixtures.createIdTopic(client, "quiet", 1);
            Http.Reply created = client.post(
                    "/v1/pipelines",
                    Map.of(
                            "name",
                            "quiet-to-lake",
                            "sql",
                            "CREATE DATABASE IF NOT EXISTS lake.calm; CREATE TABLE IF NOT EXISTS lake.calm.t (id BIGINT);"
                                    + " INSERT INTO lake.calm.t SELECT id FROM stream.quiet"));
            assertThat(created.status()).as(created.text()).isEqualTo(201);
            assertThat(client.post("/v1/topics/quiet/records", List.of(Map.of("id", 1)))
                            .status())
                    .isEqualTo(200);
            await("the row", LANDING, () -> Fixtures.number(client, "SELECT count(*) FROM lake.calm.t") == 1);
            assertThat(client.post("/v1/query", Map.of("sql", "SELECT idd FROM lake.calm.t"))
                            .status())
                    .isEqualTo(400);
            assertThat(client.post(
                                    "/v1/pipelines",
                                    Map.of(
                                            "name",
                                            "typo",
                                            "sql",
                                            "INSERT INTO lake.calm.t SELECT idd FROM stream.quiet"))
                            .status())
                    .isEqualTo(400);
            assertThat(process.terminate()).isEqualTo(143);
        }
        List<String> lines = Files.readAllLines(log);
        assertThat(lines).noneMatch(l -> l.startsWith("\tat ") || l.contains("Exception"));
        assertThat(lines)
                .anyMatch(l -> l.contains("2 pipeline jobs cancelled for the stop")) // with Tarn's audit pipeline
                .anyMatch(l -> l.endsWith("Tarn stopped"));
    }

    @Test
    void aPortInUseIsRefusedBeforeAnythingStarts(@TempDir Path other) throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            TarnConfig config =
                    Fixtures.localServer(other.resolve("data")).with(ConfigKeys.HTTP_PORT, String.valueOf(port));
            Assertions.assertThatThrownBy(() -> TarnServer.start(config))
                    .hasMessage("port %d on 127.0.0.1 (http.port) is in use by another process; choose another with"
                                    .formatted(port)
                            + " --http-port N, or 0 for a free one");
            Assertions.assertThatThrownBy(() -> TarnServer.start(Fixtures.localServer(other.resolve("data"))
                            .with(ConfigKeys.LOG_PORT, String.valueOf(port))))
                    .hasMessage("port %d on localhost (log.port) is in use by another process; choose another with"
                                    .formatted(port)
                            + " --kafka-port N, or 0 for a free one");
            assertThat(other.resolve("data").resolve("kafka")).doesNotExist();
        }
    }

    @Test
    void smallSurprisesAreGone() {
        Http.Reply created = http.post(
                "/v1/topics",
                Map.of(
                        "name",
                        "amounts",
                        "columns",
                        List.of(
                                Map.of("name", "id", "type", "BIGINT"),
                                Map.of("name", "amount", "type", "DECIMAL(10,2)"))));
        assertThat(created.status()).isEqualTo(201);
        // fields that no column declares are said, not silently dropped from pipelines' view
        Http.Reply extra = http.post(
                "/v1/topics/amounts/records", List.of(Map.of("id", 1, "amount", 10, "note", "x", "pad", "y")));
        assertThat(extra.body().toString()).isEqualTo("{\"accepted\":1,\"undeclaredFields\":[\"note\",\"pad\"]}");
        // --sql takes the statements themselves too
        Cli.Result inline = cli(
                "pipelines",
                "create",
                "inline",
                "--sql",
                "CREATE DATABASE IF NOT EXISTS lake.first; CREATE TABLE IF NOT EXISTS lake.first.amounts (id BIGINT,"
                        + " amount DECIMAL(10, 2)); INSERT INTO lake.first.amounts SELECT id, amount FROM stream.amounts");
        assertThat(inline.code()).as(inline.err()).isZero();
        await("the amount", LANDING, () -> Fixtures.number(http, "SELECT count(*) FROM lake.first.amounts") == 1);
        // decimals keep their scale in the CLI
        assertThat(cli("sql", "SELECT amount FROM lake.first.amounts").out()).contains("10.00");
        // both engines name an unnamed expression alike (Flink alone said EXPR$0)
        for (String engine : List.of("duckdb", "flink")) {
            Http.Reply counted = http.post(
                    "/v1/query",
                    Map.of("engine", engine, "sql", "SELECT count(*), max(amount) AS top FROM lake.first.amounts"));
            assertThat(counted.body().path("columns").toString()).as(engine).isEqualTo("[\"count_star()\",\"top\"]");
        }
        assertThat(http.delete("/v1/pipelines/inline").status()).isEqualTo(204);
        // the launcher's help lists bench; server's help has no CLI options
        StringWriter help = new StringWriter();
        picocli.CommandLine launcher = TarnMain.commandLine();
        launcher.setOut(new PrintWriter(help, true));
        assertThat(launcher.execute("--help")).isZero();
        assertThat(help.toString()).contains("  bench ");
        StringWriter serverHelp = new StringWriter();
        launcher.getSubcommands().get("server").setOut(new PrintWriter(serverHelp, true));
        assertThat(launcher.execute("server", "--help")).isZero();
        assertThat(serverHelp.toString()).contains("--http-port").doesNotContain("--url");
    }

    @Test
    void numbersAgreeWithEachOtherAndAcrossRuns() {
        Fixtures.createIdTopic(http, "balances", 1);
        Http.Reply created = http.post(
                "/v1/pipelines",
                Map.of(
                        "name",
                        "balances-to-lake",
                        "sql",
                        "CREATE DATABASE IF NOT EXISTS lake.first; CREATE TABLE IF NOT EXISTS lake.first.balances (id"
                                + " BIGINT, PRIMARY KEY (id) NOT ENFORCED) WITH ('format-version' = '2',"
                                + " 'write.upsert.enabled' = 'true'); INSERT INTO lake.first.balances SELECT id FROM"
                                + " stream.balances"));
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        // the same key three times, in three commits: one live row, three written
        for (int commit = 1; commit <= 3; commit++) {
            assertThat(http.post("/v1/topics/balances/records", List.of(Map.of("id", 7)))
                            .status())
                    .isEqualTo(200);
            int written = commit;
            await(
                    "commit " + commit,
                    LANDING,
                    () -> http.get("/v1/tables/first.balances")
                                    .body()
                                    .path("rowsWritten")
                                    .asLong()
                            == written);
        }
        assertThat(Fixtures.number(http, "SELECT count(*) FROM lake.first.balances"))
                .isEqualTo(1);
        // the counters follow within seconds, and a stop keeps them and the last checkpoint
        awaitRecordsIn("balances-to-lake", 3);
        assertThat(http.post("/v1/pipelines/balances-to-lake/stop", Map.of()).status())
                .isEqualTo(200);
        var stopped = http.get("/v1/pipelines/balances-to-lake").body();
        assertThat(stopped.path("state").asText()).isEqualTo("STOPPED");
        assertThat(stopped.path("recordsIn").asLong()).isEqualTo(3);
        assertThat(stopped.path("recordsOut").asLong()).isEqualTo(3);
        assertThat(stopped.path("lastCheckpoint").path("id").asLong()).isPositive();

        var table = http.get("/v1/tables/first.balances").body();
        assertThat(table.path("rows").asLong()).isEqualTo(1);
        assertThat(table.path("rowsWritten").asLong()).isEqualTo(3);
        assertThat(table.path("deleteFiles").asLong()).isPositive();
        // the newest ten snapshots, newest first; the rest a page at a time
        long count = table.path("snapshotCount").asLong();
        assertThat(count).isGreaterThanOrEqualTo(3);
        List<Long> recent = new ArrayList<>();
        table.path("recentSnapshots").forEach(s -> recent.add(s.path("id").asLong()));
        assertThat(recent).hasSize((int) Math.min(10, count));
        List<Long> paged = new ArrayList<>();
        String next = "";
        do {
            var page = http.get("/v1/tables/first.balances/snapshots?limit=2" + next)
                    .body();
            assertThat(page.path("snapshots").size()).isBetween(1, 2);
            page.path("snapshots").forEach(s -> paged.add(s.path("id").asLong()));
            next = page.path("next").isNull()
                    ? null
                    : "&before=" + page.path("next").asLong();
        } while (next != null);
        assertThat(paged).hasSize((int) count).doesNotHaveDuplicates().startsWith(recent.toArray(Long[]::new));
        expectError(
                http.get("/v1/tables/first.balances/snapshots?limit=0"),
                400,
                "INVALID_REQUEST",
                "limit must be between 1 and 1000, not 0");
        expectError(
                http.get("/v1/tables/first.balances/snapshots?before=12"),
                400,
                "INVALID_REQUEST",
                "before=12 is not a snapshot of lake table 'first.balances' (it may have expired)");
        Cli.Result snapshots = cli("tables", "snapshots", "lake.first.balances", "--limit", "1");
        assertThat(snapshots.out())
                .startsWith("snapshot ")
                .contains(String.valueOf(paged.get(0)))
                .contains("(1 row)")
                .contains("older: tarn tables snapshots first.balances --before " + paged.get(0));

        // a second run counts on from the first
        assertThat(http.post("/v1/pipelines/balances-to-lake/start", Map.of()).status())
                .isEqualTo(200);
        assertThat(http.post("/v1/topics/balances/records", List.of(Map.of("id", 8), Map.of("id", 9)))
                        .status())
                .isEqualTo(200);
        await(
                "the second run's rows",
                LANDING,
                () -> http.get("/v1/tables/first.balances").body().path("rows").asLong() == 3);
        awaitRecordsIn("balances-to-lake", 5);
        assertThat(http.delete("/v1/pipelines/balances-to-lake").status()).isEqualTo(204);
    }

    /** Waits for a pipeline's records-in counter, which follows Flink's metrics within seconds. */
    private static void awaitRecordsIn(String pipeline, long expected) {
        await(
                "the counters",
                Duration.ofSeconds(20),
                () -> http.get("/v1/pipelines/" + pipeline)
                                .body()
                                .path("recordsIn")
                                .asLong()
                        == expected);
    }

    private static long records(String topic) {
        return http.get("/v1/topics/" + topic).body().path("records").asLong();
    }

    private static Cli.Result cli(String... args) {
        List<String> all = new ArrayList<>(List.of(
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
