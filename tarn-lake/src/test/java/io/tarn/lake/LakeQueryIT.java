package io.tarn.lake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.query.QueryResult;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
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

class LakeQueryIT {
    private static final Schema SCHEMA = new Schema(
            Types.NestedField.required(1, "id", Types.LongType.get()),
            Types.NestedField.optional(2, "page", Types.StringType.get()),
            Types.NestedField.optional(3, "amount", Types.DecimalType.of(10, 2)));

    @TempDir
    static Path dir;

    static LakeCatalog catalog;
    static LakeQuery query;
    static Map<String, Long> expectedPerPage = new TreeMap<>();
    static int rows = 0;

    @BeforeAll
    static void createTable() throws IOException {
        String warehouse = dir.resolve("warehouse").toString();
        catalog = LakeCatalog.open(dir.resolve("catalog.db"), warehouse);
        query = new LakeQuery(catalog, warehouse, 64L << 20, dir.resolve("spill"));
        catalog.icebergCatalog().createNamespace(Namespace.of("web"));
        Table table = catalog.icebergCatalog()
                .createTable(TableIdentifier.of("web", "visits"), SCHEMA, PartitionSpec.unpartitioned());
        catalog.icebergCatalog().createTable(TableIdentifier.of("web", "empty"), SCHEMA, PartitionSpec.unpartitioned());
        for (int file = 0; file < 3; file++) {
            List<Record> records = new ArrayList<>();
            for (int i = 0; i < 1000 + file; i++) {
                String page = "/p" + (i * 7 + file) % 13;
                GenericRecord record = GenericRecord.create(SCHEMA);
                record.setField("id", (long) rows);
                record.setField("page", page);
                record.setField("amount", new BigDecimal("1.25"));
                records.add(record);
                expectedPerPage.merge(page, 1L, Long::sum);
                rows++;
            }
            table.newAppend().appendFile(LakeFiles.data(table, records)).commit();
        }
    }

    @AfterAll
    static void close() {
        catalog.close();
    }

    @Test
    void aggregatesOverEveryCommittedFile() {
        QueryResult result = query.query(
                "SELECT page, count(*) AS views, sum(amount) AS total FROM lake.web.visits GROUP BY page ORDER BY page",
                100);
        assertThat(result.columns()).containsExactly("page", "views", "total");
        Map<String, Long> actual = new TreeMap<>();
        result.rows().forEach(row -> actual.put((String) row.get(0), ((Number) row.get(1)).longValue()));
        assertThat(actual).isEqualTo(expectedPerPage);
        QueryResult count = query.query("select count(*), count(distinct id) from LAKE.WEB.VISITS", 10);
        assertThat(count.rows()).containsExactly(List.of((long) rows, (long) rows));
    }

    @Test
    void emptyTableHasItsColumnsAndNoRows() {
        QueryResult result = query.query("SELECT * FROM lake.web.empty", 10);
        assertThat(result.columns()).containsExactly("id", "page", "amount");
        assertThat(result.rows()).isEmpty();
    }

    @Test
    void truncatesAtTheRowLimit() {
        QueryResult result = query.query("SELECT id FROM lake.web.visits ORDER BY id", 5);
        assertThat(result.rows()).hasSize(5);
        assertThat(result.truncated()).isTrue();
        assertThat(result.rows().get(4)).containsExactly(4L);
    }

    @Test
    void refusesAnythingButOneSelect() {
        assertThatThrownBy(() -> query.query("DELETE FROM lake.web.visits", 10))
                .isInstanceOfSatisfying(
                        TarnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.STATEMENT_NOT_ALLOWED))
                .hasMessage("a query must be one SELECT (or WITH ... SELECT) statement over lake tables");
        assertThatThrownBy(() -> query.query("SELECT 1; SELECT 2", 10))
                .hasMessage("a query must be exactly one statement, got 2");
    }

    @Test
    void cannotReadFilesOutsideTheWarehouse() {
        assertThatThrownBy(() -> query.query("SELECT * FROM read_csv('/etc/passwd')", 10))
                .isInstanceOfSatisfying(
                        TarnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.STATEMENT_NOT_ALLOWED))
                .hasMessage("a query may read lake tables only: table function 'read_csv' is not allowed (allowed:"
                        + " generate_series, range, unnest)");
        assertThatThrownBy(() -> query.query("SELECT * FROM '/etc/passwd'", 10))
                .isInstanceOfSatisfying(
                        TarnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.TABLE_NOT_FOUND))
                .hasMessageStartingWith("table '/etc/passwd' does not exist");
        assertThatThrownBy(() -> query.query(
                        "SELECT current_setting('enable_external_access'), * FROM lake.web.visits, (SELECT 1) x WHERE set_config('lock_configuration','false') IS NULL",
                        10))
                .isInstanceOf(TarnException.class);
    }

    @Test
    void queriesSpillBeyondTheirMemoryLimitAndFailClearlyWhenTheyCannot() throws IOException {
        assertThat(query.query("SELECT current_setting('memory_limit')", 1).rows())
                .containsExactly(List.of("64.0 MiB"));
        // 5 M distinct groups do not fit in 64 MiB: the aggregate spills and still answers exactly
        assertThat(query.query("SELECT count(*), sum(x) FROM (SELECT DISTINCT x FROM range(5000000) t(x))", 1)
                        .rows())
                .containsExactly(List.of(5_000_000L, new BigInteger("12499997500000")));
        // one list of 20 M numbers cannot be split
        assertThatThrownBy(() -> query.query("SELECT length(list(x)) FROM range(20000000) t(x)", 1))
                .isInstanceOfSatisfying(
                        TarnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.QUERY_FAILED))
                .hasMessageStartingWith(
                        "query failed: it needs more memory than query.memory-limit (64 MiB) allows, even spilling")
                .hasMessageNotContaining(dir.toString());
        try (var left = Files.walk(dir.resolve("spill"))) {
            assertThat(left.filter(p -> Files.isRegularFile(p) && !p.toString().endsWith("_owner")))
                    .as("spill files of finished queries (the owner file marks a live DuckDB's directory)")
                    .isEmpty();
        }
    }

    @Test
    void userMistakesAreTheUsersWithAHint() {
        assertThatThrownBy(() -> query.query("SELECT pgae FROM lake.web.visits", 10))
                .isInstanceOfSatisfying(
                        TarnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_SQL))
                .hasMessageStartingWith("query is not valid: Binder Error: Referenced column \"pgae\" not found")
                .hasMessageContaining("\"page\"");
        for (String sql : List.of("SELECT count(*) FROM web.visits", "SELECT count(*) FROM visits")) {
            assertThatThrownBy(() -> query.query(sql, 10))
                    .as(sql)
                    .isInstanceOfSatisfying(
                            TarnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.TABLE_NOT_FOUND))
                    .hasMessageEndingWith(
                            "does not exist; lake tables are named lake.<namespace>.<table>: did you mean lake.web.visits?");
        }
        // a CTE of that name is the query's own
        assertThat(query.query("WITH visits AS (SELECT 1 AS n) SELECT n FROM visits", 1)
                        .rows())
                .containsExactly(List.of(1));
        assertThatThrownBy(() -> query.query("SELECT count(*) FROM nowhere", 10))
                .isInstanceOfSatisfying(
                        TarnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.TABLE_NOT_FOUND))
                .hasMessageEndingWith("(lake tables are named lake.<namespace>.<table>; GET /v1/tables lists them)");
    }

    @Test
    void unknownTableIsNotFound() {
        assertThatThrownBy(() -> query.query("SELECT * FROM lake.web.nope", 10))
                .isInstanceOfSatisfying(
                        TarnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.TABLE_NOT_FOUND))
                .hasMessage("lake table 'web.nope' does not exist");
    }

    @Test
    void describeReportsSnapshotsFilesAndRows() {
        var info = catalog.describe("web.visits");
        assertThat(info.snapshots()).hasSize(3);
        assertThat(info.dataFiles()).isEqualTo(3);
        assertThat(info.rowsWritten()).isEqualTo(rows);
        assertThat(info.columns()).extracting(c -> c.name()).containsExactly("id", "page", "amount");
        assertThat(catalog.listTables()).containsExactly("web.empty", "web.visits");
    }
}
