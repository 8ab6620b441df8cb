package io.tarn.lake;

import static java.util.Objects.requireNonNull;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.io.Directories;
import io.tarn.core.query.QueryResult;
import io.tarn.core.sql.SqlScript;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * Lake SQL's fast path: Iceberg plans which data files make up each referenced table's current snapshot, and an
 * in-memory DuckDB runs the query over exactly those Parquet files.
 *
 * <p>Each query gets its own DuckDB instance in which {@code lake.<namespace>.<table>} are views over
 * {@code read_parquet} of the planned files, so the user's SQL runs unchanged. A table whose snapshot has delete files
 * (upsert tables) is read with them applied by anti-joins against the delete files, under Iceberg's sequence number
 * and partition rules ({@link TablePlan}); deletion vectors (format v3) are refused here. The DuckDB instance may read
 * only the warehouse: external access, extension loading and configuration changes are locked before the user's SQL
 * runs, and only a single SELECT (or WITH … SELECT) statement is accepted. Its memory is limited (DuckDB's own default
 * is 80 % of the machine's, per instance); operators that can spill write to a directory of the query's own.
 */
public final class LakeQuery {
    private static final Pattern TABLE_REFERENCE = Pattern.compile(
            "(?i)(?<![\\w.\"`])lake\\s*\\.\\s*\"?([A-Za-z_][\\w]*)\"?\\s*\\.\\s*\"?([A-Za-z_][\\w]*)\"?");

    private final LakeCatalog catalog;
    private final String warehouseRoot;
    private final long memoryLimitBytes;
    private final Path spillRoot;

    /**
     * @param memoryLimitBytes memory one query's DuckDB may use; beyond it, operators that can spill to disk do so
     *     and others fail the query
     * @param spillRoot directory under which each query spills into a directory of its own, deleted after it
     */
    public LakeQuery(LakeCatalog catalog, String warehouseRoot, long memoryLimitBytes, Path spillRoot) {
        this.catalog = requireNonNull(catalog, "catalog is null");
        this.warehouseRoot = requireNonNull(warehouseRoot, "warehouseRoot is null");
        this.memoryLimitBytes = memoryLimitBytes;
        this.spillRoot = requireNonNull(spillRoot, "spillRoot is null");
    }

    /**
     * Runs one read-only query over lake tables.
     *
     * @param maxRows rows to return at most; more set {@link QueryResult#truncated()}
     * @throws TarnException {@link ErrorCode#INVALID_SQL} for anything but one SELECT, {@link ErrorCode#TABLE_NOT_FOUND}
     *     for an unknown table, {@link ErrorCode#UNSUPPORTED_QUERY} for a table with deletion vectors, and
     *     {@link ErrorCode#QUERY_FAILED} with DuckDB's message when the query itself fails
     */
    public QueryResult query(String sql, int maxRows) {
        String statement = SqlScript.singleQuery(requireNonNull(sql, "sql is null"));
        Map<String, TablePlan> plans = new LinkedHashMap<>();
        for (String name : referencedTables(statement)) {
            plans.put(name, TablePlan.of(name, catalog.load(name)));
        }
        Path spill = spillRoot.resolve(UUID.randomUUID().toString());
        try {
            Files.createDirectories(spillRoot);
        } catch (IOException e) {
            throw new UncheckedIOException("query spill directory cannot be created", e);
        }
        try (Connection connection = DriverManager.getConnection("jdbc:duckdb:");
                Statement duck = connection.createStatement()) {
            duck.execute("SET autoinstall_known_extensions = false");
            duck.execute("SET autoload_known_extensions = false");
            duck.execute("SET memory_limit = '%dKiB'".formatted(Math.max(1, memoryLimitBytes / 1024)));
            duck.execute("SET temp_directory = '" + escape(spill.toString()) + "'");
            duck.execute("ATTACH ':memory:' AS lake");
            int n = 0;
            for (Map.Entry<String, TablePlan> plan : plans.entrySet()) {
                createView(connection, duck, plan.getKey(), plan.getValue(), n++);
            }
            duck.execute("SET allowed_directories = ['" + escape(warehouseRoot) + "']");
            duck.execute("SET enable_external_access = false");
            duck.execute("SET lock_configuration = true");
            try (ResultSet rs = duck.executeQuery(statement)) {
                return read(rs, maxRows);
            }
        } catch (SQLException e) {
            String message = cleanMessage(e);
            if (message.contains("Out of Memory")) {
                throw new TarnException(
                        ErrorCode.QUERY_FAILED,
                        "query failed: it needs more memory than query.memory-limit (%d MiB) allows, even spilling to disk: %s"
                                .formatted(memoryLimitBytes >> 20, message),
                        e);
            }
            throw new TarnException(ErrorCode.QUERY_FAILED, "query failed: " + message, e);
        } finally {
            Directories.deleteRecursively(spill);
        }
    }

    /** Lake tables named in the statement as {@code lake.namespace.table}, as {@code namespace.table}. */
    static Set<String> referencedTables(String sql) {
        Set<String> names = new LinkedHashSet<>();
        Matcher matcher = TABLE_REFERENCE.matcher(sql);
        while (matcher.find()) {
            names.add(matcher.group(1).toLowerCase(Locale.ROOT) + "."
                    + matcher.group(2).toLowerCase(Locale.ROOT));
        }
        return names;
    }

    private static void createView(Connection connection, Statement duck, String name, TablePlan plan, int n)
            throws SQLException {
        String[] parts = name.split("\\.");
        duck.execute("CREATE SCHEMA IF NOT EXISTS lake.\"" + parts[0] + "\"");
        String view = "lake.\"" + parts[0] + "\".\"" + parts[1] + "\"";
        String source;
        if (plan.dataFiles().isEmpty()) {
            source = "SELECT "
                    + plan.schema().columns().stream()
                            .map(f -> "CAST(NULL AS " + duckType(f.type()) + ") AS \"" + f.name() + "\"")
                            .collect(Collectors.joining(", "))
                    + " WHERE false";
        } else if (!plan.hasDeletes()) {
            source = "SELECT * FROM read_parquet([" + fileList(plan.dataFiles()) + "], union_by_name = true)";
        } else {
            source = deleteAwareSource(connection, duck, plan, n);
        }
        duck.execute("CREATE VIEW " + view + " AS " + source);
    }

    /**
     * A table's rows with its delete files applied as Iceberg defines them: a position delete removes the row at that
     * position of that data file (if the delete is not older than the file); an equality delete removes the rows of
     * older data files ({@code data sequence number < the delete's}) in the same partition — or in every partition
     * when the delete's spec is unpartitioned — whose equality columns equal the delete's, nulls included.
     */
    private static String deleteAwareSource(Connection connection, Statement duck, TablePlan plan, int n)
            throws SQLException {
        String files = "__tarn_files_" + n;
        String deletes = "__tarn_deletes_" + n;
        duck.execute("CREATE TABLE " + files + " (path VARCHAR, location VARCHAR, seq BIGINT, part VARCHAR)");
        duck.execute("CREATE TABLE " + deletes + " (path VARCHAR, seq BIGINT, part VARCHAR)");
        try (var insert = connection.prepareStatement("INSERT INTO " + files + " VALUES (?, ?, ?, ?)")) {
            for (TablePlan.DataFileInfo file : plan.dataFileInfos()) {
                insert.setString(1, file.path());
                insert.setString(2, file.location());
                insert.setLong(3, file.sequence());
                insert.setString(4, file.partition());
                insert.addBatch();
            }
            insert.executeBatch();
        }
        try (var insert = connection.prepareStatement("INSERT INTO " + deletes + " VALUES (?, ?, ?)")) {
            for (TablePlan.DeleteFileInfo delete : plan.deleteFileInfos()) {
                insert.setString(1, delete.path());
                insert.setLong(2, delete.sequence());
                insert.setString(3, delete.partition()); // null: applies to every partition
                insert.addBatch();
            }
            insert.executeBatch();
        }
        StringBuilder source = new StringBuilder(
                        "SELECT t.* EXCLUDE (\"__tarn_file\", file_row_number) FROM read_parquet([")
                .append(fileList(plan.dataFiles()))
                .append("], union_by_name = true, filename = '__tarn_file', file_row_number = true) AS t JOIN ")
                .append(files)
                .append(" AS f ON f.path = t.\"__tarn_file\" WHERE true");
        if (!plan.positionDeletes().isEmpty()) {
            source.append(" AND NOT EXISTS (SELECT 1 FROM read_parquet([")
                    .append(fileList(plan.positionDeletes()))
                    .append("], filename = '__tarn_file') AS p JOIN ")
                    .append(deletes)
                    .append(" AS m ON m.path = p.\"__tarn_file\" WHERE p.file_path = f.location")
                    .append(" AND p.pos = t.file_row_number AND m.seq >= f.seq)");
        }
        for (Map.Entry<List<String>, List<String>> group :
                plan.equalityDeletes().entrySet()) {
            String columns = group.getKey().stream().map(c -> "d.\"" + c + "\"").collect(Collectors.joining(", "));
            source.append(" AND NOT EXISTS (SELECT 1 FROM (SELECT ")
                    .append(columns)
                    .append(", d.\"__tarn_file\" FROM read_parquet([")
                    .append(fileList(group.getValue()))
                    .append("], union_by_name = true, filename = '__tarn_file') AS d) AS d JOIN ")
                    .append(deletes)
                    .append(" AS m ON m.path = d.\"__tarn_file\" WHERE m.seq > f.seq")
                    .append(" AND (m.part IS NULL OR m.part = f.part)");
            for (String column : group.getKey()) {
                source.append(" AND d.\"")
                        .append(column)
                        .append("\" IS NOT DISTINCT FROM t.\"")
                        .append(column)
                        .append("\"");
            }
            source.append(")");
        }
        return source.toString();
    }

    private static String fileList(List<String> paths) {
        return paths.stream().map(f -> "'" + escape(f) + "'").collect(Collectors.joining(", "));
    }

    static String duckType(Type type) {
        return switch (type.typeId()) {
            case BOOLEAN -> "BOOLEAN";
            case INTEGER -> "INTEGER";
            case LONG -> "BIGINT";
            case FLOAT -> "FLOAT";
            case DOUBLE -> "DOUBLE";
            case DATE -> "DATE";
            case TIME -> "TIME";
            case TIMESTAMP -> ((Types.TimestampType) type).shouldAdjustToUTC() ? "TIMESTAMPTZ" : "TIMESTAMP";
            case STRING -> "VARCHAR";
            case UUID -> "UUID";
            case BINARY, FIXED -> "BLOB";
            case DECIMAL ->
                "DECIMAL(%d,%d)".formatted(((Types.DecimalType) type).precision(), ((Types.DecimalType) type).scale());
            default -> "VARCHAR";
        };
    }

    private static QueryResult read(ResultSet rs, int maxRows) throws SQLException {
        ResultSetMetaData meta = rs.getMetaData();
        List<String> columns = new ArrayList<>();
        for (int i = 1; i <= meta.getColumnCount(); i++) {
            columns.add(meta.getColumnLabel(i));
        }
        List<List<Object>> rows = new ArrayList<>();
        boolean truncated = false;
        while (rs.next()) {
            if (rows.size() == maxRows) {
                truncated = true;
                break;
            }
            List<Object> row = new ArrayList<>(columns.size());
            for (int i = 1; i <= columns.size(); i++) {
                row.add(jsonValue(rs.getObject(i)));
            }
            rows.add(row);
        }
        return new QueryResult(columns, rows, truncated, "duckdb");
    }

    /** A JDBC value as a JSON-ready one: numbers, booleans and strings stay; temporal values become ISO-8601 text. */
    static Object jsonValue(Object value) throws SQLException {
        if (value == null || value instanceof String || value instanceof Boolean) {
            return value;
        }
        if (value instanceof BigInteger || value instanceof BigDecimal || value instanceof Number) {
            return value;
        }
        if (value instanceof java.sql.Timestamp timestamp) {
            return timestamp.toLocalDateTime().format(java.time.format.DateTimeFormatter.ISO_LOCAL_DATE_TIME);
        }
        if (value instanceof java.time.LocalDateTime local) {
            return local.format(java.time.format.DateTimeFormatter.ISO_LOCAL_DATE_TIME);
        }
        if (value instanceof java.sql.Date date) {
            return date.toLocalDate().toString();
        }
        if (value instanceof java.sql.Time time) {
            return time.toLocalTime().toString();
        }
        if (value instanceof byte[] bytes) {
            return Base64.getEncoder().encodeToString(bytes);
        }
        if (value instanceof java.sql.Array array) {
            List<Object> items = new ArrayList<>();
            for (Object item : (Object[]) array.getArray()) {
                items.add(jsonValue(item));
            }
            return items;
        }
        if (value instanceof java.sql.Blob blob) {
            return Base64.getEncoder().encodeToString(blob.getBytes(1, (int) blob.length()));
        }
        return value.toString();
    }

    private static String escape(String text) {
        return text.replace("'", "''");
    }

    /** DuckDB's message without internal file paths of the warehouse and the spill directory. */
    private String cleanMessage(SQLException e) {
        String message = e.getMessage() == null ? "unknown error" : e.getMessage();
        return message.replace(warehouseRoot, "<warehouse>")
                .replace(spillRoot.toString(), "<spill>")
                .strip();
    }
}
