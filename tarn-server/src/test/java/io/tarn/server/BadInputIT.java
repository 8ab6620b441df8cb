package io.tarn.server;

import static io.tarn.server.Fixtures.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.tarn.core.config.ConfigKeys;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The bad-input suite: malformed JSON, wrong types, missing required fields, NaN and Infinity, invalid UTF-8, deep
 * nesting, over-size records, values that are not objects and records without a value, sent over HTTP and over the
 * Kafka protocol to a topic whose pipeline dead-letters bad records. Every record is landed, dead-lettered or refused
 * synchronously, exactly: received = landed + dead-lettered + refused, and no answer is a 5xx.
 */
class BadInputIT {
    private static final int MAX_RECORD_BYTES = 4096;

    @RegisterExtension
    static final TarnServerExtension tarn = new TarnServerExtension(
            config -> config.with(ConfigKeys.LOG_MAX_RECORD_BYTES, String.valueOf(MAX_RECORD_BYTES))
                    .with(ConfigKeys.COMPUTE_CHECKPOINT_INTERVAL, "1s"));

    /** Bad records as a Kafka client could write them, with the class of their dead letter. */
    private static final Map<String, String> BAD = new LinkedHashMap<>();

    static {
        BAD.put("{oops", "MALFORMED_JSON");
        BAD.put("{\"id\":2,\"amount\":NaN}", "MALFORMED_JSON");
        BAD.put("{\"id\":6,\"amount\":-Infinity}", "MALFORMED_JSON");
        BAD.put("{\"id\":\"x\"}", "INVALID_FIELD");
        BAD.put("{\"id\":7,\"paid_at\":\"yesterday\"}", "INVALID_FIELD");
        BAD.put("{\"amount\":1}", "INVALID_FIELD");
        BAD.put("{\"id\":3,\"amount\":99999999.995}", "INVALID_FIELD");
        BAD.put("{\"id\":4,\"note\":" + "[".repeat(50) + "]".repeat(50) + "}", "INVALID_FIELD");
        BAD.put("[1,2]", "NOT_AN_OBJECT");
        BAD.put("\"text\"", "NOT_AN_OBJECT");
    }

    @Test
    void everyRecordIsLandedDeadLetteredOrRefusedExactlyOnce() throws Exception {
        Http http = tarn.http();
        List<Http.Reply> replies = new ArrayList<>();
        replies.add(http.post(
                "/v1/topics",
                Map.of(
                        "name",
                        "payments",
                        "partitions",
                        2,
                        "columns",
                        List.of(
                                Map.of("name", "id", "type", "BIGINT NOT NULL"),
                                Map.of("name", "amount", "type", "DECIMAL(10, 2)"),
                                Map.of("name", "note", "type", "STRING"),
                                Map.of("name", "paid_at", "type", "TIMESTAMP(3)")))));
        Http.Reply created = http.post(
                "/v1/pipelines",
                Map.of(
                        "name",
                        "land-payments",
                        "onError",
                        "dead-letter",
                        "rules",
                        List.of(
                                Map.of(
                                        "name",
                                        "amount-range",
                                        "check",
                                        "range",
                                        "column",
                                        "amount",
                                        "min",
                                        0,
                                        "max",
                                        10_000,
                                        "action",
                                        "dead-letter"),
                                Map.of(
                                        "name",
                                        "note-short",
                                        "check",
                                        "sql",
                                        "predicate",
                                        "CHAR_LENGTH(note) <= 20",
                                        "action",
                                        "warn")),
                        "sql",
                        """
                        CREATE DATABASE IF NOT EXISTS lake.pay;
                        CREATE TABLE lake.pay.payments (id BIGINT, amount DECIMAL(10, 2), note STRING, paid_at TIMESTAMP(3));
                        INSERT INTO lake.pay.payments SELECT id, amount, note, paid_at FROM stream.payments;
                        """));
        replies.add(created);
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        assertThat(created.body().path("onError").asText()).isEqualTo("dead-letter");

        // over HTTP: good records are written, bad ones refused with their index and reason
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            lines.add("{\"id\":%d,\"amount\":%d.25,\"note\":\"n%d\",\"paid_at\":\"2026-12-04T10:00:00\"}"
                    .formatted(i, i, i));
        }
        lines.addAll(BAD.keySet());
        lines.add("{\"id\":5,\"note\":\"" + "x".repeat(MAX_RECORD_BYTES) + "\"}");
        byte[] body = (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8);
        byte[] notUtf8 = {
            '{',
            '"',
            'i',
            'd',
            '"',
            ':',
            '8',
            ',',
            '"',
            'n',
            'o',
            't',
            'e',
            '"',
            ':',
            '"',
            (byte) 0xC3,
            (byte) 0x28,
            '"',
            '}',
            '\n'
        };
        byte[] mixed = new byte[body.length + notUtf8.length];
        System.arraycopy(body, 0, mixed, 0, body.length);
        System.arraycopy(notUtf8, 0, mixed, body.length, notUtf8.length);
        int sentOverHttp = lines.size() + 1;
        Http.Reply partial = http.post("/v1/topics/payments/records?partial=true", mixed);
        replies.add(partial);
        assertThat(partial.status()).as(partial.text()).isEqualTo(200);
        int accepted = partial.body().path("accepted").asInt();
        int refusedOverHttp = partial.body().path("refused").asInt();
        assertThat(accepted).isEqualTo(20);
        assertThat(refusedOverHttp).isEqualTo(BAD.size() + 2);
        List<Integer> refusedIndexes = new ArrayList<>();
        partial.body()
                .path("refusedRecords")
                .forEach(r -> refusedIndexes.add(r.path("index").asInt()));
        assertThat(refusedIndexes).hasSize(refusedOverHttp).allMatch(index -> index >= 20);

        // over the Kafka protocol, where nothing checks a record before it is written: the pipeline dead-letters
        List<byte[]> kafkaValues = new ArrayList<>();
        for (int i = 100; i < 110; i++) {
            kafkaValues.add("{\"id\":%d,\"amount\":1}".formatted(i).getBytes(StandardCharsets.UTF_8));
        }
        // records that decode but fail a rule: of action warn (landed) and dead-letter (dead-lettered, class RULE)
        String longNote = "{\"id\":200,\"amount\":1,\"note\":\"a note longer than twenty characters\"}";
        String negative = "{\"id\":201,\"amount\":-5}";
        kafkaValues.add(longNote.getBytes(StandardCharsets.UTF_8));
        BAD.keySet().forEach(v -> kafkaValues.add(v.getBytes(StandardCharsets.UTF_8)));
        kafkaValues.add(negative.getBytes(StandardCharsets.UTF_8));
        kafkaValues.add(java.util.Arrays.copyOf(notUtf8, notUtf8.length - 1));
        kafkaValues.add(null); // a record without a value
        int refusedOverKafka = 0;
        try (KafkaProducer<byte[], byte[]> producer = producer()) {
            for (byte[] value : kafkaValues) {
                producer.send(new ProducerRecord<>("payments", null, value)).get();
            }
            // the broker bounds a batch (at least 1 MiB + 64 KiB), not one record of log.max-record-bytes
            byte[] tooLarge = ("{\"id\":9,\"note\":\"" + "x".repeat(2 << 20) + "\"}").getBytes(StandardCharsets.UTF_8);
            assertThatThrownBy(() -> producer.send(new ProducerRecord<>("payments", null, tooLarge))
                            .get())
                    .isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(RecordTooLargeException.class);
            refusedOverKafka++;
        }
        int goodOverKafka = 11;
        int deadLettered = kafkaValues.size() - goodOverKafka;
        int sentOverKafka = kafkaValues.size() + 1;

        long landedExpected = accepted + goodOverKafka;
        await(
                "every good record landed and every bad one dead-lettered",
                Duration.ofMinutes(2),
                () -> Fixtures.number(http, "SELECT count(*) FROM lake.pay.payments") == landedExpected
                        && http.get("/v1/pipelines/land-payments")
                                        .body()
                                        .path("deadLetters")
                                        .asLong()
                                == deadLettered,
                () -> http.get("/v1/pipelines/land-payments").text());
        JsonNode status = http.get("/v1/pipelines/land-payments").body();
        assertThat(status.path("state").asText()).isEqualTo("RUNNING");
        assertThat(status.path("lastError").isNull()).as(status.toString()).isTrue();
        long landed = Fixtures.number(http, "SELECT count(*) FROM lake.pay.payments");
        assertThat(Fixtures.number(http, "SELECT count(DISTINCT id) FROM lake.pay.payments"))
                .isEqualTo(landedExpected);
        assertThat(sentOverHttp + sentOverKafka)
                .as("received = landed + dead-lettered + refused")
                .isEqualTo(landed + deadLettered + refusedOverHttp + refusedOverKafka);

        Http.Reply letters = http.get("/v1/pipelines/land-payments/dead-letters?limit=100");
        replies.add(letters);
        assertThat(letters.status()).as(letters.text()).isEqualTo(200);
        assertThat(letters.body().path("total").asInt()).isEqualTo(deadLettered);
        Map<String, String> classByValue = new LinkedHashMap<>();
        List<String> positions = new ArrayList<>();
        for (JsonNode letter : letters.body().path("deadLetters")) {
            assertThat(letter.path("topic").asText()).isEqualTo("payments");
            positions.add(letter.path("partition").asInt() + "/"
                    + letter.path("offset").asLong());
            byte[] value = Base64.getDecoder().decode(letter.path("valueBase64").asText());
            classByValue.put(
                    letter.path("value").isNull()
                            ? "bytes:" + value.length
                            : letter.path("value").asText(),
                    letter.path("errorClass").asText());
            assertThat(letter.path("errorMessage").asText()).isNotBlank();
        }
        assertThat(positions).doesNotHaveDuplicates().hasSize(deadLettered);
        Map<String, String> expected = new LinkedHashMap<>(BAD);
        expected.put("bytes:" + (notUtf8.length - 1), "MALFORMED_JSON");
        expected.put("bytes:0", "NO_VALUE");
        expected.put(negative, "RULE");
        assertThat(classByValue).containsExactlyInAnyOrderEntriesOf(expected);
        Http.Reply page = http.get("/v1/pipelines/land-payments/dead-letters?limit=3&offset=3");
        assertThat(page.body().path("deadLetters").size()).isEqualTo(3);
        assertThat(page.body().path("deadLetters").get(0).path("offset").asLong())
                .isEqualTo(
                        letters.body().path("deadLetters").get(3).path("offset").asLong());
        replies.add(http.get("/v1/pipelines/land-payments/dead-letters?limit=0"));
        assertThat(replies.get(replies.size() - 1).errorName()).isEqualTo("INVALID_REQUEST");
        replies.add(http.get("/v1/pipelines/nope/dead-letters"));
        assertThat(replies.get(replies.size() - 1).status()).isEqualTo(404);
        replies.add(
                http.post("/v1/pipelines", Map.of("name", "x", "sql", "INSERT INTO a SELECT 1", "onError", "skip")));
        assertThat(replies.get(replies.size() - 1).errorMessage()).isEqualTo("onError must be 'fail' or 'dead-letter'");

        // every record that decoded met both rules, as the pipeline's status counts them (Flink's metrics lag a little)
        long decoded = landedExpected + 1;
        await(
                "the rules' counts",
                Duration.ofMinutes(1),
                () -> http.get("/v1/pipelines/land-payments")
                        .body()
                        .path("rules")
                        .toString()
                        .equals(("[{\"name\":\"amount-range\",\"check\":\"range\",\"column\":\"amount\",\"min\":0,"
                                        + "\"max\":10000,\"action\":\"dead-letter\",\"passed\":%d,\"failed\":1},"
                                        + "{\"name\":\"note-short\",\"check\":\"sql\","
                                        + "\"predicate\":\"CHAR_LENGTH(note) <= 20\",\"action\":\"warn\","
                                        + "\"passed\":%d,\"failed\":1}]")
                                .formatted(decoded - 1, decoded - 1)),
                () -> http.get("/v1/pipelines/land-payments")
                        .body()
                        .path("rules")
                        .toString());
        replies.add(http.post(
                "/v1/pipelines",
                Map.of(
                        "name",
                        "bad-rule",
                        "sql",
                        "INSERT INTO lake.pay.payments SELECT id, amount, note, paid_at FROM stream.payments",
                        "rules",
                        List.of(Map.of("name", "r", "check", "not-null", "column", "id", "action", "dead-letter")))));
        assertThat(replies.get(replies.size() - 1).errorMessage())
                .isEqualTo(
                        "rule 'r' dead-letters the records that fail it: the pipeline's onError must be dead-letter");
        replies.add(http.post(
                "/v1/pipelines",
                Map.of(
                        "name",
                        "bad-rule",
                        "sql",
                        "INSERT INTO lake.pay.payments SELECT id, amount, note, paid_at FROM stream.payments",
                        "rules",
                        List.of(Map.of(
                                "name", "r", "check", "sql", "predicate", "true) OR (1 = 1", "action", "warn")))));
        assertThat(replies.get(replies.size() - 1).errorMessage())
                .startsWith("rule 'r': the predicate is not a SQL expression over the topic's columns");
        assertThat(http.get("/v1/pipelines/bad-rule").status())
                .as("nothing of a refused pipeline stays")
                .isEqualTo(404);
        replies.add(http.post(
                "/v1/pipelines",
                Map.of(
                        "name",
                        "bad-from",
                        "sql",
                        "INSERT INTO lake.pay.payments SELECT id, amount, note, paid_at FROM stream.payments",
                        "from",
                        "yesterday")));
        assertThat(replies.get(replies.size() - 1).errorMessage())
                .isEqualTo("from must be 'earliest', 'latest' or an ISO-8601 time such as 2026-12-04T10:00:00Z, not"
                        + " 'yesterday'");

        assertThat(replies).allMatch(r -> r.status() < 500, "no 5xx");

        Cli.Result listed = Cli.against(tarn.server(), "pipelines", "dead-letters", "land-payments", "--limit", "2");
        assertThat(listed.code()).as(listed.err()).isZero();
        assertThat(listed.out())
                .contains("record", "error", "why", "value")
                .contains(letters.body()
                        .path("deadLetters")
                        .get(1)
                        .path("errorClass")
                        .asText())
                .endsWith("2 of %d dead letters\n".formatted(deadLettered));
    }

    private static KafkaProducer<byte[], byte[]> producer() {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, tarn.server().bootstrapServers());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, String.valueOf(8 << 20)); // the broker decides
        return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    }
}
