package io.tarn.server;

import static io.tarn.server.Fixtures.await;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.tarn.core.config.ConfigKeys;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What the web console reads besides the other endpoints (the overview, a topic's rates and live records, a pipeline's
 * job graph) and how its files are served. The console itself is driven in a browser by tarn-console's ConsoleIT.
 */
class ConsoleApiIT {
    @RegisterExtension
    static final TarnServerExtension tarn =
            new TarnServerExtension(config -> config.with(ConfigKeys.COMPUTE_CHECKPOINT_INTERVAL, "1s"));

    private static final String POLICY =
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
                    + " font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    @Test
    void theConsolesFilesAreServedWithoutATokenUnderAStrictPolicyAndNothingElseIs() throws Exception {
        HttpResponse<byte[]> page = raw("/", Map.of());
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Type")).contains("text/html; charset=utf-8");
        assertThat(page.headers().firstValue("Content-Security-Policy")).contains(POLICY);
        assertThat(new String(page.body())).contains("<script type=\"module\" src=\"/console/app.js\"></script>");
        // a link from another site opens the page (it holds nothing); the API stays closed to that site
        assertThat(raw("/", Map.of("Sec-Fetch-Site", "cross-site")).statusCode())
                .isEqualTo(200);
        Http.Reply crossSite = tarn.http()
                .send(HttpRequest.newBuilder(tarn.http().uri("/v1/overview"))
                        .header("Sec-Fetch-Site", "cross-site")
                        .GET());
        assertThat(crossSite.status()).isEqualTo(403);
        assertThat(crossSite.errorName()).isEqualTo("ORIGIN_NOT_ALLOWED");

        HttpResponse<byte[]> library = raw("/console/codemirror.js", Map.of());
        assertThat(library.statusCode()).isEqualTo(200);
        assertThat(library.headers().firstValue("Content-Type")).contains("text/javascript; charset=utf-8");
        try (InputStream webjar = getClass()
                .getClassLoader()
                .getResourceAsStream("META-INF/resources/webjars/codemirror/5.65.16/lib/codemirror.js")) {
            assertThat(library.body()).isEqualTo(webjar.readAllBytes());
        }
        for (String path : List.of(
                "/console/nope.js",
                "/console/..%2Fopenapi.json",
                "/console/%2e%2e%2fadmin.token",
                "/console/Tarn.class")) {
            HttpResponse<byte[]> refused = raw(path, Map.of());
            assertThat(refused.statusCode()).as(path).isIn(400, 404);
            assertThat(new String(refused.body()))
                    .as(path)
                    .doesNotContain("admin")
                    .contains("\"error\"");
        }
        assertThat(raw("/console/", Map.of()).statusCode()).isEqualTo(401); // no file named: an unknown route
    }

    @Test
    void theOverviewShowsWhatTheMetricsShowAndOnlyWhatTheTokenMayRead() throws Exception {
        Http admin = tarn.http();
        Fixtures.createIdTopic(admin, "seen", 1);
        Fixtures.createIdTopic(admin, "unseen", 1);
        Fixtures.createIdLanding(admin, "seen-to-lake", "seen", "console.seen");
        Fixtures.sendIds(admin, "seen", 0, 250);
        await(
                "the ids landed",
                Duration.ofMinutes(2),
                () -> Fixtures.number(admin, "SELECT count(*) FROM lake.console.seen") == 250);
        await(
                "no lag",
                Duration.ofMinutes(1),
                () -> pipeline(admin.get("/v1/overview").body(), "seen-to-lake")
                                .path("lagRecords")
                                .asLong(-1)
                        == 0);
        JsonNode overview = admin.get("/v1/overview").body();
        assertThat(overview.path("ready").asBoolean()).isTrue();
        assertThat(overview.path("parts").toString())
                .isEqualTo("{\"log\":true,\"lake\":true,\"compute\":true,\"storage\":true,\"resumed\":true}");
        assertThat(named(overview.path("topics"), "seen").path("records").asLong())
                .isEqualTo(250);
        JsonNode pipeline = pipeline(overview, "seen-to-lake");
        assertThat(pipeline.path("state").asText()).isEqualTo("RUNNING");
        assertThat(pipeline.path("failing").asBoolean()).isFalse();
        assertThat(pipeline.path("lastError").isNull()).isTrue();
        JsonNode table = named(overview.path("tables"), "console.seen");
        assertThat(table.path("freshnessSeconds").asDouble()).isZero();
        String committed = admin.get("/v1/tables/console.seen")
                .body()
                .path("recentSnapshots")
                .path(0)
                .path("committedAt")
                .asText();
        assertThat(Instant.parse(table.path("lastCommitAt").asText())).isEqualTo(Instant.parse(committed));
        // the size classes of its files add up to what its description counts
        JsonNode described = admin.get("/v1/tables/console.seen").body();
        JsonNode files = admin.get("/v1/tables/console.seen/files").body();
        assertThat(files.path("snapshotId").asLong())
                .isEqualTo(described.path("currentSnapshotId").asLong());
        long dataFiles = 0;
        long deleteFiles = 0;
        long bytes = 0;
        List<String> bounds = new ArrayList<>();
        for (JsonNode size : files.path("sizes")) {
            bounds.add(size.path("upToBytes").asText());
            dataFiles += size.path("dataFiles").asLong();
            deleteFiles += size.path("deleteFiles").asLong();
            bytes += size.path("bytes").asLong();
        }
        assertThat(bounds).containsExactly("1048576", "8388608", "33554432", "134217728", "536870912", "null");
        assertThat(dataFiles).isEqualTo(described.path("dataFiles").asLong()).isPositive();
        assertThat(deleteFiles).isEqualTo(described.path("deleteFiles").asLong());
        assertThat(bytes).isEqualTo(described.path("fileBytes").asLong());
        assertThat(files.path("sizes").path(0).path("dataFiles").asLong()).isEqualTo(dataFiles); // small files
        assertThat(admin.get("/v1/tables/console.nothing/files").errorName()).isEqualTo("TABLE_NOT_FOUND");

        HttpResponse<byte[]> scraped = raw(
                "/metrics", Map.of("Authorization", "Bearer " + admin.token().orElseThrow()));
        PrometheusText metrics = PrometheusText.parse(new String(scraped.body(), StandardCharsets.UTF_8));
        assertThat(metrics.value("tarn_table_freshness_seconds", Map.of("table", "console.seen")))
                .isZero();
        assertThat(metrics.value("tarn_table_last_commit_timestamp_seconds", Map.of("table", "console.seen")))
                .isEqualTo(Instant.parse(committed).toEpochMilli() / 1000.0);

        Http reader = admin.withToken(Optional.of(admin.post(
                        "/v1/tokens",
                        Map.of(
                                "name",
                                "console-reader",
                                "grants",
                                List.of(Map.of("privilege", "read", "resource", "topic:seen"))))
                .body()
                .path("token")
                .asText()));
        JsonNode narrow = reader.get("/v1/overview").body();
        List<String> topics = new ArrayList<>();
        narrow.path("topics").forEach(t -> topics.add(t.path("name").asText()));
        assertThat(topics).containsExactly("seen");
        assertThat(narrow.path("pipelines")).isEmpty();
        assertThat(narrow.path("tables")).isEmpty();
        assertThat(reader.get("/v1/topics/unseen/rates").status()).isEqualTo(403);
        assertThat(reader.get("/v1/pipelines/seen-to-lake/graph").status()).isEqualTo(403);
    }

    @Test
    void ratesCountEveryRecordAppendedInTheirIntervals() {
        Http admin = tarn.http();
        Fixtures.createIdTopic(admin, "rated", 2);
        // the topic's end must have been read once before the records come, or they fall before its first interval
        await(
                "a first interval",
                Duration.ofSeconds(30),
                () -> admin.get("/v1/topics/rated/rates").body().path("rates").size() > 0);
        Fixtures.sendIds(admin, "rated", 0, 700);
        Fixtures.sendIds(admin, "rated", 700, 1000);
        await("the intervals hold 1000 records", Duration.ofSeconds(30), () -> {
            long records = 0;
            for (JsonNode rate : admin.get("/v1/topics/rated/rates").body().path("rates")) {
                records += rate.path("records").asLong();
            }
            return records == 1000;
        });
        JsonNode answer = admin.get("/v1/topics/rated/rates").body();
        assertThat(answer.path("intervalSeconds").asInt()).isEqualTo(5);
        for (JsonNode rate : answer.path("rates")) {
            assertThat(rate.path("recordsPerSecond").asDouble())
                    .isEqualTo(
                            rate.path("records").asLong() / rate.path("seconds").asDouble());
        }
        assertThat(admin.get("/v1/topics/no-such-topic/rates").errorName()).isEqualTo("TOPIC_NOT_FOUND");
    }

    @Test
    void theTailSendsTheLastRecordsThenEachNewOne() throws Exception {
        Http admin = tarn.http();
        Fixtures.createIdTopic(admin, "tailed", 1);
        Fixtures.sendIds(admin, "tailed", 1, 4); // offsets 0, 1, 2
        try (EventStream tail = EventStream.open(admin, "/v1/topics/tailed/tail?last=2", Optional.empty())) {
            for (long offset = 1; offset <= 2; offset++) {
                EventStream.Event event = tail.next();
                assertThat(event.event()).isEqualTo("record");
                assertThat(event.id()).isEqualTo("0:" + offset);
                assertThat(event.data().path("partition").asInt()).isZero();
                assertThat(event.data().path("offset").asLong()).isEqualTo(offset);
                assertThat(event.data().path("key").isNull()).isTrue();
                assertThat(event.data().path("value").asText()).isEqualTo("{\"id\":" + (offset + 1) + "}");
            }
            Fixtures.sendIds(admin, "tailed", 42, 43);
            EventStream.Event fresh = tail.next();
            assertThat(fresh.id()).isEqualTo("0:3");
            assertThat(fresh.data().path("value").asText()).isEqualTo("{\"id\":42}");
        }
        Http.Reply tooMany = admin.get("/v1/topics/tailed/tail?last=101");
        assertThat(tooMany.status()).isEqualTo(400);
        assertThat(tooMany.errorMessage()).isEqualTo("last must be between 0 and 100 records per partition, not 101");
        assertThat(admin.get("/v1/topics/tailed/tail?last=ten").errorMessage())
                .isEqualTo("query parameter 'last' must be a whole number, got 'ten'");
        assertThat(admin.get("/v1/topics/no-such-topic/tail").errorName()).isEqualTo("TOPIC_NOT_FOUND");
        assertThat(admin.withToken(Optional.empty())
                        .get("/v1/topics/tailed/tail")
                        .status())
                .isEqualTo(401);
    }

    @Test
    void theGraphIsTheRunningJobsTasksWithTheirCounts() {
        Http admin = tarn.http();
        Fixtures.createIdTopic(admin, "graphed", 1);
        Fixtures.createIdLanding(admin, "graphed-to-lake", "graphed", "console.graphed");
        Fixtures.sendIds(admin, "graphed", 0, 120);
        Fixtures.awaitPipelineRunning(admin, "graphed-to-lake", "created");
        // Flink's counters reach its REST API every few seconds: the source has read all 120 records in the end
        await("the source's count", Duration.ofMinutes(2), () -> {
            JsonNode graph = admin.get("/v1/pipelines/graphed-to-lake/graph").body();
            boolean running = true;
            for (JsonNode vertex : graph.path("vertices")) {
                running &= vertex.path("state").asText().equals("RUNNING");
            }
            return graph.path("vertices").size() > 0
                    && running
                    && graph.path("vertices").path(0).path("recordsIn").asLong() == 120;
        });
        JsonNode graph = admin.get("/v1/pipelines/graphed-to-lake/graph").body();
        assertThat(graph.path("state").asText()).isEqualTo("RUNNING");
        // Flink's counts (a checkpoint triggered while a task is still starting is declined: counted as failed)
        assertThat(graph.path("checkpoints").path("failed").isIntegralNumber()).isTrue();
        assertThat(graph.path("checkpoints").path("lastMillis").asLong() >= 0)
                .isEqualTo(graph.path("checkpoints").path("completed").asLong() > 0);
        List<String> ids = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (JsonNode vertex : graph.path("vertices")) {
            ids.add(vertex.path("id").asText());
            names.add(vertex.path("name").asText());
            assertThat(vertex.path("backPressure").asText()).isIn("ok", "low", "high");
            assertThat(vertex.path("busy").asDouble()).isBetween(0.0, 1.0);
        }
        assertThat(names.get(0)).startsWith("Source: ");
        assertThat(names.get(names.size() - 1)).isEqualTo("lake.console.graphed: Committer");
        // a chain: each task sends to the next
        List<String> chain = new ArrayList<>();
        for (int i = 0; i < ids.size() - 1; i++) {
            chain.add(ids.get(i) + " -> " + ids.get(i + 1));
        }
        List<String> edges = new ArrayList<>();
        graph.path("edges")
                .forEach(e -> edges.add(
                        e.path("from").asText() + " -> " + e.path("to").asText()));
        assertThat(edges).containsExactlyInAnyOrderElementsOf(chain);
        assertThat(admin.post("/v1/pipelines/graphed-to-lake/stop", Map.of()).status())
                .isEqualTo(200);
        // its last job, as long as Flink knows it: finished, with its final counts
        JsonNode stopped = admin.get("/v1/pipelines/graphed-to-lake/graph").body();
        assertThat(stopped.path("state").asText()).isEqualTo("STOPPED");
        assertThat(stopped.path("vertices")).hasSize(ids.size());
        stopped.path("vertices")
                .forEach(v -> assertThat(v.path("state").asText()).isEqualTo("FINISHED"));
        assertThat(stopped.path("vertices").path(0).path("recordsIn").asLong()).isEqualTo(120);
        assertThat(admin.get("/v1/pipelines/no-such-pipeline/graph").errorName())
                .isEqualTo("PIPELINE_NOT_FOUND");
    }

    private static JsonNode pipeline(JsonNode overview, String name) {
        return named(overview.path("pipelines"), name);
    }

    private static JsonNode named(JsonNode list, String name) {
        for (JsonNode node : list) {
            if (node.path("name").asText().equals(name)) {
                return node;
            }
        }
        throw new AssertionError(name + " is not in " + list);
    }

    private static HttpResponse<byte[]> raw(String path, Map<String, String> headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(
                        URI.create(tarn.http().uri(path).toString()))
                .GET();
        headers.forEach(request::header);
        return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    }
}
