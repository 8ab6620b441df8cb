package io.tarn.core.topic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ColumnTypeTest {
    /** As HTTP ingest reads records: numbers with a fraction as written, not as doubles. */
    private static final ObjectMapper JSON =
            new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    private static JsonNode json(String text) throws Exception {
        return JSON.readTree(text);
    }

    @Test
    void parsesFlinkTypeNames() {
        assertThat(ColumnType.parse("string").kind()).isEqualTo(ColumnType.Kind.STRING);
        assertThat(ColumnType.parse("VARCHAR(10)").kind()).isEqualTo(ColumnType.Kind.STRING);
        assertThat(ColumnType.parse("decimal(10, 2)").sql()).isEqualTo("DECIMAL(10, 2)");
        assertThat(ColumnType.parse("TIMESTAMP(3) NOT NULL").nullable()).isFalse();
        assertThat(ColumnType.parse("TIMESTAMP WITH LOCAL TIME ZONE").kind()).isEqualTo(ColumnType.Kind.TIMESTAMP_LTZ);
        assertThat(ColumnType.parse("ARRAY<STRING>").kind()).isEqualTo(ColumnType.Kind.ARRAY);
        assertThatThrownBy(() -> ColumnType.parse("WIBBLE"))
                .hasMessageStartingWith("column type 'WIBBLE' is not supported");
    }

    @Test
    void checksJsonValuesAsFlinksJsonFormatWouldDecodeThem() throws Exception {
        assertThat(ColumnType.parse("BIGINT").check(json("12"))).isEmpty();
        assertThat(ColumnType.parse("BIGINT").check(json("\"12\""))).isEmpty();
        assertThat(ColumnType.parse("BIGINT").check(json("1.5"))).contains("expected BIGINT, got number 1.5");
        // numbers that Flink's JSON format would wrap, fail on or turn into null are refused
        assertThat(ColumnType.parse("BIGINT").check(json("9223372036854775807")))
                .isEmpty();
        assertThat(ColumnType.parse("BIGINT").check(json("9223372036854775808")))
                .contains("expected BIGINT, got number 9223372036854775808");
        assertThat(ColumnType.parse("INT").check(json("-2147483648"))).isEmpty();
        assertThat(ColumnType.parse("INT").check(json("\"2147483648\"")))
                .contains("expected INT, got string \"2147483648\"");
        assertThat(ColumnType.parse("SMALLINT").check(json("32768"))).isPresent();
        assertThat(ColumnType.parse("TINYINT").check(json("-128"))).isEmpty();
        assertThat(ColumnType.parse("TINYINT").check(json("128"))).contains("expected TINYINT, got number 128");
        assertThat(ColumnType.parse("DECIMAL(10, 2)").check(json("12345678.994")))
                .isEmpty();
        assertThat(ColumnType.parse("DECIMAL(10, 2)").check(json("99999999.995")))
                .contains("expected DECIMAL(10, 2), got number 99999999.995");
        assertThat(ColumnType.parse("DECIMAL(10,2)").check(json("123456789012.5")))
                .isPresent();
        assertThat(ColumnType.parse("DECIMAL").check(json("\"9999999999\""))).isEmpty();
        assertThat(ColumnType.parse("DECIMAL").check(json("10000000000"))).isPresent();
        assertThat(ColumnType.parse("DOUBLE").check(json("\"1e3\""))).isEmpty();
        assertThat(ColumnType.parse("DOUBLE").check(json("\"x\""))).isPresent();
        assertThat(ColumnType.parse("BOOLEAN").check(json("\"yes\""))).contains("expected BOOLEAN, got string \"yes\"");
        assertThat(ColumnType.parse("TIMESTAMP(3)").check(json("\"2026-01-01T10:00:00.123\"")))
                .isEmpty();
        assertThat(ColumnType.parse("TIMESTAMP(3)")
                        .check(json("\"2026-01-01 10:00\""))
                        .orElseThrow())
                .startsWith("expected TIMESTAMP(3) as ISO-8601 text without zone");
        assertThat(ColumnType.parse("TIMESTAMP_LTZ(3)").check(json("\"2026-01-01T10:00:00Z\"")))
                .isEmpty();
        assertThat(ColumnType.parse("INT NOT NULL").check(null)).contains("is null but the column is NOT NULL");
        assertThat(ColumnType.parse("INT").check(json("null"))).isEmpty();
        assertThat(ColumnType.parse("MAP<STRING, INT>").check(json("[1]"))).isPresent();
    }

    @Test
    void topicSpecRefusesDuplicateColumnsAndBadWatermarks() {
        List<ColumnSpec> columns = List.of(ColumnSpec.of("a", "INT"), ColumnSpec.of("A", "STRING"));
        assertThatThrownBy(() -> new TopicSpec("t", 1, columns, Optional.empty()))
                .hasMessage("topic 't' declares column 'A' twice");
        assertThatThrownBy(() -> new TopicSpec(
                        "t", 1, List.of(ColumnSpec.of("a", "INT")), Optional.of(new WatermarkSpec("a", 0))))
                .hasMessage("watermark column 'a' must be TIMESTAMP(3) or TIMESTAMP_LTZ(3), not INT");
        assertThatThrownBy(() -> ColumnSpec.of("kafka_offset", "BIGINT"))
                .hasMessageStartingWith("column name 'kafka_offset' is reserved for Kafka metadata");
        assertThatThrownBy(() -> new TopicSpec("__consumer_offsets", 1, List.of(), Optional.empty()))
                .hasMessageStartingWith("topic name '__consumer_offsets' is reserved");
    }
}
