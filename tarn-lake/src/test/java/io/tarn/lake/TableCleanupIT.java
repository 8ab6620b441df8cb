package io.tarn.lake;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Cleanup keeps a table's directory and metadata small without touching what a snapshot needs: orphans older than the
 * window go, younger ones and every referenced file stay; files a compaction replaced are gone from disk once the
 * snapshots that referenced them expire; many small manifests become few; old metadata versions are deleted.
 */
class TableCleanupIT {
    @RegisterExtension
    static final LakeExtension lake = new LakeExtension("shop");

    private static Table create(String name, Map<String, String> properties) {
        Map<String, String> all = new HashMap<>(properties);
        all.put(TableProperties.FORMAT_VERSION, "2");
        return lake.catalog()
                .icebergCatalog()
                .createTable(
                        TableIdentifier.of("shop", name), UpsertWorkload.SCHEMA, PartitionSpec.unpartitioned(), all);
    }

    private static void append(Table table, long from, int rows) throws IOException {
        List<Record> records = new ArrayList<>();
        for (long id = from; id < from + rows; id++) {
            Record row = GenericRecord.create(UpsertWorkload.SCHEMA);
            row.setField("id", id);
            row.setField("region", "eu");
            records.add(row);
        }
        table.newAppend().appendFile(LakeFiles.data(table, records)).commit();
    }

    /** The table's files, without the checksums Hadoop's local file system writes beside them. */
    private static List<Path> files(Table table) throws IOException {
        try (Stream<Path> files = Files.walk(Path.of(TablePlan.localPath(table.location())))) {
            return files.filter(p -> Files.isRegularFile(p) && !p.toString().endsWith(".crc"))
                    .toList();
        }
    }

    @Test
    void orphansOlderThanTheWindowGoAndEverythingReferencedStays() throws IOException {
        Table table = create("orphans", Map.of());
        for (int commit = 0; commit < 8; commit++) {
            append(table, commit * 10L, 10);
        }
        Path data = Path.of(TablePlan.localPath(table.location()), "data");
        Path old = Files.writeString(data.resolve("crashed-writer.parquet"), "x".repeat(100));
        Files.setLastModifiedTime(old, FileTime.from(Instant.now().minus(Duration.ofDays(2))));
        Path oldMetadata = Files.writeString(data.resolveSibling("metadata").resolve("stale.avro"), "y");
        Files.setLastModifiedTime(oldMetadata, FileTime.from(Instant.now().minus(Duration.ofDays(2))));
        Path young = Files.writeString(data.resolve("in-flight.parquet"), "z");
        List<Path> before = files(table);

        TableCleanup.Orphans orphans =
                TableCleanup.removeOrphans("shop.orphans", table, Instant.now().minus(Duration.ofDays(1)));

        assertThat(orphans).isEqualTo(new TableCleanup.Orphans(2, 101, 1));
        assertThat(files(table))
                .containsExactlyInAnyOrderElementsOf(before.stream()
                        .filter(p -> !p.equals(old) && !p.equals(oldMetadata))
                        .toList());
        assertThat(young).exists();
        assertThat(TableCleanup.referencedFiles(table)).allMatch(Files::exists);
        assertThat(UpsertWorkload.icebergRows(table)).hasSize(80);
    }

    @Test
    void filesACompactionReplacedLeaveTheDiskWhenTheirSnapshotsExpire() throws IOException {
        Table table = create("replaced", Map.of());
        for (int commit = 0; commit < 12; commit++) {
            append(table, commit * 10L, 10);
        }
        List<Path> small = files(table).stream()
                .filter(p -> p.getParent().getFileName().toString().equals("data"))
                .toList();
        assertThat(small).hasSize(12);
        Compaction.Result result = new Compaction(new Compaction.Settings(
                        1L << 20, 5, 1L << 30, 1, 128L << 20, lake.dir().resolve("spill")))
                .compact("shop.replaced", table);
        assertThat(result.dataFilesRewritten()).isEqualTo(12);

        lake.catalog().expireSnapshots("shop.replaced", System.currentTimeMillis() + 1);

        assertThat(small).noneMatch(Files::exists);
        assertThat(TableCleanup.removeOrphans("shop.replaced", table, Instant.now())
                        .filesDeleted())
                .isZero();
        assertThat(UpsertWorkload.icebergRows(table)).hasSize(120);
    }

    @Test
    void manySmallManifestsBecomeOneAndOldMetadataVersionsAreDeleted() throws IOException {
        Table table = create("manifests", Map.of(TableProperties.MANIFEST_MERGE_ENABLED, "false"));
        for (int commit = 0; commit < 30; commit++) {
            append(table, commit * 10L, 10);
        }
        table.refresh();
        assertThat(table.currentSnapshot().dataManifests(table.io())).hasSize(30);

        assertThat(TableCleanup.rewriteManifests("shop.manifests", table)).isEqualTo(30);

        table.refresh();
        assertThat(table.currentSnapshot().dataManifests(table.io())).hasSize(1);
        assertThat(TableCleanup.rewriteManifests("shop.manifests", table)).isZero();
        assertThat(UpsertWorkload.icebergRows(table)).hasSize(300);

        assertThat(TableCleanup.keepMetadataVersions(table, 5)).isTrue();
        assertThat(TableCleanup.keepMetadataVersions(table, 5)).isFalse();
        for (int commit = 30; commit < 40; commit++) {
            append(table, commit * 10L, 10);
        }
        Path metadata = Path.of(TablePlan.localPath(table.location()), "metadata");
        try (Stream<Path> files = Files.list(metadata)) {
            assertThat(files.filter(p -> p.toString().endsWith(".metadata.json")))
                    .hasSize(6);
        }
        assertThat(UpsertWorkload.icebergRows(table)).hasSize(400);
    }
}
