package io.tarn.compute.json;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.runtime.typeutils.InternalTypeInfo;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.util.Collector;
import org.junit.jupiter.api.Test;

/**
 * Bad records become dead-letter rows (the error's class and message and the record's bytes) exactly when HTTP ingest
 * would refuse them, and good records become the rows Tarn's decoder makes, with the dead-letter columns null.
 */
class DeadLetterDecoderTest {
    private static final RowType FAST = (RowType) DataTypes.ROW(
                    DataTypes.FIELD("id", DataTypes.BIGINT().notNull()),
                    DataTypes.FIELD("name", DataTypes.STRING()),
                    DataTypes.FIELD("n", DataTypes.TINYINT()),
                    DataTypes.FIELD("ts", DataTypes.TIMESTAMP(3)),
                    DataTypes.FIELD(DeadLetterColumns.ERROR_CLASS, DataTypes.STRING()),
                    DataTypes.FIELD(DeadLetterColumns.ERROR_MESSAGE, DataTypes.STRING()),
                    DataTypes.FIELD(DeadLetterColumns.RAW, DataTypes.BYTES()))
            .getLogicalType();

    @Test
    void goodRecordsAreRowsWithoutAnError() throws Exception {
        DeadLetterDecoder decoder = decoder(FAST);
        assertThat(decode(FAST, decoder, "{\"id\":7,\"name\":\"a\",\"n\":-128,\"ts\":\"2026-12-04T10:00:00.5\"}"))
                .isEqualTo("+I(7,a,-128,2026-12-04T10:00:00.500,null,null,null)");
        // through Flink's format (an escape leaves the fast path), then checked as ingest checks
        assertThat(decode(
                        FAST,
                        decoder,
                        "{\"id\":\"8\",\"name\":\"a\\\"b\",\"extra\":" + "[".repeat(50) + "]".repeat(50) + "}"))
                .isEqualTo("+I(8,a\"b,null,null,null,null,null)");
    }

    @Test
    void everyKindOfBadRecordIsADeadLetterWithItsBytesAndWhy() throws Exception {
        DeadLetterDecoder decoder = decoder(FAST);
        assertThat(deadLetter(decoder, "{oops")).startsWith("MALFORMED_JSON: Unexpected character ('o' (code 111))");
        assertThat(deadLetter(decoder, "{\"id\":NaN}")).startsWith("MALFORMED_JSON: Non-standard token 'NaN'");
        assertThat(deadLetter(decoder, "{\"id\":1,\"name\":Infinity}"))
                .startsWith("MALFORMED_JSON: Non-standard token 'Infinity'");
        assertThat(deadLetter(decoder, "42")).isEqualTo("NOT_AN_OBJECT: record must be a JSON object, got number");
        assertThat(deadLetter(decoder, "[1]")).isEqualTo("NOT_AN_OBJECT: record must be a JSON object, got array");
        assertThat(deadLetter(decoder, "null")).isEqualTo("NOT_AN_OBJECT: record must be a JSON object, got null");
        assertThat(deadLetter(decoder, "{\"id\":\"x\"}"))
                .isEqualTo("INVALID_FIELD: field 'id' expected BIGINT NOT NULL, got string \"x\"");
        assertThat(deadLetter(decoder, "{\"id\":1.5}"))
                .as("Flink's format alone would cut it to 1")
                .isEqualTo("INVALID_FIELD: field 'id' expected BIGINT NOT NULL, got number 1.5");
        assertThat(deadLetter(decoder, "{\"id\":1,\"n\":300}"))
                .as("Flink's format alone would wrap it")
                .isEqualTo("INVALID_FIELD: field 'n' expected TINYINT, got number 300");
        assertThat(deadLetter(decoder, "{\"name\":\"no id\"}"))
                .isEqualTo("INVALID_FIELD: field 'id' is null but the column is NOT NULL");
        assertThat(deadLetter(decoder, "{\"id\":1,\"ts\":\"yesterday\"}"))
                .startsWith("INVALID_FIELD: field 'ts' expected TIMESTAMP(3) as ISO-8601 text without zone");
        assertThat(deadLetter(decoder, "{\"id\":1,\"name\":" + "[".repeat(50) + "]".repeat(50) + "}"))
                .startsWith("INVALID_FIELD: field 'name' expected STRING, got array");
        byte[] notUtf8 = {
            '{',
            '"',
            'i',
            'd',
            '"',
            ':',
            '1',
            ',',
            '"',
            'n',
            'a',
            'm',
            'e',
            '"',
            ':',
            '"',
            (byte) 0xC3,
            (byte) 0x28,
            '"',
            '}'
        };
        assertThat(deadLetter(decoder, notUtf8)).startsWith("MALFORMED_JSON: Invalid UTF-8");
        assertThat(deadLetter(decoder, (byte[]) null)).isEqualTo("NO_VALUE: the record has no value");
        assertThat(deadLetter(decoder, new byte[0])).isEqualTo("NO_VALUE: the record has no value");
        assertThat(deadLetter(decoder, "  ")).isEqualTo("NO_VALUE: the record holds no JSON value");
    }

    @Test
    void decimalsThatDoNotFitAreDeadLettersNotNulls() throws Exception {
        // another layout, as a projection may ask: the error class first, no bytes
        RowType projected = (RowType) DataTypes.ROW(
                        DataTypes.FIELD(DeadLetterColumns.ERROR_CLASS, DataTypes.STRING()),
                        DataTypes.FIELD("amount", DataTypes.DECIMAL(10, 2)),
                        DataTypes.FIELD("id", DataTypes.BIGINT()))
                .getLogicalType();
        DeadLetterDecoder decoder = decoder(projected);
        assertThat(decode(projected, decoder, "{\"id\":1,\"amount\":99999999.994}"))
                .isEqualTo("+I(null,99999999.99,1)");
        assertThat(decode(projected, decoder, "{\"id\":1,\"amount\":99999999.995}"))
                .isEqualTo("+I(INVALID_FIELD,null,null)");
        assertThat(decode(projected, decoder, "{\"id\":1,\"amount\":\"abc\"}"))
                .isEqualTo("+I(INVALID_FIELD,null,null)");
    }

    private static DeadLetterDecoder decoder(RowType type) throws Exception {
        DeadLetterDecoder decoder = new DeadLetterDecoder(type, InternalTypeInfo.of(type));
        decoder.open(null);
        return decoder;
    }

    private static String decode(RowType type, DeadLetterDecoder decoder, String record) {
        List<RowData> rows = rows(decoder, record.getBytes(StandardCharsets.UTF_8));
        assertThat(rows).hasSize(1);
        RowData row = rows.get(0);
        List<String> fields = new ArrayList<>();
        for (int i = 0; i < row.getArity(); i++) {
            fields.add(String.valueOf(
                    RowData.createFieldGetter(type.getTypeAt(i), i).getFieldOrNull(row)));
        }
        return row.getRowKind().shortString() + "(" + String.join(",", fields) + ")";
    }

    private static String deadLetter(DeadLetterDecoder decoder, String record) {
        return deadLetter(decoder, record.getBytes(StandardCharsets.UTF_8));
    }

    /** "class: message" of the one dead-letter row of a record, after checking its bytes and null columns. */
    private static String deadLetter(DeadLetterDecoder decoder, byte[] record) {
        List<RowData> rows = rows(decoder, record);
        assertThat(rows).hasSize(1);
        RowData row = rows.get(0);
        for (int i = 0; i < 4; i++) {
            assertThat(row.isNullAt(i)).as("column " + i).isTrue();
        }
        assertThat(row.getBinary(6)).isEqualTo(record == null ? new byte[0] : record);
        return row.getString(4) + ": " + row.getString(5);
    }

    private static List<RowData> rows(DeadLetterDecoder decoder, byte[] record) {
        List<RowData> rows = new ArrayList<>();
        decoder.deserialize(record, new Collector<>() {
            @Override
            public void collect(RowData row) {
                rows.add(row);
            }

            @Override
            public void close() {}
        });
        return rows;
    }
}
