package io.tarn.server;

import static io.tarn.server.Fixtures.await;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A topic's columns evolve in versions under a compatibility as Confluent Schema Registry defines them (backward,
 * forward, full, none, transitive or not): each refusal names the column and the rule and changes nothing, and HTTP
 * ingest checks records by the newest columns at once.
 */
class TopicSchemaIT {
    @RegisterExtension
    static final TarnServerExtension tarn = new TarnServerExtension();

    @Test
    void aTopicsColumnsEvolveUnderItsCompatibility() {
        Http http = tarn.http();
        Http.Reply created = http.post(
                "/v1/topics",
                Map.of(
                        "name",
                        "readings",
                        "partitions",
                        1,
                        "columns",
                        List.of(column("id", "BIGINT NOT NULL"), column("temp", "INT"))));
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        assertThat(http.get("/v1/topics/readings/schema").body().toString())
                .isEqualTo("{\"compatibility\":\"BACKWARD\",\"versions\":[{\"version\":1,\"columns\":["
                        + "{\"name\":\"id\",\"type\":\"BIGINT NOT NULL\"},{\"name\":\"temp\",\"type\":\"INT\"}],"
                        + "\"createdAt\":null}]}");
        assertThat(ingest(http, "{\"id\":1,\"temp\":3000000000}"))
                .as("out of INT's range")
                .isEqualTo(400);

        // backward (the default): add an optional column, widen a type
        Http.Reply evolved = evolve(
                http, List.of(column("id", "BIGINT NOT NULL"), column("temp", "BIGINT"), column("unit", "STRING")));
        assertThat(evolved.status()).as(evolved.text()).isEqualTo(200);
        assertThat(evolved.body().path("versions").size()).isEqualTo(2);
        assertThat(evolved.body().path("versions").get(1).path("createdAt").isTextual())
                .isTrue();
        assertThat(ingest(http, "{\"id\":2,\"temp\":3000000000,\"unit\":\"C\"}"))
                .as("checked by the new columns at once")
                .isEqualTo(200);
        assertThat(ingest(http, "{\"id\":3,\"temp\":\"hot\"}")).isEqualTo(400);

        Http.Reply required = evolve(
                http,
                List.of(
                        column("id", "BIGINT NOT NULL"),
                        column("temp", "BIGINT"),
                        column("unit", "STRING"),
                        column("site", "STRING NOT NULL")));
        assertThat(required.status()).isEqualTo(409);
        assertThat(required.errorName()).isEqualTo("SCHEMA_INCOMPATIBLE");
        assertThat(required.errorMessage())
                .isEqualTo("column 'site' is NOT NULL and records without it cannot be read; compatibility BACKWARD:"
                        + " the new columns must read records written with version 2");
        Http.Reply narrowed =
                evolve(http, List.of(column("id", "BIGINT NOT NULL"), column("temp", "INT"), column("unit", "STRING")));
        assertThat(narrowed.errorMessage())
                .isEqualTo("column 'temp': INT cannot hold every BIGINT value (only widening: TINYINT, SMALLINT, INT,"
                        + " BIGINT to a wider one, FLOAT to DOUBLE, a DECIMAL to a larger precision at the same scale);"
                        + " compatibility BACKWARD: the new columns must read records written with version 2");
        assertThat(versions(http)).as("refusals changed nothing").isEqualTo(2);
        assertThat(ingest(http, "{\"id\":4,\"temp\":1}"))
                .as("site is still not required")
                .isEqualTo(200);
        assertThat(evolve(
                                http,
                                List.of(
                                        column("id", "BIGINT NOT NULL"),
                                        column("temp", "BIGINT"),
                                        column("unit", "STRING")))
                        .status())
                .isEqualTo(200);
        assertThat(versions(http))
                .as("the same columns again are no new version")
                .isEqualTo(2);

        // forward: a reader of the last version reads the new records: drop an optional column, add a required one
        Http.Reply forward = evolve(
                http,
                List.of(column("id", "BIGINT NOT NULL"), column("temp", "BIGINT"), column("site", "STRING NOT NULL")),
                "FORWARD");
        assertThat(forward.status()).as(forward.text()).isEqualTo(200);
        assertThat(forward.body().path("compatibility").asText()).isEqualTo("FORWARD");
        assertThat(ingest(http, "{\"id\":5,\"temp\":1}"))
                .as("site is required now")
                .isEqualTo(400);
        Http.Reply dropRequired =
                evolve(http, List.of(column("id", "BIGINT NOT NULL"), column("temp", "BIGINT")), "FORWARD");
        assertThat(dropRequired.errorMessage())
                .isEqualTo("column 'site' is NOT NULL and records without it cannot be read; compatibility FORWARD:"
                        + " version 3 must read records written with the new columns");

        // full: both ways, so an optional column, and no widening
        List<Map<String, String>> full = List.of(
                column("id", "BIGINT NOT NULL"),
                column("temp", "BIGINT"),
                column("site", "STRING NOT NULL"),
                column("note", "STRING"));
        assertThat(evolve(http, full, "FULL").status()).isEqualTo(200);
        Http.Reply widened = evolve(
                http,
                List.of(
                        column("id", "BIGINT NOT NULL"),
                        column("temp", "DECIMAL(20, 0)"),
                        column("site", "STRING NOT NULL"),
                        column("note", "STRING")));
        assertThat(widened.status()).isEqualTo(409);
        assertThat(widened.errorMessage())
                .endsWith("compatibility FULL: the new columns must read records written" + " with version 4");

        // none: anything; transitive: against every version, not only the last
        List<Map<String, String>> text = List.of(
                column("id", "BIGINT NOT NULL"),
                column("temp", "STRING"),
                column("site", "STRING NOT NULL"),
                column("note", "STRING"));
        assertThat(evolve(http, text, "NONE").status()).isEqualTo(200);
        Http.Reply transitive = evolve(
                http,
                List.of(
                        column("id", "BIGINT NOT NULL"),
                        column("temp", "STRING"),
                        column("site", "STRING NOT NULL"),
                        column("note", "STRING"),
                        column("extra", "STRING")),
                "BACKWARD_TRANSITIVE");
        assertThat(transitive.errorMessage())
                .isEqualTo("column 'temp': STRING cannot hold every INT value (only widening: TINYINT, SMALLINT, INT,"
                        + " BIGINT to a wider one, FLOAT to DOUBLE, a DECIMAL to a larger precision at the same scale);"
                        + " compatibility BACKWARD_TRANSITIVE: the new columns must read records written with version"
                        + " 1");
        assertThat(http.get("/v1/topics/readings/schema")
                        .body()
                        .path("compatibility")
                        .asText())
                .as("a refused request sets no compatibility")
                .isEqualTo("NONE");
        assertThat(versions(http)).isEqualTo(5);

        assertThat(evolve(http, text, "SIDEWAYS").errorMessage())
                .startsWith("compatibility must be one of NONE, BACKWARD, FORWARD, FULL");
        assertThat(evolve(http, List.of(column("id", "NUMBERISH")), "NONE").status())
                .isEqualTo(400);
        assertThat(http.put("/v1/topics/nope/schema", Map.of("columns", text)).status())
                .isEqualTo(404);
        Http.Reply raw = http.post("/v1/topics", Map.of("name", "raw-lines", "partitions", 1));
        assertThat(raw.status()).as(raw.text()).isEqualTo(201);
        assertThat(http.put("/v1/topics/raw-lines/schema", Map.of("columns", text))
                        .status())
                .isEqualTo(409);
        assertThat(versions(http)).isEqualTo(5);

        Cli.Result byCli = Cli.against(
                tarn.server(),
                "topics",
                "schema",
                "readings",
                "--column",
                "id:BIGINT NOT NULL",
                "--column",
                "temp:STRING",
                "--column",
                "site:STRING NOT NULL",
                "--compatibility",
                "BACKWARD");
        assertThat(byCli.code()).as(byCli.err()).isZero();
        assertThat(versions(http)).as("note dropped, backward").isEqualTo(6);
    }

    @Test
    void runningReadersOfATopicReadItsNewColumnsWithoutAManualRestart() {
        Http http = tarn.http();
        Http.Reply created = http.post(
                "/v1/topics",
                Map.of(
                        "name",
                        "meters",
                        "partitions",
                        1,
                        "columns",
                        List.of(column("id", "BIGINT NOT NULL"), column("kwh", "INT"))));
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        Http.Reply pipeline = http.post(
                "/v1/pipelines",
                Map.of(
                        "name",
                        "land-meters",
                        "onError",
                        "dead-letter",
                        "sql",
                        """
                        CREATE DATABASE IF NOT EXISTS lake.grid;
                        CREATE TABLE lake.grid.meters (id BIGINT, kwh BIGINT);
                        INSERT INTO lake.grid.meters SELECT id, kwh FROM stream.meters;
                        """));
        assertThat(pipeline.status()).as(pipeline.text()).isEqualTo(201);
        Fixtures.awaitPipelineRunning(http, "land-meters", "created");
        String firstJob =
                http.get("/v1/pipelines/land-meters").body().path("jobId").asText();
        assertThat(http.post("/v1/topics/meters/records", List.of(Map.of("id", 1, "kwh", 7)))
                        .status())
                .isEqualTo(200);
        await(
                "the first record landed",
                Duration.ofMinutes(2),
                () -> Fixtures.number(http, "SELECT count(*) FROM lake.grid.meters") == 1);

        Http.Reply widened = http.put(
                "/v1/topics/meters/schema",
                Map.of("columns", List.of(column("id", "BIGINT NOT NULL"), column("kwh", "BIGINT"))));
        assertThat(widened.status()).as(widened.text()).isEqualTo(200);
        await(
                "the pipeline restarted with the new columns",
                Duration.ofMinutes(2),
                () -> {
                    JsonNode status = http.get("/v1/pipelines/land-meters").body();
                    return status.path("state").asText().equals("RUNNING")
                            && !status.path("jobId").asText().equals(firstJob);
                },
                () -> http.get("/v1/pipelines/land-meters").text());
        assertThat(http.post("/v1/topics/meters/records", List.of(Map.of("id", 2, "kwh", 5_000_000_000L)))
                        .status())
                .as("checked by the new columns")
                .isEqualTo(200);
        await(
                "the wide value landed",
                Duration.ofMinutes(2),
                () -> Fixtures.number(http, "SELECT count(*) FROM lake.grid.meters") == 2);
        assertThat(Fixtures.rows(http, "SELECT id, kwh FROM lake.grid.meters ORDER BY id")
                        .toString())
                .isEqualTo("[[1,7],[2,5000000000]]");
        assertThat(http.get("/v1/pipelines/land-meters")
                        .body()
                        .path("deadLetters")
                        .asLong())
                .as("read as BIGINT, not dead-lettered as too large for INT")
                .isZero();
    }

    private static Map<String, String> column(String name, String type) {
        return Map.of("name", name, "type", type);
    }

    private static Http.Reply evolve(Http http, List<Map<String, String>> columns) {
        return http.put("/v1/topics/readings/schema", Map.of("columns", columns));
    }

    private static Http.Reply evolve(Http http, List<Map<String, String>> columns, String compatibility) {
        return http.put("/v1/topics/readings/schema", Map.of("columns", columns, "compatibility", compatibility));
    }

    private static int versions(Http http) {
        return http.get("/v1/topics/readings/schema").body().path("versions").size();
    }

    private static int ingest(Http http, String record) {
        return http.post("/v1/topics/readings/records", record.getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .status();
    }
}
