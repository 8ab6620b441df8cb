package io.tarn.server;

import static io.tarn.server.Fixtures.await;
import static io.tarn.server.Fixtures.number;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.tarn.core.config.ConfigKeys;
import io.tarn.server.http.ConsoleApi;
import io.tarn.server.http.MetricsApi;
import io.tarn.server.http.SchemaRegistryApi;
import io.tarn.server.http.TarnApi;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The whole server in this JVM on random ports, driven only through its HTTP API and the Kafka protocol. */
class TarnServerIT {
    private static final Duration LANDING = Duration.ofMinutes(3);

    @RegisterExtension
    static final TarnServerExtension tarn =
            new TarnServerExtension(config -> config.with(ConfigKeys.COMPUTE_CHECKPOINT_INTERVAL, "1s")
                    .with(ConfigKeys.COMPUTE_RESTART_MAX_FAILURES, "2")
                    .with(ConfigKeys.COMPUTE_RESTART_DELAY, "200ms")
                    .with(ConfigKeys.HTTP_MAX_REQUEST_BYTES, "1000000")
                    .with(ConfigKeys.LOG_MAX_RECORD_BYTES, "2048")
                    .with(ConfigKeys.QUERY_MAX_ROWS, "300000"));

    static Path dataDir;
    static TarnServer server;
    static Http http;

    @BeforeAll
    static void start() {
        dataDir = tarn.dataDir();
        server = tarn.server();
        http = tarn.http();
    }

    @Test
    void eventsFromHttpAndKafkaLandExactlyOnceAndPageViewsAreExact() {
        Http.Reply created = http.post(
                "/v1/topics",
                Map.of(
                        "name",
                        "clicks",
                        "partitions",
                        2,
                        "columns",
                        List.of(
                                Map.of("name", "id", "type", "BIGINT"),
                                Map.of("name", "user_id", "type", "STRING"),
                                Map.of("name", "page", "type", "STRING"),
                                Map.of("name", "country", "type", "STRING"),
                                Map.of("name", "referrer", "type", "STRING"),
                                Map.of("name", "event_time", "type", "TIMESTAMP(3)")),
                        "watermark",
                        Map.of("column", "event_time", "delay", "1s")));
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        assertThat(created.body().path("table").asText()).isEqualTo("stream.clicks");

        createPipeline(
                "clicks-to-lake",
                """
                CREATE DATABASE IF NOT EXISTS lake.web;
                CREATE TABLE IF NOT EXISTS lake.web.clicks (id BIGINT, user_id STRING, page STRING, event_time TIMESTAMP(3), kafka_partition INT);
                INSERT INTO lake.web.clicks SELECT id, user_id, page, event_time, kafka_partition FROM stream.clicks;
                """);
        createPipeline(
                "pv-uv",
                """
                CREATE TABLE IF NOT EXISTS lake.web.pv_uv (window_start TIMESTAMP(3), page STRING, page_views BIGINT, unique_users BIGINT);
                INSERT INTO lake.web.pv_uv
                SELECT window_start, page, COUNT(*), COUNT(DISTINCT user_id)
                FROM TABLE(TUMBLE(TABLE stream.clicks, DESCRIPTOR(event_time), INTERVAL '1' MINUTE))
                GROUP BY window_start, window_end, page;
                """);

        int viaHttp = 3_000;
        int viaKafka = 2_000;
        int total = viaHttp + viaKafka;
        LocalDateTime base = LocalDateTime.of(2026, 1, 1, 0, 0);
        List<String> events = new ArrayList<>();
        Map<String, Long> expectedViews = new TreeMap<>();
        Map<String, Set<String>> expectedUsers = new HashMap<>();
        for (int id = 0; id < total; id++) {
            LocalDateTime time = base.plus(id * 300_000L / total, ChronoUnit.MILLIS);
            Click click = Click.of(id, time);
            events.add(click.json().replace("{", "{\"id\":" + id + ","));
            String key = time.truncatedTo(ChronoUnit.MINUTES) + " " + click.page();
            expectedViews.merge(key, 1L, Long::sum);
            expectedUsers.computeIfAbsent(key, k -> new HashSet<>()).add(click.userId());
        }
        for (int from = 0; from < viaHttp; from += 1_000) {
            String batch = "[" + String.join(",", events.subList(from, from + 1_000)) + "]";
            Http.Reply reply = http.post("/v1/topics/clicks/records?key=user_id", batch);
            assertThat(reply.status()).as(reply.text()).isEqualTo(200);
            assertThat(reply.body().path("accepted").asInt()).isEqualTo(1_000);
        }
        Fixtures.produce(server.bootstrapServers(), "clicks", events.subList(viaHttp, total));
        // One event ten minutes later in each partition moves the watermark past every window above. (Relying on the
        // idle timeout instead races: when both partitions turn idle in the same tick, the last watermark is not sent.)
        for (int partition = 0; partition < 2; partition++) {
            String closer = Click.of(total + partition, base.plusMinutes(10))
                    .json()
                    .replace("{", "{\"id\":" + (total + partition) + ",");
            Fixtures.produce(server.bootstrapServers(), "clicks", partition, List.of(closer));
        }
        int landed = total + 2;

        await("all clicks in the lake", LANDING, () -> number(http, "SELECT count(*) FROM lake.web.clicks") == landed);
        await(
                "all windows in the lake",
                LANDING,
                () -> number(http, "SELECT count(*) FROM lake.web.pv_uv") == expectedViews.size(),
                () -> "windows: "
                        + Fixtures.rows(http, "SELECT window_start, count(*) FROM lake.web.pv_uv GROUP BY 1 ORDER BY 1")
                        + " clicks per partition: "
                        + Fixtures.rows(
                                http,
                                "SELECT kafka_partition, count(*), max(event_time) FROM lake.web.clicks GROUP BY 1 ORDER BY 1")
                        + " pipeline: " + http.get("/v1/pipelines/pv-uv").text());

        JsonNode counts = Fixtures.rows(http, "SELECT count(*), count(DISTINCT id), sum(id) FROM lake.web.clicks")
                .get(0);
        assertThat(counts.get(0).asLong()).isEqualTo(landed);
        assertThat(counts.get(1).asLong()).isEqualTo(landed);
        assertThat(counts.get(2).asLong()).isEqualTo((long) landed * (landed - 1) / 2);

        Map<String, Long> views = new TreeMap<>();
        Map<String, Long> users = new TreeMap<>();
        for (JsonNode row :
                Fixtures.rows(http, "SELECT window_start, page, page_views, unique_users FROM lake.web.pv_uv")) {
            String key =
                    LocalDateTime.parse(row.get(0).asText()) + " " + row.get(1).asText();
            views.put(key, row.get(2).asLong());
            users.put(key, row.get(3).asLong());
        }
        assertThat(views).isEqualTo(expectedViews);
        assertThat(users)
                .isEqualTo(expectedUsers.entrySet().stream()
                        .collect(Collectors.toMap(
                                Map.Entry::getKey, e -> (long) e.getValue().size(), (a, b) -> a, TreeMap::new)));

        Http.Reply flink =
                http.post("/v1/query", Map.of("sql", "SELECT count(*) AS n FROM lake.web.clicks", "engine", "flink"));
        assertThat(flink.status()).as(flink.text()).isEqualTo(200);
        assertThat(flink.body().path("rows").get(0).get(0).asLong()).isEqualTo(landed);
        assertThat(flink.body().path("engine").asText()).isEqualTo("flink");

        // Flink's REST endpoint caches checkpoint statistics for a few seconds, and fetches metrics once a second
        await("pipeline counters and checkpoint", Duration.ofSeconds(60), () -> {
            JsonNode status = http.get("/v1/pipelines/clicks-to-lake").body();
            return status.path("recordsIn").asLong() == landed
                    && status.path("recordsOut").asLong() == landed
                    && status.path("lastCheckpoint").path("id").asLong() > 0;
        });
        JsonNode status = http.get("/v1/pipelines/clicks-to-lake").body();
        assertThat(status.path("state").asText()).isEqualTo("RUNNING");
        assertThat(status.path("lastCheckpoint").path("id").asLong()).isPositive();
        assertThat(status.path("jobId").asText()).hasSize(32);

        JsonNode table = http.get("/v1/tables/web.clicks").body();
        assertThat(table.path("rows").asLong()).isEqualTo(landed);
        assertThat(table.path("deleteFiles").asLong()).isZero();
        assertThat(table.path("columns"))
                .extracting(c -> c.path("name").asText())
                .containsExactly("id", "user_id", "page", "event_time", "kafka_partition");
        assertThat(table.path("rowsWritten").asLong()).isEqualTo(landed);
        assertThat(table.path("recentSnapshots").size())
                .isEqualTo(Math.min(10, table.path("snapshotCount").asInt()))
                .isPositive();
        assertThat(http.get("/v1/tables").body().path("tables"))
                .extracting(JsonNode::asText)
                .contains("web.clicks", "web.pv_uv");
        JsonNode topic = http.get("/v1/topics/clicks").body();
        assertThat(topic.path("records").asLong()).isEqualTo(landed);
    }

    @Test
    void stoppedPipelineResumesFromItsSavepointWithoutLossOrDuplicates() {
        assertThat(http.post(
                                "/v1/topics",
                                Map.of("name", "orders", "columns", List.of(Map.of("name", "id", "type", "BIGINT"))))
                        .status())
                .isEqualTo(201);
        createPipeline(
                "orders-to-lake",
                """
                CREATE DATABASE IF NOT EXISTS lake.shop;
                CREATE TABLE IF NOT EXISTS lake.shop.orders (id BIGINT);
                INSERT INTO lake.shop.orders SELECT id FROM stream.orders;
                """);
        http.post("/v1/topics/orders/records", ids(0, 100));
        await("100 orders", LANDING, () -> number(http, "SELECT count(*) FROM lake.shop.orders") == 100);

        Http.Reply stopped = http.post("/v1/pipelines/orders-to-lake/stop", Map.of());
        assertThat(stopped.status()).as(stopped.text()).isEqualTo(200);
        assertThat(stopped.body().path("state").asText()).isEqualTo("STOPPED");
        assertThat(stopped.body().path("savepoint").asText()).startsWith("savepoint-");
        assertThat(stopped.text()).doesNotContain(dataDir.toString());
        Http.Reply again = http.post("/v1/pipelines/orders-to-lake/stop", Map.of());
        assertThat(again.status()).isEqualTo(409);
        assertThat(again.errorMessage()).isEqualTo("pipeline 'orders-to-lake' is already stopped");

        http.post("/v1/topics/orders/records", ids(100, 150));
        Http.Reply started = http.post("/v1/pipelines/orders-to-lake/start", Map.of());
        assertThat(started.status()).as(started.text()).isEqualTo(200);
        Http.Reply twice = http.post("/v1/pipelines/orders-to-lake/start", Map.of());
        assertThat(twice.status()).isEqualTo(409);
        assertThat(twice.errorName()).isEqualTo("INVALID_STATE");

        await("150 orders", LANDING, () -> number(http, "SELECT count(*) FROM lake.shop.orders") == 150);
        JsonNode row = Fixtures.rows(http, "SELECT count(DISTINCT id), sum(id) FROM lake.shop.orders")
                .get(0);
        assertThat(row.get(0).asLong()).isEqualTo(150);
        assertThat(row.get(1).asLong()).isEqualTo(149L * 150 / 2);

        assertThat(http.delete("/v1/pipelines/orders-to-lake").status()).isEqualTo(204);
        assertThat(http.get("/v1/pipelines/orders-to-lake").status()).isEqualTo(404);
        assertThat(number(http, "SELECT count(*) FROM lake.shop.orders"))
                .as("lake table stays")
                .isEqualTo(150);
    }

    @Test
    void runtimeFailureShowsFailedWithTheRootCause() {
        assertThat(http.post(
                                "/v1/topics",
                                Map.of("name", "poison", "columns", List.of(Map.of("name", "id", "type", "BIGINT"))))
                        .status())
                .isEqualTo(201);
        createPipeline(
                "poisoned",
                """
                CREATE DATABASE IF NOT EXISTS lake.bad;
                CREATE TABLE IF NOT EXISTS lake.bad.poison (id BIGINT);
                INSERT INTO lake.bad.poison SELECT id FROM stream.poison;
                """);
        // HTTP ingest would refuse this record; a plain Kafka producer cannot be stopped.
        Fixtures.produce(server.bootstrapServers(), "poison", List.of("this is not JSON"));
        await("pipeline FAILED", Duration.ofMinutes(2), () -> http.get("/v1/pipelines/poisoned")
                .body()
                .path("state")
                .asText()
                .equals("FAILED"));
        JsonNode status = http.get("/v1/pipelines/poisoned").body();
        assertThat(status.path("lastError").asText()).containsIgnoringCase("JSON");
        assertThat(status.path("restarts").asLong()).isGreaterThanOrEqualTo(1);
        assertThat(status.toString()).doesNotContain("\tat ");
    }

    @Test
    void ingestRefusesBadRecordsWholeAndWritesNothing() {
        assertThat(http.post(
                                "/v1/topics",
                                Map.of(
                                        "name",
                                        "typed",
                                        "columns",
                                        List.of(
                                                Map.of("name", "id", "type", "BIGINT"),
                                                Map.of("name", "ts", "type", "TIMESTAMP(3)"))))
                        .status())
                .isEqualTo(201);
        Http.Reply bad = http.post(
                "/v1/topics/typed/records",
                "[{\"id\":1,\"ts\":\"2026-01-01T00:00:00\"}, 42, {\"id\":\"x\"}, {\"id\":2,\"ts\":\"yesterday\"}, {\"id\":3,\"pad\":\""
                        + "p".repeat(3000) + "\"}]");
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.errorName()).isEqualTo("INVALID_RECORDS");
        assertThat(bad.errorMessage()).startsWith("4 of 5 records are invalid; nothing of this request was written");
        JsonNode records = bad.body().path("error").path("records");
        assertThat(records).extracting(r -> r.path("index").asInt()).containsExactly(1, 2, 3, 4);
        assertThat(records.get(0).path("reason").asText()).isEqualTo("record must be a JSON object, got number");
        assertThat(records.get(1).path("reason").asText()).isEqualTo("field 'id' expected BIGINT, got string \"x\"");
        assertThat(records.get(2).path("reason").asText()).contains("field 'ts' expected TIMESTAMP(3) as ISO-8601");
        assertThat(records.get(3).path("reason").asText())
                .startsWith("record is 30")
                .endsWith("more than the limit of 2048");
        assertThat(http.get("/v1/topics/typed").body().path("records").asLong()).isZero();

        Http.Reply ndjson = http.post("/v1/topics/typed/records", "{\"id\":1}\n{oops\n");
        assertThat(ndjson.status()).isEqualTo(400);
        assertThat(ndjson.body()
                        .path("error")
                        .path("records")
                        .get(0)
                        .path("index")
                        .asInt())
                .isEqualTo(1);
        assertThat(http.get("/v1/topics/typed").body().path("records").asLong()).isZero();

        assertThat(http.post("/v1/topics/typed/records", "[1,").errorName()).isEqualTo("INVALID_REQUEST");
        assertThat(http.post("/v1/topics/typed/records", "   ").errorMessage())
                .isEqualTo("request body holds no records");
        Http.Reply tooLarge =
                http.post("/v1/topics/typed/records", "[" + "{\"id\":1},".repeat(120_000) + "{\"id\":1}]");
        assertThat(tooLarge.status()).isEqualTo(413);
        assertThat(tooLarge.errorMessage())
                .isEqualTo("request body is larger than the limit of 1000000 bytes (http.max-request-bytes)");
        Http.Reply missing = http.post("/v1/topics/nope/records", "[{\"id\":1}]");
        assertThat(missing.status()).isEqualTo(404);
        assertThat(missing.errorName()).isEqualTo("TOPIC_NOT_FOUND");

        Http.Reply ok =
                http.post("/v1/topics/typed/records", "{\"id\":1,\"ts\":\"2026-01-01T00:00:00.5\"}\n\n{\"id\":2}\n");
        assertThat(ok.body().path("accepted").asInt()).isEqualTo(2);
        assertThat(http.get("/v1/topics/typed").body().path("records").asLong()).isEqualTo(2);

        // ?partial=true writes the valid records of a mixed batch and lists the refused ones
        String mixed = "[{\"id\":10}, 42, {\"id\":\"x\"}, {\"id\":11,\"ts\":\"2026-01-01T00:00:00\"}, {\"id\":2,"
                + "\"ts\":\"yesterday\"}]";
        Http.Reply checked = http.post("/v1/topics/typed/records?partial=true&validate=true", mixed);
        assertThat(checked.status()).as(checked.text()).isEqualTo(200);
        assertThat(checked.body().path("valid").asInt()).isEqualTo(2);
        assertThat(checked.body().path("refused").asInt()).isEqualTo(3);
        assertThat(http.get("/v1/topics/typed").body().path("records").asLong()).isEqualTo(2);
        Http.Reply partial = http.post("/v1/topics/typed/records?partial=true", mixed);
        assertThat(partial.status()).as(partial.text()).isEqualTo(200);
        assertThat(partial.body().path("accepted").asInt()).isEqualTo(2);
        assertThat(partial.body().path("refused").asInt()).isEqualTo(3);
        assertThat(partial.body().path("refusedRecords"))
                .extracting(
                        r -> r.path("index").asInt() + ": " + r.path("reason").asText())
                .containsExactly(
                        "1: record must be a JSON object, got number",
                        "2: field 'id' expected BIGINT, got string \"x\"",
                        "4: field 'ts' expected TIMESTAMP(3) as ISO-8601 text without zone, e.g."
                                + " \"2026-11-22T10:15:30.123\", got string \"yesterday\"");
        assertThat(http.get("/v1/topics/typed").body().path("records").asLong()).isEqualTo(4);
        Http.Reply partialNdjson = http.post("/v1/topics/typed/records?partial=true", "{oops\n{\"id\":12}\n");
        assertThat(partialNdjson.body().path("accepted").asInt()).isEqualTo(1);
        assertThat(partialNdjson
                        .body()
                        .path("refusedRecords")
                        .get(0)
                        .path("index")
                        .asInt())
                .isEqualTo(0);
        assertThat(http.get("/v1/topics/typed").body().path("records").asLong()).isEqualTo(5);
        assertThat(http.post("/v1/topics/typed/records?partial=yes", mixed).errorMessage())
                .isEqualTo("query parameter 'partial' must be true or false, got 'yes'");
    }

    @Test
    void badRequestsGetSpecificErrorsWithoutInternals() {
        expectError(
                http.post("/v1/topics", "{\"name\": \"x\", \"partitons\": 3}"),
                400,
                "INVALID_REQUEST",
                "unknown field 'partitons'; allowed fields are [columns, name, partitions, retention, watermark]");
        expectError(http.post("/v1/topics", "{bad json"), 400, "INVALID_REQUEST", null);
        expectError(
                http.post("/v1/topics", Map.of("name", "bad/name")),
                400,
                "INVALID_NAME",
                "topic name 'bad/name' must be 1-249 characters of letters, digits, '.', '_' and '-'");
        expectError(
                http.post(
                        "/v1/topics", Map.of("name", "t1", "columns", List.of(Map.of("name", "a", "type", "WIBBLE")))),
                400,
                "INVALID_REQUEST",
                null);
        expectError(
                http.post("/v1/topics", Map.of("name", "t1", "partitions", 0)),
                400,
                "INVALID_REQUEST",
                "topic 't1' partitions must be between 1 and 10000, got 0");
        assertThat(http.post("/v1/topics", Map.of("name", "dup")).status()).isEqualTo(201);
        expectError(http.post("/v1/topics", Map.of("name", "dup")), 409, "TOPIC_ALREADY_EXISTS", null);
        expectError(http.get("/v1/topics/unknown"), 404, "TOPIC_NOT_FOUND", null);
        expectError(http.delete("/v1/topics/unknown"), 404, "TOPIC_NOT_FOUND", null);
        assertThat(http.delete("/v1/topics/dup").status()).isEqualTo(204);

        expectError(
                http.post("/v1/pipelines", Map.of("name", "p1", "sql", "INSERT INTO lake.web.nope SELECT 1")),
                400,
                "INVALID_SQL",
                null);
        assertThat(http.post("/v1/pipelines", Map.of("name", "p1", "sql", "INSERT INTO lake.web.nope SELECT 1"))
                        .errorMessage())
                .startsWith("pipeline 'p1': ")
                .contains("nope");
        expectError(
                http.post("/v1/pipelines", Map.of("name", "p1", "sql", "INSERT INTO x SELEKT 1")),
                400,
                "INVALID_SQL",
                null);
        expectError(
                http.post("/v1/pipelines", Map.of("name", "p1", "sql", "SELECT * FROM stream.unknown_topic")),
                400,
                "INVALID_SQL",
                null);
        expectError(
                http.post("/v1/pipelines", Map.of("name", "p1", "sql", "CREATE TABLE lake.x.y (a INT);")),
                400,
                "INVALID_SQL",
                "pipeline 'p1' has no INSERT INTO statement");
        expectError(http.post("/v1/pipelines", Map.of("name", "Bad Name", "sql", "x")), 400, "INVALID_NAME", null);
        assertThat(http.post("/v1/topics", Map.of("name", "raw-source")).status())
                .isEqualTo(201);
        String rawSql =
                "CREATE TABLE IF NOT EXISTS lake.rawdata.lines (line STRING); INSERT INTO lake.rawdata.lines SELECT `value` FROM stream.`raw-source`";
        Http.Reply rawLines = http.post(
                "/v1/pipelines",
                Map.of("name", "raw-lines", "sql", "CREATE DATABASE IF NOT EXISTS lake.rawdata; " + rawSql));
        assertThat(rawLines.status()).as(rawLines.text()).isEqualTo(201);
        expectError(
                http.post("/v1/pipelines", Map.of("name", "raw-lines", "sql", rawSql)),
                409,
                "PIPELINE_ALREADY_EXISTS",
                "pipeline 'raw-lines' already exists");
        assertThat(http.delete("/v1/pipelines/raw-lines").status()).isEqualTo(204);
        expectError(
                http.post("/v1/pipelines", Map.of("name", "p1")),
                400,
                "INVALID_REQUEST",
                "field 'sql' is required and must be a non-empty string");
        expectError(http.get("/v1/pipelines/unknown"), 404, "PIPELINE_NOT_FOUND", "pipeline 'unknown' does not exist");
        expectError(http.post("/v1/pipelines/unknown/stop", Map.of()), 404, "PIPELINE_NOT_FOUND", null);

        expectError(
                http.post("/v1/query", Map.of("sql", "SELECT * FROM lake.web.unknown")),
                404,
                "TABLE_NOT_FOUND",
                "lake table 'web.unknown' does not exist");
        expectError(
                http.post("/v1/query", Map.of("sql", "DROP TABLE lake.web.clicks")),
                400,
                "STATEMENT_NOT_ALLOWED",
                "a query must be one SELECT (or WITH ... SELECT) statement over lake tables");
        expectError(
                http.post("/v1/query", Map.of("sql", "SELECT 1", "engine", "spark")),
                400,
                "INVALID_REQUEST",
                "unknown engine 'spark'; use \"duckdb\" or \"flink\"");
        expectError(
                http.post("/v1/query", Map.of("sql", "SELECT * FROM read_text('/etc/hostname')")),
                400,
                "STATEMENT_NOT_ALLOWED",
                null);
        for (String engine : List.of("duckdb", "flink")) {
            expectError(
                    http.post("/v1/query", Map.of("sql", "SELECT * FROM lake.web.missing", "engine", engine)),
                    404,
                    "TABLE_NOT_FOUND",
                    "lake table 'web.missing' does not exist");
        }
        expectError(http.get("/v1/tables/web.unknown"), 404, "TABLE_NOT_FOUND", null);
        expectError(http.get("/v1/tables/nodot"), 400, "INVALID_NAME", null);
        expectError(http.get("/v1/nothing-here"), 404, "ROUTE_NOT_FOUND", null);
        expectError(http.delete("/v1/query"), 405, "METHOD_NOT_ALLOWED", null);
    }

    @Test
    void healthReadinessAndOpenApiCoverEveryRoute() {
        assertThat(http.get("/v1/health").body().path("status").asText()).isEqualTo("UP");
        Http.Reply ready = http.get("/v1/ready");
        assertThat(ready.status()).isEqualTo(200);
        assertThat(ready.body().path("parts").toString())
                .isEqualTo("{\"log\":true,\"lake\":true,\"compute\":true,\"storage\":true,\"resumed\":true}");
        JsonNode openApi = http.get("/v1/openapi.json").body();
        Set<String> documented = new HashSet<>();
        for (Iterator<Map.Entry<String, JsonNode>> paths = openApi.path("paths").fields(); paths.hasNext(); ) {
            var path = paths.next();
            path.getValue()
                    .fieldNames()
                    .forEachRemaining(method -> documented.add(method.toUpperCase() + " " + path.getKey()));
        }
        Set<String> served = new HashSet<>();
        new TarnApi(null, null, null, null, null, null, null, null, null, null, null, null, null, null, 1, 1)
                .routes()
                .forEach(r -> served.add(r.method() + " " + r.template()));
        new SchemaRegistryApi(null, null).routes().forEach(r -> served.add(r.method() + " " + r.template()));
        new MetricsApi(null).routes().forEach(r -> served.add(r.method() + " " + r.template()));
        new ConsoleApi(null, null, null, null, null, null, null, null, null, null)
                .routes()
                .forEach(r -> served.add(r.method() + " " + r.template()));
        assertThat(documented).isEqualTo(served);
    }

    @Test
    void largeAnswersAreStreamedWholeUpToTheRowLimit() {
        String sql = "SELECT range AS n, 'row-' || range AS label FROM range(%d)";
        Http.Reply whole = http.post("/v1/query", Map.of("sql", sql.formatted(300_000)));
        assertThat(whole.status()).isEqualTo(200);
        assertThat(whole.body().path("columns").toString()).isEqualTo("[\"n\",\"label\"]");
        assertThat(whole.body().path("rows")).hasSize(300_000);
        long sum = 0;
        for (JsonNode row : whole.body().path("rows")) {
            sum += row.path(0).asLong();
            assertThat(row.path(1).asText()).isEqualTo("row-" + row.path(0).asLong());
        }
        assertThat(sum).isEqualTo(299_999L * 300_000 / 2);
        assertThat(whole.body().path("truncated").asBoolean()).isFalse();
        assertThat(whole.body().path("engine").asText()).isEqualTo("duckdb");

        Http.Reply cut = http.post("/v1/query", Map.of("sql", sql.formatted(300_001)));
        assertThat(cut.body().path("rows")).hasSize(300_000);
        assertThat(cut.body().path("truncated").asBoolean()).isTrue();
        // what fails does so before the answer starts: a specific error, not a cut-off body
        Http.Reply bad = http.post("/v1/query", Map.of("sql", "SELECT no_such_column FROM range(3)"));
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.errorName()).isEqualTo("INVALID_SQL");
    }

    @Test
    void upsertTableIsReadWithItsDeletesByBothEngines() {
        assertThat(http.post(
                                "/v1/topics",
                                Map.of(
                                        "name",
                                        "accounts",
                                        "columns",
                                        List.of(
                                                Map.of("name", "id", "type", "BIGINT"),
                                                Map.of("name", "balance", "type", "BIGINT"))))
                        .status())
                .isEqualTo(201);
        createPipeline(
                "accounts-upsert",
                """
                CREATE DATABASE IF NOT EXISTS lake.bank;
                CREATE TABLE IF NOT EXISTS lake.bank.accounts (id BIGINT, balance BIGINT, PRIMARY KEY (id) NOT ENFORCED)
                  WITH ('format-version' = '2', 'write.upsert.enabled' = 'true');
                INSERT INTO lake.bank.accounts SELECT id, balance FROM stream.accounts;
                """);
        List<Map<String, Object>> first = IntStream.range(0, 20)
                .mapToObj(i -> Map.<String, Object>of("id", i, "balance", 100))
                .toList();
        assertThat(http.post("/v1/topics/accounts/records", first).status()).isEqualTo(200);
        await(
                "first balances",
                LANDING,
                () -> http.get("/v1/tables/bank.accounts")
                                .body()
                                .path("rowsWritten")
                                .asLong()
                        == 20);
        List<Map<String, Object>> second = IntStream.range(0, 10)
                .mapToObj(i -> Map.<String, Object>of("id", i, "balance", 100 + i))
                .toList();
        assertThat(http.post("/v1/topics/accounts/records", second).status()).isEqualTo(200);
        // Upsert mode writes equality deletes from the first commit on; they apply from the second commit.
        await(
                "updated balances",
                LANDING,
                () -> http.get("/v1/tables/bank.accounts")
                                .body()
                                .path("rowsWritten")
                                .asLong()
                        == 30);
        JsonNode accounts = http.get("/v1/tables/bank.accounts").body();
        assertThat(accounts.path("deleteFiles").asLong()).isPositive();
        assertThat(accounts.path("rows").asLong()).as("live rows: count(*)").isEqualTo(20);

        String sql = "SELECT count(*), sum(balance), count(DISTINCT id) FROM lake.bank.accounts";
        for (Map<String, Object> request :
                List.<Map<String, Object>>of(Map.of("sql", sql), Map.of("engine", "flink", "sql", sql))) {
            Http.Reply reply = http.post("/v1/query", request);
            assertThat(reply.status()).as(reply.text()).isEqualTo(200);
            assertThat(reply.body().path("rows").get(0).get(0).asLong())
                    .as(reply.text())
                    .isEqualTo(20);
            assertThat(reply.body().path("rows").get(0).get(1).asLong())
                    .isEqualTo(20 * 100 + IntStream.range(0, 10).sum());
            assertThat(reply.body().path("rows").get(0).get(2).asLong()).isEqualTo(20);
        }

        // time travel to the snapshot of the first balances, on both engines, each in its own syntax
        JsonNode before = null;
        for (JsonNode snapshot :
                http.get("/v1/tables/bank.accounts/snapshots").body().path("snapshots")) {
            if (before == null && snapshot.path("totalRows").asLong() == 20) {
                before = snapshot; // newest first: the last state before the updates
            }
        }
        assertThat(before).as("a snapshot holding the first balances only").isNotNull();
        String at = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS")
                .withZone(ZoneOffset.UTC)
                .format(Instant.parse(before.path("committedAt").asText()));
        for (Map<String, Object> request : List.<Map<String, Object>>of(
                Map.of(
                        "sql",
                        "SELECT count(*), sum(balance) FROM lake.bank.accounts AT (VERSION => %d)"
                                .formatted(before.path("id").asLong())),
                Map.of(
                        "sql",
                        "SELECT count(*), sum(balance) FROM lake.bank.accounts AT (TIMESTAMP => TIMESTAMP '%s')"
                                .formatted(at)),
                Map.of(
                        "engine",
                        "flink",
                        "sql",
                        "SELECT count(*), sum(balance) FROM lake.bank.accounts FOR SYSTEM_TIME AS OF TIMESTAMP '%s'"
                                .formatted(at)),
                Map.of(
                        "engine",
                        "flink",
                        "sql",
                        "SELECT count(*), sum(balance) FROM lake.bank.accounts /*+ OPTIONS('snapshot-id' = '%d') */"
                                .formatted(before.path("id").asLong())))) {
            Http.Reply reply = http.post("/v1/query", request);
            assertThat(reply.status()).as(reply.text()).isEqualTo(200);
            assertThat(reply.body().path("rows").get(0).get(0).asLong())
                    .as(reply.text())
                    .isEqualTo(20);
            assertThat(reply.body().path("rows").get(0).get(1).asLong())
                    .as(reply.text())
                    .isEqualTo(2_000);
        }
    }

    @Test
    void cliDrivesTarnThroughTheHttpApi() throws Exception {
        Path ndjson = dataDir.resolve("metrics.ndjson");
        Files.writeString(
                ndjson,
                IntStream.range(0, 250)
                                .mapToObj(i -> "{\"sensor\":\"s" + i % 5 + "\",\"reading\":" + i + "}")
                                .collect(Collectors.joining("\n"))
                        + "\n");
        Path sql = dataDir.resolve("metrics.sql");
        Files.writeString(
                sql,
                """
                CREATE DATABASE IF NOT EXISTS lake.iot;
                CREATE TABLE IF NOT EXISTS lake.iot.metrics (sensor STRING, reading BIGINT);
                INSERT INTO lake.iot.metrics SELECT sensor, reading FROM stream.metrics;
                """);
        assertThat(cli(
                                "topics",
                                "create",
                                "metrics",
                                "--partitions",
                                "3",
                                "--column",
                                "sensor:STRING",
                                "--column",
                                "reading:BIGINT")
                        .code())
                .isZero();
        Cli.Result produced = cli("produce", "metrics", ndjson.toString(), "--key", "sensor", "--batch", "100");
        assertThat(produced.out()).isEqualTo("accepted 250\n");
        Cli.Result topics = cli("topics", "list");
        assertThat(topics.out()).contains("metrics").containsPattern("metrics +\\| 3 +\\| 250 +\\| stream.metrics");
        assertThat(cli("pipelines", "create", "metrics-to-lake", "--sql", sql.toString())
                        .code())
                .isZero();
        await("metrics in the lake", LANDING, () -> number(http, "SELECT count(*) FROM lake.iot.metrics") == 250);

        Cli.Result table = cli(
                "sql",
                "SELECT sensor, count(*) AS n, sum(reading) AS total FROM lake.iot.metrics GROUP BY sensor ORDER BY sensor");
        long s0Total = IntStream.range(0, 250).filter(i -> i % 5 == 0).sum();
        assertThat(table.out())
                .startsWith("sensor | n  | total\n-------+----+------\ns0     | 50 | " + s0Total + "\n")
                .endsWith("(5 rows)\n");
        Cli.Result json = cli("sql", "--json", "SELECT count(*) AS n FROM lake.iot.metrics");
        assertThat(Http.JSON.readTree(json.out()).path("rows").get(0).get(0).asLong())
                .isEqualTo(250);
        assertThat(cli("tables", "list").out()).contains("lake.iot.metrics");
        assertThat(Http.JSON
                        .readTree(cli("tables", "describe", "lake.iot.metrics", "--json")
                                .out())
                        .path("rows")
                        .asLong())
                .isEqualTo(250);
        // for people: a block of aligned lines; the table's columns and newest snapshots under it
        assertThat(cli("tables", "describe", "lake.iot.metrics").out())
                .startsWith("table             lake.iot.metrics\nrows              250\n")
                .contains("\ncolumns\n  sensor string\n  reading long\n")
                .containsPattern(
                        "\nnewest snapshots\nsnapshot +\\| committed at +\\| operation +\\| added rows +\\| total rows\n");
        assertThat(cli("pipelines", "list").out()).containsPattern("metrics-to-lake +\\| RUNNING");
        // the pipeline's lag, per partition of the topic it reads, as the overview and the metrics count it
        await("the pipeline's lag is 0", Duration.ofMinutes(1), () -> http.get("/v1/pipelines/metrics-to-lake")
                .body()
                .path("lagByPartition")
                .toString()
                .equals("{\"metrics\":{\"0\":0,\"1\":0,\"2\":0}}"));
        assertThat(http.get("/v1/pipelines/metrics-to-lake")
                        .body()
                        .path("lagRecords")
                        .asLong())
                .isZero();
        assertThat(http.get("/v1/overview").body().path("pipelines").findValuesAsText("name"))
                .contains("metrics-to-lake");
        for (JsonNode pipeline : http.get("/v1/overview").body().path("pipelines")) {
            if (pipeline.path("name").asText().equals("metrics-to-lake")) {
                assertThat(pipeline.path("lagRecords").asLong()).isZero();
            }
        }
        // Flink's counters and checkpoint statistics reach its REST API a few seconds late
        await("the counts in the describe block", Duration.ofMinutes(1), () -> cli(
                        "pipelines", "describe", "metrics-to-lake")
                .out()
                .matches("(?s).*\nrecords in       250\nrecords out      250\n.*\nlast checkpoint  #.*"));
        String running = cli("pipelines", "describe", "metrics-to-lake").out();
        assertThat(running)
                .startsWith("name             metrics-to-lake\nstate            RUNNING\njob              ")
                .contains(
                        "\nrecords in       250\nrecords out      250\nlag              0 records not committed yet\n")
                .containsPattern("\nlast checkpoint  #\\d+ at 20\\d\\d-\\d\\d-\\d\\dT[^\n]+Z\n")
                .endsWith("\nlast error       none\nsql\n  CREATE DATABASE IF NOT EXISTS lake.iot;\n"
                        + "  CREATE TABLE IF NOT EXISTS lake.iot.metrics (sensor STRING, reading BIGINT);\n"
                        + "  INSERT INTO lake.iot.metrics SELECT sensor, reading FROM stream.metrics;\n");
        assertThat(Http.JSON
                        .readTree(cli("pipelines", "stop", "metrics-to-lake", "--json")
                                .out())
                        .path("state")
                        .asText())
                .isEqualTo("STOPPED");
        assertThat(cli("pipelines", "describe", "metrics-to-lake").out()).contains("\nstate            STOPPED\n");
        assertThat(Http.JSON
                        .readTree(cli("pipelines", "describe", "metrics-to-lake", "--json")
                                .out())
                        .path("state")
                        .asText())
                .isEqualTo("STOPPED");
        assertThat(cli("pipelines", "start", "metrics-to-lake").code()).isZero();
        assertThat(cli("pipelines", "delete", "metrics-to-lake").out()).isEqualTo("deleted pipeline metrics-to-lake\n");

        // a progress bar on standard error when asked for (by default only on a terminal); the result as always
        Path three = dataDir.resolve("three.ndjson");
        Files.writeString(three, "{\"sensor\":\"p\",\"reading\":1}\n".repeat(3));
        Cli.Result progress = cli("produce", "metrics", three.toString(), "--progress", "always");
        assertThat(progress.out()).isEqualTo("accepted 3\n");
        assertThat(progress.err())
                .startsWith("\rchecking [########################] 3/3 records  ")
                .contains("\n\rwriting  [########################] 3/3 records  ")
                .containsPattern("done in \\d+ s\n$");
        assertThat(cli("completion").out()).contains("complete -F _complete_tarn", "pipelines", "describe");

        Cli.Result missing = cli("topics", "describe", "no-such-topic");
        assertThat(missing.code()).isEqualTo(4);
        assertThat(missing.err()).startsWith("error: TOPIC_NOT_FOUND: ");
        Cli.Result badSql = cli("sql", "DELETE FROM lake.iot.metrics");
        assertThat(badSql.code()).isEqualTo(3);
        assertThat(badSql.err())
                .isEqualTo(
                        "error: STATEMENT_NOT_ALLOWED: a query must be one SELECT (or WITH ... SELECT) statement over"
                                + " lake tables\n");
        Cli.Result badRecord = cli("produce", "metrics", sql.toString());
        assertThat(badRecord.code()).isEqualTo(3);
        assertThat(badRecord.err()).contains("error: INVALID_RECORDS").contains("  line 1: not valid JSON");
        Cli.Result noFile =
                cli("produce", "metrics", dataDir.resolve("absent.ndjson").toString());
        assertThat(noFile.code()).isEqualTo(3);
        assertThat(noFile.err()).startsWith("error: no such file: ");
        Cli.Result unreachable = Cli.run(new String[] {"--url", "http://127.0.0.1:1", "topics", "list"});
        assertThat(unreachable.code()).isEqualTo(1);
        assertThat(unreachable.err()).startsWith("error: UNREACHABLE: cannot reach Tarn at http://127.0.0.1:1/");
        for (String[] command : List.of(
                new String[] {"--help"},
                new String[] {"topics", "--help"},
                new String[] {"produce", "--help"},
                new String[] {"pipelines", "create", "--help"},
                new String[] {"tables", "describe", "--help"},
                new String[] {"sql", "--help"})) {
            Cli.Result help = Cli.run(command);
            assertThat(help.code()).as(String.join(" ", command)).isZero();
            assertThat(help.out()).startsWith("Usage: tarn");
        }
    }

    private static Cli.Result cli(String... args) {
        String[] withUrl = new String[args.length + 4];
        withUrl[0] = "--url";
        withUrl[1] = server.httpAddress();
        withUrl[2] = "--data-dir";
        withUrl[3] = dataDir.toString();
        System.arraycopy(args, 0, withUrl, 4, args.length);
        return Cli.run(withUrl);
    }

    private static void expectError(Http.Reply reply, int status, String name, String message) {
        assertThat(reply.status()).as(reply.text()).isEqualTo(status);
        assertThat(reply.errorName()).as(reply.text()).isEqualTo(name);
        assertThat(reply.body().path("error").path("code").isInt()).isTrue();
        if (message != null) {
            assertThat(reply.errorMessage()).isEqualTo(message);
        }
        assertThat(reply.text())
                .doesNotContain("\tat ")
                .doesNotContain("Exception:")
                .doesNotContain(dataDir.toString());
    }

    private static void createPipeline(String name, String sql) {
        Http.Reply reply = http.post("/v1/pipelines", Map.of("name", name, "sql", sql));
        assertThat(reply.status()).as(reply.text()).isEqualTo(201);
        assertThat(reply.body().path("name").asText()).isEqualTo(name);
    }

    private static List<Map<String, Object>> ids(int from, int to) {
        return IntStream.range(from, to)
                .mapToObj(i -> Map.<String, Object>of("id", i))
                .toList();
    }

    /** The n-th page view of these tests: users and pages spread by the number, so expectations follow from it. */
    private record Click(String userId, String page, LocalDateTime eventTime) {
        private static final List<String> PAGES = List.of("/", "/pricing", "/docs", "/blog", "/signup");

        static Click of(long n, LocalDateTime eventTime) {
            return new Click("u" + (n * 7919 % 500), PAGES.get((int) (n * 31 % PAGES.size())), eventTime);
        }

        String json() {
            return "{\"user_id\":\"%s\",\"page\":\"%s\",\"country\":\"DE\",\"referrer\":\"direct\",\"event_time\":\"%s\"}"
                    .formatted(userId, page, eventTime);
        }
    }
}
