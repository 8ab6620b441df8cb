package io.tarn.lake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.query.QueryValues;
import java.io.IOException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Time travel on the fast path: at every snapshot of an upsert table — inserts, upserts, deletes by position and by
 * key, a compaction — {@code AT (VERSION => id)}, {@code AT (TIMESTAMP => ...)} and a tag answer what Iceberg's own
 * reader reads at that snapshot, with that snapshot's schema (a column added since is not there); a query may read the
 * table now and then.
 */
class TimeTravelIT {
    private static final DateTimeFormatter UTC =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS").withZone(ZoneOffset.UTC);

    @RegisterExtension
    static final LakeExtension lake = new LakeExtension("shop");

    @Test
    void everySnapshotReadsAsIcebergsReaderReadsIt() throws Exception {
        UpsertWorkload workload =
                new UpsertWorkload(lake.catalog(), "shop", "history", PartitionSpec.unpartitioned(), 61);
        Table table = workload.table();
        for (int commit = 0; commit < 6; commit++) {
            workload.commit(true);
            Thread.sleep(5); // distinct commit times, so that each snapshot is the one current at its own time
        }
        new Compaction(new Compaction.Settings(
                        1L << 20, 2, 1L << 30, 1, 128L << 20, lake.dir().resolve("c")))
                .compact("shop.history", table);
        Thread.sleep(5);
        workload.commit(false);
        table.updateSchema()
                .addColumn("extra", Types.StringType.get())
                .commit(); // a schema no snapshot was written with
        table.refresh();
        List<Snapshot> snapshots = new ArrayList<>();
        table.snapshots().forEach(snapshots::add);
        assertThat(snapshots).hasSize(8);

        for (Snapshot snapshot : snapshots) {
            List<List<Object>> expected = icebergRows(table, snapshot.snapshotId());
            String byVersion =
                    "SELECT * FROM lake.shop.history AT (VERSION => %d) ORDER BY id".formatted(snapshot.snapshotId());
            for (int time = 0; time < 2; time++) { // the second from the checked tree of the first
                assertThat(lake.query().query(byVersion, 100_000).rows())
                        .as(byVersion)
                        .isEqualTo(expected);
            }
            String byTime = "SELECT * FROM lake.shop.history AT (TIMESTAMP => TIMESTAMP '%s') ORDER BY id"
                    .formatted(UTC.format(Instant.ofEpochMilli(snapshot.timestampMillis())));
            assertThat(lake.query().query(byTime, 100_000).rows()).as(byTime).isEqualTo(expected);
        }
        Snapshot first = snapshots.get(0);
        List<String> columnsThen = lake.query()
                .query("SELECT * FROM lake.shop.history AT (VERSION => %d) LIMIT 1".formatted(first.snapshotId()), 1)
                .columns();
        assertThat(columnsThen).containsExactly("id", "region", "amount", "note");
        assertThat(lake.query()
                        .query("SELECT * FROM lake.shop.history LIMIT 1", 1)
                        .columns())
                .containsExactly("id", "region", "amount", "note", "extra");

        table.manageSnapshots()
                .createTag("before-compaction", snapshots.get(5).snapshotId())
                .commit();
        assertThat(lake.query()
                        .query(
                                "SELECT * FROM lake.shop.history AT (VERSION => 'before-compaction') ORDER BY id",
                                100_000)
                        .rows())
                .isEqualTo(icebergRows(table, snapshots.get(5).snapshotId()));

        long now = workload.expected().size();
        long then = icebergRows(table, first.snapshotId()).size();
        long kept = icebergRows(table, first.snapshotId()).stream()
                .filter(row ->
                        workload.expected().stream().anyMatch(r -> r.get(0).equals(row.get(0))))
                .count();
        assertThat(lake.query()
                        .query(
                                ("SELECT (SELECT count(*) FROM lake.shop.history), (SELECT count(*) FROM"
                                                + " lake.shop.history AS h AT (VERSION => %d)), count(*) FROM"
                                                + " lake.shop.history AS n JOIN lake.shop.history AS p AT (VERSION => %d)"
                                                + " USING (id)")
                                        .formatted(first.snapshotId(), first.snapshotId()),
                                1)
                        .rows())
                .containsExactly(List.of(now, then, kept));
    }

    @Test
    void aClauseThatNamesNoSnapshotIsTheUsers() throws IOException {
        UpsertWorkload workload =
                new UpsertWorkload(lake.catalog(), "shop", "short", PartitionSpec.unpartitioned(), 62);
        workload.commit(false);
        long created = workload.table().currentSnapshot().timestampMillis();
        for (String sql : List.of(
                "SELECT * FROM lake.shop.short AT (VERSION => 12345)",
                "SELECT * FROM lake.shop.short AT (VERSION => 'no-such-tag')",
                "SELECT * FROM lake.shop.short AT (TIMESTAMP => TIMESTAMP '%s')"
                        .formatted(UTC.format(Instant.ofEpochMilli(created - 60_000))),
                "SELECT * FROM lake.shop.short AT (TIMESTAMP => now())",
                "SELECT * FROM lake.shop.short AT (TIMESTAMP => 'yesterday')")) {
            assertThatThrownBy(() -> lake.query().query(sql, 10))
                    .as(sql)
                    .isInstanceOfSatisfying(
                            TarnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_SQL));
        }
        assertThatThrownBy(() -> lake.query().query("SELECT * FROM lake.shop.short AT (VERSION => 12345)", 10))
                .hasMessage("lake table 'shop.short' has no snapshot 12345 (expired, or not one of its);"
                        + " GET /v1/tables/shop.short/snapshots lists those it keeps");
        assertThatThrownBy(() -> lake.query().query("SELECT * FROM lake.shop.short AT (VERSION => 'no-such-tag')", 10))
                .hasMessage("lake table 'shop.short' has no tag or branch 'no-such-tag'");
    }

    /** The rows Iceberg's reader reads at a snapshot, the columns of that snapshot's schema in order. */
    private static List<List<Object>> icebergRows(Table table, long snapshotId) throws IOException {
        List<List<Object>> rows = new ArrayList<>();
        var schema = table.schemas().get(table.snapshot(snapshotId).schemaId());
        try (CloseableIterable<Record> records =
                IcebergGenerics.read(table).useSnapshot(snapshotId).build()) {
            for (Record record : records) {
                List<Object> values = new ArrayList<>();
                schema.columns().forEach(c -> values.add(QueryValues.json(record.getField(c.name()))));
                rows.add(values);
            }
        }
        rows.sort(Comparator.comparingLong(r -> (Long) r.get(0)));
        return rows;
    }
}
