package io.tarn.server;

import static io.tarn.server.Fixtures.await;
import static io.tarn.server.Fixtures.number;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.tarn.core.config.ConfigKeys;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Maintenance while pipelines write: an append table and an upsert table (a running count per bucket) take commits
 * every second while maintenance compacts them every second. Every event lands exactly once and every count is exact
 * on both query engines; once the pipelines stop, one requested run leaves each table one data file and no delete
 * files, and the table's description says what the run did.
 */
class LakeMaintenanceIT {
    private static final Duration LANDING = Duration.ofMinutes(2);
    private static final int BUCKETS = 50;

    @RegisterExtension
    static final TarnServerExtension tarn =
            new TarnServerExtension(config -> config.with(ConfigKeys.COMPUTE_CHECKPOINT_INTERVAL, "1s")
                    .with(ConfigKeys.LAKE_MAINTENANCE_INTERVAL, "1s")
                    .with(ConfigKeys.LAKE_COMPACTION_MIN_FILES, "2"));

    static Http http;

    @BeforeAll
    static void start() {
        http = tarn.http();
    }

    @Test
    void pipelinesWriteExactlyOnceWhileMaintenanceCompactsTheirTables() throws Exception {
        Fixtures.createIdTopic(http, "clicks", 2);
        createPipeline(
                "land",
                """
                CREATE DATABASE IF NOT EXISTS lake.m;
                CREATE TABLE IF NOT EXISTS lake.m.events (id BIGINT);
                INSERT INTO lake.m.events SELECT id FROM stream.clicks;
                """);
        createPipeline(
                "totals",
                """
                CREATE TABLE IF NOT EXISTS lake.m.totals (bucket BIGINT, n BIGINT, PRIMARY KEY (bucket) NOT ENFORCED)
                  WITH ('format-version' = '2', 'write.upsert.enabled' = 'true');
                INSERT INTO lake.m.totals SELECT id % 50, count(*) FROM stream.clicks GROUP BY id % 50;
                """);
        Fixtures.awaitPipelineRunning(http, "land", "created");
        Fixtures.awaitPipelineRunning(http, "totals", "created");

        AtomicLong sent = new AtomicLong();
        long deadline = System.nanoTime() + Duration.ofSeconds(25).toNanos();
        while (System.nanoTime() < deadline) {
            List<Map<String, Long>> batch = new ArrayList<>();
            for (long id = sent.get(); id < sent.get() + 200; id++) {
                batch.add(Map.of("id", id));
            }
            assertThat(http.post("/v1/topics/clicks/records", batch).status()).isEqualTo(200);
            sent.addAndGet(200);
            Thread.sleep(100);
        }
        long total = sent.get();
        Map<Long, Long> expected = new TreeMap<>();
        for (long id = 0; id < total; id++) {
            expected.merge(id % BUCKETS, 1L, Long::sum);
        }
        await("all events landed", LANDING, () -> number(http, "SELECT count(*) FROM lake.m.events") >= total);
        await(
                "all events counted",
                LANDING,
                () -> number(http, "SELECT coalesce(sum(n), 0) FROM lake.m.totals") >= total);
        JsonNode compacted = http.get("/v1/tables/m.events").body();
        assertThat(compacted.path("lastMaintenance").path("trigger").asText()).isEqualTo("scheduled");
        assertThat(compacted.path("snapshotCount").asLong()).isGreaterThan(0);

        for (String engine : List.of("duckdb", "flink")) {
            assertThat(rows("SELECT count(*), count(DISTINCT id), sum(id) FROM lake.m.events", engine))
                    .as(engine)
                    .containsExactly(List.of(total, total, total * (total - 1) / 2));
            assertThat(totals(engine)).as(engine).isEqualTo(expected);
        }

        for (String pipeline : List.of("land", "totals")) {
            assertThat(http.post("/v1/pipelines/" + pipeline + "/stop", Map.of())
                            .body()
                            .path("state")
                            .asText())
                    .isEqualTo("STOPPED");
        }
        for (String table : List.of("m.events", "m.totals")) {
            Http.Reply run = http.post("/v1/tables/" + table + "/maintenance", Map.of());
            assertThat(run.status()).as(run.text()).isEqualTo(200);
            assertThat(run.body().path("trigger").asText()).isEqualTo("requested");
            assertThat(run.body().path("error").isNull()).as(run.text()).isTrue();
            assertThat(run.body().path("orphans").isNull()).isTrue();
            assertThat(run.body().path("orphansWaiting").asText())
                    .startsWith("pipeline '")
                    .contains("is STOPPED and may resume with files it has not committed yet");
            JsonNode description = http.get("/v1/tables/" + table).body();
            assertThat(description.path("dataFiles").asLong())
                    .as(description.toString())
                    .isEqualTo(1);
            assertThat(description.path("deleteFiles").asLong())
                    .as(description.toString())
                    .isZero();
            assertThat(description.path("averageFileBytes").asLong())
                    .isEqualTo(description.path("fileBytes").asLong());
            assertThat(description.path("lastMaintenance").path("table").asText())
                    .isEqualTo(table);
        }
        assertThat(http.get("/v1/tables/m.totals").body().path("rows").asLong()).isEqualTo(BUCKETS);
        for (String engine : List.of("duckdb", "flink")) {
            assertThat(rows("SELECT count(*), count(DISTINCT id), sum(id) FROM lake.m.events", engine))
                    .as(engine)
                    .containsExactly(List.of(total, total, total * (total - 1) / 2));
            assertThat(totals(engine)).as(engine).isEqualTo(expected);
        }

        assertThat(http.post("/v1/pipelines/land/start", Map.of()).status()).isEqualTo(200);
        assertThat(http.post("/v1/pipelines/totals/start", Map.of()).status()).isEqualTo(200);
        Fixtures.awaitPipelineRunning(http, "land", "restarted");
        Fixtures.awaitPipelineRunning(http, "totals", "restarted");
        List<Map<String, Long>> last = new ArrayList<>();
        for (long id = total; id < total + 100; id++) {
            last.add(Map.of("id", id));
            expected.merge(id % BUCKETS, 1L, Long::sum);
        }
        assertThat(http.post("/v1/topics/clicks/records", last).status()).isEqualTo(200);
        await(
                "the last events counted",
                LANDING,
                () -> number(http, "SELECT sum(n) FROM lake.m.totals") >= total + 100);
        Thread.sleep(3_000);
        assertThat(number(http, "SELECT count(*) FROM lake.m.events")).isEqualTo(total + 100);
        assertThat(totals("duckdb")).isEqualTo(expected);
        Http.Reply orphans = http.post("/v1/tables/m.events/maintenance", Map.of());
        assertThat(orphans.body().path("orphansWaiting").isNull())
                .as(orphans.text())
                .isTrue();
        assertThat(orphans.body().path("orphans").path("filesDeleted").asLong()).isZero();
    }

    @Test
    void maintenanceOfATableThatDoesNotExistIsNotFound() {
        Http.Reply reply = http.post("/v1/tables/m.nothing/maintenance", Map.of());
        assertThat(reply.status()).isEqualTo(404);
        assertThat(reply.body().path("error").path("message").asText())
                .isEqualTo("lake table 'm.nothing' does not exist");
        Http.Reply invalid = http.post("/v1/tables/nothing/maintenance", Map.of());
        assertThat(invalid.status()).isEqualTo(400);
    }

    private static void createPipeline(String name, String sql) {
        Http.Reply reply = http.post("/v1/pipelines", Map.of("name", name, "sql", sql));
        assertThat(reply.status()).as(reply.text()).isEqualTo(201);
    }

    private static List<List<Long>> rows(String sql, String engine) {
        Http.Reply reply = http.post("/v1/query", Map.of("sql", sql, "engine", engine));
        assertThat(reply.status()).as(reply.text()).isEqualTo(200);
        List<List<Long>> rows = new ArrayList<>();
        for (JsonNode row : reply.body().path("rows")) {
            List<Long> values = new ArrayList<>();
            row.forEach(v -> values.add(v.asLong()));
            rows.add(values);
        }
        return rows;
    }

    private static Map<Long, Long> totals(String engine) {
        Map<Long, Long> totals = new TreeMap<>();
        rows("SELECT bucket, n FROM lake.m.totals", engine).forEach(row -> totals.put(row.get(0), row.get(1)));
        return totals;
    }
}
