package io.tarn.compute.avro;

import io.tarn.core.error.TarnException;
import java.io.EOFException;
import java.io.IOException;
import java.io.Serializable;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericEnumSymbol;
import org.apache.avro.generic.GenericFixed;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.util.Utf8;
import org.apache.flink.table.data.DecimalData;
import org.apache.flink.table.data.GenericArrayData;
import org.apache.flink.table.data.GenericMapData;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.table.types.logical.ArrayType;
import org.apache.flink.table.types.logical.DecimalType;
import org.apache.flink.table.types.logical.LogicalTypeRoot;
import org.apache.flink.table.types.logical.MapType;
import org.apache.flink.table.types.logical.RowType;

/**
 * Decodes records in the Confluent wire format — a zero byte, the schema's id (4 bytes, big-endian), the Avro binary
 * encoding of a record — into rows of a topic's columns, reading the writer's schema by its id from the registry's
 * topic ({@link SchemaLog}). Fields are matched to columns by name, as a reader of a newer or older schema version
 * reads them: a column the writer lacks is null, a field no column has is skipped; a value converts only where no
 * digit is lost (Avro's promotions int → long → float → double, an integer or a decimal into a decimal that holds it).
 * A JSON record never starts with a zero byte, so a topic's records may be either.
 */
public final class WireFormatDecoder implements Serializable {
    private static final long serialVersionUID = 1L;
    /** The first byte of a record in the wire format. */
    public static final byte MAGIC = 0;

    /** Error classes of the records it cannot read (as a dead letter's {@code error_class}). */
    public static final String MALFORMED_AVRO = "MALFORMED_AVRO";

    public static final String UNKNOWN_SCHEMA = "UNKNOWN_SCHEMA";
    public static final String INVALID_FIELD = "INVALID_FIELD";

    /** Why a record could not be read, and its error class. */
    public static final class Problem extends Exception {
        private static final long serialVersionUID = 1L;
        private final String errorClass;

        Problem(String errorClass, String message) {
            super(message, null, false, false);
            this.errorClass = errorClass;
        }

        public String errorClass() {
            return errorClass;
        }
    }

    private final RowType rowType;
    private final String bootstrapServers;
    private transient Map<Integer, GenericDatumReader<GenericRecord>> readers;
    private transient BinaryDecoder decoder;

    /**
     * @param bootstrapServers the Kafka cluster whose {@link SchemaLog#TOPIC} holds the schemas
     */
    public WireFormatDecoder(RowType rowType, String bootstrapServers) {
        this.rowType = rowType;
        this.bootstrapServers = bootstrapServers;
    }

    /** Whether a record is in the wire format (starts with its zero byte). */
    public static boolean isWireFormat(byte[] message) {
        return message != null && message.length > 0 && message[0] == MAGIC;
    }

    /**
     * The row of a record in the wire format, with {@code width} fields (those after the columns' null).
     *
     * @throws Problem for a record that is not Avro of a known schema, or whose values no column holds
     */
    public GenericRowData decode(byte[] message, int width) throws Problem {
        if (message.length < 5) {
            throw new Problem(MALFORMED_AVRO, "a record in the Confluent wire format has at least 5 bytes");
        }
        int id = ByteBuffer.wrap(message, 1, 4).getInt();
        GenericRecord record;
        try {
            decoder = DecoderFactory.get().binaryDecoder(message, 5, message.length - 5, decoder);
            record = reader(id).read(null, decoder);
            if (!decoder.isEnd()) {
                throw new Problem(
                        MALFORMED_AVRO, "the record has bytes after its Avro value (schema id %d)".formatted(id));
            }
        } catch (EOFException e) {
            throw new Problem(
                    MALFORMED_AVRO, "the record is not Avro of schema id %d: it ends within its value".formatted(id));
        } catch (IOException | AvroRuntimeException | IndexOutOfBoundsException | NegativeArraySizeException e) {
            throw new Problem(
                    MALFORMED_AVRO,
                    "the record is not Avro of schema id %d: %s".formatted(id, TarnException.rootMessage(e)));
        }
        GenericRowData row = new GenericRowData(width);
        List<RowType.RowField> fields = rowType.getFields();
        try {
            for (int i = 0; i < fields.size(); i++) {
                row.setField(
                        i, field(record, fields.get(i).getName(), fields.get(i).getType()));
            }
        } catch (RuntimeException e) {
            throw new Problem(
                    INVALID_FIELD,
                    "the record's values do not fit the topic's columns: " + TarnException.rootMessage(e));
        }
        return row;
    }

    private GenericDatumReader<GenericRecord> reader(int id) throws Problem {
        if (readers == null) {
            readers = new HashMap<>();
        }
        GenericDatumReader<GenericRecord> reader = readers.get(id);
        if (reader == null) {
            // Kafka unavailable throws: the job fails and restarts, and the record is read again
            String text = SchemaLog.schema(bootstrapServers, id)
                    .orElseThrow(() ->
                            new Problem(UNKNOWN_SCHEMA, "schema id %d is not in Tarn's schema registry".formatted(id)));
            Schema schema = new Schema.Parser().parse(text);
            if (schema.getType() != Schema.Type.RECORD) {
                throw new Problem(UNKNOWN_SCHEMA, "schema id %d is not an Avro record".formatted(id));
            }
            reader = new GenericDatumReader<>(schema);
            readers.put(id, reader);
        }
        return reader;
    }

    private static Object field(
            GenericRecord record, String name, org.apache.flink.table.types.logical.LogicalType type) throws Problem {
        Schema.Field field = record.getSchema().getField(name);
        Object value = field == null ? null : record.get(field.pos());
        if (value == null) {
            if (!type.isNullable()) {
                throw new Problem(
                        INVALID_FIELD,
                        field == null
                                ? "the record has no field '%s', a NOT NULL column".formatted(name)
                                : "field '%s' is null but its column is NOT NULL".formatted(name));
            }
            return null;
        }
        return value(name, value, branch(field.schema(), value), type);
    }

    /** The schema of a value: the branch of a union it is. */
    private static Schema branch(Schema schema, Object value) {
        return schema.getType() == Schema.Type.UNION
                ? schema.getTypes().get(GenericData.get().resolveUnion(schema, value))
                : schema;
    }

    private static Object value(
            String name, Object value, Schema schema, org.apache.flink.table.types.logical.LogicalType type)
            throws Problem {
        LogicalType logical = schema.getLogicalType();
        switch (type.getTypeRoot()) {
            case CHAR, VARCHAR:
                if (value instanceof Utf8 utf8) {
                    return StringData.fromBytes(utf8.getBytes(), 0, utf8.getByteLength());
                }
                if (value instanceof CharSequence || value instanceof GenericEnumSymbol<?>) {
                    return StringData.fromString(value.toString());
                }
                break;
            case BOOLEAN:
                if (value instanceof Boolean) {
                    return value;
                }
                break;
            case TINYINT, SMALLINT, INTEGER, BIGINT:
                if ((value instanceof Integer || value instanceof Long) && logical == null) {
                    long n = ((Number) value).longValue();
                    return switch (type.getTypeRoot()) {
                        case TINYINT -> (byte) fits(name, n, Byte.MIN_VALUE, Byte.MAX_VALUE, type);
                        case SMALLINT -> (short) fits(name, n, Short.MIN_VALUE, Short.MAX_VALUE, type);
                        case INTEGER -> (int) fits(name, n, Integer.MIN_VALUE, Integer.MAX_VALUE, type);
                        default -> n;
                    };
                }
                break;
            case FLOAT:
                if (value instanceof Float || (value instanceof Integer || value instanceof Long) && logical == null) {
                    return ((Number) value).floatValue();
                }
                break;
            case DOUBLE:
                if (value instanceof Number && !(value instanceof BigDecimal) && logical == null) {
                    return ((Number) value).doubleValue();
                }
                break;
            case DECIMAL:
                BigDecimal decimal = decimal(value, schema);
                if (decimal != null) {
                    DecimalType target = (DecimalType) type;
                    DecimalData data;
                    try {
                        data = DecimalData.fromBigDecimal(
                                decimal.setScale(target.getScale()), target.getPrecision(), target.getScale());
                    } catch (ArithmeticException e) {
                        data = null;
                    }
                    if (data == null) {
                        throw new Problem(
                                INVALID_FIELD,
                                "field '%s': %s does not fit %s".formatted(name, decimal, type.asSummaryString()));
                    }
                    return data;
                }
                break;
            case DATE:
                if (logical instanceof LogicalTypes.Date) {
                    return value;
                }
                break;
            case TIME_WITHOUT_TIME_ZONE:
                if (logical instanceof LogicalTypes.TimeMillis) {
                    return value;
                }
                if (logical instanceof LogicalTypes.TimeMicros) {
                    return (int) ((Long) value / 1_000);
                }
                break;
            case TIMESTAMP_WITHOUT_TIME_ZONE, TIMESTAMP_WITH_LOCAL_TIME_ZONE:
                boolean local = logical instanceof LogicalTypes.LocalTimestampMillis
                        || logical instanceof LogicalTypes.LocalTimestampMicros;
                boolean instant = logical instanceof LogicalTypes.TimestampMillis
                        || logical instanceof LogicalTypes.TimestampMicros;
                if (type.getTypeRoot() == LogicalTypeRoot.TIMESTAMP_WITHOUT_TIME_ZONE ? local : instant) {
                    long n = (Long) value;
                    if (logical instanceof LogicalTypes.TimestampMillis
                            || logical instanceof LogicalTypes.LocalTimestampMillis) {
                        return TimestampData.fromEpochMillis(n);
                    }
                    return TimestampData.fromEpochMillis(
                            Math.floorDiv(n, 1_000), (int) Math.floorMod(n, 1_000) * 1_000);
                }
                break;
            case BINARY, VARBINARY:
                if (value instanceof ByteBuffer buffer && logical == null) {
                    byte[] bytes = new byte[buffer.remaining()];
                    buffer.duplicate().get(bytes);
                    return bytes;
                }
                if (value instanceof GenericFixed fixed && logical == null) {
                    return fixed.bytes().clone();
                }
                break;
            case ARRAY:
                if (value instanceof Collection<?> items) {
                    org.apache.flink.table.types.logical.LogicalType element = ((ArrayType) type).getElementType();
                    Object[] converted = new Object[items.size()];
                    int i = 0;
                    for (Object item : items) {
                        converted[i++] = nested(name + "[]", item, schema.getElementType(), element);
                    }
                    return new GenericArrayData(converted);
                }
                break;
            case MAP:
                if (value instanceof Map<?, ?> entries) {
                    org.apache.flink.table.types.logical.LogicalType valueType = ((MapType) type).getValueType();
                    Map<Object, Object> converted = new HashMap<>();
                    for (Map.Entry<?, ?> entry : entries.entrySet()) {
                        converted.put(
                                StringData.fromString(entry.getKey().toString()),
                                nested(name + "{}", entry.getValue(), schema.getValueType(), valueType));
                    }
                    return new GenericMapData(converted);
                }
                break;
            case ROW:
                if (value instanceof GenericRecord nested) {
                    List<RowType.RowField> fields = ((RowType) type).getFields();
                    GenericRowData row = new GenericRowData(fields.size());
                    for (int i = 0; i < fields.size(); i++) {
                        row.setField(
                                i,
                                field(
                                        nested,
                                        fields.get(i).getName(),
                                        fields.get(i).getType()));
                    }
                    return row;
                }
                break;
            default:
                break;
        }
        throw new Problem(
                INVALID_FIELD,
                "field '%s' is Avro %s, which column type %s does not hold"
                        .formatted(
                                name,
                                logical == null ? schema.getType().getName() : logical.getName(),
                                type.asSummaryString()));
    }

    private static Object nested(
            String name, Object value, Schema schema, org.apache.flink.table.types.logical.LogicalType type)
            throws Problem {
        if (value == null) {
            if (!type.isNullable()) {
                throw new Problem(INVALID_FIELD, "'%s' holds a null but its type is NOT NULL".formatted(name));
            }
            return null;
        }
        return value(name, value, branch(schema, value), type);
    }

    private static long fits(
            String name, long n, long min, long max, org.apache.flink.table.types.logical.LogicalType type)
            throws Problem {
        if (n < min || n > max) {
            throw new Problem(
                    INVALID_FIELD, "field '%s': %d does not fit %s".formatted(name, n, type.asSummaryString()));
        }
        return n;
    }

    /** An Avro decimal, int or long as a decimal; null for another value. */
    private static BigDecimal decimal(Object value, Schema schema) {
        if (schema.getLogicalType() instanceof LogicalTypes.Decimal d) {
            byte[] bytes;
            if (value instanceof ByteBuffer buffer) {
                bytes = new byte[buffer.remaining()];
                buffer.duplicate().get(bytes);
            } else if (value instanceof GenericFixed fixed) {
                bytes = fixed.bytes();
            } else {
                return null;
            }
            return new BigDecimal(new BigInteger(bytes), d.getScale());
        }
        if ((value instanceof Integer || value instanceof Long) && schema.getLogicalType() == null) {
            return BigDecimal.valueOf(((Number) value).longValue());
        }
        return null;
    }
}
