package io.tarn.lake;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tarn.core.config.ConfigKeys;
import io.tarn.core.config.TarnConfig;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.io.Directories;
import io.tarn.core.query.QueryEngine;
import io.tarn.core.query.QueryResult;
import io.tarn.core.query.QueryValues;
import io.tarn.core.sql.TableGuard;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.NoSuchTableException;
import org.apache.iceberg.exceptions.ValidationException;
import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.expressions.Expressions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lake SQL's fast path: Iceberg plans which data files make up each referenced table's current snapshot, and DuckDB
 * runs the query over exactly those Parquet files.
 *
 * <p>The sandbox: DuckDB instances are kept across queries, each locked once when it is made — it may read files under
 * the warehouse and nothing else ({@code allowed_directories}), no extension is loaded, no setting can change — with a
 * memory limit (spilling to a directory of its own). For each query, DuckDB's own parser ({@code json_serialize_sql},
 * given the query as a bound value) decides that it is exactly one SELECT, that every table it reads is a lake table
 * {@code lake.<namespace>.<table>}, a live table {@code live.<name>} ({@link LiveSql}) or a name its own WITH defines,
 * and that it calls no table function but {@code range}, {@code generate_series} and {@code unnest}: a query can name
 * no file. Each table's plan is cached per snapshot and turned into a view (every identifier quoted, every path a
 * literal, columns read by field id, delete files applied by {@link ScanSql}); an instance replaces its view of a table
 * when the table has a new snapshot. A fresh read adds the table's topic after its snapshot's seam ({@link Seams}). The
 * query then runs unchanged, with a time limit and caps on the rows and bytes it returns.
 *
 * <p>Size: the sandbox is one sequence (classify, plan, view, run) whose steps protect each other; it stays in one
 * class so that its order is read in one place ({@link TablePlan} and {@link ScanSql} hold the Iceberg rules).
 */
public final class LakeQuery implements QueryEngine, AutoCloseable {
    /** This engine's name in requests and answers. */
    public static final String ENGINE = "duckdb";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Logger LOG = LoggerFactory.getLogger(LakeQuery.class);

    /** Table functions a query may call: they compute rows and read nothing. */
    private static final int PRUNED_VIEWS = 256;
    /** Query texts whose checked trees are kept, and the longest text kept. */
    private static final int CHECKED_TREES = 256;

    private static final int MAX_CHECKED_TEXT = 16 * 1024;

    /** How often a fresh read plans a table again when the seam of the snapshot it planned is gone. */
    private static final int SEAM_ATTEMPTS = 3;
    /** How many lake tables' tails an instance keeps between fresh reads. */
    private static final int TAILS_PER_INSTANCE = 16;

    private static final Set<String> ALLOWED_TABLE_FUNCTIONS = Set.of("range", "generate_series", "unnest");

    private final LakeCatalog catalog;
    private final LiveTables live;
    private final LogTail tail;
    private final String warehouseRoot;
    private final Path spillRoot;
    private final Limits limits;
    private final ObjectCache objects;
    private final BlockingQueue<Instance> idle = new LinkedBlockingQueue<>();
    private final Map<String, Table> tables = new ConcurrentHashMap<>();
    private final Map<String, CachedView> views = new ConcurrentHashMap<>();
    /** Views over the files a filter leaves, by table, snapshot, schema and filter; the most recent ones. */
    private final Map<String, ViewPlan> prunedViews = Collections.synchronizedMap(new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, ViewPlan> eldest) {
            return size() > PRUNED_VIEWS;
        }
    });

    /**
     * The checked syntax trees of recent query texts (a dashboard repeats its queries): DuckDB's parse and Tarn's check
     * of what a query may read cost about 2 ms, a third of a small query's time. Only texts that passed are kept.
     */
    private final Map<String, JsonNode> checkedTrees =
            Collections.synchronizedMap(new LinkedHashMap<>(16, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, JsonNode> eldest) {
                    return size() > CHECKED_TREES;
                }
            });

    private volatile boolean closed;

    /**
     * What an instance's tail table of a lake table holds: the records of the topic from {@code base} (the seam of
     * the snapshot it was last read with) up to {@code next}, each with its partition and offset.
     *
     * @param shape the table's schema and the fields its columns are copied from, which the tail table's columns are
     * @param next per partition, the offset the next read continues at; updated when a read's records are in the table
     */
    private record Tail(String table, String topic, String shape, Map<Integer, Long> base, Map<Integer, Long> next) {}

    /** A table's view for one snapshot (and schema) of it. */
    private record CachedView(long snapshotId, int schemaId, ViewPlan view) {}

    /**
     * A view's SQL and the files in object storage it reads (through their copies in the {@link ObjectCache}; none for
     * a table on a local file system).
     */
    private record ViewPlan(String sql, List<ObjectCache.RemoteFile> remoteFiles) {
        static ViewPlan of(TablePlan plan) {
            return new ViewPlan(ScanSql.rows(plan), plan.remoteFiles());
        }
    }

    /** One locked DuckDB, used by one query at a time, and the views it holds. */
    private static final class Instance implements AutoCloseable {
        final Connection connection;
        final Path spill;
        final Map<String, String> views = new HashMap<>();
        /** The copies of object-storage files the running query reads, let go when it is done. */
        final List<ObjectCache.Pin> pins = new ArrayList<>();
        /** Per lake table read fresh, the records of its topic this instance holds, most recently read last. */
        final Map<String, Tail> tails = new LinkedHashMap<>(16, 0.75f, true);

        Instance(Connection connection, Path spill) {
            this.connection = connection;
            this.spill = spill;
        }

        @Override
        public void close() {
            try {
                connection.close();
            } catch (SQLException e) {
                LOG.debug("DuckDB instance did not close cleanly", e);
            }
            Directories.deleteRecursively(spill);
        }
    }

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
     * @param spillRoot directory under which each DuckDB instance spills into a directory of its own
     */
    public LakeQuery(LakeCatalog catalog, String warehouseRoot, Path spillRoot, Limits limits) {
        this(catalog, LiveTables.NONE, LogTail.NONE, warehouseRoot, spillRoot, limits);
    }

    /**
     * @param live the tables a query reads as {@code live.<name>} (live views)
     * @param tail the log, which fresh reads add to the snapshots of landing tables
     * @param spillRoot directory under which each DuckDB instance spills into a directory of its own
     */
    public LakeQuery(
            LakeCatalog catalog, LiveTables live, LogTail tail, String warehouseRoot, Path spillRoot, Limits limits) {
        this(catalog, live, tail, warehouseRoot, spillRoot, limits, DEFAULT_OBJECT_CACHE_BYTES);
    }

    /** Bytes of copies of object-storage files kept for the queries that follow, unless given. */
    public static final long DEFAULT_OBJECT_CACHE_BYTES = 4L << 30;

    /**
     * @param spillRoot directory under which each DuckDB instance spills into a directory of its own, and where the
     *     copies of files in object storage are kept ({@code objects/}, emptied now)
     * @param objectCacheBytes how much those copies may take beyond the ones running queries read
     */
    public LakeQuery(
            LakeCatalog catalog,
            LiveTables live,
            LogTail tail,
            String warehouseRoot,
            Path spillRoot,
            Limits limits,
            long objectCacheBytes) {
        this.catalog = requireNonNull(catalog, "catalog is null");
        this.live = requireNonNull(live, "live is null");
        this.tail = requireNonNull(tail, "tail is null");
        this.warehouseRoot = requireNonNull(warehouseRoot, "warehouseRoot is null");
        this.spillRoot = requireNonNull(spillRoot, "spillRoot is null");
        this.limits = requireNonNull(limits, "limits is null");
        this.objects = new ObjectCache(spillRoot.resolve("objects"), objectCacheBytes);
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
        try (Answer answer = open(sql, maxRows)) {
            List<List<Object>> rows = new ArrayList<>();
            for (Optional<List<Object>> row = answer.next(); row.isPresent(); row = answer.next()) {
                rows.add(row.get());
            }
            return new QueryResult(answer.columns(), rows, answer.truncated(), ENGINE);
        }
    }

    /**
     * Runs one read-only query and opens its answer, to be read row by row (e.g. written to a client as it is read)
     * rather than held whole: DuckDB keeps the result, off the Java heap, and the answer holds a DuckDB instance until
     * it is closed. Everything that can fail about the query fails here, before a row is read.
     *
     * @param maxRows rows to return at most; more set {@link Answer#truncated()}
     * @throws TarnException as {@link #query} does
     */
    public Answer open(String sql, int maxRows) {
        return open(sql, maxRows, false);
    }

    /**
     * Runs one read-only query and opens its answer, as {@link #open(String, int)}; a fresh read adds to each lake
     * table's snapshot the records of its topic after the offsets the snapshot covers, up to the topic's end now.
     *
     * @throws TarnException as {@link #query} does, and {@link ErrorCode#UNSUPPORTED_QUERY} for a fresh read of a
     *     table that a landing pipeline does not keep
     */
    public Answer open(String sql, int maxRows, boolean fresh) {
        requireNonNull(sql, "sql is null");
        Instance instance = borrow();
        List<String> scratch = new ArrayList<>();
        Statement statement = null;
        try {
            String run = prepare(instance, sql, scratch, fresh);
            statement = instance.connection.createStatement();
            statement.setQueryTimeout((int) Math.max(1, (limits.timeout().toMillis() + 999) / 1000));
            long start = System.nanoTime();
            ResultSet rs = statement.executeQuery(run);
            LOG.debug("query ran in {} µs", (System.nanoTime() - start) / 1_000);
            return new Answer(instance, scratch, statement, rs, maxRows);
        } catch (SQLException e) {
            closeQuietly(statement);
            release(instance, scratch, isHealthy(e));
            throw classify(e);
        } catch (RuntimeException e) {
            closeQuietly(statement);
            release(instance, scratch, true);
            throw e;
        }
    }

    /**
     * The answer to a query, read row by row from DuckDB's result within the row and byte limits ({@code
     * query.max-rows}, {@code query.max-result-bytes}); closing it returns its DuckDB instance.
     */
    public final class Answer implements AutoCloseable {
        private final Instance instance;
        private final List<String> scratch;
        private final Statement statement;
        private final ResultSet rs;
        private final List<String> columns;
        private final QueryResult.Budget budget;
        private final List<Runnable> onClose = new ArrayList<>();
        private boolean done;
        private boolean healthy = true;
        private boolean closed;

        private Answer(Instance instance, List<String> scratch, Statement statement, ResultSet rs, int maxRows)
                throws SQLException {
            this.instance = instance;
            this.scratch = scratch;
            this.statement = statement;
            this.rs = rs;
            this.budget = new QueryResult.Budget(maxRows, limits.maxResultBytes());
            ResultSetMetaData meta = rs.getMetaData();
            List<String> names = new ArrayList<>(meta.getColumnCount());
            for (int i = 1; i <= meta.getColumnCount(); i++) {
                names.add(meta.getColumnLabel(i));
            }
            this.columns = List.copyOf(names);
        }

        public List<String> columns() {
            return columns;
        }

        /**
         * The next row as JSON-ready values; empty after the last one, and once a row beyond the limits was found
         * (the answer is then {@link #truncated()}).
         *
         * @throws TarnException {@link ErrorCode#QUERY_FAILED} when DuckDB fails to hand out its result
         */
        public Optional<List<Object>> next() {
            if (done) {
                return Optional.empty();
            }
            try {
                if (!rs.next()) {
                    done = true;
                    return Optional.empty();
                }
                List<Object> row = new ArrayList<>(columns.size());
                for (int i = 1; i <= columns.size(); i++) {
                    row.add(QueryValues.json(rs.getObject(i)));
                }
                if (!budget.admit(row)) {
                    done = true;
                    return Optional.empty();
                }
                return Optional.of(row);
            } catch (SQLException e) {
                healthy = isHealthy(e);
                done = true;
                throw classify(e);
            }
        }

        /** Whether rows were cut off at the limits; known once {@link #next()} came back empty. */
        public boolean truncated() {
            return budget.exceeded();
        }

        /** Adds something to do once the answer is closed (after its DuckDB instance is returned). */
        public Answer onClose(Runnable action) {
            onClose.add(requireNonNull(action, "action is null"));
            return this;
        }

        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            closeQuietly(statement);
            release(instance, scratch, healthy);
            onClose.forEach(Runnable::run);
        }
    }

    /**
     * The names DuckDB gives the columns of a query's answer, from its plan (nothing is read): e.g. {@code
     * count_star()} for an unnamed {@code count(*)}.
     *
     * @throws TarnException as {@link #query} does
     */
    public List<String> columnNames(String sql) {
        return overLake(sql, (connection, run) -> {
            try (PreparedStatement prepared = connection.prepareStatement(run)) {
                ResultSetMetaData meta = prepared.getMetaData();
                List<String> names = new ArrayList<>(meta.getColumnCount());
                for (int i = 1; i <= meta.getColumnCount(); i++) {
                    names.add(meta.getColumnLabel(i));
                }
                return names;
            }
        });
    }

    /** Work on a connection where the query's tables are views; {@code sql} is the query as it is to run. */
    private interface OverLake<T> {
        T apply(Connection connection, String sql) throws SQLException;
    }

    /** Runs work on a DuckDB connection where the lake tables a query names are views over their current files. */
    private <T> T overLake(String sql, OverLake<T> work) {
        requireNonNull(sql, "sql is null");
        Instance instance = borrow();
        List<String> scratch = new ArrayList<>();
        boolean healthy = true;
        try {
            return work.apply(instance.connection, prepare(instance, sql, scratch, false));
        } catch (SQLException e) {
            healthy = isHealthy(e);
            throw classify(e);
        } finally {
            release(instance, scratch, healthy);
        }
    }

    /**
     * Checks a query and makes the views it reads on the instance: each lake table's current files (pruned by the
     * query's filters), and each snapshot it travels to.
     *
     * @param scratch receives the statements that drop the time-travel views and live tables made, to run when the
     *     query is done
     * @return the query as it is to run
     */
    private String prepare(Instance instance, String sql, List<String> scratch, boolean fresh) throws SQLException {
        long start = System.nanoTime();
        JsonNode tree = checkedTree(instance.connection, sql);
        for (String name : referencedTables(tree)) { // DuckDB's parser found them; checked before anything is read
            TableGuard.reading(LakeCatalog.NAME + "." + name);
        }
        for (String name : referencedLiveTables(tree)) {
            TableGuard.reading(LiveSql.CATALOG + "." + name);
        }
        Map<String, Expression> filters = ScanFilter.of(tree, this::currentSchema);
        long checked = System.nanoTime();
        for (String name : referencedTables(tree)) {
            Expression filter = filters.getOrDefault(name, Expressions.alwaysTrue());
            ViewPlan planned = fresh ? freshView(instance, name, filter) : view(name, filter);
            pin(instance, planned);
            String view = planned.sql();
            if (!view.equals(instance.views.get(name))) {
                createView(instance.connection, name, view);
                instance.views.put(name, view);
            }
        }
        for (String name : referencedLiveTables(tree)) {
            loadLiveTable(instance.connection, name, scratch);
        }
        String run = timeTravel(instance, tree, scratch) ? deserialize(instance.connection, tree) : sql;
        LOG.debug(
                "query parsed and checked in {} µs, its views planned and made in {} µs",
                (checked - start) / 1_000,
                (System.nanoTime() - checked) / 1_000);
        return run;
    }

    /** The query's syntax tree, parsed and checked now or when the same text last ran; the caller's own copy. */
    private JsonNode checkedTree(Connection connection, String sql) throws SQLException {
        JsonNode cached = checkedTrees.get(sql);
        if (cached != null) {
            return cached.deepCopy();
        }
        JsonNode tree = parse(connection, sql);
        requireOnlyLakeTables(tree);
        if (sql.length() <= MAX_CHECKED_TEXT) {
            checkedTrees.put(sql, tree.deepCopy());
        }
        return tree;
    }

    /**
     * Copies a live table's rows, as they are now, into a table {@code live.<name>} of the instance's own, to be
     * dropped after the query.
     *
     * @throws TarnException {@link ErrorCode#TABLE_NOT_FOUND} when there is no such live table
     */
    private void loadLiveTable(Connection connection, String name, List<String> scratch) throws SQLException {
        LiveTables.Table table = live.table(name)
                .orElseThrow(() -> new TarnException(
                        ErrorCode.TABLE_NOT_FOUND,
                        "live view '%s' does not exist (GET /v1/views lists them)".formatted(name)));
        scratch.add("DROP TABLE IF EXISTS " + LiveSql.tableName(name));
        long start = System.nanoTime();
        long rows = LiveSql.load(connection, name, table);
        LOG.debug("live view {}: {} rows copied in {} µs", name, rows, (System.nanoTime() - start) / 1_000);
    }

    /** Returns an instance to the pool once its time-travel views are gone; closes it if it cannot be trusted. */
    private void release(Instance instance, List<String> scratch, boolean healthy) {
        instance.pins.forEach(ObjectCache.Pin::close);
        instance.pins.clear();
        if (healthy) {
            try {
                for (String drop : scratch) {
                    execute(instance.connection, drop);
                }
            } catch (SQLException e) {
                LOG.debug(
                        "a query's time-travel view or live table could not be dropped; the DuckDB instance is closed"
                                + " instead",
                        e);
                healthy = false;
            }
        }
        if (healthy && !closed) {
            idle.offer(instance);
        } else {
            instance.close();
        }
    }

    /** Whether an instance is still usable after this error (DuckDB invalidates a database after some). */
    private static boolean isHealthy(SQLException e) {
        return !String.valueOf(e.getMessage()).contains("database has been invalidated");
    }

    private static void closeQuietly(Statement statement) {
        if (statement != null) {
            try {
                statement.close();
            } catch (SQLException e) {
                LOG.debug("DuckDB statement did not close cleanly", e);
            }
        }
    }

    /**
     * Points every lake table the query reads {@code AT (...)} a snapshot to a view of that snapshot: the table's node
     * in DuckDB's syntax tree is renamed to {@code lake."<namespace>@<snapshot id>".<table>} (a name no lake table can
     * be reached by) and loses its AT clause, and that view is created, planned with the snapshot's files and schema.
     *
     * @param drops receives the statements that drop the views created, to run after the query
     * @return whether any table is read at a snapshot (the tree then differs from the query)
     */
    private boolean timeTravel(Instance instance, JsonNode tree, List<String> drops) throws SQLException {
        List<ObjectNode> nodes = new ArrayList<>();
        collectTimeTravel(tree, nodes);
        for (ObjectNode node : nodes) {
            String name = node.path("schema_name").asText().toLowerCase(Locale.ROOT) + "."
                    + node.path("table_name").asText().toLowerCase(Locale.ROOT);
            Table table = tables.computeIfAbsent(name, catalog::load);
            TablePlan plan;
            String namespace;
            synchronized (table) {
                Snapshot snapshot = TimeTravel.snapshot(name, table, node.path("at_clause"));
                plan = TablePlan.at(name, table, snapshot, objects);
                namespace = name.substring(0, name.indexOf('.')) + "@" + snapshot.snapshotId();
            }
            String tableName = name.substring(name.indexOf('.') + 1);
            ViewPlan planned = ViewPlan.of(plan);
            pin(instance, planned);
            String view = createView(instance.connection, namespace + "." + tableName, planned.sql());
            drops.add("DROP VIEW IF EXISTS " + view);
            node.put("schema_name", namespace);
            node.putNull("at_clause");
            node.putObject("qualified_name")
                    .putArray("path")
                    .add(LakeCatalog.NAME)
                    .add(namespace)
                    .add(tableName);
        }
        return !nodes.isEmpty();
    }

    private static void collectTimeTravel(JsonNode node, List<ObjectNode> nodes) {
        if (node instanceof ObjectNode object
                && node.path("type").asText().equals("BASE_TABLE")
                && node.path("catalog_name").asText().equalsIgnoreCase(LakeCatalog.NAME)
                && node.path("at_clause").isObject()) {
            nodes.add(object);
        }
        node.forEach(child -> collectTimeTravel(child, nodes));
    }

    /** The SQL of a syntax tree, as DuckDB's own serializer writes it. */
    private static String deserialize(Connection connection, JsonNode tree) throws SQLException {
        try (PreparedStatement deserialize = connection.prepareStatement("SELECT json_deserialize_sql(?::JSON)")) {
            deserialize.setString(1, tree.toString());
            try (ResultSet rs = deserialize.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    /** An idle DuckDB instance, or a new one: as many exist as queries have run at once. */
    private Instance borrow() {
        if (closed) {
            throw new IllegalStateException("lake query engine is closed");
        }
        Instance instance = idle.poll();
        return instance != null ? instance : open();
    }

    /** A new in-memory DuckDB, locked before any user SQL reaches it. */
    private Instance open() {
        Path spill = spillRoot.resolve(UUID.randomUUID().toString());
        try {
            Files.createDirectories(spill);
        } catch (IOException e) {
            throw new UncheckedIOException("query spill directory cannot be created", e);
        }
        Connection connection = null;
        try {
            connection = DuckDb.open(limits.memoryLimitBytes(), spill);
            execute(connection, "SET parquet_metadata_cache = true");
            String warehouse = TablePlan.localPath(warehouseRoot);
            execute(
                    connection,
                    "SET allowed_directories = [%s, %s]"
                            .formatted(
                                    literal(warehouse.endsWith("/") ? warehouse : warehouse + "/"),
                                    literal(objects.directory() + "/")));
            execute(connection, "SET enable_external_access = false");
            execute(connection, "SET lock_configuration = true");
            execute(connection, "ATTACH ':memory:' AS lake");
            execute(connection, "ATTACH ':memory:' AS " + LiveSql.CATALOG);
            return new Instance(connection, spill);
        } catch (SQLException e) {
            if (connection != null) {
                new Instance(connection, spill).close();
            }
            throw new TarnException(ErrorCode.QUERY_FAILED, "DuckDB could not be started: " + cleanMessage(e), e);
        }
    }

    /**
     * The SQL of a table's view for its current snapshot: planned once per snapshot (and schema), then reused; with a
     * filter ({@link ScanFilter}), of only the files Iceberg finds may hold matching rows, planned once per snapshot
     * and filter.
     *
     * @throws TarnException {@link ErrorCode#TABLE_NOT_FOUND}, {@link ErrorCode#UNSUPPORTED_QUERY}
     */
    private ViewPlan view(String name, Expression filter) {
        return planned(name, filter).view();
    }

    /** A table's view as {@link #view} plans it, with the table and the snapshot it was planned at. */
    private record Planned(Table table, Snapshot snapshot, ViewPlan view) {}

    private Planned planned(String name, Expression filter) {
        Table table = tables.computeIfAbsent(name, catalog::load);
        synchronized (table) {
            try {
                table.refresh();
            } catch (NoSuchTableException e) {
                tables.remove(name);
                views.remove(name);
                throw new TarnException(ErrorCode.TABLE_NOT_FOUND, "lake table '%s' does not exist".formatted(name), e);
            } catch (IllegalStateException e) {
                // the name points at another table's metadata now (a swap): Iceberg refreshes a table object only
                // with its own (same UUID), so the name is loaded anew
                tables.remove(name, table);
                views.remove(name);
                return planned(name, filter);
            }
            Snapshot current = table.currentSnapshot();
            long snapshotId = current == null ? -1 : current.snapshotId();
            int schemaId = table.schema().schemaId();
            if (filter.op() == Expression.Operation.TRUE || current == null) {
                return new Planned(table, current, wholeView(name, table, snapshotId, schemaId));
            }
            String key =
                    String.join("\n", name, Long.toString(snapshotId), Integer.toString(schemaId), filter.toString());
            ViewPlan pruned = prunedViews.get(key);
            if (pruned == null) {
                try {
                    pruned = ViewPlan.of(TablePlan.of(name, table, filter, objects));
                } catch (ValidationException e) {
                    // the schema changed since the filter was read: DuckDB will say what is wrong with the query
                    return new Planned(table, current, wholeView(name, table, snapshotId, schemaId));
                }
                prunedViews.put(key, pruned);
            }
            return new Planned(table, current, pruned);
        }
    }

    /**
     * The SQL of a table's view for a fresh read: its current snapshot's rows and, after them, the rows of the records
     * of its topic after the offsets that snapshot covers ({@link Seams}), read from the log up to its end now into a
     * table of the instance, to be dropped after the query.
     *
     * @throws TarnException {@link ErrorCode#UNSUPPORTED_QUERY} for a table whose snapshot has no seam: one a landing
     *     pipeline did not commit
     */
    private ViewPlan freshView(Instance instance, String name, Expression filter) throws SQLException {
        for (int attempt = 1; ; attempt++) {
            Planned planned = planned(name, filter);
            Optional<Seams.Covered> covered =
                    planned.snapshot() == null ? Optional.empty() : Seams.covered(planned.table(), planned.snapshot());
            if (covered.isEmpty() && attempt < SEAM_ATTEMPTS) {
                continue; // its seam was pruned as a newer snapshot landed: read that one
            }
            if (covered.isEmpty()) {
                throw new TarnException(
                        ErrorCode.UNSUPPORTED_QUERY,
                        ("lake table '%s' cannot be read fresh: %s; a fresh read needs the topic offsets a landing"
                                        + " pipeline (one that copies a JSON topic's columns into the table as they are)"
                                        + " records with each commit. Query it without \"fresh\"")
                                .formatted(
                                        name,
                                        planned.snapshot() == null
                                                ? "it has no commit yet"
                                                : "its current snapshot was not committed by such a pipeline"));
            }
            Seams.Covered seam = covered.get();
            String tail = readTail(instance, name, planned.table().schema(), seam);
            return new ViewPlan(
                    "SELECT * FROM (%s) UNION ALL BY NAME SELECT * EXCLUDE (%s, %s) FROM %s"
                            .formatted(
                                    planned.view().sql(),
                                    ScanSql.quote(LiveSql.PARTITION),
                                    ScanSql.quote(LiveSql.OFFSET),
                                    tail),
                    planned.view().remoteFiles());
        }
    }

    /**
     * Brings the instance's tail table of a lake table to the records of its topic after a seam up to the topic's end
     * now: drops the records the seam now covers and appends only those after the last ones read. The table is made
     * again when the topic, schema or columns changed, or the seam went back (a rollback).
     *
     * @return the tail table, as SQL names it
     */
    private String readTail(Instance instance, String name, Schema schema, Seams.Covered seam) throws SQLException {
        long start = System.nanoTime();
        String shape = schema.schemaId() + " " + schema.asStruct() + " " + seam.columns();
        Tail held = instance.tails.get(name);
        Map<Integer, Long> next = new HashMap<>(seam.offsets());
        if (held == null || !held.topic().equals(seam.topic()) || !held.shape().equals(shape) || wentBack(held, seam)) {
            String table = held != null ? held.table() : LiveSql.tableName("fresh$" + name);
            instance.tails.remove(name);
            LiveSql.createTail(instance.connection, table, schema, seam.columns());
            held = new Tail(table, seam.topic(), shape, seam.offsets(), next);
            instance.tails.put(name, held);
            dropTailsBeyond(instance);
        } else {
            Tail previous = held;
            List<String> covered = new ArrayList<>();
            seam.offsets().forEach((partition, offset) -> {
                if (offset > previous.base().getOrDefault(partition, 0L)) {
                    covered.add("(%s = %d AND %s < %d)"
                            .formatted(
                                    ScanSql.quote(LiveSql.PARTITION),
                                    partition,
                                    ScanSql.quote(LiveSql.OFFSET),
                                    offset));
                }
            });
            if (!covered.isEmpty()) {
                execute(
                        instance.connection,
                        "DELETE FROM %s WHERE %s".formatted(held.table(), String.join(" OR ", covered)));
            }
            held.next().forEach((partition, offset) -> next.merge(partition, offset, Math::max));
            held = new Tail(held.table(), held.topic(), shape, seam.offsets(), next);
            instance.tails.put(name, held);
        }
        Map<Integer, Long> from = Map.copyOf(next);
        List<Map<Integer, Long>> reached = new ArrayList<>(1);
        long records = LiveSql.appendTail(
                instance.connection,
                held.table(),
                schema,
                seam.columns(),
                sink -> reached.add(tail.read(seam.topic(), from, sink)));
        reached.get(0).forEach((partition, offset) -> next.merge(partition, offset, Math::max));
        LOG.debug(
                "fresh read of {}: snapshot {} and {} more records of topic {} after it, read in {} µs",
                name,
                seam.snapshotId(),
                records,
                seam.topic(),
                (System.nanoTime() - start) / 1_000);
        return held.table();
    }

    /** Whether a seam is before the one a tail table was last read with, in some partition. */
    private static boolean wentBack(Tail held, Seams.Covered seam) {
        for (Map.Entry<Integer, Long> base : held.base().entrySet()) {
            if (seam.offsets().getOrDefault(base.getKey(), 0L) < base.getValue()) {
                return true;
            }
        }
        return false;
    }

    /** Drops an instance's tail tables of the tables it read fresh least recently, beyond the number it keeps. */
    private static void dropTailsBeyond(Instance instance) throws SQLException {
        Iterator<Tail> eldest = instance.tails.values().iterator();
        while (instance.tails.size() > TAILS_PER_INSTANCE) {
            Tail tail = eldest.next();
            eldest.remove();
            execute(instance.connection, "DROP TABLE IF EXISTS " + tail.table());
        }
    }

    /** The view of all of a table's files at this snapshot and schema, planned when it is first asked for. */
    private ViewPlan wholeView(String name, Table table, long snapshotId, int schemaId) {
        CachedView cached = views.get(name);
        if (cached == null || cached.snapshotId() != snapshotId || cached.schemaId() != schemaId) {
            cached = new CachedView(snapshotId, schemaId, ViewPlan.of(TablePlan.of(name, table, objects)));
            views.put(name, cached);
        }
        return cached.view();
    }

    /** Fetches the object-storage files a view reads, if any, and holds them until the instance's query is done. */
    private void pin(Instance instance, ViewPlan view) {
        if (!view.remoteFiles().isEmpty()) {
            long start = System.nanoTime();
            instance.pins.add(objects.pin(view.remoteFiles()));
            LOG.debug(
                    "{} object-storage files ready in {} µs",
                    view.remoteFiles().size(),
                    (System.nanoTime() - start) / 1_000);
        }
    }

    /** A table's current schema, for {@link ScanFilter}; null for a table that does not exist (yet). */
    private Schema currentSchema(String name) {
        try {
            return tables.computeIfAbsent(name, catalog::load).schema();
        } catch (TarnException | NoSuchTableException e) {
            return null;
        }
    }

    /** Closes the idle DuckDB instances; those in use close when their query ends. */
    @Override
    public void close() {
        closed = true;
        for (Instance instance = idle.poll(); instance != null; instance = idle.poll()) {
            instance.close();
        }
        objects.close();
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
     * Refuses a query that reads anything but lake tables: a table function other than {@link
     * #ALLOWED_TABLE_FUNCTIONS} (they read files, or run SQL), or a table that is neither {@code lake.<ns>.<table>} nor
     * a name the query's own WITH defines (a file path is such a table, to DuckDB). A name that is a lake table's
     * without {@code lake.} is answered with that name as a hint.
     *
     * @throws TarnException {@link ErrorCode#STATEMENT_NOT_ALLOWED}, {@link ErrorCode#TABLE_NOT_FOUND}
     */
    private void requireOnlyLakeTables(JsonNode tree) {
        List<String> functions = new ArrayList<>();
        collectTableFunctions(tree, functions);
        for (String function : functions) {
            if (!ALLOWED_TABLE_FUNCTIONS.contains(function)) {
                throw new TarnException(
                        ErrorCode.STATEMENT_NOT_ALLOWED,
                        "a query may read lake tables only: table function '%s' is not allowed (allowed: %s)"
                                .formatted(function, String.join(", ", new TreeSet<>(ALLOWED_TABLE_FUNCTIONS))));
            }
        }
        Set<String> ctes = new LinkedHashSet<>();
        collectCteNames(tree, ctes);
        List<JsonNode> unqualified = new ArrayList<>();
        collectUnqualifiedTables(tree, unqualified);
        if (unqualified.isEmpty()) {
            return;
        }
        List<String> lakeTables = catalog.listTables();
        for (JsonNode table : unqualified) {
            String catalogName = table.path("catalog_name").asText().toLowerCase(Locale.ROOT);
            String schema = table.path("schema_name").asText().toLowerCase(Locale.ROOT);
            String name = table.path("table_name").asText().toLowerCase(Locale.ROOT);
            if (catalogName.isEmpty() && schema.isEmpty() && ctes.contains(name)) {
                continue;
            }
            String written = String.join(
                    ".",
                    List.of(catalogName, schema, name).stream()
                            .filter(p -> !p.isEmpty())
                            .toList());
            List<String> meant = catalogName.isEmpty()
                    ? lakeTables.stream()
                            .filter(t -> schema.isEmpty() ? t.endsWith("." + name) : t.equals(schema + "." + name))
                            .map(t -> LakeCatalog.NAME + "." + t)
                            .toList()
                    : List.of();
            throw new TarnException(
                    ErrorCode.TABLE_NOT_FOUND,
                    meant.isEmpty()
                            ? "table '%s' does not exist (lake tables are named lake.<namespace>.<table>; GET /v1/tables lists them)"
                                    .formatted(written)
                            : "table '%s' does not exist; lake tables are named lake.<namespace>.<table>: did you mean %s?"
                                    .formatted(written, String.join(" or ", meant)));
        }
    }

    private static void collectTableFunctions(JsonNode node, List<String> functions) {
        if (node.isObject() && node.path("type").asText().equals("TABLE_FUNCTION")) {
            JsonNode function = node.path("function");
            String name = function.path("function_name").asText().toLowerCase(Locale.ROOT);
            boolean qualified = !function.path("schema").asText().isEmpty()
                    || !function.path("catalog").asText().isEmpty();
            functions.add(qualified ? function.path("schema").asText() + "." + name : name);
        }
        node.forEach(child -> collectTableFunctions(child, functions));
    }

    private static void collectCteNames(JsonNode node, Set<String> names) {
        if (node.isObject() && node.has("cte_map")) {
            node.path("cte_map")
                    .path("map")
                    .forEach(entry -> names.add(entry.path("key").asText().toLowerCase(Locale.ROOT)));
        }
        node.forEach(child -> collectCteNames(child, names));
    }

    /** Tables that are neither {@code lake.<namespace>.<table>} nor {@code live.<name>}. */
    private static void collectUnqualifiedTables(JsonNode node, List<JsonNode> tables) {
        if (node.isObject()
                && node.path("type").asText().equals("BASE_TABLE")
                && !node.path("catalog_name").asText().equalsIgnoreCase(LakeCatalog.NAME)
                && LiveSql.name(node).isEmpty()) {
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

    /** Live tables a parsed query reads ({@code live.<name>} anywhere in it), by name. */
    static Set<String> referencedLiveTables(JsonNode tree) {
        Set<String> names = new LinkedHashSet<>();
        collectLiveTables(tree, names);
        return names;
    }

    private static void collectLiveTables(JsonNode node, Set<String> names) {
        LiveSql.name(node).ifPresent(names::add);
        node.forEach(child -> collectLiveTables(child, names));
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

    private static void execute(Connection connection, String sql) throws SQLException {
        DuckDb.execute(connection, sql);
    }

    /** Creates or replaces the view {@code lake.<namespace>.<table>} of {@code namespace.table}; returns its name. */
    private static String createView(Connection connection, String name, String sql) throws SQLException {
        String[] parts = name.split("\\.");
        execute(connection, "CREATE SCHEMA IF NOT EXISTS lake." + quote(parts[0]));
        String view = LakeCatalog.NAME + "." + quote(parts[0]) + "." + quote(parts[1]);
        execute(connection, "CREATE OR REPLACE VIEW " + view + " AS " + sql);
        return view;
    }

    private static String quote(String identifier) {
        return ScanSql.quote(identifier);
    }

    static String literal(String text) {
        return ScanSql.literal(text);
    }

    /** DuckDB's message without internal file paths of the warehouse and the spill directory. */
    private String cleanMessage(SQLException e) {
        String message = e.getMessage() == null ? "unknown error" : e.getMessage();
        return message.replace(warehouseRoot, "<warehouse>")
                .replace(spillRoot.toString(), "<spill>")
                .strip();
    }
}
