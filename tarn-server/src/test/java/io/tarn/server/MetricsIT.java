package io.tarn.server;

import static io.tarn.server.Fixtures.await;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code GET /metrics}: Prometheus' text format, with a token, counting exactly what ingest took and refused. */
class MetricsIT {
    @RegisterExtension
    static final TarnServerExtension tarn = new TarnServerExtension();

    @Test
    void metricsCountWhatIngestTookAndWhatPipelinesRead() throws Exception {
        Http http = tarn.http();
        Http.Reply topic = http.post(
                "/v1/topics",
                Map.of("name", "meters", "partitions", 1, "columns", List.of(Map.of("name", "id", "type", "BIGINT"))));
        assertThat(topic.status()).as(topic.text()).isEqualTo(201);
        List<Map<String, Object>> twenty = new ArrayList<>();
        for (int i = 1; i <= 20; i++) {
            twenty.add(Map.of("id", i));
        }
        assertThat(http.post("/v1/topics/meters/records", twenty).status()).isEqualTo(200);
        Http.Reply partial = http.post(
                "/v1/topics/meters/records?partial=true",
                "[{\"id\":21},{\"id\":\"x\"},{\"id\":22},{\"id\":23},{\"id\":\"y\"},{\"id\":24},{\"id\":25}]");
        assertThat(partial.body().path("accepted").asInt()).isEqualTo(5);
        assertThat(http.post("/v1/topics/meters/records", "[{\"id\":26},{\"id\":\"z\"},{\"id\":27}]")
                        .status())
                .as("refused whole")
                .isEqualTo(400);
        assertThat(http.post("/v1/topics/meters/records?validate=true", "[{\"id\":28}]")
                        .status())
                .as("validated, not written: not counted")
                .isEqualTo(200);
        Http.Reply pipeline = http.post(
                "/v1/pipelines",
                Map.of(
                        "name",
                        "land-meters",
                        "sql",
                        """
                        CREATE DATABASE IF NOT EXISTS lake.grid;
                        CREATE TABLE lake.grid.meters (id BIGINT);
                        INSERT INTO lake.grid.meters SELECT id FROM stream.meters;
                        """));
        assertThat(pipeline.status()).as(pipeline.text()).isEqualTo(201);
        await(
                "the pipeline's counts in the metrics",
                Duration.ofMinutes(2),
                () -> lines(http).contains("tarn_pipeline_records_in{pipeline=\"land-meters\"} 25.0"),
                () -> String.join(
                        "\n",
                        lines(http).stream()
                                .filter(l -> l.startsWith("tarn_pipeline"))
                                .toList()));
        List<String> lines = lines(http);
        assertThat(lines)
                .contains(
                        "tarn_ingest_records_total{topic=\"meters\"} 25.0",
                        "tarn_ingest_refused_total{topic=\"meters\"} 5.0",
                        "tarn_pipeline_running{pipeline=\"land-meters\"} 1.0",
                        "tarn_pipeline_dead_letters{pipeline=\"land-meters\"} 0.0",
                        "# TYPE tarn_ingest_records_total counter");
        assertThat(lines).anyMatch(l -> l.startsWith("tarn_jvm_memory_used_bytes{"));
        assertThat(lines)
                .as("every name is Tarn's")
                .allMatch(l -> l.isEmpty() || l.startsWith("# ") || l.startsWith("tarn_"));

        // parsed as Prometheus reads it: every line, and the figures of the status endpoints
        await("the table committed all 25", Duration.ofMinutes(1), () -> {
            PrometheusText now = PrometheusText.parse(String.join("\n", lines(http)));
            return now.value("tarn_table_freshness_seconds", Map.of("table", "grid.meters")) == 0
                    && Fixtures.number(http, "SELECT count(*) FROM lake.grid.meters") == 25;
        });
        long before = (long) PrometheusText.parse(String.join("\n", lines(http)))
                .value("tarn_query_seconds_count", Map.of("engine", "duckdb", "outcome", "answered"));
        for (int i = 0; i < 3; i++) {
            Fixtures.rows(http, "SELECT count(*) FROM lake.grid.meters");
        }
        assertThat(http.post("/v1/query", Map.of("sql", "SELECT nothing FROM lake.grid.meters"))
                        .status())
                .isEqualTo(400);
        PrometheusText metrics = PrometheusText.parse(String.join("\n", lines(http)));
        assertThat(metrics.value("tarn_ingest_records_total", Map.of("topic", "meters")))
                .isEqualTo(25.0);
        assertThat(metrics.value("tarn_ingest_refused_total", Map.of("topic", "meters")))
                .isEqualTo(5.0);
        assertThat(metrics.value(
                        "tarn_pipeline_lag_records",
                        Map.of("pipeline", "land-meters", "topic", "meters", "partition", "0")))
                .isZero();
        int snapshots = http.get("/v1/tables/grid.meters/snapshots")
                .body()
                .path("snapshots")
                .size();
        assertThat(metrics.value("tarn_table_commits", Map.of("table", "grid.meters")))
                .isEqualTo(snapshots);
        assertThat(metrics.value("tarn_table_freshness_seconds", Map.of("table", "grid.meters")))
                .isZero();
        assertThat(metrics.value("tarn_query_seconds_count", Map.of("engine", "duckdb", "outcome", "answered")))
                .isEqualTo(before + 3);
        assertThat(metrics.value("tarn_query_seconds_count", Map.of("engine", "duckdb", "outcome", "failed")))
                .isEqualTo(1);
        assertThat(metrics.types()).containsEntry("tarn_query_seconds", "histogram");
        // Flink's checkpoint statistics are served from a cache of a few seconds
        await(
                "a completed checkpoint in the metrics",
                Duration.ofSeconds(30),
                () -> PrometheusText.parse(String.join("\n", lines(http)))
                                .value("tarn_pipeline_checkpoints_completed", Map.of("pipeline", "land-meters"))
                        > 0);
        // as Flink counts them (a checkpoint triggered while the job's tasks still deploy fails and counts)
        String job = http.get("/v1/pipelines/land-meters").body().path("jobId").asText();
        long failed = Http.flink(tarn.server())
                .get("/jobs/" + job + "/checkpoints")
                .body()
                .path("counts")
                .path("failed")
                .asLong();
        assertThat(PrometheusText.parse(String.join("\n", lines(http)))
                        .value("tarn_pipeline_checkpoints_failed", Map.of("pipeline", "land-meters")))
                .isEqualTo(failed);
        assertThat(metrics.value("tarn_process_resident_memory_bytes", Map.of()))
                .isGreaterThan(64 * 1024 * 1024);

        HttpResponse<String> anonymous = HttpClient.newHttpClient()
                .send(HttpRequest.newBuilder(http.uri("/metrics")).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(anonymous.statusCode()).isEqualTo(401);
    }

    /** The metrics' lines, fetched with the client's token, checking the media type. */
    private static List<String> lines(Http http) {
        try {
            HttpResponse<String> response = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(http.uri("/metrics"))
                                    .header(
                                            "Authorization",
                                            "Bearer " + http.token().orElseThrow())
                                    .GET()
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.headers().firstValue("Content-Type"))
                    .hasValue("text/plain; version=0.0.4; charset=utf-8");
            return Arrays.asList(response.body().split("\n"));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
