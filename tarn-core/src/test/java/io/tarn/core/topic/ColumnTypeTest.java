package io.tarn.core.topic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ColumnTypeTest {
    private static final ObjectMapper JSON = new ObjectMapper();

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
