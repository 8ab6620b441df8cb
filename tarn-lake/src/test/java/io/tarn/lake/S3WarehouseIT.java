package io.tarn.lake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tarn.s3proxy.S3Proxy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.exceptions.ForbiddenException;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A warehouse in an S3-compatible object store (S3Proxy, a real S3 server, in its own process): Tarn's catalog keeps
 * tables there through Iceberg's S3FileIO, and its FileIO touches no object outside the warehouse prefix.
 */
class S3WarehouseIT {
    private static final Schema SCHEMA = new Schema(Types.NestedField.optional(1, "id", Types.LongType.get()));

    @TempDir
    static Path dir;

    private static S3Proxy s3;
    private static LakeCatalog catalog;

    @BeforeAll
    static void start() throws Exception {
        s3 = S3Proxy.start(dir.resolve("s3"), List.of("lake", "other"));
        catalog = LakeCatalog.open(
                new LakeCatalog.Database("jdbc:sqlite:" + dir.resolve("catalog.db"), "", ""),
                "s3://lake/warehouse",
                Optional.empty(),
                List.of(),
                s3.ioProperties());
        catalog.icebergCatalog().createNamespace(Namespace.of("web"));
    }

    @AfterAll
    static void stop() throws Exception {
        catalog.close();
        s3.close();
    }

    @Test
    void aTableKeepsItsMetadataAndDataInTheBucketAndIsReadAndPurgedThroughS3() throws IOException {
        Table table = catalog.icebergCatalog()
                .createTable(TableIdentifier.of("web", "clicks"), SCHEMA, PartitionSpec.unpartitioned());
        assertThat(table.location()).isEqualTo("s3://lake/warehouse/web/clicks");
        table.newAppend().appendFile(LakeFiles.data(table, ids(0, 100))).commit();
        table.newAppend().appendFile(LakeFiles.data(table, ids(100, 250))).commit();

        assertThat(countAndSum(catalog.load("web.clicks"))).containsExactly(250L, 249L * 250 / 2);
        Path objects = s3.bucketDirectory("lake").resolve("warehouse/web/clicks");
        assertThat(files(objects.resolve("data"))).hasSize(2);
        assertThat(files(objects.resolve("metadata"))).isNotEmpty();

        assertThat(catalog.dropAndPurge("web.clicks")).isTrue();
        assertThat(files(objects)).isEmpty();
    }

    @Test
    void theFastPathReadsATableInTheBucketWithItsDeletesAndAtASnapshotThroughLocalCopies() throws IOException {
        Table table = catalog.icebergCatalog()
                .createTable(TableIdentifier.of("web", "fast"), SCHEMA, PartitionSpec.unpartitioned());
        table.newAppend().appendFile(LakeFiles.data(table, ids(0, 100))).commit();
        long first = table.currentSnapshot().snapshotId();
        table.newAppend().appendFile(LakeFiles.data(table, ids(100, 250))).commit();
        table.newRowDelta()
                .addDeletes(LakeFiles.equalityDeletes(table, ids(0, 10), 1))
                .commit();
        String now = "SELECT count(*), sum(id) FROM lake.web.fast";
        String then = "SELECT count(*), sum(id) FROM lake.web.fast AT (VERSION => %d)".formatted(first);
        List<List<Object>> expectedNow = List.of(List.of(240L, java.math.BigInteger.valueOf(249L * 250 / 2 - 45)));
        List<List<Object>> expectedThen = List.of(List.of(100L, java.math.BigInteger.valueOf(99L * 100 / 2)));

        // a cache of one byte: every copy goes as soon as its query is done, and the next query fetches it again
        Path tiny = dir.resolve("tiny-spill");
        try (LakeQuery query =
                new LakeQuery(catalog, LiveTables.NONE, LogTail.NONE, "s3://lake/warehouse", tiny, limits(), 1)) {
            for (int i = 0; i < 2; i++) {
                assertThat(rows(query, now)).isEqualTo(expectedNow);
                assertThat(files(tiny.resolve("objects"))).isEmpty();
                assertThat(rows(query, then)).isEqualTo(expectedThen);
                assertThat(files(tiny.resolve("objects"))).isEmpty();
            }
        }
        // a large one keeps the three files (two data files, one delete file) and reads them again without fetching
        Path large = dir.resolve("large-spill");
        try (LakeQuery query = new LakeQuery(
                catalog, LiveTables.NONE, LogTail.NONE, "s3://lake/warehouse", large, limits(), 1L << 30)) {
            assertThat(rows(query, now)).isEqualTo(expectedNow);
            List<Path> copies = files(large.resolve("objects"));
            assertThat(copies).hasSize(3);
            List<java.nio.file.attribute.FileTime> fetched = new ArrayList<>();
            for (Path copy : copies) {
                fetched.add(Files.getLastModifiedTime(copy));
            }
            assertThat(rows(query, now)).isEqualTo(expectedNow);
            assertThat(rows(query, then)).isEqualTo(expectedThen);
            assertThat(files(large.resolve("objects"))).isEqualTo(copies);
            for (int i = 0; i < copies.size(); i++) {
                assertThat(Files.getLastModifiedTime(copies.get(i))).isEqualTo(fetched.get(i));
            }
        }
    }

    @Test
    void compactionRewritesATableInTheBucketWithItsDeletesApplied() throws IOException {
        Table table = catalog.icebergCatalog()
                .createTable(TableIdentifier.of("web", "compacted"), SCHEMA, PartitionSpec.unpartitioned());
        for (long from = 0; from < 500; from += 100) {
            table.newAppend()
                    .appendFile(LakeFiles.data(table, ids(from, from + 100)))
                    .commit();
        }
        table.newRowDelta()
                .addDeletes(LakeFiles.equalityDeletes(table, ids(0, 50), 1))
                .commit();
        Path spill = dir.resolve("compaction-spill");
        Compaction.Result result = new Compaction(new Compaction.Settings(1L << 20, 2, 1L << 30, 2, 256L << 20, spill))
                .compact("web.compacted", table);

        assertThat(result.skipped()).isEmpty();
        assertThat(result.dataFilesRewritten()).isEqualTo(5);
        assertThat(result.dataFilesWritten()).isEqualTo(1);
        assertThat(result.deleteFilesRemoved()).isEqualTo(1);
        assertThat(result.rowsWritten()).isEqualTo(450);
        table.refresh();
        assertThat(countAndSum(table)).containsExactly(450L, 499L * 500 / 2 - 49L * 50 / 2);
        try (CloseableIterable<org.apache.iceberg.FileScanTask> tasks =
                table.newScan().planFiles()) {
            List<String> locations = new ArrayList<>();
            tasks.forEach(task -> {
                locations.add(task.file().location());
                assertThat(task.deletes()).isEmpty();
            });
            assertThat(locations).singleElement().asString().startsWith("s3://lake/warehouse/web/compacted/data/");
        }
        assertThat(files(spill)).as("nothing of the run is left on local disk").isEmpty();
    }

    /** The table's rows and the sum of their ids, read with Iceberg's own reader. */
    private static List<Long> countAndSum(Table table) throws IOException {
        long count = 0;
        long sum = 0;
        try (CloseableIterable<Record> rows = IcebergGenerics.read(table).build()) {
            for (Record row : rows) {
                count++;
                sum += (Long) row.getField("id");
            }
        }
        return List.of(count, sum);
    }

    private static LakeQuery.Limits limits() {
        return new LakeQuery.Limits(256L << 20, java.time.Duration.ofSeconds(60), 1L << 20);
    }

    private static List<List<Object>> rows(LakeQuery query, String sql) {
        return query.query(sql, 10).rows();
    }

    @Test
    void itsFileIoRefusesEveryObjectOutsideTheWarehouseAndWritesNothingThere() throws IOException {
        Table table = catalog.icebergCatalog()
                .createTable(TableIdentifier.of("web", "confined"), SCHEMA, PartitionSpec.unpartitioned());
        FileIO io = table.io();
        for (String outside : List.of(
                "s3://lake/elsewhere/x.parquet",
                "s3://lake/warehouse-2/x.parquet",
                "s3://other/warehouse/x.parquet",
                "s3://lake/warehouse/../elsewhere/x.parquet",
                "s3://lake/warehouse//x.parquet",
                "s3a://other/warehouse/x.parquet",
                "file:" + dir.resolve("x.parquet"),
                "/etc/passwd")) {
            assertThatThrownBy(() -> io.newOutputFile(outside).create())
                    .as(outside)
                    .isInstanceOf(ForbiddenException.class)
                    .hasMessageContaining("is outside the lake's warehouse");
            assertThatThrownBy(() -> io.newInputFile(outside)).as(outside).isInstanceOf(ForbiddenException.class);
            assertThatThrownBy(() -> io.deleteFile(outside)).as(outside).isInstanceOf(ForbiddenException.class);
        }
        assertThat(files(s3.bucketDirectory("other"))).isEmpty();
        assertThat(files(s3.bucketDirectory("lake")))
                .allMatch(p -> p.startsWith(s3.bucketDirectory("lake").resolve("warehouse")));
        assertThat(Files.exists(dir.resolve("x.parquet"))).isFalse();
        // inside the warehouse, s3a:// names the same objects
        assertThat(io.newInputFile("s3a://lake/warehouse/web/confined/nothing.parquet")
                        .exists())
                .isFalse();
    }

    @Test
    void orphanRemovalListsTheTablesPrefixAndDeletesOnlyOldUnreferencedObjects() throws IOException {
        Table table = catalog.icebergCatalog()
                .createTable(TableIdentifier.of("web", "orphans"), SCHEMA, PartitionSpec.unpartitioned());
        table.newAppend().appendFile(LakeFiles.data(table, ids(0, 10))).commit();
        table.newAppend().appendFile(LakeFiles.data(table, ids(10, 30))).commit();
        // a file a writer left behind (its commit never landed)
        try (var out = table.io()
                .newOutputFile(table.location() + "/data/left-behind.parquet")
                .create()) {
            out.write(new byte[] {1, 2, 3});
        }
        Path objects = s3.bucketDirectory("lake").resolve("warehouse/web/orphans");
        int before = files(objects).size();

        TableCleanup.Orphans young = TableCleanup.removeOrphans("web.orphans", table, Instant.EPOCH);
        assertThat(young).isEqualTo(new TableCleanup.Orphans(0, 0, 1)); // newer than the window: kept
        TableCleanup.Orphans old =
                TableCleanup.removeOrphans("web.orphans", table, Instant.now().plusSeconds(60));
        assertThat(old).isEqualTo(new TableCleanup.Orphans(1, 3, 0));
        assertThat(files(objects)).hasSize(before - 1);
        assertThat(Files.exists(objects.resolve("data/left-behind.parquet"))).isFalse();
        long count = 0;
        try (CloseableIterable<Record> rows =
                IcebergGenerics.read(catalog.load("web.orphans")).build()) {
            for (Record ignored : rows) {
                count++;
            }
        }
        assertThat(count).isEqualTo(30);
    }

    private static List<Path> files(Path directory) throws IOException {
        if (!Files.exists(directory)) {
            return List.of();
        }
        try (Stream<Path> paths = Files.walk(directory)) {
            return paths.filter(Files::isRegularFile).sorted().toList();
        }
    }

    private static List<Record> ids(long from, long to) {
        List<Record> rows = new ArrayList<>();
        for (long id = from; id < to; id++) {
            GenericRecord row = GenericRecord.create(SCHEMA);
            row.setField("id", id);
            rows.add(row);
        }
        return rows;
    }
}
