package io.tarn.lake;

import static org.assertj.core.api.Assertions.assertThat;

import io.tarn.core.config.TarnConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;
import java.util.stream.Stream;
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

    @Test
    void aFreshReadKeepsTheTopicsTailBetweenQueriesAndReadsOnlyTheRecordsAfterTheLastOne() throws IOException {
        Table table = catalog.icebergCatalog()
                .createTable(TableIdentifier.of("land", "tail"), SCHEMA, PartitionSpec.unpartitioned());
        // the topic: even ids in partition 0 and odd ids in partition 1, id n at offset n / 2
        List<List<Long>> log = List.of(new ArrayList<>(), new ArrayList<>());
        AtomicLong read = new AtomicLong();
        LogTail tail = (topic, from, sink) -> {
            assertThat(topic).isEqualTo("events");
            Map<Integer, Long> reached = new HashMap<>();
            for (int partition = 0; partition < 2; partition++) {
                List<Long> ids = log.get(partition);
                for (long offset = from.getOrDefault(partition, 0L); offset < ids.size(); offset++) {
                    sink.record(partition, offset, "{\"id\":" + ids.get((int) offset) + "}");
                    read.incrementAndGet();
                }
                reached.put(partition, Math.max(from.getOrDefault(partition, 0L), ids.size()));
            }
            return reached;
        };
        String warehouse = dir.resolve("warehouse").toString();
        try (LakeQuery query = new LakeQuery(
                catalog,
                LiveTables.NONE,
                tail,
                warehouse,
                dir.resolve("spill"),
                LakeQuery.Limits.from(TarnConfig.defaults()))) {
            send(log, 0, 20);
            // the snapshot holds partition 0 up to offset 5 and partition 1 up to offset 3
            landingCommit(table, LakeFiles.data(table, rows(0, 5, 0, 3)), "job-b", 1);
            seam(table, "job-b", 1, 0, Map.of(0, 5L));
            seam(table, "job-b", 1, 1, Map.of(1, 3L));
            assertThat(freshCounts(query)).isEqualTo(List.of(20L, 20L, 190L));
            assertThat(read.getAndSet(0)).as("records read").isEqualTo(12);

            send(log, 20, 24);
            assertThat(freshCounts(query)).isEqualTo(List.of(24L, 24L, 276L));
            assertThat(read.getAndSet(0)).as("only the records sent since").isEqualTo(4);
            assertThat(freshCounts(query)).isEqualTo(List.of(24L, 24L, 276L));
            assertThat(read.getAndSet(0)).isZero();

            // a newer snapshot covers more: the tail drops what it holds now and reads only what is new
            landingCommit(table, LakeFiles.data(table, rows(5, 8, 3, 6)), "job-b", 2);
            seam(table, "job-b", 2, 0, Map.of(0, 8L));
            seam(table, "job-b", 2, 1, Map.of(1, 6L));
            send(log, 24, 26);
            assertThat(freshCounts(query)).isEqualTo(List.of(26L, 26L, 325L));
            assertThat(read.getAndSet(0)).isEqualTo(2);

            // a rollback moves the seam back: the tail is read again from the older seam
            long first = table.snapshots().iterator().next().snapshotId();
            table.manageSnapshots().rollbackTo(first).commit();
            assertThat(freshCounts(query)).isEqualTo(List.of(26L, 26L, 325L));
            assertThat(read.getAndSet(0)).isEqualTo(26 - 8);

            // a new column: the tail is typed again, with it
            table.updateSchema().addColumn("note", Types.StringType.get()).commit();
            assertThat(freshCounts(query)).isEqualTo(List.of(26L, 26L, 325L));
            assertThat(read.getAndSet(0)).isEqualTo(26 - 8);
            assertThat(fresh(query, "SELECT count(note) FROM lake.land.tail")).isEqualTo(List.of(0L));
        }
    }

    /** Sends ids {@code [from, to)} to the topic. */
    private static void send(List<List<Long>> log, long from, long to) {
        for (long id = from; id < to; id++) {
            log.get((int) (id % 2)).add(id);
        }
    }

    private static List<Long> freshCounts(LakeQuery query) {
        return fresh(query, "SELECT count(*), count(DISTINCT id), sum(id) FROM lake.land.tail");
    }

    private static List<Long> fresh(LakeQuery query, String sql) {
        try (LakeQuery.Answer answer = query.open(sql, 10, true)) {
            return answer.next().orElseThrow().stream()
                    .map(value -> ((Number) value).longValue())
                    .toList();
        }
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

    /** The even ids {@code [2 * evenFrom, 2 * evenTo)} and the odd ids of offsets {@code [oddFrom, oddTo)}. */
    private static List<Record> rows(long evenFrom, long evenTo, long oddFrom, long oddTo) {
        return Stream.concat(
                        LongStream.range(evenFrom, evenTo)
                                .map(offset -> 2 * offset)
                                .boxed(),
                        LongStream.range(oddFrom, oddTo)
                                .map(offset -> 2 * offset + 1)
                                .boxed())
                .map(id -> {
                    GenericRecord record = GenericRecord.create(SCHEMA);
                    record.setField("id", id);
                    return (Record) record;
                })
                .toList();
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
