package io.tarn.compute.lake;

import java.io.Serializable;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.MemorySegment;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.binary.BinaryStringData;
import org.apache.flink.table.runtime.typeutils.InternalSerializers;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.RowType;

/**
 * A deep copy of a row into a {@link GenericRowData}, as Flink's {@code RowDataSerializer.copy} makes it, but with
 * strings copied by {@link Arrays#copyOfRange} out of their heap segment (Flink copies them through
 * {@code Unsafe.copyMemory} and its checks, which cost more than the copy for short strings) and immutable values
 * (numbers, booleans, timestamps, decimals) shared. Anything else is copied by its type's serializer.
 */
final class RowCopy implements UnaryOperator<RowData>, Serializable {
    private static final long serialVersionUID = 1L;

    private enum Kind {
        IMMUTABLE,
        STRING,
        BYTES,
        OTHER
    }

    private final RowType rowType;
    private transient RowData.FieldGetter[] getters;
    private transient Kind[] kinds;
    private transient TypeSerializer<Object>[] serializers;

    RowCopy(RowType rowType) {
        this.rowType = rowType;
    }

    @Override
    public RowData apply(RowData row) {
        if (getters == null) {
            prepare();
        }
        GenericRowData copy = new GenericRowData(row.getRowKind(), getters.length);
        for (int i = 0; i < getters.length; i++) {
            Object value = getters[i].getFieldOrNull(row);
            if (value != null) {
                copy.setField(
                        i,
                        switch (kinds[i]) {
                            case IMMUTABLE -> value;
                            case STRING -> string((StringData) value);
                            case BYTES -> ((byte[]) value).clone();
                            case OTHER -> serializers[i].copy(value);
                        });
            }
        }
        return copy;
    }

    private static StringData string(StringData value) {
        if (value instanceof BinaryStringData binary && binary.getJavaObject() == null) {
            MemorySegment[] segments = binary.getSegments();
            if (segments.length == 1 && segments[0].getHeapMemory() != null) {
                int offset = binary.getOffset();
                return BinaryStringData.fromBytes(
                        Arrays.copyOfRange(segments[0].getHeapMemory(), offset, offset + binary.getSizeInBytes()));
            }
        }
        return value instanceof BinaryStringData binary ? binary.copy() : StringData.fromString(value.toString());
    }

    @SuppressWarnings("unchecked")
    private void prepare() {
        List<LogicalType> types = rowType.getChildren();
        RowData.FieldGetter[] fieldGetters = new RowData.FieldGetter[types.size()];
        Kind[] fieldKinds = new Kind[types.size()];
        TypeSerializer<Object>[] fieldSerializers = new TypeSerializer[types.size()];
        for (int i = 0; i < types.size(); i++) {
            LogicalType type = types.get(i);
            fieldGetters[i] = RowData.createFieldGetter(type, i);
            fieldKinds[i] = switch (type.getTypeRoot()) {
                case BOOLEAN,
                        TINYINT,
                        SMALLINT,
                        INTEGER,
                        BIGINT,
                        FLOAT,
                        DOUBLE,
                        DATE,
                        TIME_WITHOUT_TIME_ZONE,
                        TIMESTAMP_WITHOUT_TIME_ZONE,
                        TIMESTAMP_WITH_LOCAL_TIME_ZONE,
                        DECIMAL -> Kind.IMMUTABLE;
                case CHAR, VARCHAR -> Kind.STRING;
                case BINARY, VARBINARY -> Kind.BYTES;
                default -> Kind.OTHER;
            };
            if (fieldKinds[i] == Kind.OTHER) {
                fieldSerializers[i] = (TypeSerializer<Object>) InternalSerializers.create(type);
            }
        }
        serializers = fieldSerializers;
        kinds = fieldKinds;
        getters = fieldGetters;
    }
}
