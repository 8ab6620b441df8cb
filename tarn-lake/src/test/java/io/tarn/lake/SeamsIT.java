package io.tarn.lake;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.LongStream;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The seams of a landing table: which commit a snapshot's rows came from, and the offsets its seam files name. */
class SeamsIT {
    private static final Schema SCHEMA = new Schema(Types.NestedField.optional(1, "id", Types.LongType.get()));
    private static final Map<String, String> COLUMNS = Map.of("id", "id");

    @TempDir
    static Path dir;

    static LakeCatalog catalog;

    @BeforeAll
    static void open() {
        catalog = LakeCatalog.open(
                dir.resolve("catalog.db"), dir.resolve("warehouse").toString());
        catalog.icebergCatalog().createNamespace(Namespace.of("land"));
    }

    @AfterAll
    static void close() {
        catalog.close();
    }

    @Test
    void aSnapshotIsReadWithTheSeamOfTheLandingCommitItsRowsCameFrom() throws IOException {
        Table table = catalog.icebergCatalog()
                .createTable(TableIdentifier.of("land", "events"), SCHEMA, PartitionSpec.unpartitioned());
        assertThat(Seams.covered(table, table.currentSnapshot())).isEmpty(); // no snapshot yet

        DataFile first = LakeFiles.data(table, rows(0, 10));
        landingCommit(table, first, "job-a", 4);
        seam(table, "job-a", 4, 0, Map.of(0, 6L));
        seam(table, "job-a", 4, 1, Map.of(1, 4L));
        DataFile second = LakeFiles.data(table, rows(10, 20));
        landingCommit(table, second, "job-a", 5);
        seam(table, "job-a", 5, 0, Map.of(0, 12L));
        assertThat(Seams.covered(table, table.currentSnapshot()))
                .as("one subtask's seam is missing")
                .isEmpty();
        seam(table, "job-a", 5, 1, Map.of(1, 8L));
        long landed = table.currentSnapshot().snapshotId();
        Seams.Covered covered = Seams.covered(table, table.currentSnapshot()).orElseThrow();
        assertThat(covered.offsets()).isEqualTo(Map.of(0, 12L, 1, 8L));
        assertThat(covered.topic()).isEqualTo("events");
        assertThat(covered.columns()).isEqualTo(COLUMNS);
        assertThat(covered.snapshotId()).isEqualTo(landed);

        // compaction rewrote the files: the rows are those of the landing commit before it
        table.newRewrite()
                .rewriteFiles(Set.of(first, second), Set.of(LakeFiles.data(table, rows(0, 20))))
                .commit();
        assertThat(Seams.covered(table, table.currentSnapshot()).orElseThrow().snapshotId())
                .isEqualTo(landed);

        // orphan removal deletes older seams, not the one the current snapshot is read with
        Path seams = Path.of(TablePlan.localPath(table.location()))
                .resolve(Seams.DIRECTORY)
                .resolve("job-a");
        TableCleanup.removeOrphans("land.events", table, Instant.now().plusSeconds(60));
        try (var files = Files.list(seams)) {
            assertThat(files.map(p -> p.getFileName().toString())
                            .filter(n -> !n.endsWith(".crc"))
                            .sorted())
                    .containsExactly("5-0.json", "5-1.json");
        }

        // rows written by something else: the snapshot has no seam
        table.newAppend().appendFile(LakeFiles.data(table, rows(20, 21))).commit();
        assertThat(Seams.covered(table, table.currentSnapshot())).isEmpty();
    }

    private static void landingCommit(Table table, DataFile file, String job, long checkpoint) {
        table.newAppend()
                .appendFile(file)
                .set("flink.job-id", job)
                .set("flink.operator-id", "op")
                .set("flink.max-committed-checkpoint-id", Long.toString(checkpoint))
                .commit();
    }

    private static void seam(Table table, String job, long checkpoint, int subtask, Map<Integer, Long> offsets) {
        Seams.write(
                table.io(),
                Seams.location(table.location(), job, checkpoint, subtask),
                new Seams.Seam("events", 2, offsets, COLUMNS));
    }

    private static List<Record> rows(long from, long to) {
        return LongStream.range(from, to)
                .mapToObj(id -> {
                    GenericRecord record = GenericRecord.create(SCHEMA);
                    record.setField("id", id);
                    return (Record) record;
                })
                .toList();
    }
}
