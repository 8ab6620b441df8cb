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
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * Lake SQL's fast path: Iceberg plans which data files make up each referenced table's current snapshot, and an
 * in-memory DuckDB runs the query over exactly those Parquet files.
 *
 * <p>Each query gets its own DuckDB instance in which {@code lake.<namespace>.<table>} are views over
 * {@code read_parquet} of the planned files, so the user's SQL runs unchanged. DuckDB ignores Iceberg delete files,
 * so a table whose snapshot has any is refused here (the Flink engine reads it correctly). The DuckDB instance may read
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
     *     for an unknown table, {@link ErrorCode#UNSUPPORTED_QUERY} for a table with delete files, and
     *     {@link ErrorCode#QUERY_FAILED} with DuckDB's message when the query itself fails
     */
    public QueryResult query(String sql, int maxRows) {
        String statement = SqlScript.singleQuery(requireNonNull(sql, "sql is null"));
        Map<String, List<String>> files = new LinkedHashMap<>();
        Map<String, Schema> schemas = new LinkedHashMap<>();
        for (String name : referencedTables(statement)) {
            Table table = catalog.load(name);
            schemas.put(name, table.schema());
            files.put(name, plannedFiles(name, table));
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
            for (String name : files.keySet()) {
                createView(duck, name, schemas.get(name), files.get(name));
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

    private static List<String> plannedFiles(String name, Table table) {
        List<String> paths = new ArrayList<>();
        try (CloseableIterable<FileScanTask> tasks = table.newScan().planFiles()) {
            for (FileScanTask task : tasks) {
                if (!task.deletes().isEmpty()) {
                    throw new TarnException(
                            ErrorCode.UNSUPPORTED_QUERY,
                            ("lake table '%s' has delete files (upserts or deletes); the fast query path cannot apply"
                                            + " them yet: run the query with \"engine\": \"flink\"")
                                    .formatted(name));
                }
                paths.add(localPath(task.file().location()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return paths;
    }

    private static String localPath(String location) {
        return location.startsWith("file:") ? java.net.URI.create(location).getPath() : location;
    }

    private static void createView(Statement duck, String name, Schema schema, List<String> files) throws SQLException {
        String[] parts = name.split("\\.");
        duck.execute("CREATE SCHEMA IF NOT EXISTS lake.\"" + parts[0] + "\"");
        String view = "lake.\"" + parts[0] + "\".\"" + parts[1] + "\"";
        String source;
        if (files.isEmpty()) {
            source = "SELECT "
                    + schema.columns().stream()
                            .map(f -> "CAST(NULL AS " + duckType(f.type()) + ") AS \"" + f.name() + "\"")
                            .collect(Collectors.joining(", "))
                    + " WHERE false";
        } else {
            String list = files.stream().map(f -> "'" + escape(f) + "'").collect(Collectors.joining(", "));
            source = "SELECT * FROM read_parquet([" + list + "], union_by_name = true)";
        }
        duck.execute("CREATE VIEW " + view + " AS " + source);
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
