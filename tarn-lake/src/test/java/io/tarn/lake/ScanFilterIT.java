package io.tarn.lake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.SystemConfigs;
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

/**
 * Filters pushed into Iceberg's planning: a query reads only the files whose partition and column min/max may match its
 * WHERE. Files Iceberg should leave out are hidden from disk while the queries run on a fresh fast path (no Parquet
 * footer cached, with which DuckDB could skip them itself): a query that needed one would fail.
 */
class ScanFilterIT {
    private static final Schema SCHEMA = new Schema(
            Types.NestedField.required(1, "id", Types.LongType.get()),
            Types.NestedField.optional(2, "region", Types.StringType.get()),
            Types.NestedField.optional(3, "day", Types.DateType.get()),
            Types.NestedField.optional(4, "ts", Types.TimestampType.withoutZone()),
            Types.NestedField.optional(5, "paid", Types.BooleanType.get()),
            Types.NestedField.optional(6, "qty", Types.IntegerType.get()));

    @TempDir
    static Path dir;

    static LakeCatalog catalog;
    static String warehouse;
    static LakeQuery query;
    /** The four files: eu ids 0-99 (day 1), us 100-199 (day 2), eu 200-299 (day 3), ap 300-399 (day 4, paid null). */
    static List<Path> files = new ArrayList<>();

    @BeforeAll
    static void createTable() throws IOException {
        warehouse = dir.resolve("warehouse").toString();
        catalog = LakeCatalog.open(dir.resolve("catalog.db"), warehouse);
        query = new LakeQuery(catalog, warehouse, 64L << 20, dir.resolve("spill"));
        catalog.icebergCatalog().createNamespace(Namespace.of("shop"));
        Table table = catalog.icebergCatalog()
                .createTable(
                        TableIdentifier.of("shop", "orders"),
                        SCHEMA,
                        PartitionSpec.builderFor(SCHEMA).identity("region").build());
        String[] regions = {"eu", "us", "eu", "ap"};
        for (int file = 0; file < regions.length; file++) {
            List<Record> records = new ArrayList<>();
            for (long id = file * 100L; id < file * 100L + 100; id++) {
                GenericRecord record = GenericRecord.create(SCHEMA);
                record.setField("id", id);
                record.setField("region", regions[file]);
                record.setField("day", LocalDate.of(2026, 1, 1 + file));
                record.setField("ts", LocalDateTime.of(2026, 1, 1 + file, 0, 0).plusMinutes(id % 100));
                record.setField("paid", regions[file].equals("ap") ? null : id % 2 == 0);
                record.setField("qty", (int) (id % 10));
                records.add(record);
            }
            DataFile data = LakeFiles.data(table, records, regions[file]);
            table.newAppend().appendFile(data).commit();
            files.add(Path.of(TablePlan.localPath(data.location())));
        }
    }

    @AfterAll
    static void close() {
        query.close();
        catalog.close();
    }

    @Test
    void scansArePlannedOnTheQuerysThreadNotInIcebergsWorkerPool() {
        // the pool's waits cost a filtered plan of a few dozen manifests tens of milliseconds (LakeCatalog)
        assertThat(SystemConfigs.SCAN_THREAD_POOL_ENABLED.value()).isFalse();
    }

    @Test
    void filtersOnPartitionsAndMinMaxReadOnlyTheFilesThatMayMatch() throws IOException {
        assertThat(count("")).isEqualTo(400);
        withHidden(List.of(1, 3), fresh -> {
            // partition: only the two eu files
            assertThat(count(fresh, "WHERE region = 'eu'")).isEqualTo(200);
            assertThat(count(fresh, "WHERE region IN ('eu') AND qty = 3")).isEqualTo(20);
            // min/max of id, either side of the comparison, any case, qualified by an alias or the table's name
            assertThat(count(fresh, "WHERE id BETWEEN 0 AND 50")).isEqualTo(51);
            assertThat(count(fresh, "WHERE 250 <= id AND id < 300")).isEqualTo(50);
            assertThat(count(fresh, "WHERE ID < 10")).isEqualTo(10);
            assertThat(fresh.query("SELECT count(*) FROM lake.shop.orders AS o WHERE o.id > 289 AND o.id < 300", 1)
                            .rows()
                            .get(0)
                            .get(0))
                    .isEqualTo(10L);
            // dates and timestamps, as literals of their type or as ISO text
            assertThat(count(fresh, "WHERE day = DATE '2026-01-03'")).isEqualTo(100);
            assertThat(count(fresh, "WHERE orders.day <= '2026-01-01'")).isEqualTo(100);
            assertThat(count(fresh, "WHERE ts < TIMESTAMP '2026-01-01 01:00:00'"))
                    .isEqualTo(60);
            assertThat(count(fresh, "WHERE ts >= '2026-01-03T00:30:00' AND ts < '2026-01-04'"))
                    .isEqualTo(70);
            // a filter inside a subquery prunes that read of the table
            assertThat(fresh.query("SELECT max(id) FROM (SELECT id FROM lake.shop.orders WHERE region = 'eu') AS e", 1)
                            .rows()
                            .get(0)
                            .get(0))
                    .isEqualTo(299L);
        });
    }

    @Test
    void nullChecksAndBooleansPrune() throws IOException {
        withHidden(List.of(0, 1, 2), fresh -> assertThat(count(fresh, "WHERE paid IS NULL"))
                .isEqualTo(100));
        withHidden(List.of(3), fresh -> {
            assertThat(count(fresh, "WHERE paid IS NOT NULL")).isEqualTo(300);
            assertThat(count(fresh, "WHERE paid = true")).isEqualTo(150);
        });
    }

    @Test
    void filtersWhoseMeaningIsNotCertainReadEveryFile() throws IOException {
        List<String> unprunable = List.of(
                "WHERE region = 'eu' OR id = 1", // OR
                "WHERE NOT (region <> 'eu')", // NOT
                "WHERE qty = 1.5 AND region = 'zz' OR region = 'eu'",
                "WHERE id = 1.0", // a decimal compared with an integer column
                "WHERE CAST(id AS VARCHAR) = '5'", // an expression of the column
                "WHERE region = upper('eu')", // a function of the constant
                "WHERE day = TIMESTAMP '2026-01-01 00:00:00'", // another type than the column's
                "WHERE ts = '2026-01-01 00:00:00.1234567'"); // finer than microseconds
        withHidden(List.of(1, 3), fresh -> {
            for (String where : unprunable) {
                assertThat(catchThrowable(() -> count(fresh, where)))
                        .as(where)
                        .isInstanceOfSatisfying(
                                TarnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.QUERY_FAILED));
            }
            // a table read twice is read whole each time
            assertThatThrownBy(() -> fresh.query(
                            "SELECT count(*) FROM lake.shop.orders a JOIN lake.shop.orders b ON a.id = b.id"
                                    + " WHERE a.region = 'eu' AND b.region = 'eu'",
                            1))
                    .isInstanceOf(TarnException.class);
        });
        // with every file there, each answers as DuckDB's own filter does
        assertThat(count(unprunable.get(0))).isEqualTo(200);
        assertThat(count(unprunable.get(1))).isEqualTo(200);
        assertThat(count(unprunable.get(3))).isEqualTo(1);
        assertThat(count(unprunable.get(6))).isEqualTo(100);
        // never true: DuckDB reads no file for it (so it cannot be checked with hidden files), Iceberg is not asked
        assertThat(count("WHERE region = NULL")).isZero();
    }

    private static long count(String where) {
        return count(query, where);
    }

    private static long count(LakeQuery lakeQuery, String where) {
        return (Long) lakeQuery
                .query("SELECT count(*) FROM lake.shop.orders " + where, 1)
                .rows()
                .get(0)
                .get(0);
    }

    private interface Check {
        void run(LakeQuery fresh) throws IOException;
    }

    /** Runs checks on a fresh fast path while the given files of the table are away from disk. */
    private static void withHidden(List<Integer> hidden, Check check) throws IOException {
        for (int file : hidden) {
            Files.move(
                    files.get(file),
                    files.get(file).resolveSibling(files.get(file).getFileName() + ".away"));
        }
        try (LakeQuery fresh = new LakeQuery(catalog, warehouse, 64L << 20, dir.resolve("spill"))) {
            check.run(fresh);
        } finally {
            for (int file : hidden) {
                Files.move(files.get(file).resolveSibling(files.get(file).getFileName() + ".away"), files.get(file));
            }
        }
    }
}
