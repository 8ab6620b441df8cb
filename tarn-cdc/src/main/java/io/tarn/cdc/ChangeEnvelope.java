package io.tarn.cdc;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;

/**
 * Debezium's change event as the JSON Tarn writes to a table's topic: the Debezium envelope ({@code before},
 * {@code after}, {@code op}, {@code source}) that Flink's {@code debezium-json} format reads, with values rendered as
 * Flink's JSON format expects them — timestamps as ISO-8601 text (Debezium's own JSON converter writes epoch
 * microseconds, which Flink cannot read as a TIMESTAMP), dates and times as ISO text, decimals as exact text, bytes as
 * base64. The key is the row's primary key columns as a JSON object.
 */
final class ChangeEnvelope {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private ChangeEnvelope() {}

    static byte[] key(Struct key) {
        return bytes(struct(key));
    }

    /** The envelope of a change (a Debezium value struct with before, after, op and source). */
    static byte[] value(Struct value) {
        ObjectNode envelope = NODES.objectNode();
        envelope.set(
                "before",
                value.schema().field("before") == null ? NODES.nullNode() : struct(value.getStruct("before")));
        envelope.set(
                "after", value.schema().field("after") == null ? NODES.nullNode() : struct(value.getStruct("after")));
        envelope.put("op", value.getString("op"));
        Struct source = value.getStruct("source");
        ObjectNode position = envelope.putObject("source");
        for (String name : new String[] {"connector", "db", "schema", "table", "snapshot", "ts_ms", "lsn", "txId"}) {
            if (source.schema().field(name) != null) {
                position.set(name, value(source.schema().field(name).schema(), source.get(name)));
            }
        }
        return bytes(envelope);
    }

    private static JsonNode struct(Struct struct) {
        if (struct == null) {
            return NODES.nullNode();
        }
        ObjectNode node = NODES.objectNode();
        for (Field field : struct.schema().fields()) {
            node.set(field.name(), value(field.schema(), struct.get(field)));
        }
        return node;
    }

    private static JsonNode value(Schema schema, Object value) {
        if (value == null) {
            return NODES.nullNode();
        }
        String logical = schema.name() == null ? "" : schema.name();
        switch (logical) {
            case "io.debezium.time.Timestamp" -> {
                return NODES.textNode(iso(LocalDateTime.ofInstant(Instant.ofEpochMilli((Long) value), ZoneOffset.UTC)));
            }
            case "io.debezium.time.MicroTimestamp" -> {
                long micros = (Long) value;
                return NODES.textNode(iso(LocalDateTime.ofEpochSecond(
                        Math.floorDiv(micros, 1_000_000L),
                        (int) Math.floorMod(micros, 1_000_000L) * 1000,
                        ZoneOffset.UTC)));
            }
            case "io.debezium.time.NanoTimestamp" -> {
                long nanos = (Long) value;
                return NODES.textNode(iso(LocalDateTime.ofEpochSecond(
                        Math.floorDiv(nanos, 1_000_000_000L),
                        (int) Math.floorMod(nanos, 1_000_000_000L),
                        ZoneOffset.UTC)));
            }
            case "io.debezium.time.Date" -> {
                return NODES.textNode(LocalDate.ofEpochDay((Integer) value).toString());
            }
            case "io.debezium.time.Time" -> {
                return NODES.textNode(time(((Integer) value) * 1_000_000L));
            }
            case "io.debezium.time.MicroTime" -> {
                return NODES.textNode(time(((Long) value) * 1000L));
            }
            case "org.apache.kafka.connect.data.Decimal" -> {
                return NODES.textNode(((BigDecimal) value).toPlainString());
            }
            case "io.debezium.data.VariableScaleDecimal" -> { // NUMERIC without precision: any scale
                Struct decimal = (Struct) value;
                return NODES.textNode(
                        new BigDecimal(new BigInteger(decimal.getBytes("value")), decimal.getInt32("scale"))
                                .toPlainString());
            }
            default -> {
                // other logical types (zoned timestamps as text, JSON, UUID, enums) arrive in their schema's base type
            }
        }
        return switch (schema.type()) {
            case INT8 -> NODES.numberNode((Byte) value);
            case INT16 -> NODES.numberNode((Short) value);
            case INT32 -> NODES.numberNode((Integer) value);
            case INT64 -> NODES.numberNode((Long) value);
            case FLOAT32 -> NODES.numberNode((Float) value);
            case FLOAT64 -> NODES.numberNode((Double) value);
            case BOOLEAN -> NODES.booleanNode((Boolean) value);
            case STRING -> NODES.textNode((String) value);
            case BYTES ->
                NODES.textNode(Base64.getEncoder()
                        .encodeToString(value instanceof ByteBuffer buffer ? bytes(buffer) : (byte[]) value));
            case STRUCT -> struct((Struct) value);
            default -> NODES.textNode(String.valueOf(value));
        };
    }

    /** ISO-8601 time of day with seconds always ("04:05:00", not "04:05"); 24:00:00 is PostgreSQL's end of day. */
    static String time(long nanoOfDay) {
        if (nanoOfDay == 86_400_000_000_000L) {
            return "24:00:00";
        }
        return DateTimeFormatter.ISO_LOCAL_TIME.format(LocalTime.ofNanoOfDay(nanoOfDay));
    }

    private static String iso(LocalDateTime time) {
        return DateTimeFormatter.ISO_LOCAL_DATE_TIME.format(time); // seconds always, as Flink reads
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.duplicate().get(bytes);
        return bytes;
    }

    private static byte[] bytes(JsonNode node) {
        try {
            return JSON.writeValueAsBytes(node); // UTF-8
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a change event could not be written as JSON", e);
        }
    }
}
