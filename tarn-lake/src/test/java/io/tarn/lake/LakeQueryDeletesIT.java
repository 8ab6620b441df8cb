package io.tarn.lake;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.math.BigDecimal;
import java.util.List;
import java.util.Objects;
import org.apache.iceberg.PartitionSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The fast query path on tables with position and equality deletes (what upsert pipelines write): 30 commits of an
 * {@link UpsertWorkload} into a partitioned and an unpartitioned table.
 * DuckDB's answer must equal the rows the test kept (its model) and the rows Iceberg's own Java reader returns.
 */
class LakeQueryDeletesIT {
    @RegisterExtension
    static final LakeExtension lake = new LakeExtension("shop");

    @Test
    void partitionedTableReadsAsItsModelAndAsIcebergsReader() throws IOException {
        check(
                "orders_by_region",
                PartitionSpec.builderFor(UpsertWorkload.SCHEMA)
                        .identity("region")
                        .build(),
                11);
    }

    @Test
    void unpartitionedTableReadsAsItsModelAndAsIcebergsReader() throws IOException {
        check("orders", PartitionSpec.unpartitioned(), 12);
    }

    private static void check(String name, PartitionSpec spec, long seed) throws IOException {
        UpsertWorkload workload = new UpsertWorkload(lake.catalog(), "shop", name, spec, seed);
        int deletesWritten = 0;
        for (int commit = 0; commit < 30; commit++) {
            deletesWritten += workload.commit(true);
        }
        assertThat(deletesWritten).isGreaterThan(60);
        assertReadsAsModel(lake.query(), "shop." + name, workload);
    }

    /** DuckDB's answer and Iceberg's reader's both equal the workload's model. */
    static void assertReadsAsModel(LakeQuery query, String name, UpsertWorkload workload) throws IOException {
        List<List<Object>> expected = workload.expected();
        assertThat(UpsertWorkload.icebergRows(workload.table())).isEqualTo(expected);
        var duck = query.query("SELECT id, region, amount, note FROM lake." + name + " ORDER BY id", 1_000_000);
        assertThat(duck.rows()).hasSize(expected.size());
        assertThat(duck.rows()).isEqualTo(expected);
        var totals = query.query("SELECT count(*), count(DISTINCT id), sum(amount), count(note) FROM lake." + name, 1)
                .rows()
                .get(0);
        assertThat(totals)
                .containsExactly(
                        (long) expected.size(),
                        (long) expected.size(),
                        expected.stream()
                                .map(r -> (BigDecimal) r.get(2))
                                .filter(Objects::nonNull)
                                .reduce(BigDecimal.ZERO, BigDecimal::add),
                        expected.stream().filter(r -> r.get(3) != null).count());
    }
}
