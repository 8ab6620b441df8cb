package io.tarn.lake;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.stream.Stream;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericAppenderFactory;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.InternalRecordWrapper;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.deletes.PositionDelete;
import org.apache.iceberg.deletes.PositionDeleteWriter;
import org.apache.iceberg.encryption.EncryptedFiles;
import org.apache.iceberg.expressions.Evaluator;
import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Compaction rewrites small files and applies delete files while other commits land: the table holds exactly the rows
 * it held (Iceberg's reader, DuckDB and the test's model agree), delete files are gone, an upsert committed during a
 * rewrite still applies, and a rewrite a concurrent position delete conflicts with is dropped, not committed.
 */
class CompactionIT {
    @RegisterExtension
    static final LakeExtension lake = new LakeExtension("shop");

    private static Compaction.Settings settings(long target) {
        return new Compaction.Settings(
                target, 5, 1L << 30, 2, 256L << 20, lake.dir().resolve("compaction-spill"));
    }

    @Test
    void upsertTablesReadAsTheirModelAfterCompactionWithNoDeleteFilesLeft() throws IOException {
        for (PartitionSpec spec : List.of(
                PartitionSpec.unpartitioned(),
                PartitionSpec.builderFor(UpsertWorkload.SCHEMA)
                        .identity("region")
                        .build())) {
            String name = spec.isUnpartitioned() ? "orders" : "orders_by_region";
            UpsertWorkload workload = new UpsertWorkload(lake.catalog(), "shop", name, spec, 21);
            for (int commit = 0; commit < 20; commit++) {
                workload.commit(true);
            }
            Table table = workload.table();
            Compaction.Result first = new Compaction(settings(1L << 20)).compact(name, table);
            LakeQueryDeletesIT.assertReadsAsModel(lake.query(), "shop." + name, workload);
            int partitions = spec.isUnpartitioned() ? 1 : 3;
            assertThat(first.commits()).isEqualTo(partitions);
            assertThat(first.dataFilesWritten()).isEqualTo(partitions);
            assertThat(first.rowsWritten()).isEqualTo(workload.expected().size());
            assertThat(totals(table)).containsExactly((long) partitions, 0L, (long)
                    workload.expected().size());

            for (int commit = 0; commit < 10; commit++) {
                workload.commit(false); // rows moved: the model no longer knows their positions
            }
            Compaction.Result second = new Compaction(settings(1L << 20)).compact(name, table);
            LakeQueryDeletesIT.assertReadsAsModel(lake.query(), "shop." + name, workload);
            assertThat(second.deleteFilesRemoved()).isGreaterThan(0);
            assertThat(totals(table)).containsExactly((long) partitions, 0L, (long)
                    workload.expected().size());
        }
    }

    @Test
    void anUpsertCommittedDuringTheRewriteStillApplies() throws IOException {
        UpsertWorkload workload =
                new UpsertWorkload(lake.catalog(), "shop", "raced", PartitionSpec.unpartitioned(), 31);
        for (int commit = 0; commit < 10; commit++) {
            workload.commit(false);
        }
        Table table = workload.table();
        Runnable upsertMeanwhile = () -> {
            try {
                assertThat(workload.commit(false)).isGreaterThan(0);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
        Compaction.Result result = new Compaction(settings(1L << 20), upsertMeanwhile).compact("shop.raced", table);
        assertThat(result.commits()).isEqualTo(1);
        assertThat(result.conflicts()).isZero();
        LakeQueryDeletesIT.assertReadsAsModel(lake.query(), "shop.raced", workload);
        // the concurrent commit's equality deletes still apply to the rewritten file, so they stay
        table.refresh();
        assertThat(totals(table).get(1)).isGreaterThan(0L);
        Compaction.Result again = new Compaction(settings(1L << 20)).compact("shop.raced", table);
        assertThat(again.commits()).isEqualTo(1);
        LakeQueryDeletesIT.assertReadsAsModel(lake.query(), "shop.raced", workload);
        assertThat(totals(table).get(1)).isZero();
    }

    @Test
    void aRewriteThatAConcurrentPositionDeleteConflictsWithIsDropped() throws IOException {
        Table table = lake.catalog()
                .icebergCatalog()
                .createTable(
                        TableIdentifier.of("shop", "conflict"),
                        UpsertWorkload.SCHEMA,
                        PartitionSpec.unpartitioned(),
                        Map.of(TableProperties.FORMAT_VERSION, "2"));
        for (long file = 0; file < 6; file++) {
            List<Record> rows = new ArrayList<>();
            for (long id = file * 100; id < file * 100 + 100; id++) {
                Record row = GenericRecord.create(UpsertWorkload.SCHEMA);
                row.setField("id", id);
                row.setField("region", "eu");
                rows.add(row);
            }
            table.newAppend().appendFile(LakeFiles.data(table, rows)).commit();
        }
        List<List<Object>> before = UpsertWorkload.icebergRows(table);
        DataFile victim;
        try (CloseableIterable<FileScanTask> tasks = table.newScan().planFiles()) {
            victim = tasks.iterator().next().file();
        }
        Snapshot start = table.currentSnapshot();
        Runnable deleteMeanwhile = () -> table.newRowDelta()
                .addDeletes(positionDelete(table, victim.location(), 0))
                .commit();
        Compaction.Result result = new Compaction(settings(1L << 20), deleteMeanwhile).compact("shop.conflict", table);
        assertThat(result.commits()).isZero();
        assertThat(result.conflicts()).isEqualTo(1);
        table.refresh();
        assertThat(table.currentSnapshot().parentId()).isEqualTo(start.snapshotId());
        assertThat(UpsertWorkload.icebergRows(table)).hasSize(before.size() - 1);
        try (Stream<Path> files = Files.walk(Path.of(TablePlan.localPath(table.location())))) {
            assertThat(files.filter(p -> p.toString().contains("tarn-compaction-") && Files.isRegularFile(p)))
                    .isEmpty();
        }
    }

    @Test
    void aPartitionLargerThanTheTargetIsRewrittenInGroupsEachCommittedOnItsOwn() throws IOException {
        Schema schema = new Schema(
                Types.NestedField.required(1, "id", Types.LongType.get()),
                Types.NestedField.optional(2, "name", Types.StringType.get()));
        Table table = lake.catalog()
                .icebergCatalog()
                .createTable(TableIdentifier.of("shop", "grouped"), schema, PartitionSpec.unpartitioned());
        long id = appendTwelveFiles(table, 0);
        long target = totalBytes(table) / 3 + 1; // three groups of four files
        Compaction.Settings settings = new Compaction.Settings(
                target, 5, 1L << 30, 1, 256L << 20, lake.dir().resolve("compaction-spill"));
        long before = table.currentSnapshot().snapshotId();
        Compaction.Result result = new Compaction(settings).compact("shop.grouped", table);

        assertThat(result.commits()).isEqualTo(3);
        assertThat(result.dataFilesRewritten()).isEqualTo(12);
        assertThat(result.dataFilesWritten()).isEqualTo(3);
        assertThat(result.rowsWritten()).isEqualTo(id);
        table.refresh();
        List<String> operations = new ArrayList<>();
        for (Snapshot snapshot = table.currentSnapshot();
                snapshot.snapshotId() != before;
                snapshot = table.snapshot(snapshot.parentId())) {
            operations.add(snapshot.operation() + " " + snapshot.summary().get(Compaction.SUMMARY_KEY));
        }
        assertThat(operations).containsExactly("replace compaction", "replace compaction", "replace compaction");
        assertThat(lake.query().liveRows("shop.grouped")).isEqualTo(id);
    }

    /** Twelve commits of a file of 2,000 rows each, ids from {@code first}; returns the next id. */
    private static long appendTwelveFiles(Table table, long first) throws IOException {
        long id = first;
        for (int file = 0; file < 12; file++) {
            List<Record> rows = new ArrayList<>();
            for (int i = 0; i < 2_000; i++, id++) {
                Record row = GenericRecord.create(table.schema());
                row.setField("id", id);
                row.setField("name", "name-" + (id * 7919 % 100_003));
                rows.add(row);
            }
            table.newAppend().appendFile(LakeFiles.data(table, rows)).commit();
        }
        return id;
    }

    private static final Schema TYPES = new Schema(
            Types.NestedField.required(1, "id", Types.LongType.get()),
            Types.NestedField.optional(2, "flag", Types.BooleanType.get()),
            Types.NestedField.optional(3, "small", Types.IntegerType.get()),
            Types.NestedField.optional(4, "ratio", Types.FloatType.get()),
            Types.NestedField.optional(5, "score", Types.DoubleType.get()),
            Types.NestedField.optional(6, "price", Types.DecimalType.of(12, 3)),
            Types.NestedField.optional(7, "big_price", Types.DecimalType.of(30, 4)),
            Types.NestedField.optional(8, "day", Types.DateType.get()),
            Types.NestedField.optional(9, "at", Types.TimeType.get()),
            Types.NestedField.optional(10, "local_ts", Types.TimestampType.withoutZone()),
            Types.NestedField.optional(11, "ts", Types.TimestampType.withZone()),
            Types.NestedField.optional(12, "name", Types.StringType.get()),
            Types.NestedField.optional(13, "payload", Types.BinaryType.get()),
            Types.NestedField.optional(
                    14,
                    "address",
                    Types.StructType.of(
                            Types.NestedField.optional(15, "city", Types.StringType.get()),
                            Types.NestedField.optional(16, "zip", Types.IntegerType.get()))),
            Types.NestedField.optional(17, "tags", Types.ListType.ofOptional(18, Types.StringType.get())),
            Types.NestedField.optional(
                    19, "counts", Types.MapType.ofOptional(20, 21, Types.StringType.get(), Types.LongType.get())),
            Types.NestedField.required(22, "region", Types.StringType.get()));

    @Test
    void manySmallFilesOfEveryTypeBecomeFilesOfTheTargetSizeThatPruneCorrectly() throws IOException {
        Table table = lake.catalog()
                .icebergCatalog()
                .createTable(
                        TableIdentifier.of("shop", "typed"),
                        TYPES,
                        PartitionSpec.builderFor(TYPES).identity("region").build(),
                        Map.of(TableProperties.FORMAT_VERSION, "2"));
        Random random = new Random(51);
        List<Record> all = new ArrayList<>();
        for (int file = 0; file < 60; file++) {
            String region = List.of("eu", "us").get(file % 2);
            List<Record> rows = new ArrayList<>();
            for (int i = 0; i < 400; i++) {
                rows.add(typed(all.size() + rows.size(), region, random));
            }
            all.addAll(rows);
            table.newAppend().appendFile(LakeFiles.data(table, rows, region)).commit();
        }
        List<Record> before = read(table, Expressions.alwaysTrue());
        assertThat(before).hasSize(all.size());
        long bytesBefore = totalBytes(table);

        long target = 256 << 10;
        Compaction.Result result = new Compaction(settings(target)).compact("shop.typed", table);

        assertThat(result.dataFilesRewritten()).isEqualTo(60);
        assertThat(result.rowsWritten()).isEqualTo(all.size());
        table.refresh();
        List<DataFile> files = dataFiles(table);
        assertThat(files).hasSize(result.dataFilesWritten());
        assertThat((long) files.size()).isLessThanOrEqualTo(2 * (totalBytes(table) / target + 2));
        assertThat(totalBytes(table)).isLessThan(bytesBefore);
        assertThat(read(table, Expressions.alwaysTrue())).isEqualTo(before);
        // Iceberg prunes files by the bounds compaction recorded: a wrong bound would lose rows here
        for (Expression filter : List.of(
                Expressions.equal("name", (String) all.stream()
                        .skip(1234)
                        .map(r -> r.getField("name"))
                        .filter(Objects::nonNull)
                        .findFirst()
                        .orElseThrow()),
                Expressions.lessThan("id", 777L),
                Expressions.greaterThanOrEqual("price", new BigDecimal("900.000")),
                Expressions.lessThan("day", (int) LocalDate.of(2024, 1, 10).toEpochDay()),
                Expressions.greaterThan("ts", 1_700_000_000_000_000L + 7_000_000_000L),
                Expressions.equal("address.zip", 42),
                Expressions.isNull("score"))) {
            assertThat(read(table, filter)).as(filter.toString()).isEqualTo(read(before, filter, table));
        }
        assertThat(lake.query()
                        .query("SELECT count(*), sum(small)::BIGINT, count(tags) FROM lake.shop.typed", 1)
                        .rows()
                        .get(0))
                .containsExactly(
                        (long) all.size(),
                        all.stream()
                                .map(r -> (Integer) r.getField("small"))
                                .filter(Objects::nonNull)
                                .mapToLong(Integer::longValue)
                                .sum(),
                        all.stream().filter(r -> r.getField("tags") != null).count());
    }

    private static Record typed(long id, String region, Random random) {
        Record row = GenericRecord.create(TYPES);
        row.setField("id", id);
        row.setField("region", region);
        if (random.nextInt(10) == 0) {
            return row; // every optional column null
        }
        row.setField("flag", random.nextBoolean());
        row.setField("small", random.nextInt(1000) - 500);
        row.setField("ratio", random.nextFloat());
        row.setField("score", random.nextInt(8) == 0 ? null : random.nextDouble() * 1e6);
        row.setField("price", BigDecimal.valueOf(random.nextInt(1_000_000), 3));
        row.setField("big_price", new BigDecimal(random.nextLong() % 1_000_000_000_000_000L + "12345678.0001"));
        row.setField("day", LocalDate.of(2024, 1, 1).plusDays(random.nextInt(30)));
        row.setField("at", LocalTime.ofSecondOfDay(random.nextInt(86_400)).withNano(123_000));
        row.setField("local_ts", LocalDateTime.of(2024, 3, 1, 0, 0).plusSeconds(random.nextInt(1_000_000)));
        row.setField(
                "ts",
                OffsetDateTime.ofInstant(
                        Instant.ofEpochSecond(1_700_000_000L + random.nextInt(20_000), 5_000), ZoneOffset.UTC));
        row.setField("name", "name-" + random.nextInt(5000) + "-ñ-😀".repeat(random.nextInt(3)));
        row.setField("payload", ByteBuffer.wrap(new byte[] {(byte) id, 0, (byte) random.nextInt(256)}));
        Record address = GenericRecord.create(TYPES.findField("address").type().asStructType());
        address.setField("city", "city-" + random.nextInt(20));
        address.setField("zip", random.nextInt(100));
        row.setField("address", address);
        row.setField("tags", random.nextBoolean() ? List.of("a", "b" + random.nextInt(3)) : null);
        row.setField("counts", Map.of("k" + random.nextInt(4), random.nextLong()));
        return row;
    }

    private static List<Record> read(Table table, Expression filter) throws IOException {
        table.refresh();
        List<Record> rows = new ArrayList<>();
        try (CloseableIterable<Record> records =
                IcebergGenerics.read(table).where(filter).build()) {
            records.forEach(r -> rows.add(r.copy()));
        }
        rows.sort(Comparator.comparingLong(r -> (Long) r.getField("id")));
        return rows;
    }

    /** The rows of {@code rows} that match a filter, evaluated row by row. */
    private static List<Record> read(List<Record> rows, Expression filter, Table table) {
        Evaluator evaluator = new Evaluator(table.schema().asStruct(), filter);
        InternalRecordWrapper internal =
                new InternalRecordWrapper(table.schema().asStruct());
        return rows.stream().filter(row -> evaluator.eval(internal.wrap(row))).toList();
    }

    private static List<DataFile> dataFiles(Table table) throws IOException {
        List<DataFile> files = new ArrayList<>();
        try (CloseableIterable<FileScanTask> tasks = table.newScan().planFiles()) {
            tasks.forEach(t -> files.add(t.file()));
        }
        return files;
    }

    private static long totalBytes(Table table) throws IOException {
        return dataFiles(table).stream().mapToLong(DataFile::fileSizeInBytes).sum();
    }

    /** Data files, delete files and rows written in the current snapshot. */
    private static List<Long> totals(Table table) {
        table.refresh();
        Map<String, String> summary = table.currentSnapshot().summary();
        return List.of(
                Long.parseLong(summary.get("total-data-files")),
                Long.parseLong(summary.get("total-delete-files")),
                Long.parseLong(summary.get("total-records")));
    }

    private static DeleteFile positionDelete(Table table, String file, long position) {
        try {
            PositionDeleteWriter<Record> writer = new GenericAppenderFactory(
                            table, table.schema(), table.spec(), Map.of(), null, null, null)
                    .newPosDeleteWriter(
                            EncryptedFiles.plainAsEncryptedOutput(table.io()
                                    .newOutputFile(table.location() + "/data/pos-" + System.nanoTime() + ".parquet")),
                            FileFormat.PARQUET,
                            null);
            try (writer) {
                writer.write(PositionDelete.<Record>create().set(file, position, null));
            }
            return writer.toDeleteFile();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
