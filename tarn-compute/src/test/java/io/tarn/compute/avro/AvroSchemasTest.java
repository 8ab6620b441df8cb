package io.tarn.compute.avro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tarn.core.error.TarnException;
import io.tarn.core.topic.ColumnSpec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.table.types.logical.utils.LogicalTypeParser;
import org.junit.jupiter.api.Test;

class AvroSchemasTest {
    private static final String EVERY_TYPE =
            """
            {"type": "record", "name": "R", "fields": [
              {"name": "b", "type": "boolean"},
              {"name": "i", "type": ["null", "int"]},
              {"name": "l", "type": "long"},
              {"name": "f", "type": "float"},
              {"name": "d", "type": "double"},
              {"name": "s", "type": "string"},
              {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["A"]}},
              {"name": "raw", "type": "bytes"},
              {"name": "fx", "type": {"type": "fixed", "name": "F", "size": 2}},
              {"name": "dec", "type": {"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 3}},
              {"name": "day", "type": {"type": "int", "logicalType": "date"}},
              {"name": "t", "type": {"type": "int", "logicalType": "time-millis"}},
              {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
              {"name": "at6", "type": {"type": "long", "logicalType": "timestamp-micros"}},
              {"name": "local", "type": {"type": "long", "logicalType": "local-timestamp-millis"}},
              {"name": "tags", "type": {"type": "array", "items": "string"}},
              {"name": "counts", "type": ["null", {"type": "map", "values": ["null", "long"]}]},
              {"name": "inner", "type": {"type": "record", "name": "In", "fields": [{"name": "x", "type": "int"}]}}
            ]}""";

    @Test
    void anAvroRecordsFieldsAreColumnsOfFlinksTypes() {
        List<String> columns = AvroSchemas.columns(AvroSchemas.parse(EVERY_TYPE)).stream()
                .map(c -> c.name() + " " + c.type().sql())
                .toList();
        assertThat(columns)
                .containsExactly(
                        "b BOOLEAN NOT NULL",
                        "i INT",
                        "l BIGINT NOT NULL",
                        "f FLOAT NOT NULL",
                        "d DOUBLE NOT NULL",
                        "s STRING NOT NULL",
                        "e STRING NOT NULL",
                        "raw BYTES NOT NULL",
                        "fx BYTES NOT NULL",
                        "dec DECIMAL(12, 3) NOT NULL",
                        "day DATE NOT NULL",
                        "t TIME(3) NOT NULL",
                        "at TIMESTAMP_LTZ(3) NOT NULL",
                        "at6 TIMESTAMP_LTZ(6) NOT NULL",
                        "local TIMESTAMP(3) NOT NULL",
                        "tags ARRAY<STRING NOT NULL> NOT NULL",
                        "counts MAP<STRING NOT NULL, BIGINT>",
                        "inner ROW<`x` INT NOT NULL> NOT NULL");
    }

    @Test
    void columnsAreAnAvroRecordWhoseColumnsAreTheSame() {
        List<ColumnSpec> columns = AvroSchemas.columns(AvroSchemas.parse(EVERY_TYPE)).stream()
                .filter(c -> !List.of("e", "fx").contains(c.name())) // strings and bytes once written back
                .toList();
        Schema written = AvroSchemas.schema("my.topic-1", columns);
        assertThat(written.getFullName()).isEqualTo("io.tarn.topic.my_topic_1");
        assertThat(AvroSchemas.columns(written)).isEqualTo(columns);
        assertThat(AvroSchemas.schema("t", List.of(ColumnSpec.of("n", "SMALLINT")))
                        .toString())
                .isEqualTo("{\"type\":\"record\",\"name\":\"t\",\"namespace\":\"io.tarn.topic\",\"fields\":"
                        + "[{\"name\":\"n\",\"type\":[\"null\",\"int\"],\"default\":null}]}");
    }

    @Test
    void schemasNoColumnHoldsAreRefusedNamingTheField() {
        assertThatThrownBy(
                        () -> AvroSchemas.columns(
                                AvroSchemas.parse(
                                        "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"u\",\"type\":[\"int\",\"string\"]}]}")))
                .isInstanceOf(TarnException.class)
                .hasMessage(
                        "field 'u' of the Avro schema is a union of 2 types other than null, which no column holds");
        assertThatThrownBy(
                        () -> AvroSchemas.columns(
                                AvroSchemas.parse(
                                        "{\"type\":\"record\",\"name\":\"N\",\"fields\":[{\"name\":\"next\",\"type\":[\"null\",\"N\"]}]}")))
                .hasMessage(
                        "field 'next' of the Avro schema is a record that contains itself (N), which no column holds");
        assertThatThrownBy(() -> AvroSchemas.columns(AvroSchemas.parse("\"string\"")))
                .hasMessage(
                        "a topic's Avro schema must be a record (its fields are the topic's columns), not a string");
        assertThatThrownBy(() -> AvroSchemas.parse("{\"type\": \"record\""))
                .hasMessageStartingWith("not a valid Avro schema: ");
        assertThatThrownBy(() -> AvroSchemas.schema("t", List.of(ColumnSpec.of("m", "MAP<INT, STRING>"))))
                .hasMessage("column 'm' is a map with keys of INT; an Avro map's keys are strings");
    }

    @Test
    void wireFormatValuesConvertOnlyWithoutLoss() throws Exception {
        Schema schema = AvroSchemas.parse(
                """
                {"type": "record", "name": "R", "fields": [
                  {"name": "n", "type": "long"},
                  {"name": "amount", "type": ["null", "int"]}
                ]}""");
        GenericRecord record = new GenericData.Record(schema);
        record.put("n", 40_000L);
        record.put("amount", 7);
        RowType narrow = (RowType) LogicalTypeParser.parse(
                "ROW<n SMALLINT, amount DECIMAL(3, 1), absent STRING>",
                getClass().getClassLoader());
        WireFormatDecoder.Problem problem = null;
        try {
            decode(narrow, schema, record);
        } catch (WireFormatDecoder.Problem e) {
            problem = e;
        }
        assertThat(problem).isNotNull();
        assertThat(problem.errorClass()).isEqualTo("INVALID_FIELD");
        assertThat(problem.getMessage()).isEqualTo("field 'n': 40000 does not fit SMALLINT");

        record.put("n", 300L);
        GenericRowData row = decode(
                (RowType) LogicalTypeParser.parse(
                        "ROW<n SMALLINT, amount DECIMAL(3, 1), absent STRING>",
                        getClass().getClassLoader()),
                schema,
                record);
        assertThat(row.getShort(0)).isEqualTo((short) 300);
        assertThat(row.getDecimal(1, 3, 1).toBigDecimal()).isEqualTo(new BigDecimal("7.0"));
        assertThat(row.isNullAt(2)).isTrue();
        assertThat(row.getArity()).as("with the trailing fields asked for").isEqualTo(5);
    }

    /** Decodes a record through a schema log that already holds its schema as id 1. */
    private static GenericRowData decode(RowType type, Schema schema, GenericRecord record)
            throws IOException, WireFormatDecoder.Problem {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0);
        out.write(ByteBuffer.allocate(4).putInt(1).array());
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(schema).write(record, encoder);
        encoder.flush();
        SchemaLog.remember("test-cluster", 1, schema.toString());
        return new WireFormatDecoder(type, "test-cluster").decode(out.toByteArray(), 5);
    }
}
