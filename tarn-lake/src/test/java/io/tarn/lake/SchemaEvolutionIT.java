package io.tarn.lake;

import static org.assertj.core.api.Assertions.assertThat;

import io.tarn.core.query.QueryValues;
import java.io.IOException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A table whose schema changes between commits — a column renamed, one dropped, one added under the dropped one's
 * name, a type widened — reads on the fast path exactly as Iceberg's own reader reads it: files are read by field id.
 */
class SchemaEvolutionIT {
    @RegisterExtension
    static final LakeExtension lake = new LakeExtension("shop");

    @Test
    void filesWrittenBeforeEachChangeReadByFieldId() throws IOException {
        Table table = lake.catalog()
                .icebergCatalog()
                .createTable(
                        TableIdentifier.of("shop", "evolving"),
                        new Schema(
                                Types.NestedField.required(1, "id", Types.LongType.get()),
                                Types.NestedField.optional(2, "name", Types.StringType.get()),
                                Types.NestedField.optional(3, "amount", Types.IntegerType.get())),
                        PartitionSpec.unpartitioned(),
                        Map.of(TableProperties.FORMAT_VERSION, "2"));
        append(table, 0, 3); // id, name, amount
        table.updateSchema().renameColumn("name", "title").commit();
        table.updateSchema().updateColumn("amount", Types.LongType.get()).commit();
        append(table, 3, 6); // id, title, amount (long)
        table.updateSchema().deleteColumn("amount").commit();
        table.updateSchema()
                .addColumn("amount", Types.DecimalType.of(9, 2))
                .addColumn("note", Types.StringType.get())
                .commit();
        append(table, 6, 9); // id, title, amount (decimal, a new field), note
        Record deleted = GenericRecord.create(table.schema().select("id"));
        deleted.setField("id", 4L);
        table.newRowDelta()
                .addDeletes(LakeFiles.equalityDeletes(table, List.of(deleted), 1))
                .commit();
        table.updateSchema().renameColumn("id", "key").commit();

        List<List<Object>> iceberg = new ArrayList<>();
        table.refresh();
        try (CloseableIterable<Record> rows = IcebergGenerics.read(table).build()) {
            for (Record row : rows) {
                List<Object> values = new ArrayList<>();
                for (int i = 0; i < row.size(); i++) {
                    values.add(QueryValues.json(row.get(i)));
                }
                iceberg.add(values);
            }
        }
        iceberg.sort(Comparator.comparingLong(r -> (Long) r.get(0)));

        var duck = lake.query().query("SELECT * FROM lake.shop.evolving ORDER BY key", 100);
        assertThat(duck.columns()).containsExactly("key", "title", "amount", "note");
        assertThat(iceberg)
                .containsExactly(
                        Arrays.asList(0L, "n0", null, null),
                        Arrays.asList(1L, "n1", null, null),
                        Arrays.asList(2L, "n2", null, null),
                        Arrays.asList(3L, "n3", null, null),
                        Arrays.asList(5L, "n5", null, null),
                        List.of(6L, "n6", new BigDecimal("6.25"), "note 6"),
                        List.of(7L, "n7", new BigDecimal("7.25"), "note 7"),
                        List.of(8L, "n8", new BigDecimal("8.25"), "note 8"));
        assertThat(duck.rows()).isEqualTo(iceberg);
    }

    /** Rows {@code from..to-1} in the table's current schema: every column it has that this test knows. */
    private static void append(Table table, long from, long to) throws IOException {
        Schema schema = table.schema();
        List<Record> rows = new ArrayList<>();
        for (long id = from; id < to; id++) {
            Record row = GenericRecord.create(schema);
            row.setField("id", id);
            row.setField(schema.findField(2).name(), "n" + id);
            Types.NestedField amount = schema.findField("amount");
            if (amount != null && amount.type().typeId() == Type.TypeID.INTEGER) {
                row.setField("amount", (int) id);
            } else if (amount != null && amount.type().typeId() == Type.TypeID.LONG) {
                row.setField("amount", id * 10);
            } else if (amount != null) {
                row.setField("amount", new BigDecimal(id + ".25"));
                row.setField("note", "note " + id);
            }
            rows.add(row);
        }
        table.newAppend().appendFile(LakeFiles.data(table, rows)).commit();
    }
}
