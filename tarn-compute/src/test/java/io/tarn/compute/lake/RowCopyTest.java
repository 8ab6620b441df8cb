package io.tarn.compute.lake;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import org.apache.flink.table.data.DecimalData;
import org.apache.flink.table.data.GenericArrayData;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.table.data.binary.BinaryRowData;
import org.apache.flink.table.runtime.typeutils.RowDataSerializer;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.table.types.logical.utils.LogicalTypeParser;
import org.apache.flink.types.RowKind;
import org.junit.jupiter.api.Test;

class RowCopyTest {
    static final RowType TYPE = (RowType) LogicalTypeParser.parse(
            "ROW<id BIGINT, name STRING, ts TIMESTAMP(6), amount DECIMAL(10, 2), data BYTES, tags ARRAY<STRING>,"
                    + " flag BOOLEAN, missing STRING>",
            RowCopyTest.class.getClassLoader());

    static GenericRowData row(long id, String name) {
        GenericRowData row = new GenericRowData(RowKind.UPDATE_AFTER, 8);
        row.setField(0, id);
        row.setField(1, StringData.fromString(name));
        row.setField(2, TimestampData.fromEpochMillis(1_700_000_000_123L, 456_000));
        row.setField(3, DecimalData.fromBigDecimal(new BigDecimal("12345.67"), 10, 2));
        row.setField(4, new byte[] {1, 2, 3});
        row.setField(5, new GenericArrayData(new Object[] {StringData.fromString("a"), StringData.fromString("ü")}));
        row.setField(6, true);
        return row;
    }

    /** A copy equals its source and stays the same when the memory of a reused source row is overwritten. */
    @Test
    void copiesAreDeepAndEqualToFlinksCopies() {
        RowDataSerializer flink = new RowDataSerializer(TYPE);
        RowCopy copy = new RowCopy(TYPE);
        BinaryRowData reused = flink.toBinaryRow(row(1, "first ünïcode name")).copy();
        RowData copied = copy.apply(reused);
        RowData expected = flink.copy(reused);
        reused.getSegments()[0].put(reused.getOffset(), new byte[reused.getSizeInBytes()]);

        assertThat(flink.toBinaryRow(copied)).isEqualTo(flink.toBinaryRow(expected));
        assertThat(copied.getRowKind()).isEqualTo(RowKind.UPDATE_AFTER);
        assertThat(copied.getString(1).toString()).isEqualTo("first ünïcode name");
        assertThat(copied.getArray(5).getString(1).toString()).isEqualTo("ü");
        assertThat(copied.isNullAt(7)).isTrue();

        GenericRowData generic = row(3, "generic");
        RowData fromGeneric = copy.apply(generic);
        ((byte[]) generic.getField(4))[0] = 9;
        assertThat(fromGeneric.getBinary(4)).containsExactly(1, 2, 3);
        assertThat(fromGeneric.getString(1)).isEqualTo(generic.getString(1)).isNotSameAs(generic.getString(1));
    }
}
