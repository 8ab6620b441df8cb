package io.tarn.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Topics and ingest as an attacker uses them: requests with millions of records, requests that are all invalid, column
 * types that would break every pipeline. Each is refused with its reason and leaves nothing behind; the server stays
 * ready.
 */
class TopicSecurityIT {
    @RegisterExtension
    static final TarnServerExtension tarn = new TarnServerExtension();

    static Http http;

    @BeforeAll
    static void start() {
        http = tarn.http();
        Fixtures.createIdTopic(http, "ids", 1);
    }

    @Test
    void millionsOfTinyRecordsAreRefusedBeforeTheyAreHeld() {
        int records = 16_000_000; // 32 MB of "1,": within http.max-request-bytes
        StringBuilder body = new StringBuilder(records * 2 + 2).append('[');
        body.append("1,".repeat(records - 1)).append("1]");
        Http.Reply reply = http.post("/v1/topics/ids/records", body.toString());
        assertThat(reply.status()).as(reply.text()).isEqualTo(413);
        assertThat(reply.errorName()).isEqualTo("REQUEST_TOO_LARGE");
        assertThat(reply.errorMessage())
                .isEqualTo("request holds more than 100000 records (http.max-records-per-request); nothing of it was"
                        + " written");
        Http.Reply lines = http.post("/v1/topics/ids/records", "{\"id\":1}\n".repeat(100_001));
        assertThat(lines.status()).isEqualTo(413);
        assertThat(lines.errorName()).isEqualTo("REQUEST_TOO_LARGE");
        assertThat(records("ids")).isZero();
        assertThat(http.get("/v1/ready").status()).isEqualTo(200);
    }

    @Test
    void problemsAreListedUpToAHundredAndCountedBeyond() {
        int invalid = 60_000;
        Http.Reply reply =
                http.post("/v1/topics/ids/records", "[" + "\"x\",".repeat(invalid - 1) + "{\"id\":7}," + "\"x\"]");
        assertThat(reply.status()).isEqualTo(400);
        assertThat(reply.errorName()).isEqualTo("INVALID_RECORDS");
        assertThat(reply.errorMessage())
                .isEqualTo("%d of %d records are invalid; nothing of this request was written (first: record 0: record"
                                .formatted(invalid, invalid + 1)
                        + " must be a JSON object, got string)");
        JsonNode listed = reply.body().path("error").path("records");
        assertThat(listed).hasSize(100);
        assertThat(listed.get(99).path("index").asInt()).isEqualTo(99);
        assertThat(records("ids")).isZero();
    }

    @Test
    void columnTypesAreReadByFlinksOwnParser() {
        Http.Reply broken = http.post(
                "/v1/topics", Map.of("name", "broken", "columns", List.of(Map.of("name", "a", "type", "ARRAY<)>"))));
        assertThat(broken.status()).as(broken.text()).isEqualTo(400);
        assertThat(broken.errorName()).isEqualTo("INVALID_REQUEST");
        assertThat(broken.errorMessage()).startsWith("column type 'ARRAY<)>' is not a Flink SQL type: ");
        Http.Reply raw = http.post(
                "/v1/topics",
                Map.of(
                        "name",
                        "broken",
                        "columns",
                        List.of(Map.of("name", "a", "type", "RAW('java.lang.Object', 'AA==')"))));
        assertThat(raw.status()).isEqualTo(400);
        assertThat(http.get("/v1/topics/broken").status()).isEqualTo(404);
        assertThat(http.get("/v1/topics").text()).doesNotContain("broken");

        Http.Reply created = http.post(
                "/v1/topics",
                Map.of(
                        "name",
                        "typed",
                        "columns",
                        List.of(
                                Map.of("name", "amount", "type", "decimal(10,2)"),
                                Map.of("name", "tags", "type", "array<string>"),
                                Map.of("name", "ts", "type", "timestamp with local time zone"))));
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        assertThat(created.body().path("columns"))
                .extracting(c -> c.path("type").asText())
                .startsWith("DECIMAL(10, 2)", "ARRAY<STRING>", "TIMESTAMP_LTZ(6)");
        // a pipeline over the declared topics still plans: no declaration broke the stream tables
        Http.Reply pipeline = http.post(
                "/v1/pipelines",
                Map.of(
                        "name",
                        "after-types",
                        "sql",
                        "CREATE DATABASE IF NOT EXISTS lake.typed; CREATE TABLE IF NOT EXISTS lake.typed.amounts"
                                + " (amount DECIMAL(10, 2)); INSERT INTO lake.typed.amounts SELECT amount FROM"
                                + " stream.typed"));
        assertThat(pipeline.status()).as(pipeline.text()).isEqualTo(201);
        assertThat(http.delete("/v1/pipelines/after-types").status()).isEqualTo(204);
    }

    private static long records(String topic) {
        return http.get("/v1/topics/" + topic).body().path("records").asLong();
    }
}
