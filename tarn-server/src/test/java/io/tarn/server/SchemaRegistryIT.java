package io.tarn.server;

import static io.tarn.server.Fixtures.await;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.net.http.HttpRequest;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.apache.avro.Conversions;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Tarn's Confluent Schema Registry API as Confluent's Avro serializer uses it — register, look up, fetch by id,
 * compatibility, config — and records in the Confluent wire format (zero byte, schema id, Avro binary), written by a
 * Kafka client as that serializer writes them, landing in the lake beside JSON records of the same topic; records it
 * cannot read are dead letters with their reason.
 */
class SchemaRegistryIT {
    @RegisterExtension
    static final TarnServerExtension tarn = new TarnServerExtension();

    private static final String REGISTRY = "/schema-registry";
    private static final String CONFLUENT_JSON = "application/vnd.schemaregistry.v1+json";

    /** The Avro schema Tarn shows for the topic's first columns. */
    private static final String VERSION_1 =
            "{\"type\":\"record\",\"name\":\"payments\",\"namespace\":\"io.tarn.topic\","
                    + "\"fields\":[{\"name\":\"id\",\"type\":\"long\"},{\"name\":\"amount\",\"type\":[\"null\",{\"type\":\"bytes\","
                    + "\"logicalType\":\"decimal\",\"precision\":10,\"scale\":2}],\"default\":null},{\"name\":\"note\",\"type\":"
                    + "[\"null\",\"string\"],\"default\":null}]}";

    /** A producer's newer schema: two optional fields more (a timestamp and an enum). */
    private static final String VERSION_2 =
            """
            {"type": "record", "name": "Payment", "namespace": "com.example", "fields": [
              {"name": "id", "type": "long"},
              {"name": "amount", "type": ["null", {"type": "bytes", "logicalType": "decimal", "precision": 10,
                "scale": 2}], "default": null},
              {"name": "note", "type": ["null", "string"], "default": null},
              {"name": "paid_at", "type": ["null", {"type": "long", "logicalType": "local-timestamp-millis"}],
                "default": null},
              {"name": "status", "type": ["null", {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID"]}],
                "default": null}
            ]}""";

    @Test
    void avroProducersRegisterSchemasAndTheirRecordsLand() throws Exception {
        Http http = tarn.http();
        Http.Reply topic = http.post(
                "/v1/topics",
                Map.of(
                        "name",
                        "payments",
                        "partitions",
                        1,
                        "columns",
                        List.of(
                                Map.of("name", "id", "type", "BIGINT NOT NULL"),
                                Map.of("name", "amount", "type", "DECIMAL(10, 2)"),
                                Map.of("name", "note", "type", "STRING"))));
        assertThat(topic.status()).as(topic.text()).isEqualTo(201);

        // what a registry client reads
        assertThat(http.get(REGISTRY + "/subjects").text()).isEqualTo("[\"payments-value\"]");
        Http.Reply latest = http.get(REGISTRY + "/subjects/payments-value/versions/latest");
        assertThat(latest.status()).as(latest.text()).isEqualTo(200);
        int id1 = latest.body().path("id").asInt();
        assertThat(latest.body().toString())
                .isEqualTo("{\"subject\":\"payments-value\",\"version\":1,\"id\":%d,\"schema\":%s}"
                        .formatted(id1, Http.JSON.writeValueAsString(VERSION_1)));
        assertThat(http.get(REGISTRY + "/schemas/ids/" + id1)
                        .body()
                        .path("schema")
                        .asText())
                .isEqualTo(VERSION_1);

        // what the serializer does: register (the same schema twice is one id), then look it up
        Http.Reply registered = register(http, "payments-value", VERSION_2);
        assertThat(registered.status()).as(registered.text()).isEqualTo(200);
        int id2 = registered.body().path("id").asInt();
        assertThat(id2).isGreaterThan(id1);
        assertThat(register(http, "payments-value", VERSION_2).body().toString())
                .isEqualTo("{\"id\":%d}".formatted(id2));
        Http.Reply lookup = confluent(http, "POST", REGISTRY + "/subjects/payments-value", schemaBody(VERSION_2));
        assertThat(lookup.body().path("version").asInt()).isEqualTo(2);
        assertThat(lookup.body().path("id").asInt()).isEqualTo(id2);
        assertThat(http.get(REGISTRY + "/subjects/payments-value/versions").text())
                .isEqualTo("[1,2]");
        assertThat(http.get(REGISTRY + "/schemas/ids/" + id2 + "/versions").text())
                .isEqualTo("[{\"subject\":\"payments-value\",\"version\":2}]");
        assertThat(http.get("/v1/topics/payments/schema")
                        .body()
                        .path("versions")
                        .get(1)
                        .path("columns")
                        .toString())
                .as("the registered schema is the topic's version 2")
                .isEqualTo(
                        "[{\"name\":\"id\",\"type\":\"BIGINT NOT NULL\"},{\"name\":\"amount\",\"type\":\"DECIMAL(10, 2)\"},"
                                + "{\"name\":\"note\",\"type\":\"STRING\"},{\"name\":\"paid_at\",\"type\":\"TIMESTAMP(3)\"},"
                                + "{\"name\":\"status\",\"type\":\"STRING\"}]");

        // refusals, in Confluent's error shape, each changing nothing
        String stringId =
                VERSION_2.replace("{\"name\": \"id\", \"type\": \"long\"}", "{\"name\": \"id\", \"type\": \"string\"}");
        Http.Reply incompatible = register(http, "payments-value", stringId);
        assertThat(incompatible.status()).isEqualTo(409);
        assertThat(incompatible.body().path("error_code").asInt()).isEqualTo(409);
        assertThat(incompatible.body().path("message").asText())
                .startsWith("Schema being registered is incompatible with an earlier schema: column 'id':");
        Http.Reply check = confluent(
                http,
                "POST",
                REGISTRY + "/compatibility/subjects/payments-value/versions/latest?verbose=true",
                schemaBody(stringId));
        assertThat(check.body().path("is_compatible").asBoolean()).isFalse();
        assertThat(check.body().path("messages").get(0).asText()).startsWith("column 'id':");
        assertThat(confluent(
                                http,
                                "POST",
                                REGISTRY + "/compatibility/subjects/payments-value/versions/1",
                                schemaBody(VERSION_2))
                        .text())
                .isEqualTo("{\"is_compatible\":true}");
        assertError(register(http, "payments-value", "{\"type\": \"record\""), 422, 42201);
        assertError(register(http, "payments-value", "\"string\""), 422, 42201);
        assertError(
                register(
                        http,
                        "payments-value",
                        "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"kafka_key\",\"type\":\"string\"}]}"),
                422,
                42201);
        assertError(register(http, "payments-key", "\"string\""), 404, 40401);
        assertError(register(http, "nothing-value", VERSION_2), 404, 40401);
        assertError(http.get(REGISTRY + "/schemas/ids/99999"), 404, 40403);
        assertError(http.get(REGISTRY + "/subjects/payments-value/versions/7"), 404, 40402);
        assertError(http.get(REGISTRY + "/subjects/payments-value/versions/x"), 422, 42202);
        assertError(
                confluent(http, "PUT", REGISTRY + "/config/payments-value", "{\"compatibility\":\"SIDEWAYS\"}"),
                422,
                42203);
        Http.Reply anonymous = http.withToken(Optional.empty()).get(REGISTRY + "/subjects");
        assertThat(anonymous.status()).isEqualTo(401);
        assertThat(anonymous.body().path("error_code").asInt()).isEqualTo(401);
        assertThat(http.get(REGISTRY + "/subjects/payments-value/versions").text())
                .as("the refusals changed nothing")
                .isEqualTo("[1,2]");

        // config: per subject and the default
        assertThat(http.get(REGISTRY + "/config").text()).isEqualTo("{\"compatibilityLevel\":\"BACKWARD\"}");
        assertThat(confluent(http, "PUT", REGISTRY + "/config/payments-value", "{\"compatibility\":\"FULL\"}")
                        .text())
                .isEqualTo("{\"compatibility\":\"FULL\"}");
        assertThat(http.get(REGISTRY + "/config/payments-value").text()).isEqualTo("{\"compatibilityLevel\":\"FULL\"}");
        assertThat(http.get("/v1/topics/payments/schema")
                        .body()
                        .path("compatibility")
                        .asText())
                .isEqualTo("FULL");
        assertThat(confluent(http, "PUT", REGISTRY + "/config", "{\"compatibility\":\"NONE\"}")
                        .text())
                .isEqualTo("{\"compatibility\":\"NONE\"}");
        assertThat(http.get(REGISTRY + "/config").text()).isEqualTo("{\"compatibilityLevel\":\"NONE\"}");

        // records: Avro of both versions and JSON, and three a pipeline cannot read
        Http.Reply pipeline = http.post(
                "/v1/pipelines",
                Map.of(
                        "name",
                        "land-payments",
                        "onError",
                        "dead-letter",
                        "sql",
                        """
                        CREATE DATABASE IF NOT EXISTS lake.shop;
                        CREATE TABLE lake.shop.payments (id BIGINT, amount DECIMAL(10, 2), note STRING,
                          paid_at TIMESTAMP(3), status STRING, k STRING);
                        INSERT INTO lake.shop.payments
                          SELECT id, amount, note, paid_at, status, kafka_key FROM stream.payments;
                        """));
        assertThat(pipeline.status()).as(pipeline.text()).isEqualTo(201);
        Schema v1 = new Schema.Parser().parse(VERSION_1);
        Schema v2 = new Schema.Parser().parse(VERSION_2);
        GenericRecord first = new GenericData.Record(v1);
        first.put("id", 1L);
        first.put("amount", decimal(v1, "10.50"));
        first.put("note", "first");
        GenericRecord second = new GenericData.Record(v2);
        second.put("id", 2L);
        second.put("amount", decimal(v2, "20.25"));
        second.put("paid_at", 1_767_225_600_000L); // 2026-01-01T00:00:00
        second.put(
                "status",
                new GenericData.EnumSymbol(
                        v2.getField("status").schema().getTypes().get(1), "PAID"));
        GenericRecord tooLarge = new GenericData.Record(v2);
        tooLarge.put("id", 6L);
        // 11 digits, more than DECIMAL(10, 2) holds: bytes a writer without Avro's conversion can write
        tooLarge.put(
                "amount",
                ByteBuffer.wrap(new BigDecimal("123456789.99").unscaledValue().toByteArray()));
        byte[] truncated = Arrays.copyOf(wire(id2, second), 7);
        try (KafkaProducer<byte[], byte[]> producer = producer()) {
            send(producer, "k1", wire(id1, first));
            send(producer, "k2", wire(id2, second));
            send(producer, "k4", wire(99_999, second));
            send(producer, "k5", truncated);
            send(producer, "k6", wire(id2, tooLarge));
        }
        Http.Reply ingested =
                http.post("/v1/topics/payments/records", List.of(Map.of("id", 3, "amount", 30.0, "status", "NEW")));
        assertThat(ingested.status()).as(ingested.text()).isEqualTo(200);
        await(
                "3 payments landed and 3 dead letters",
                Duration.ofMinutes(2),
                () -> Fixtures.number(http, "SELECT count(*) FROM lake.shop.payments") == 3
                        && http.get("/v1/pipelines/land-payments")
                                        .body()
                                        .path("deadLetters")
                                        .asLong()
                                == 3,
                () -> http.get("/v1/pipelines/land-payments").text());
        assertThat(Fixtures.rows(
                                http,
                                "SELECT id, amount, note, CAST(paid_at AS VARCHAR), status, k FROM lake.shop.payments"
                                        + " ORDER BY id")
                        .toString())
                .isEqualTo(
                        "[[1,10.5,\"first\",null,null,\"k1\"],[2,20.25,null,\"2026-01-01 00:00:00\",\"PAID\",\"k2\"],"
                                + "[3,30.0,null,null,\"NEW\",null]]");
        List<String> letters = new ArrayList<>();
        http.get("/v1/pipelines/land-payments/dead-letters")
                .body()
                .path("deadLetters")
                .forEach(l -> letters.add("%d %s %s: %s"
                        .formatted(
                                l.path("offset").asLong(),
                                l.path("key").asText(),
                                l.path("errorClass").asText(),
                                l.path("errorMessage").asText())));
        assertThat(letters)
                .containsExactlyInAnyOrder(
                        "2 k4 UNKNOWN_SCHEMA: schema id 99999 is not in Tarn's schema registry",
                        "3 k5 MALFORMED_AVRO: the record is not Avro of schema id %d: it ends within its value"
                                .formatted(id2),
                        "4 k6 INVALID_FIELD: field 'amount': 123456789.99 does not fit DECIMAL(10, 2)");
    }

    private static void assertError(Http.Reply reply, int status, int errorCode) {
        assertThat(reply.status()).as(reply.text()).isEqualTo(status);
        assertThat(reply.body().path("error_code").asInt()).as(reply.text()).isEqualTo(errorCode);
        assertThat(reply.body().path("message").asText()).isNotBlank();
    }

    private static Http.Reply register(Http http, String subject, String schema) throws IOException {
        return confluent(http, "POST", REGISTRY + "/subjects/" + subject + "/versions", schemaBody(schema));
    }

    private static String schemaBody(String schema) throws IOException {
        return Http.JSON.writeValueAsString(Map.of("schema", schema));
    }

    /** A request as Confluent's registry client sends it, with its media type. */
    private static Http.Reply confluent(Http http, String method, String path, String body) {
        return http.send(HttpRequest.newBuilder(http.uri(path))
                .header("Content-Type", CONFLUENT_JSON)
                .method(method, HttpRequest.BodyPublishers.ofString(body)));
    }

    private static ByteBuffer decimal(Schema schema, String value) {
        Schema bytes = schema.getField("amount").schema().getTypes().get(1);
        return new Conversions.DecimalConversion()
                .toBytes(new BigDecimal(value), bytes, (LogicalTypes.Decimal) bytes.getLogicalType());
    }

    /** A record as Confluent's Avro serializer writes it: a zero byte, the schema id, the Avro binary encoding. */
    private static byte[] wire(int id, GenericRecord record) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0);
        out.write(ByteBuffer.allocate(4).putInt(id).array());
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(record.getSchema()).write(record, encoder);
        encoder.flush();
        return out.toByteArray();
    }

    private static void send(KafkaProducer<byte[], byte[]> producer, String key, byte[] value) throws Exception {
        producer.send(new ProducerRecord<>("payments", key.getBytes(StandardCharsets.UTF_8), value))
                .get();
    }

    private static KafkaProducer<byte[], byte[]> producer() {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, tarn.server().bootstrapServers());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    }
}
