package io.tarn.compute;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.topic.ColumnType;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ColumnTypesTest {
    @Test
    void typesAreStoredInFlinksSpellingAndReadBackAsTheSameKind() {
        Map<String, String> canonical = Map.ofEntries(
                Map.entry("string", "STRING"),
                Map.entry("varchar(10)", "VARCHAR(10)"),
                Map.entry("  bigint   not null ", "BIGINT NOT NULL"),
                Map.entry("decimal(10,2)", "DECIMAL(10, 2)"),
                Map.entry("timestamp(3)", "TIMESTAMP(3)"),
                Map.entry("TIMESTAMP WITH LOCAL TIME ZONE", "TIMESTAMP_LTZ(6)"),
                Map.entry("timestamp_ltz(3)", "TIMESTAMP_LTZ(3)"),
                Map.entry("double precision", "DOUBLE"),
                Map.entry("time", "TIME(0)"),
                Map.entry("bytes", "BYTES"),
                Map.entry("array<int>", "ARRAY<INT>"),
                Map.entry("map<string, array<bigint>>", "MAP<STRING, ARRAY<BIGINT>>"),
                Map.entry("row<a int, `b c` string>", "ROW<`a` INT, `b c` STRING>"));
        canonical.forEach((text, expected) -> {
            ColumnType type = ColumnTypes.parse(text);
            assertThat(type.sql()).as(text).isEqualTo(expected);
            // what the metadata store reads back is the same type
            assertThat(ColumnType.parse(type.sql())).as(text).isEqualTo(type);
        });
    }

    @Test
    void whatFlinkCannotReadOrTarnCannotCarryIsRefusedByName() {
        assertThatThrownBy(() -> ColumnTypes.parse("ARRAY<)>"))
                .isInstanceOfSatisfying(
                        TarnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST))
                .hasMessageStartingWith("column type 'ARRAY<)>' is not a Flink SQL type: ");
        assertThatThrownBy(() -> ColumnTypes.parse("ROW<a INT"))
                .hasMessageStartingWith("column type 'ROW<a INT' is not a Flink SQL type: ");
        assertThatThrownBy(() -> ColumnTypes.parse("com.example.Evil"))
                .hasMessageStartingWith("column type 'com.example.Evil' is not supported: Tarn does not carry");
        assertThatThrownBy(() -> ColumnTypes.parse("MULTISET<INT>"))
                .hasMessageStartingWith(
                        "column type 'MULTISET<INT>' is not supported: Tarn does not carry MULTISET<INT>");
        assertThatThrownBy(() -> ColumnTypes.parse("ARRAY<INTERVAL DAY>"))
                .hasMessageStartingWith("column type 'ARRAY<INTERVAL DAY>' is not supported");
        assertThatThrownBy(() -> ColumnTypes.parse("RAW('java.lang.String', 'AA==')"))
                .hasMessageStartingWith("column type 'RAW('java.lang.String', 'AA==')' is not");
    }

    @Test
    void onlyWideningReadsEveryValue() {
        for (String[] widening : new String[][] {
            {"INT", "BIGINT"},
            {"TINYINT", "INT"},
            {"FLOAT", "DOUBLE"},
            {"DECIMAL(10, 2)", "DECIMAL(12, 2)"},
            {"BIGINT NOT NULL", "BIGINT"},
            {"STRING", "STRING"}
        }) {
            assertThat(ColumnTypes.readProblem(widening[0], widening[1]))
                    .as(widening[0] + " into " + widening[1])
                    .isEmpty();
        }
        assertThat(ColumnTypes.readProblem("BIGINT", "INT"))
                .contains("INT cannot hold every BIGINT value (only widening: TINYINT, SMALLINT, INT, BIGINT to a wider"
                        + " one, FLOAT to DOUBLE, a DECIMAL to a larger precision at the same scale)");
        assertThat(ColumnTypes.readProblem("DECIMAL(10, 2)", "DECIMAL(12, 3)")).isPresent();
        assertThat(ColumnTypes.readProblem("DOUBLE", "FLOAT")).isPresent();
        assertThat(ColumnTypes.readProblem("INT", "STRING")).isPresent();
        assertThat(ColumnTypes.readProblem("BIGINT", "BIGINT NOT NULL"))
                .contains("a NOT NULL column cannot hold the nulls of a nullable one");
    }
}
