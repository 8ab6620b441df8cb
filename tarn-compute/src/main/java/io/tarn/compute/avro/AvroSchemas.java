package io.tarn.compute.avro;

import io.tarn.compute.ColumnTypes;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.topic.ColumnSpec;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.avro.JsonProperties;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;
import org.apache.flink.table.types.logical.ArrayType;
import org.apache.flink.table.types.logical.BigIntType;
import org.apache.flink.table.types.logical.BooleanType;
import org.apache.flink.table.types.logical.DateType;
import org.apache.flink.table.types.logical.DecimalType;
import org.apache.flink.table.types.logical.DoubleType;
import org.apache.flink.table.types.logical.FloatType;
import org.apache.flink.table.types.logical.IntType;
import org.apache.flink.table.types.logical.LocalZonedTimestampType;
import org.apache.flink.table.types.logical.LogicalTypeRoot;
import org.apache.flink.table.types.logical.MapType;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.table.types.logical.TimeType;
import org.apache.flink.table.types.logical.TimestampType;
import org.apache.flink.table.types.logical.VarBinaryType;
import org.apache.flink.table.types.logical.VarCharType;
import org.apache.flink.table.types.logical.utils.LogicalTypeParser;

/**
 * A topic's columns as an Avro record schema and back, for the Confluent Schema Registry API: an Avro record's fields
 * are the topic's columns, a field of a union of {@code null} and one type is a nullable column and any other field a
 * NOT NULL one. Avro's logical types map to Flink's types as Flink's own Avro format maps them ({@code date},
 * {@code time-millis}, {@code timestamp-millis}/{@code -micros} as {@code TIMESTAMP_LTZ}, {@code local-timestamp-*} as
 * {@code TIMESTAMP}, {@code decimal}); enums are strings, fixed values bytes, maps have string keys.
 */
public final class AvroSchemas {
    /** The namespace of the record schemas Tarn writes for topics whose columns were declared as columns. */
    private static final String NAMESPACE = "io.tarn.topic";

    private AvroSchemas() {}

    /**
     * @throws TarnException {@link ErrorCode#INVALID_REQUEST} with Avro's reason
     */
    public static Schema parse(String text) {
        try {
            return new Schema.Parser().parse(text);
        } catch (SchemaParseException | NullPointerException e) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST, "not a valid Avro schema: " + TarnException.rootMessage(e), e);
        }
    }

    /**
     * The columns of an Avro record schema.
     *
     * @throws TarnException {@link ErrorCode#INVALID_REQUEST} naming the field whose type no column has (a union of
     *     several types, a recursive record, a map is not a record of strings…), or {@link ErrorCode#INVALID_NAME}
     *     for a field named as a column cannot be
     */
    public static List<ColumnSpec> columns(Schema schema) {
        if (schema.getType() != Schema.Type.RECORD) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST,
                    "a topic's Avro schema must be a record (its fields are the topic's columns), not a "
                            + schema.getType().getName());
        }
        List<ColumnSpec> columns = new ArrayList<>();
        for (Schema.Field field : schema.getFields()) {
            org.apache.flink.table.types.logical.LogicalType type =
                    type(field.name(), field.schema(), new HashSet<>(Set.of(schema.getFullName())));
            columns.add(new ColumnSpec(field.name(), ColumnTypes.parse(type.asSerializableString())));
        }
        if (columns.isEmpty()) {
            throw new TarnException(ErrorCode.INVALID_REQUEST, "a topic's Avro record must have at least one field");
        }
        return columns;
    }

    private static org.apache.flink.table.types.logical.LogicalType type(
            String field, Schema schema, Set<String> records) {
        LogicalType logical = schema.getLogicalType();
        return switch (schema.getType()) {
            case UNION -> {
                List<Schema> branches = schema.getTypes();
                List<Schema> values = branches.stream()
                        .filter(s -> s.getType() != Schema.Type.NULL)
                        .toList();
                if (values.size() != 1) {
                    throw unsupported(field, "a union of %d types other than null".formatted(values.size()));
                }
                yield type(field, values.get(0), records).copy(branches.size() > 1);
            }
            case BOOLEAN -> new BooleanType(false);
            case INT -> {
                if (logical instanceof LogicalTypes.Date) {
                    yield new DateType(false);
                }
                yield logical instanceof LogicalTypes.TimeMillis ? new TimeType(false, 3) : new IntType(false);
            }
            case LONG -> {
                if (logical instanceof LogicalTypes.TimestampMillis) {
                    yield new LocalZonedTimestampType(false, 3);
                } else if (logical instanceof LogicalTypes.TimestampMicros) {
                    yield new LocalZonedTimestampType(false, 6);
                } else if (logical instanceof LogicalTypes.LocalTimestampMillis) {
                    yield new TimestampType(false, 3);
                } else if (logical instanceof LogicalTypes.LocalTimestampMicros) {
                    yield new TimestampType(false, 6);
                } else if (logical instanceof LogicalTypes.TimeMicros) {
                    yield new TimeType(false, 3); // Flink keeps times in milliseconds
                }
                yield new BigIntType(false);
            }
            case FLOAT -> new FloatType(false);
            case DOUBLE -> new DoubleType(false);
            case STRING, ENUM -> new VarCharType(false, VarCharType.MAX_LENGTH);
            case BYTES, FIXED ->
                logical instanceof LogicalTypes.Decimal decimal
                        ? new DecimalType(false, decimal.getPrecision(), decimal.getScale())
                        : new VarBinaryType(false, VarBinaryType.MAX_LENGTH);
            case ARRAY -> new ArrayType(false, type(field, schema.getElementType(), records));
            case MAP ->
                new MapType(
                        false,
                        new VarCharType(false, VarCharType.MAX_LENGTH),
                        type(field, schema.getValueType(), records));
            case RECORD -> {
                if (!records.add(schema.getFullName())) {
                    throw unsupported(field, "a record that contains itself (" + schema.getFullName() + ")");
                }
                List<RowType.RowField> fields = new ArrayList<>();
                for (Schema.Field nested : schema.getFields()) {
                    fields.add(new RowType.RowField(
                            nested.name(), type(field + "." + nested.name(), nested.schema(), records)));
                }
                records.remove(schema.getFullName());
                if (fields.isEmpty()) {
                    throw unsupported(field, "a record without fields");
                }
                yield new RowType(false, fields);
            }
            case NULL -> throw unsupported(field, "null alone");
        };
    }

    private static TarnException unsupported(String field, String what) {
        return new TarnException(
                ErrorCode.INVALID_REQUEST,
                "field '%s' of the Avro schema is %s, which no column holds".formatted(field, what));
    }

    /**
     * The Avro record schema of a topic's columns: the one Tarn shows for a version declared as columns. Nullable
     * columns are unions with {@code null} first, defaulting to null.
     *
     * @throws TarnException {@link ErrorCode#INVALID_STATE} naming a column of a type Avro has no form for (a map whose
     *     keys are not strings)
     */
    public static Schema schema(String topic, List<ColumnSpec> columns) {
        List<Schema.Field> fields = new ArrayList<>();
        for (ColumnSpec column : columns) {
            org.apache.flink.table.types.logical.LogicalType type =
                    LogicalTypeParser.parse(column.type().sql(), AvroSchemas.class.getClassLoader());
            fields.add(field(column.name(), type, recordName(topic) + "_" + column.name()));
        }
        return Schema.createRecord(recordName(topic), null, NAMESPACE, false, fields);
    }

    private static Schema.Field field(String name, org.apache.flink.table.types.logical.LogicalType type, String path) {
        Schema schema = avro(name, type, path);
        return type.isNullable()
                ? new Schema.Field(
                        name,
                        Schema.createUnion(Schema.create(Schema.Type.NULL), schema),
                        null,
                        JsonProperties.NULL_VALUE)
                : new Schema.Field(name, schema);
    }

    private static Schema avro(String column, org.apache.flink.table.types.logical.LogicalType type, String path) {
        return switch (type.getTypeRoot()) {
            case CHAR, VARCHAR -> Schema.create(Schema.Type.STRING);
            case BOOLEAN -> Schema.create(Schema.Type.BOOLEAN);
            case TINYINT, SMALLINT, INTEGER -> Schema.create(Schema.Type.INT);
            case BIGINT -> Schema.create(Schema.Type.LONG);
            case FLOAT -> Schema.create(Schema.Type.FLOAT);
            case DOUBLE -> Schema.create(Schema.Type.DOUBLE);
            case DECIMAL -> {
                DecimalType decimal = (DecimalType) type;
                yield LogicalTypes.decimal(decimal.getPrecision(), decimal.getScale())
                        .addToSchema(Schema.create(Schema.Type.BYTES));
            }
            case DATE -> LogicalTypes.date().addToSchema(Schema.create(Schema.Type.INT));
            case TIME_WITHOUT_TIME_ZONE -> LogicalTypes.timeMillis().addToSchema(Schema.create(Schema.Type.INT));
            case TIMESTAMP_WITHOUT_TIME_ZONE ->
                (((TimestampType) type).getPrecision() <= 3
                                ? LogicalTypes.localTimestampMillis()
                                : LogicalTypes.localTimestampMicros())
                        .addToSchema(Schema.create(Schema.Type.LONG));
            case TIMESTAMP_WITH_LOCAL_TIME_ZONE ->
                (((LocalZonedTimestampType) type).getPrecision() <= 3
                                ? LogicalTypes.timestampMillis()
                                : LogicalTypes.timestampMicros())
                        .addToSchema(Schema.create(Schema.Type.LONG));
            case BINARY, VARBINARY -> Schema.create(Schema.Type.BYTES);
            case ARRAY -> Schema.createArray(nullable(column, ((ArrayType) type).getElementType(), path));
            case MAP -> {
                MapType map = (MapType) type;
                LogicalTypeRoot key = map.getKeyType().getTypeRoot();
                if (key != LogicalTypeRoot.VARCHAR && key != LogicalTypeRoot.CHAR) {
                    throw new TarnException(
                            ErrorCode.INVALID_STATE,
                            "column '%s' is a map with keys of %s; an Avro map's keys are strings"
                                    .formatted(column, map.getKeyType().asSummaryString()));
                }
                yield Schema.createMap(nullable(column, map.getValueType(), path));
            }
            case ROW -> {
                List<Schema.Field> fields = new ArrayList<>();
                for (RowType.RowField nested : ((RowType) type).getFields()) {
                    fields.add(field(nested.getName(), nested.getType(), path + "_" + nested.getName()));
                }
                yield Schema.createRecord(path, null, NAMESPACE, false, fields);
            }
            default ->
                throw new TarnException(
                        ErrorCode.INVALID_STATE,
                        "column '%s' is of type %s, which has no Avro form".formatted(column, type.asSummaryString()));
        };
    }

    private static Schema nullable(String column, org.apache.flink.table.types.logical.LogicalType type, String path) {
        Schema schema = avro(column, type, path);
        return type.isNullable() ? Schema.createUnion(Schema.create(Schema.Type.NULL), schema) : schema;
    }

    /** An Avro name for a topic's record: its letters, digits and '_', the rest as '_'. */
    private static String recordName(String topic) {
        String name = topic.replaceAll("[^A-Za-z0-9_]", "_");
        return Character.isDigit(name.charAt(0)) ? "_" + name : name;
    }
}
