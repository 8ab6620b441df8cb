package io.tarn.lake;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tarn.core.config.ConfigKeys;
import io.tarn.core.config.TarnConfig;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.io.Directories;
import io.tarn.core.query.QueryEngine;
import io.tarn.core.query.QueryResult;
import io.tarn.core.query.QueryValues;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.iceberg.catalog.TableIdentifier;

/**
 * Lake SQL's fast path: Iceberg plans which data files make up each referenced table's current snapshot, and an
 * in-memory DuckDB runs the query over exactly those Parquet files.
 *
 * <p>The sandbox, in this order: DuckDB's own parser ({@code json_serialize_sql}, given the query as a bound value)
 * decides that the query is exactly one SELECT and names the lake tables it reads; Iceberg plans those tables' files;
 * the DuckDB instance is then locked — it may read those files and nothing else ({@code allowed_paths}), no extension
 * is loaded, no setting can change — and only then are the views {@code lake.<namespace>.<table>} created (every
 * identifier quoted, every path a literal) and the query run unchanged, with a time limit, a memory limit (spilling to
 * a directory of its own) and caps on the rows and bytes it returns. A table whose snapshot has delete files (upsert
 * tables) is read with them applied by anti-joins against the delete files, under Iceberg's sequence number and
 * partition rules ({@link TablePlan}); deletion vectors (format v3) are refused here.
 *
 * <p>Size: the sandbox is one sequence (classify, plan, lock, create views, run) whose steps protect each other; it
 * stays in one class so that its order is read in one place ({@link TablePlan} holds the delete-file rules).
 */
public final class LakeQuery implements QueryEngine {
    /** This engine's name in requests and answers. */
    public static final String ENGINE = "duckdb";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final LakeCatalog catalog;
    private final String warehouseRoot;
    private final Path spillRoot;
    private final Limits limits;

    /**
     * What one query may take.
     *
     * @param memoryLimitBytes memory its DuckDB may use; beyond it, operators that can spill to disk do so and others
     *     fail the query
     * @param timeout how long it may run before it is cancelled
     * @param maxResultBytes roughly how many bytes of values its answer may hold; later rows are cut off
     */
    public record Limits(long memoryLimitBytes, Duration timeout, long maxResultBytes) {
        public Limits {
            requireNonNull(timeout, "timeout is null");
        }

        /** The limits of Tarn's configuration ({@code query.*}). */
        public static Limits from(TarnConfig config) {
            return new Limits(
                    config.get(ConfigKeys.QUERY_MEMORY_LIMIT),
                    config.get(ConfigKeys.QUERY_TIMEOUT),
                    config.get(ConfigKeys.QUERY_MAX_RESULT_BYTES));
        }
    }

    /**
     * @param spillRoot directory under which each query spills into a directory of its own, deleted after it
     */
    public LakeQuery(LakeCatalog catalog, String warehouseRoot, Path spillRoot, Limits limits) {
        this.catalog = requireNonNull(catalog, "catalog is null");
        this.warehouseRoot = requireNonNull(warehouseRoot, "warehouseRoot is null");
        this.spillRoot = requireNonNull(spillRoot, "spillRoot is null");
        this.limits = requireNonNull(limits, "limits is null");
    }

    /** A fast path with a memory limit, a 60 s timeout and answers of at most 64 MiB. */
    public LakeQuery(LakeCatalog catalog, String warehouseRoot, long memoryLimitBytes, Path spillRoot) {
        this(catalog, warehouseRoot, spillRoot, new Limits(memoryLimitBytes, Duration.ofSeconds(60), 64L << 20));
    }

    @Override
    public String name() {
        return ENGINE;
    }

    /**
     * Runs one read-only query over lake tables.
     *
     * @param maxRows rows to return at most; more set {@link QueryResult#truncated()}
     * @throws TarnException {@link ErrorCode#STATEMENT_NOT_ALLOWED} for anything but one SELECT,
     *     {@link ErrorCode#INVALID_SQL} when DuckDB cannot parse or bind it (a misspelt column, a wrong type),
     *     {@link ErrorCode#TABLE_NOT_FOUND} for an unknown table (with the lake table's name when it was meant),
     *     {@link ErrorCode#UNSUPPORTED_QUERY} for a table with deletion vectors, {@link ErrorCode#QUERY_TIMEOUT} past
     *     the time limit, and {@link ErrorCode#QUERY_FAILED} when DuckDB itself fails
     */
    @Override
    public QueryResult query(String sql, int maxRows) {
        return overLake(sql, connection -> {
            try (Statement duck = connection.createStatement()) {
                duck.setQueryTimeout((int) Math.max(1, (limits.timeout().toMillis() + 999) / 1000));
                try (ResultSet rs = duck.executeQuery(sql)) {
                    return read(rs, maxRows, limits.maxResultBytes());
                }
            }
        });
    }

    /**
     * The names DuckDB gives the columns of a query's answer, from its plan (nothing is read): e.g. {@code
     * count_star()} for an unnamed {@code count(*)}.
     *
     * @throws TarnException as {@link #query} does
     */
    public List<String> columnNames(String sql) {
        return overLake(sql, connection -> {
            try (PreparedStatement prepared = connection.prepareStatement(sql)) {
                ResultSetMetaData meta = prepared.getMetaData();
                List<String> names = new ArrayList<>(meta.getColumnCount());
                for (int i = 1; i <= meta.getColumnCount(); i++) {
                    names.add(meta.getColumnLabel(i));
                }
                return names;
            }
        });
    }

    private interface OverLake<T> {
        T apply(Connection connection) throws SQLException;
    }

    /** Runs work on a DuckDB connection where the lake tables a query names are views over their current files. */
    private <T> T overLake(String sql, OverLake<T> work) {
        requireNonNull(sql, "sql is null");
        Path spill = spillRoot.resolve(UUID.randomUUID().toString());
        try {
            Files.createDirectories(spillRoot);
        } catch (IOException e) {
            throw new UncheckedIOException("query spill directory cannot be created", e);
        }
        try (Connection connection = DriverManager.getConnection("jdbc:duckdb:")) {
            execute(connection, "SET autoinstall_known_extensions = false");
            execute(connection, "SET autoload_known_extensions = false");
            execute(connection, "SET memory_limit = '%dKiB'".formatted(Math.max(1, limits.memoryLimitBytes() / 1024)));
            execute(connection, "SET temp_directory = " + literal(spill.toString()));
            Map<String, TablePlan> plans = new LinkedHashMap<>();
            JsonNode tree = parse(connection, sql);
            requireLakeNames(tree);
            for (String name : referencedTables(tree)) {
                plans.put(name, TablePlan.of(name, catalog.load(name)));
            }
            lock(connection, plans.values());
            execute(connection, "ATTACH ':memory:' AS lake");
            for (Map.Entry<String, TablePlan> plan : plans.entrySet()) {
                createView(connection, plan.getKey(), plan.getValue());
            }
            return work.apply(connection);
        } catch (SQLException e) {
            throw classify(e);
        } finally {
            Directories.deleteRecursively(spill);
        }
    }

    /**
     * The rows a table holds now, its delete files applied: what {@code SELECT count(*)} answers.
     *
     * @param table {@code namespace.table}
     * @throws TarnException as {@link #query} does, {@link ErrorCode#INVALID_NAME} for a malformed name
     */
    public long liveRows(String table) {
        TableIdentifier identifier = LakeCatalog.identifier(table);
        String sql = "SELECT count(*) FROM lake.%s.%s"
                .formatted(quote(identifier.namespace().level(0)), quote(identifier.name()));
        return ((Number) query(sql, 1).rows().get(0).get(0)).longValue();
    }

    /**
     * DuckDB's error as Tarn's: what the query got wrong is the user's (400, or 404 for a table that does not exist),
     * what ran out is a resource (503), anything else DuckDB's (502). DuckDB names the class of an error first
     * ({@code Binder Error: …}).
     */
    private TarnException classify(SQLException e) {
        String message = cleanMessage(e);
        int colon = message.indexOf(':');
        String kind = colon < 0 ? "" : message.substring(0, colon);
        return switch (kind) {
            case "INTERRUPT Error" ->
                new TarnException(
                        ErrorCode.QUERY_TIMEOUT,
                        "query ran longer than query.timeout (%s) and was cancelled"
                                .formatted(ConfigKeys.text(limits.timeout())),
                        e);
            case "Out of Memory Error" ->
                new TarnException(
                        ErrorCode.QUERY_FAILED,
                        "query failed: it needs more memory than query.memory-limit (%d MiB) allows, even spilling to disk: %s"
                                .formatted(limits.memoryLimitBytes() >> 20, message),
                        e);
            case "Catalog Error" ->
                new TarnException(
                        ErrorCode.TABLE_NOT_FOUND,
                        message + " (lake tables are named lake.<namespace>.<table>; GET /v1/tables lists them)",
                        e);
            case "Permission Error" ->
                new TarnException(ErrorCode.STATEMENT_NOT_ALLOWED, "a query may read lake tables only: " + message, e);
            case "Parser Error",
                    "Binder Error",
                    "Conversion Error",
                    "Invalid Input Error",
                    "Out of Range Error",
                    "Not implemented Error",
                    "Constraint Error",
                    "Syntax Error" -> new TarnException(ErrorCode.INVALID_SQL, "query is not valid: " + message, e);
            default -> new TarnException(ErrorCode.QUERY_FAILED, "query failed: " + message, e);
        };
    }

    /**
     * Tables a query names without {@code lake.} that are lake tables by their other names: the user meant those.
     *
     * @throws TarnException {@link ErrorCode#TABLE_NOT_FOUND} with the lake table's name as a hint
     */
    private void requireLakeNames(JsonNode tree) {
        Set<String> ctes = new LinkedHashSet<>();
        collectCteNames(tree, ctes);
        List<JsonNode> unqualified = new ArrayList<>();
        collectUnqualifiedTables(tree, unqualified);
        if (unqualified.isEmpty()) {
            return;
        }
        List<String> lakeTables = catalog.listTables();
        for (JsonNode table : unqualified) {
            String schema = table.path("schema_name").asText().toLowerCase(Locale.ROOT);
            String name = table.path("table_name").asText().toLowerCase(Locale.ROOT);
            if (schema.isEmpty() && ctes.contains(name)) {
                continue;
            }
            List<String> meant = lakeTables.stream()
                    .filter(t -> schema.isEmpty() ? t.endsWith("." + name) : t.equals(schema + "." + name))
                    .map(t -> LakeCatalog.NAME + "." + t)
                    .toList();
            if (!meant.isEmpty()) {
                String written = schema.isEmpty() ? name : schema + "." + name;
                throw new TarnException(
                        ErrorCode.TABLE_NOT_FOUND,
                        "table '%s' does not exist; lake tables are named lake.<namespace>.<table>: did you mean %s?"
                                .formatted(written, String.join(" or ", meant)));
            }
        }
    }

    private static void collectCteNames(JsonNode node, Set<String> names) {
        if (node.isObject() && node.has("cte_map")) {
            node.path("cte_map")
                    .path("map")
                    .forEach(entry -> names.add(entry.path("key").asText().toLowerCase(Locale.ROOT)));
        }
        node.forEach(child -> collectCteNames(child, names));
    }

    private static void collectUnqualifiedTables(JsonNode node, List<JsonNode> tables) {
        if (node.isObject()
                && node.path("type").asText().equals("BASE_TABLE")
                && node.path("catalog_name").asText().isEmpty()) {
            tables.add(node);
        }
        node.forEach(child -> collectUnqualifiedTables(child, tables));
    }

    /**
     * DuckDB's own parse of the query, as its JSON syntax tree: one statement, and a SELECT.
     *
     * @throws TarnException {@link ErrorCode#INVALID_SQL} when it does not parse, {@link ErrorCode#STATEMENT_NOT_ALLOWED}
     *     when it is not exactly one SELECT
     */
    static JsonNode parse(Connection connection, String sql) throws SQLException {
        JsonNode tree;
        try (PreparedStatement serialize = connection.prepareStatement("SELECT json_serialize_sql(?)")) {
            serialize.setString(1, sql);
            try (ResultSet rs = serialize.executeQuery()) {
                rs.next();
                tree = JSON.readTree(rs.getString(1));
            } catch (IOException e) {
                throw new IllegalStateException("DuckDB answered unreadable JSON for a syntax tree", e);
            }
        }
        if (tree.path("error").asBoolean(false)) {
            if (tree.path("error_type").asText().equals("parser")) {
                throw new TarnException(
                        ErrorCode.INVALID_SQL,
                        "query does not parse: " + tree.path("error_message").asText());
            }
            throw new TarnException(
                    ErrorCode.STATEMENT_NOT_ALLOWED,
                    "a query must be one SELECT (or WITH ... SELECT) statement over lake tables");
        }
        int statements = tree.path("statements").size();
        if (statements != 1) {
            throw new TarnException(
                    ErrorCode.STATEMENT_NOT_ALLOWED, "a query must be exactly one statement, got " + statements);
        }
        return tree;
    }

    /** Lake tables a parsed query reads ({@code lake.namespace.table} anywhere in it), as {@code namespace.table}. */
    static Set<String> referencedTables(JsonNode tree) {
        Set<String> names = new LinkedHashSet<>();
        collectTables(tree, names);
        return names;
    }

    private static void collectTables(JsonNode node, Set<String> names) {
        if (node.isObject()
                && node.path("type").asText().equals("BASE_TABLE")
                && node.path("catalog_name").asText().equalsIgnoreCase(LakeCatalog.NAME)) {
            String namespace = node.path("schema_name").asText();
            String table = node.path("table_name").asText();
            if (namespace.contains(".") || table.contains(".") || namespace.isEmpty()) {
                throw new TarnException(
                        ErrorCode.INVALID_NAME,
                        "lake table name '%s.%s' must be of the form lake.namespace.table".formatted(namespace, table));
            }
            names.add(namespace.toLowerCase(Locale.ROOT) + "." + table.toLowerCase(Locale.ROOT));
        }
        node.forEach(child -> collectTables(child, names));
    }

    /** From here on DuckDB reads the planned files and nothing else, loads nothing and changes no setting. */
    private static void lock(Connection connection, Collection<TablePlan> plans) throws SQLException {
        List<String> files = new ArrayList<>();
        plans.forEach(plan -> files.addAll(plan.files()));
        execute(connection, "SET allowed_paths = [" + ScanSql.fileList(files) + "]");
        execute(connection, "SET enable_external_access = false");
        execute(connection, "SET lock_configuration = true");
    }

    private static void execute(Connection connection, String sql) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            statement.execute(sql);
        }
    }

    private static void createView(Connection connection, String name, TablePlan plan) throws SQLException {
        String[] parts = name.split("\\.");
        execute(connection, "CREATE SCHEMA IF NOT EXISTS lake." + quote(parts[0]));
        String view = LakeCatalog.NAME + "." + quote(parts[0]) + "." + quote(parts[1]);
        execute(connection, "CREATE VIEW " + view + " AS " + ScanSql.rows(plan));
    }

    private static String quote(String identifier) {
        return ScanSql.quote(identifier);
    }

    static String literal(String text) {
        return ScanSql.literal(text);
    }

    private static QueryResult read(ResultSet rs, int maxRows, long maxBytes) throws SQLException {
        ResultSetMetaData meta = rs.getMetaData();
        List<String> columns = new ArrayList<>();
        for (int i = 1; i <= meta.getColumnCount(); i++) {
            columns.add(meta.getColumnLabel(i));
        }
        QueryResult.Collector answer = new QueryResult.Collector(columns, maxRows, maxBytes, ENGINE);
        boolean more = true;
        while (more && rs.next()) {
            List<Object> row = new ArrayList<>(columns.size());
            for (int i = 1; i <= columns.size(); i++) {
                row.add(QueryValues.json(rs.getObject(i)));
            }
            more = answer.add(row);
        }
        return answer.result();
    }

    /** DuckDB's message without internal file paths of the warehouse and the spill directory. */
    private String cleanMessage(SQLException e) {
        String message = e.getMessage() == null ? "unknown error" : e.getMessage();
        return message.replace(warehouseRoot, "<warehouse>")
                .replace(spillRoot.toString(), "<spill>")
                .strip();
    }
}
