package io.tarn.compute.json;

import static org.assertj.core.api.Assertions.assertThat;

import io.tarn.compute.avro.WireFormatDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.formats.common.TimestampFormat;
import org.apache.flink.formats.json.JsonParserRowDataDeserializationSchema;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.runtime.typeutils.InternalTypeInfo;
import org.apache.flink.table.types.DataType;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.util.Collector;
import org.junit.jupiter.api.Test;

/**
 * Tarn's JSON decoding must give exactly the rows (or the error) of Flink's own JSON format for every input: compared
 * on generated records with values of every shape and on random mutations of them.
 */
class TarnJsonDeserializationSchemaTest {
    private static final DataType ROW = DataTypes.ROW(
            DataTypes.FIELD("s", DataTypes.STRING()),
            DataTypes.FIELD("v", DataTypes.VARCHAR(5)),
            DataTypes.FIELD("b", DataTypes.BOOLEAN()),
            DataTypes.FIELD("t", DataTypes.TINYINT()),
            DataTypes.FIELD("sm", DataTypes.SMALLINT()),
            DataTypes.FIELD("i", DataTypes.INT().notNull()),
            DataTypes.FIELD("l", DataTypes.BIGINT()),
            DataTypes.FIELD("f", DataTypes.FLOAT()),
            DataTypes.FIELD("d", DataTypes.DOUBLE()),
            DataTypes.FIELD("ts", DataTypes.TIMESTAMP(3)),
            DataTypes.FIELD("ts9", DataTypes.TIMESTAMP(9)),
            DataTypes.FIELD("ltz", DataTypes.TIMESTAMP_LTZ(3)),
            DataTypes.FIELD("é名", DataTypes.STRING()));

    private static final String[] NAMES = {"s", "v", "b", "t", "sm", "i", "l", "f", "d", "ts", "ts9", "ltz", "é名"};

    private final Random random = new Random(20261122);

    @Test
    void usualRecordsTakeTheFastPathAndMatchFlink() throws Exception {
        Decoders decoders = decoders(ROW);
        String record = "{\"s\":\"/page/1\",\"v\":\"de\",\"b\":true,\"t\":-7,\"sm\":300,\"i\":42,\"l\":-9000000000,"
                + "\"f\":1.5,\"d\":-2.25e3,\"ts\":\"2026-11-22T10:15:30.123\",\"ts9\":\"2024-02-29T23:59:59.123456789\","
                + "\"ltz\":\"1969-12-31T23:59:59.999Z\",\"é名\":\"naïve 😀\",\"extra\":{\"a\":[1,2,{\"b\":null}]}}";
        assertThat(decoders.compare(record.getBytes(StandardCharsets.UTF_8)))
                .isEqualTo("[+I(/page/1,de,true,-7,300,42,-9000000000,1.5,-2250.0,2026-11-22T10:15:30.123,"
                        + "2024-02-29T23:59:59.123456789,1969-12-31T23:59:59.999,naïve 😀)]");
        assertThat(decoders.tarn.slowRecords()).isZero();
    }

    @Test
    void agreesWithFlinkOnGeneratedAndMutatedRecords() throws Exception {
        Decoders decoders = decoders(ROW);
        int records = 60_000;
        long slowGenerated = 0;
        for (int n = 0; n < records; n++) {
            byte[] record = record().getBytes(StandardCharsets.UTF_8);
            long before = decoders.tarn.slowRecords();
            decoders.compare(record);
            slowGenerated += decoders.tarn.slowRecords() - before;
            decoders.compare(mutate(record));
        }
        // both paths are exercised: most generated records are of the usual kind, some are not
        assertThat(slowGenerated).isBetween((long) records / 10, (long) records / 2);
    }

    @Test
    void typesWithoutAFastPathGoToFlink() throws Exception {
        Decoders decoders = decoders(DataTypes.ROW(
                DataTypes.FIELD("id", DataTypes.BIGINT()),
                DataTypes.FIELD("tags", DataTypes.ARRAY(DataTypes.STRING())),
                DataTypes.FIELD("amount", DataTypes.DECIMAL(10, 2))));
        assertThat(decoders.compare(
                        "{\"id\":1,\"tags\":[\"a\",\"b\"],\"amount\":12.345}".getBytes(StandardCharsets.UTF_8)))
                .startsWith("[+I(1,")
                .endsWith(",12.35)]");
        assertThat(decoders.tarn.slowRecords()).isEqualTo(1);
    }

    private String record() {
        List<String> fields = new ArrayList<>();
        for (String name : NAMES) {
            if (random.nextInt(10) > 0) {
                fields.add(quote(name) + ws() + ":" + ws() + value(name));
            }
        }
        if (random.nextInt(4) == 0) {
            fields.add(random.nextInt(fields.size() + 1), "\"extra\":" + nested(0));
        }
        if (random.nextInt(50) == 0) {
            fields.add("\"\\u0073\":\"an escaped key\"");
        }
        if (random.nextInt(20) == 0) {
            String name = NAMES[random.nextInt(NAMES.length)];
            fields.add(quote(name) + ":" + value(name));
        }
        if (random.nextInt(3) == 0) {
            Collections.shuffle(fields, random);
        }
        return ws() + "{" + ws() + String.join(ws() + "," + ws(), fields) + ws() + "}" + ws();
    }

    private String value(String name) {
        if (random.nextInt(40) == 0) {
            return odd();
        }
        return switch (name) {
            case "s", "v", "é名" -> quote(pick("/page/" + random.nextInt(1000), "", "x", "naïve", "日本語", "😀 ok"));
            case "b" -> pick("true", "false");
            case "t" -> String.valueOf(random.nextInt(256) - 128);
            case "sm" -> String.valueOf(random.nextInt(65536) - 32768);
            case "i" -> String.valueOf(random.nextInt());
            case "l" -> String.valueOf(random.nextLong() >> random.nextInt(64));
            case "f", "d" ->
                pick(
                        String.valueOf(random.nextDouble() * 1000),
                        String.valueOf(random.nextInt(100)),
                        random.nextInt(1000) + "." + random.nextInt(1000) + "e" + (random.nextInt(80) - 40),
                        "0." + Long.toString(random.nextLong() & Long.MAX_VALUE) + random.nextInt(1_000_000));
            case "ltz" -> quote(timestamp() + "Z");
            default -> quote(timestamp());
        };
    }

    private String timestamp() {
        String date = "%04d-%02d-%02d".formatted(random.nextInt(3000), 1 + random.nextInt(12), 1 + random.nextInt(31));
        String time = "%02d:%02d:%02d".formatted(random.nextInt(24), random.nextInt(60), random.nextInt(60));
        String fraction = random.nextBoolean() ? "" : "." + "123456789".substring(0, 1 + random.nextInt(9));
        return date + "T" + time + fraction;
    }

    /** Values of unusual shape for any column. */
    private String odd() {
        return pick(
                "null",
                "\"12\"",
                "\" true \"",
                "12.5",
                "-0",
                "1E3",
                "99999999999999999999",
                "128",
                "-32769",
                "2147483648",
                "\"a\\\"b\\u00e9\\n\"",
                "\"tab\\there\"",
                "[1,2]",
                "{\"k\":\"v\"}",
                "true",
                "\"2026-11-22 10:15:30\"",
                "\"2026-11-22T10:15\"",
                "\"2026-11-22t10:15:30\"",
                "\"2026-11-22T10:15:30+01:00\"",
                "\"2026-02-29T10:15:30\"",
                "\"2024-02-29T10:15:30.1234567890\"",
                "\"2026-11-22T10:15:30.123Z\"",
                "\"\"",
                "\"NaN\"",
                "1.0e400",
                "0.000000000000000000000000000000000000000000001",
                "\"\\ud83d\\ude00\"");
    }

    private String nested(int depth) {
        if (depth > 3) {
            return pick("1", "\"x\"", "null", "false", "-2.5e-3");
        }
        return switch (random.nextInt(4)) {
            case 0 -> "[" + nested(depth + 1) + "," + ws() + nested(depth + 1) + "]";
            case 1 -> "{\"a\":" + nested(depth + 1) + ",\"b\\n\":" + nested(depth + 1) + "}";
            case 2 -> "[]";
            default -> "{}";
        };
    }

    private byte[] mutate(byte[] record) {
        byte[] interesting = "\"{}[],:\\ 0123456789.eE+-tfnulZT\t\n".getBytes(StandardCharsets.US_ASCII);
        List<Byte> bytes = new ArrayList<>();
        for (byte b : record) {
            bytes.add(b);
        }
        for (int edits = 1 + random.nextInt(3); edits > 0 && !bytes.isEmpty(); edits--) {
            int at = random.nextInt(bytes.size());
            byte b = random.nextInt(6) == 0
                    ? (byte) (0x80 + random.nextInt(128))
                    : random.nextInt(8) == 0
                            ? (byte) random.nextInt(32)
                            : interesting[random.nextInt(interesting.length)];
            switch (random.nextInt(3)) {
                case 0 -> bytes.remove(at);
                case 1 -> bytes.add(at, b);
                default -> bytes.set(at, b);
            }
        }
        byte[] mutated = new byte[bytes.size()];
        for (int i = 0; i < mutated.length; i++) {
            mutated[i] = bytes.get(i);
        }
        return mutated;
    }

    private String ws() {
        return random.nextInt(10) == 0 ? pick(" ", "\n", "\t ", "\r\n") : "";
    }

    private String pick(String... options) {
        return options[random.nextInt(options.length)];
    }

    private static String quote(String text) {
        return "\"" + text + "\"";
    }

    private static Decoders decoders(DataType type) throws Exception {
        RowType rowType = (RowType) type.getLogicalType();
        InternalTypeInfo<RowData> typeInfo = InternalTypeInfo.of(rowType);
        TarnJsonDeserializationSchema tarn = new TarnJsonDeserializationSchema(rowType, typeInfo);
        JsonParserRowDataDeserializationSchema flink =
                new JsonParserRowDataDeserializationSchema(rowType, typeInfo, false, false, TimestampFormat.ISO_8601);
        tarn.open(null);
        flink.open(null);
        return new Decoders(tarn, flink);
    }

    private record Decoders(TarnJsonDeserializationSchema tarn, JsonParserRowDataDeserializationSchema flink) {
        /** Decodes with both, asserts the same rows or the same error, and returns the outcome as text. */
        String compare(byte[] message) {
            String input = new String(message, StandardCharsets.UTF_8);
            Outcome expected = decode(flink, message);
            Outcome actual = decode(tarn, message);
            if (WireFormatDecoder.isWireFormat(message)) { // not JSON: both refuse it, Tarn's decoder as Avro
                assertThat(expected.error).as("error of %s", input).isNotNull();
                assertThat(actual.error)
                        .as("error of %s", input)
                        .isEqualTo("java.io.IOException: the record is in the Confluent wire format, which this table"
                                + " does not read");
                return expected.error;
            }
            assertThat(actual.rows).as("rows of %s", input).isEqualTo(expected.rows);
            assertThat(actual.error).as("error of %s", input).isEqualTo(expected.error);
            return expected.error != null ? expected.error : expected.rows.toString();
        }
    }

    private record Outcome(List<RowData> rows, String error) {}

    private static Outcome decode(DeserializationSchema<RowData> schema, byte[] message) {
        List<RowData> rows = new ArrayList<>();
        try {
            schema.deserialize(message, new Collector<>() {
                @Override
                public void collect(RowData record) {
                    rows.add(record);
                }

                @Override
                public void close() {}
            });
            return new Outcome(rows, null);
        } catch (Exception e) {
            return new Outcome(rows, e.getClass().getName() + ": " + e.getMessage());
        }
    }
}
