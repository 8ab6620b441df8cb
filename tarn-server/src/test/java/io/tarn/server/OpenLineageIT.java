package io.tarn.server;

import static io.tarn.server.Fixtures.await;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.tarn.core.config.ConfigKeys;
import io.tarn.server.lineage.OpenLineageEvents;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * OpenLineage run events of a pipeline's jobs, posted to an HTTP endpoint (a server of this test, as Marquez would
 * take them) and appended to a file: START, COMPLETE at a stop, START again, FAIL when its topic is deleted under it;
 * each with the job's SQL, its datasets named as OpenLineage names Kafka topics and files, their schemas and the
 * output's column lineage.
 */
class OpenLineageIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<JsonNode> POSTED = new CopyOnWriteArrayList<>();
    private static final HttpServer ENDPOINT = endpoint();
    private static final Path FILE = file();

    @RegisterExtension
    static final TarnServerExtension tarn = new TarnServerExtension(config -> config.with(
                    ConfigKeys.LINEAGE_OPENLINEAGE_URL,
                    "http://127.0.0.1:" + ENDPOINT.getAddress().getPort())
            .with(ConfigKeys.LINEAGE_OPENLINEAGE_FILE, FILE.toString()));

    private static HttpServer endpoint() {
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            server.createContext("/api/v1/lineage", exchange -> {
                try (InputStream body = exchange.getRequestBody()) {
                    POSTED.add(JSON.readTree(body));
                }
                exchange.sendResponseHeaders(201, -1);
                exchange.close();
            });
            server.start();
            return server;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Path file() {
        try {
            return Files.createTempDirectory("tarn-openlineage").resolve("events.jsonl");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @AfterAll
    static void stop() {
        ENDPOINT.stop(0);
    }

    @Test
    void aPipelinesRunsAreStartedCompletedAndFailedWithTheirDatasetsAndColumns() throws Exception {
        Http http = tarn.http();
        Http.Reply topic = http.post(
                "/v1/topics",
                Map.of(
                        "name",
                        "orders",
                        "columns",
                        List.of(Map.of("name", "id", "type", "BIGINT"), Map.of("name", "amount", "type", "DOUBLE"))));
        assertThat(topic.status()).isEqualTo(201);
        String sql = "CREATE TABLE IF NOT EXISTS lake.shop.doubled (id BIGINT, doubled DOUBLE);"
                + " INSERT INTO lake.shop.doubled SELECT id, amount * 2 FROM stream.orders;";
        assertThat(http.post("/v1/pipelines", Map.of("name", "doubler", "sql", sql))
                        .status())
                .isEqualTo(201);
        String firstJob = http.get("/v1/pipelines/doubler").body().path("jobId").asText();
        awaitEvents(1);
        JsonNode start = POSTED.get(0);
        assertThat(start.path("eventType").asText()).isEqualTo("START");
        assertThat(start.path("run").path("runId").asText()).isEqualTo(runId(firstJob));
        assertThat(start.path("job").path("namespace").asText()).isEqualTo("tarn");
        assertThat(start.path("job").path("name").asText()).isEqualTo("doubler");
        assertThat(start.path("job").path("facets").path("sql").path("query").asText())
                .isEqualTo(sql);
        assertThat(start.path("job")
                        .path("facets")
                        .path("jobType")
                        .path("processingType")
                        .asText())
                .isEqualTo("STREAMING");
        String kafka = "kafka://" + tarn.server().bootstrapServers().split(",")[0];
        JsonNode input = start.path("inputs").get(0);
        assertThat(start.path("inputs")).hasSize(1);
        assertThat(input.path("namespace").asText()).isEqualTo(kafka);
        assertThat(input.path("name").asText()).isEqualTo("orders");
        assertThat(fields(input)).containsExactly("id BIGINT", "amount DOUBLE");
        JsonNode output = start.path("outputs").get(0);
        assertThat(start.path("outputs")).hasSize(1);
        assertThat(output.path("namespace").asText()).isEqualTo("file");
        assertThat(output.path("name").asText())
                .isEqualTo(tarn.dataDir().resolve("warehouse/shop/doubled").toString());
        assertThat(fields(output)).containsExactly("id long", "doubled double");
        JsonNode columns = output.path("facets").path("columnLineage").path("fields");
        assertThat(columns.path("doubled").path("inputFields").toString())
                .isEqualTo("[{\"namespace\":\"%s\",\"name\":\"orders\",\"field\":\"amount\"}]".formatted(kafka));
        assertThat(columns.path("id").path("inputFields").get(0).path("field").asText())
                .isEqualTo("id");

        Fixtures.awaitPipelineRunning(http, "doubler", "before its stop");
        assertThat(http.post("/v1/pipelines/doubler/stop", Map.of()).status()).isEqualTo(200);
        awaitEvents(2);
        assertThat(POSTED.get(1).path("eventType").asText()).isEqualTo("COMPLETE");
        assertThat(POSTED.get(1).path("run").path("runId").asText()).isEqualTo(runId(firstJob));

        assertThat(http.post("/v1/pipelines/doubler/start", Map.of()).status()).isEqualTo(200);
        String secondJob =
                http.get("/v1/pipelines/doubler").body().path("jobId").asText();
        awaitEvents(3);
        assertThat(POSTED.get(2).path("eventType").asText()).isEqualTo("START");
        assertThat(POSTED.get(2).path("run").path("runId").asText()).isEqualTo(runId(secondJob));

        Fixtures.awaitPipelineRunning(http, "doubler", "after its start");
        assertThat(http.delete("/v1/topics/orders?force=true").status()).isEqualTo(204);
        awaitEvents(4);
        JsonNode fail = POSTED.get(3);
        assertThat(fail.path("eventType").asText()).isEqualTo("FAIL");
        assertThat(fail.path("run").path("runId").asText()).isEqualTo(runId(secondJob));
        assertThat(fail.path("run")
                        .path("facets")
                        .path("errorMessage")
                        .path("message")
                        .asText())
                .contains("orders");

        // the file holds the same events, one a line
        List<String> types = new ArrayList<>();
        for (String line : Files.readAllLines(FILE)) {
            types.add(JSON.readTree(line).path("eventType").asText() + " "
                    + JSON.readTree(line).path("run").path("runId").asText());
        }
        assertThat(types)
                .containsExactly(
                        "START " + runId(firstJob),
                        "COMPLETE " + runId(firstJob),
                        "START " + runId(secondJob),
                        "FAIL " + runId(secondJob));
    }

    private static void awaitEvents(int count) {
        await(count + " OpenLineage events", Duration.ofSeconds(30), () -> POSTED.size() >= count);
    }

    private static List<String> fields(JsonNode dataset) {
        List<String> fields = new ArrayList<>();
        dataset.path("facets")
                .path("schema")
                .path("fields")
                .forEach(f -> fields.add(
                        f.path("name").asText() + " " + f.path("type").asText()));
        return fields;
    }

    private static String runId(String jobId) {
        return OpenLineageEvents.runId(jobId).toString();
    }
}
