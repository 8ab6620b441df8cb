package io.tarn.lake;

import java.io.IOException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.PartitionKey;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.RowDelta;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericAppenderFactory;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.deletes.EqualityDeleteWriter;
import org.apache.iceberg.deletes.PositionDelete;
import org.apache.iceberg.deletes.PositionDeleteWriter;
import org.apache.iceberg.encryption.EncryptedFiles;
import org.apache.iceberg.encryption.EncryptedOutputFile;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.types.TypeUtil;
import org.apache.iceberg.types.Types;

/**
 * What upsert pipelines do to a table, with a model of the rows it should hold: each commit inserts rows, upserts
 * (an equality delete by key and the new version), deletes by key, by position (of older files and of rows written in
 * the same commit) and, every seventh commit, by equality on a nullable column — in a partitioned or unpartitioned
 * table.
 */
final class UpsertWorkload {
    static final Schema SCHEMA = new Schema(
            Types.NestedField.required(1, "id", Types.LongType.get()),
            Types.NestedField.required(2, "region", Types.StringType.get()),
            Types.NestedField.optional(3, "amount", Types.DecimalType.of(10, 2)),
            Types.NestedField.optional(4, "note", Types.StringType.get()));
    private static final List<String> REGIONS = List.of("eu", "us", "apac");

    /** A row the model holds, where it was written. */
    private record Live(Record row, String file, long position) {}

    private final Table table;
    private final PartitionSpec spec;
    private final Random random;
    private final Map<Long, Live> live = new HashMap<>();
    private long nextId;
    private int commits;

    UpsertWorkload(LakeCatalog catalog, String namespace, String name, PartitionSpec spec, long seed) {
        this.table = catalog.icebergCatalog()
                .createTable(
                        TableIdentifier.of(namespace, name), SCHEMA, spec, Map.of(TableProperties.FORMAT_VERSION, "2"));
        this.spec = spec;
        this.random = new Random(seed);
    }

    Table table() {
        return table;
    }

    /**
     * One commit of random changes.
     *
     * @param olderByPosition whether rows of older commits may be deleted by position (only while the model knows
     *     where they are: not after a compaction moved them)
     * @return delete files written
     */
    int commit(boolean olderByPosition) throws IOException {
        int written = 0;
        RowDelta delta = table.newRowDelta();
        Map<String, List<Record>> newRows = new HashMap<>();
        Map<String, List<Record>> keyDeletes = new HashMap<>();
        Map<String, List<Record>> noteDeletes = new HashMap<>();
        Map<String, List<Live>> positionDeletes = new HashMap<>();
        List<Long> ids = new ArrayList<>(live.keySet());
        ids.sort(null);
        for (long id : ids) {
            Live row = live.get(id);
            String region = (String) row.row().getField("region");
            int action = random.nextInt(20);
            if (action == 0 && olderByPosition) { // delete by position
                positionDeletes.computeIfAbsent(region, r -> new ArrayList<>()).add(row);
                live.remove(id);
            } else if (action == 1) { // delete by key
                keyDeletes.computeIfAbsent(region, r -> new ArrayList<>()).add(key(id, region));
                live.remove(id);
            } else if (action <= 3) { // upsert: key delete + the new version in this commit
                keyDeletes.computeIfAbsent(region, r -> new ArrayList<>()).add(key(id, region));
                live.remove(id);
                newRows.computeIfAbsent(region, r -> new ArrayList<>()).add(row(id, region, random));
            }
        }
        for (int i = 0; i < 200; i++) {
            String region = REGIONS.get(random.nextInt(REGIONS.size()));
            newRows.computeIfAbsent(region, r -> new ArrayList<>()).add(row(nextId++, region, random));
        }
        if (commits % 7 == 6) { // every older row of one partition without a note, or with note n3
            String region = REGIONS.get(random.nextInt(REGIONS.size()));
            String note = random.nextBoolean() ? null : "n3";
            Record delete = GenericRecord.create(SCHEMA.select("note"));
            delete.setField("note", note);
            noteDeletes
                    .computeIfAbsent(spec.isUnpartitioned() ? "" : region, r -> new ArrayList<>())
                    .add(delete);
            live.values()
                    .removeIf(row -> Objects.equals(row.row().getField("note"), note)
                            && (spec.isUnpartitioned()
                                    || row.row().getField("region").equals(region)));
        }
        for (Map.Entry<String, List<Record>> rows : newRows.entrySet()) {
            String region = rows.getKey();
            DataFile file = writeData(table, spec, region, rows.getValue());
            delta.addRows(file);
            for (int position = 0; position < rows.getValue().size(); position++) {
                Record row = rows.getValue().get(position);
                Live inFile = new Live(row, file.location(), position);
                if (random.nextInt(25) == 0) { // inserted and deleted within one commit
                    positionDeletes
                            .computeIfAbsent(region, r -> new ArrayList<>())
                            .add(inFile);
                } else {
                    live.put((Long) row.getField("id"), inFile);
                }
            }
        }
        for (Map.Entry<String, List<Live>> deletes : positionDeletes.entrySet()) {
            delta.addDeletes(writePositionDeletes(table, spec, deletes.getKey(), deletes.getValue()));
            written++;
        }
        for (Map.Entry<String, List<Record>> deletes : keyDeletes.entrySet()) {
            delta.addDeletes(writeEqualityDeletes(table, spec, deletes.getKey(), deletes.getValue(), 1, 2));
            written++;
        }
        for (Map.Entry<String, List<Record>> deletes : noteDeletes.entrySet()) {
            delta.addDeletes(writeEqualityDeletes(table, spec, deletes.getKey(), deletes.getValue(), 4));
            written++;
        }
        delta.commit();
        commits++;
        return written;
    }

    /** The rows the table should hold, ordered by id, as {@link #values} lists them. */
    List<List<Object>> expected() {
        return live.values().stream()
                .map(Live::row)
                .sorted(Comparator.comparingLong(r -> (Long) r.getField("id")))
                .map(UpsertWorkload::values)
                .toList();
    }

    /** The rows Iceberg's own Java reader returns, ordered by id. */
    static List<List<Object>> icebergRows(Table table) throws IOException {
        List<List<Object>> iceberg = new ArrayList<>();
        table.refresh();
        try (CloseableIterable<Record> rows = IcebergGenerics.read(table).build()) {
            rows.forEach(row -> iceberg.add(values(row)));
        }
        iceberg.sort(Comparator.comparingLong(r -> (Long) r.get(0)));
        return iceberg;
    }

    static List<Object> values(Record row) {
        List<Object> values = new ArrayList<>();
        values.add(row.getField("id"));
        values.add(row.getField("region"));
        values.add(row.getField("amount"));
        values.add(row.getField("note"));
        return values;
    }

    private static Record key(long id, String region) {
        Record key = GenericRecord.create(SCHEMA.select("id", "region"));
        key.setField("id", id);
        key.setField("region", region);
        return key;
    }

    private static Record row(long id, String region, Random random) {
        Record row = GenericRecord.create(SCHEMA);
        row.setField("id", id);
        row.setField("region", region);
        row.setField("amount", random.nextInt(10) == 0 ? null : BigDecimal.valueOf(random.nextInt(1_000_000), 2));
        row.setField("note", random.nextInt(4) == 0 ? null : "n" + random.nextInt(5));
        return row;
    }

    private static PartitionKey partition(Table table, PartitionSpec spec, String region) {
        if (spec.isUnpartitioned()) {
            return null;
        }
        PartitionKey key = new PartitionKey(spec, table.schema());
        Record row = GenericRecord.create(SCHEMA);
        row.setField("region", region);
        key.partition(row);
        return key;
    }

    private static EncryptedOutputFile output(Table table) {
        return EncryptedFiles.plainAsEncryptedOutput(
                table.io().newOutputFile(table.location() + "/data/" + UUID.randomUUID() + ".parquet"));
    }

    private static DataFile writeData(Table table, PartitionSpec spec, String region, List<Record> rows)
            throws IOException {
        DataWriter<Record> writer = new GenericAppenderFactory(table.schema(), spec)
                .newDataWriter(output(table), FileFormat.PARQUET, partition(table, spec, region));
        try (writer) {
            rows.forEach(writer::write);
        }
        return writer.toDataFile();
    }

    private static DeleteFile writePositionDeletes(Table table, PartitionSpec spec, String region, List<Live> rows)
            throws IOException {
        List<Live> sorted = new ArrayList<>(rows);
        sorted.sort(Comparator.comparing(Live::file).thenComparingLong(Live::position));
        PositionDeleteWriter<Record> writer = new GenericAppenderFactory(
                        table, table.schema(), spec, Map.of(), null, null, null)
                .newPosDeleteWriter(output(table), FileFormat.PARQUET, partition(table, spec, region));
        try (writer) {
            for (Live row : sorted) {
                writer.write(PositionDelete.<Record>create().set(row.file(), row.position(), null));
            }
        }
        return writer.toDeleteFile();
    }

    private static DeleteFile writeEqualityDeletes(
            Table table, PartitionSpec spec, String region, List<Record> keys, int... fieldIds) throws IOException {
        Set<Integer> ids = new HashSet<>();
        for (int id : fieldIds) {
            ids.add(id);
        }
        Schema deleteSchema = TypeUtil.select(table.schema(), ids);
        EqualityDeleteWriter<Record> writer = new GenericAppenderFactory(
                        table.schema(), spec, fieldIds, deleteSchema, null)
                .newEqDeleteWriter(
                        output(table), FileFormat.PARQUET, region.isEmpty() ? null : partition(table, spec, region));
        try (writer) {
            keys.forEach(writer::write);
        }
        return writer.toDeleteFile();
    }
}
