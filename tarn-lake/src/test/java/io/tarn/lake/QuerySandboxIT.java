package io.tarn.lake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.query.QueryResult;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
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
 * Lake SQL as an attacker writes it: each attack is refused with its exact reason (or made harmless), and nothing
 * happened — no file written anywhere below the test's directory, no file read beyond the planned snapshot.
 */
class QuerySandboxIT {
    /** A column name that would end the view's SQL and write a file, were it pasted in unquoted. */
    private static final String CRAFTED = "v\" FROM (SELECT 1); COPY (SELECT 42) TO 'OWNED'; SELECT \"x";

    @TempDir
    static Path dir;

    static Path warehouse;
    static LakeCatalog catalog;
    static LakeQuery query;
    static DataFile otherFile;

    @BeforeAll
    static void createTables() throws IOException {
        warehouse = dir.resolve("warehouse");
        catalog = LakeCatalog.open(dir.resolve("catalog.db"), warehouse.toString());
        query = new LakeQuery(catalog, warehouse.toString(), 64L << 20, dir.resolve("spill"));
        catalog.icebergCatalog().createNamespace(Namespace.of("web"));
        Schema visits = new Schema(
                Types.NestedField.required(1, "id", Types.LongType.get()),
                Types.NestedField.optional(2, "page", Types.StringType.get()));
        append(create("visits", visits), visits, 10);
        otherFile = append(create("other", visits), visits, 5);
        Schema crafted = new Schema(
                Types.NestedField.required(1, "id", Types.LongType.get()),
                Types.NestedField.optional(2, owned(CRAFTED), Types.StringType.get()));
        create("crafted_empty", crafted);
        Table withDeletes = create("crafted_deletes", crafted);
        append(withDeletes, crafted, 10);
        Record deleted = GenericRecord.create(crafted.select(owned(CRAFTED)));
        deleted.setField(owned(CRAFTED), "value 3");
        withDeletes
                .newRowDelta()
                .addDeletes(LakeFiles.equalityDeletes(withDeletes, List.of(deleted), 2))
                .commit();
        catalog.icebergCatalog().createNamespace(Namespace.of(owned("n\"s")));
        catalog.icebergCatalog()
                .createTable(TableIdentifier.of(owned("n\"s"), owned("t\"")), visits, PartitionSpec.unpartitioned());
    }

    /** The crafted text with the path of the file it would write if it ran. */
    private static String owned(String text) {
        return text.replace("OWNED", dir.resolve("owned.csv").toString());
    }

    private static Table create(String name, Schema schema) {
        return catalog.icebergCatalog()
                .createTable(
                        TableIdentifier.of("web", name),
                        schema,
                        PartitionSpec.unpartitioned(),
                        Map.of(TableProperties.FORMAT_VERSION, "2"));
    }

    private static DataFile append(Table table, Schema schema, int rows) throws IOException {
        List<Record> records = new ArrayList<>();
        for (int i = 1; i <= rows; i++) {
            GenericRecord record = GenericRecord.create(schema);
            record.setField("id", (long) i);
            record.setField(schema.columns().get(1).name(), "value " + i);
            records.add(record);
        }
        DataFile file = LakeFiles.data(table, records);
        table.newAppend().appendFile(file).commit();
        return file;
    }

    @AfterAll
    static void close() {
        catalog.close();
    }

    @Test
    void onlyOneSelectRunsAsDuckDbItselfParsesIt() throws IOException {
        Path copied = dir.resolve("copied.csv");
        String copy = "COPY (SELECT 1) TO '%s'".formatted(copied);
        for (String sql : List.of(
                "SELECT $$;$$ AS a; " + copy, // Tarn's old splitter saw one statement here, DuckDB two
                "SELECT 1 AS a; " + copy,
                copy,
                "ATTACH '%s' AS other".formatted(dir.resolve("attached.db")),
                "EXPORT DATABASE '%s'".formatted(dir.resolve("export")),
                "CREATE TABLE lake.web.made AS SELECT 1",
                "INSTALL httpfs",
                "LOAD parquet",
                "SET enable_external_access = true",
                "PRAGMA database_list",
                "DELETE FROM lake.web.visits")) {
            for (int time = 0; time < 2; time++) { // a refused text is refused again, never kept as checked
                assertThatThrownBy(() -> query.query(sql, 10))
                        .as(sql)
                        .isInstanceOfSatisfying(TarnException.class, e -> assertThat(e.code())
                                .isEqualTo(ErrorCode.STATEMENT_NOT_ALLOWED))
                        .hasMessage("a query must be one SELECT (or WITH ... SELECT) statement over lake tables");
            }
        }
        assertThatThrownBy(() -> query.query("SELECT 1; SELECT 2", 10))
                .hasMessage("a query must be exactly one statement, got 2");
        assertThatThrownBy(() -> query.query("SELEC 1", 10))
                .isInstanceOfSatisfying(
                        TarnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_SQL))
                .hasMessage("query does not parse: syntax error at or near \"SELEC\"");
        assertNothingWritten();
    }

    @Test
    void craftedNamesAreIdentifiersNotSql() throws IOException {
        QueryResult empty = query.query("SELECT * FROM lake.web.crafted_empty", 10);
        assertThat(empty.columns()).containsExactly("id", owned(CRAFTED));
        assertThat(empty.rows()).isEmpty();
        // Iceberg writes a name Avro cannot hold under a sanitized one in Parquet; the fast path reads columns by
        // field id, so the table reads with its deletes applied and the name is never run as SQL
        QueryResult deletes = query.query("SELECT id FROM lake.web.crafted_deletes ORDER BY id", 20);
        assertThat(deletes.rows())
                .containsExactly(
                        List.of(1L),
                        List.of(2L),
                        List.of(4L),
                        List.of(5L),
                        List.of(6L),
                        List.of(7L),
                        List.of(8L),
                        List.of(9L),
                        List.of(10L));
        String table = "lake.\"%s\".\"%s\""
                .formatted(owned("n\"s").replace("\"", "\"\""), owned("t\"").replace("\"", "\"\""));
        assertThat(query.query("SELECT count(*) FROM " + table, 1).rows()).containsExactly(List.of(0L));
        assertNothingWritten();
    }

    @Test
    void onlyLakeTablesCanBeRead() throws IOException {
        String other = LakeQuery.literal(URI.create(otherFile.location()).getPath());
        Map<String, String> functions = Map.of(
                "SELECT count(*) FROM read_parquet(%s)".formatted(other),
                "read_parquet",
                "SELECT count(*) FROM lake.web.visits, read_parquet(%s)".formatted(other),
                "read_parquet",
                "SELECT count(*) FROM read_text('%s/**')".formatted(warehouse),
                "read_text",
                "SELECT count(*) FROM read_blob('%s')".formatted(dir.resolve("catalog.db")),
                "read_blob",
                "SELECT (SELECT count(*) FROM read_csv('/etc/passwd'))",
                "read_csv",
                "SELECT * FROM query('COPY (SELECT 42) TO ''%s''')".formatted(dir.resolve("copied.csv")),
                "query",
                "SELECT * FROM duckdb_settings()",
                "duckdb_settings",
                "SELECT * FROM glob('%s/**')".formatted(warehouse),
                "glob");
        functions.forEach((sql, function) -> assertThatThrownBy(() -> query.query(sql, 10))
                .as(sql)
                .isInstanceOfSatisfying(
                        TarnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.STATEMENT_NOT_ALLOWED))
                .hasMessage(
                        "a query may read lake tables only: table function '%s' is not allowed (allowed:"
                                + " generate_series, range, unnest)",
                        function));
        for (String sql : List.of(
                "SELECT count(*) FROM %s".formatted(other),
                "SELECT count(*) FROM lake.web.visits JOIN %s USING (id)".formatted(other),
                "SELECT count(*) FROM memory.main.anything",
                "SELECT count(*) FROM system.main.duckdb_tables")) {
            assertThatThrownBy(() -> query.query(sql, 10))
                    .as(sql)
                    .isInstanceOfSatisfying(
                            TarnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.TABLE_NOT_FOUND))
                    .hasMessageEndingWith(
                            "does not exist (lake tables are named lake.<namespace>.<table>; GET /v1/tables lists them)");
        }
        assertThat(query.query("SELECT count(*) FROM lake.web.other", 1).rows()).containsExactly(List.of(5L));
        assertThat(query.query("SELECT count(*) FROM range(7)", 1).rows()).containsExactly(List.of(7L));
        assertNothingWritten();
    }

    @Test
    void aQueryIsCancelledAtItsTimeout() {
        LakeQuery quick = new LakeQuery(
                catalog,
                warehouse.toString(),
                dir.resolve("spill"),
                new LakeQuery.Limits(64L << 20, Duration.ofSeconds(1), 1 << 20));
        long start = System.nanoTime();
        assertThatThrownBy(() -> quick.query("SELECT count(*) FROM range(100000000000) t(x) WHERE x % 7 = 3", 1))
                .isInstanceOfSatisfying(
                        TarnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.QUERY_TIMEOUT))
                .hasMessage("query ran longer than query.timeout (1s) and was cancelled");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(30));
    }

    @Test
    void anAnswerIsCutOffAtItsSizeCap() {
        LakeQuery capped = new LakeQuery(
                catalog,
                warehouse.toString(),
                dir.resolve("spill"),
                new LakeQuery.Limits(64L << 20, Duration.ofSeconds(60), 1_000));
        // each row is one value of 100 characters, counted as 102 bytes: nine rows fit in 1,000 bytes, ten do not
        QueryResult result = capped.query("SELECT repeat('x', 100) AS s FROM range(100)", 1_000);
        assertThat(result.rows()).hasSize(9);
        assertThat(result.truncated()).isTrue();
        QueryResult small = capped.query("SELECT repeat('x', 100) AS s FROM range(9)", 1_000);
        assertThat(small.rows()).hasSize(9);
        assertThat(small.truncated()).isFalse();
    }

    private static void assertNothingWritten() throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .noneMatch(name -> name.startsWith("owned")
                            || name.startsWith("copied")
                            || name.startsWith("attached")
                            || name.equals("export")
                            || name.endsWith(".db") && !name.equals("catalog.db"));
        }
        assertThat(catalog.listTables()).doesNotContain("web.made");
    }
}
