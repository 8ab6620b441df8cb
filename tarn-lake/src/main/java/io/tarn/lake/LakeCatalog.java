package io.tarn.lake;

import static java.util.Objects.requireNonNull;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.table.TableInfo;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.CatalogProperties;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.UpdateSchema;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.NoSuchNamespaceException;
import org.apache.iceberg.exceptions.NoSuchTableException;
import org.apache.iceberg.exceptions.ValidationException;
import org.apache.iceberg.io.SupportsPrefixOperations;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.types.Types;

/**
 * The lake's Iceberg catalog: a {@link JdbcCatalog} on SQLite ({@code catalog.db} in the data dir) over a local
 * warehouse. Flink pipelines open the same catalog with {@link #properties()}; the catalog name is part of every row's
 * key, so every opener must use {@link #NAME} (under another name the catalog is empty).
 */
public final class LakeCatalog implements AutoCloseable {
    /** The catalog's name in Iceberg and in SQL: tables are {@code lake.namespace.table}. */
    public static final String NAME = "lake";

    /**
     * The table property that names the operator uid of the Flink sinks writing a table, when it is not the table's
     * name: a table's data keeps its writers' uid when {@link #swap} gives it another name, so that its pipeline
     * resumes its sink's state from a savepoint taken under the old name.
     */
    public static final String SINK_UID = "tarn.sink-uid";

    /** Snapshot summary keys of Iceberg's Flink sink. */
    static final String FLINK_JOB_ID = "flink.job-id";

    static final String FLINK_MAX_COMMITTED_CHECKPOINT = "flink.max-committed-checkpoint-id";

    /**
     * Iceberg's switch ({@code SystemConfigs.SCAN_THREAD_POOL_ENABLED}) for planning scans on its shared worker pool.
     * Tarn turns it off unless it was set: the pool's {@code ParallelIterable} waits for its workers in 10 ms sleeps,
     * so a table of 36 small manifests took 52 ms to plan with a query's filter instead of 0.3 ms, the most of a fresh
     * read's time. It is read once, when Iceberg's scans are first loaded, so this class sets it before any table is.
     */
    static final String PLAN_IN_WORKER_POOL = "iceberg.scan.plan-in-worker-pool";

    static {
        if (System.getProperty(PLAN_IN_WORKER_POOL) == null
                && System.getenv("ICEBERG_SCAN_PLAN_IN_WORKER_POOL") == null) {
            System.setProperty(PLAN_IN_WORKER_POOL, "false");
        }
    }

    private final Map<String, String> properties;
    private final JdbcCatalog catalog;

    private LakeCatalog(Map<String, String> properties, JdbcCatalog catalog) {
        this.properties = properties;
        this.catalog = catalog;
    }

    /**
     * Opens (and on first use creates) the catalog.
     *
     * @param catalogDatabase SQLite file of the catalog
     * @param warehouse root folder of table data and metadata
     * @throws TarnException {@link ErrorCode#CATALOG_UNAVAILABLE} if the catalog database cannot be opened
     */
    public static LakeCatalog open(Path catalogDatabase, String warehouse) {
        return open(catalogDatabase, warehouse, Optional.empty(), List.of());
    }

    /**
     * Opens the catalog with a given Iceberg {@code FileIO} implementation.
     *
     * @param fileIo class name of the FileIO; empty: {@link WarehouseFileIO} (Iceberg's HadoopFileIO, confined to the
     *     warehouse)
     * @param extraLocations directories besides the warehouse that {@link WarehouseFileIO} lets tables use
     */
    public static LakeCatalog open(
            Path catalogDatabase, String warehouse, Optional<String> fileIo, List<String> extraLocations) {
        return open(
                new Database("jdbc:sqlite:" + catalogDatabase.toAbsolutePath(), "", ""),
                warehouse,
                fileIo,
                extraLocations);
    }

    /**
     * Where the catalog's tables are: SQLite ({@code jdbc:sqlite:}) or PostgreSQL ({@code jdbc:postgresql:}), which
     * several Tarn servers can share.
     *
     * @param user empty: none (or the one the URL names)
     */
    public record Database(String url, String user, String password) {
        public Database {
            requireNonNull(url, "url is null");
            requireNonNull(user, "user is null");
            requireNonNull(password, "password is null");
            if (!url.startsWith("jdbc:sqlite:") && !url.startsWith("jdbc:postgresql:")) {
                throw new TarnException(
                        ErrorCode.INVALID_CONFIG,
                        "lake.catalog-uri must be a jdbc:postgresql: URL (or empty: SQLite in the data directory)");
            }
        }

        @Override
        public String toString() {
            return "Database[" + url + "]"; // never the password
        }
    }

    /**
     * Opens the catalog in a database.
     *
     * @see #open(Path, String, Optional, List)
     */
    public static LakeCatalog open(
            Database database, String warehouse, Optional<String> fileIo, List<String> extraLocations) {
        return open(database, warehouse, fileIo, extraLocations, Map.of());
    }

    /**
     * Opens the catalog in a database, with properties of its FileIO besides Tarn's (an object store's endpoint,
     * region and credentials: Iceberg's {@code s3.*} and {@code client.*} properties).
     *
     * @see #open(Path, String, Optional, List)
     */
    public static LakeCatalog open(
            Database database,
            String warehouse,
            Optional<String> fileIo,
            List<String> extraLocations,
            Map<String, String> ioProperties) {
        Map<String, String> properties = new HashMap<>(ioProperties);
        properties.putAll(Map.of(
                CatalogProperties.URI,
                database.url(),
                CatalogProperties.WAREHOUSE_LOCATION,
                warehouse,
                "jdbc.schema-version",
                "V1",
                CatalogProperties.CATALOG_IMPL,
                JdbcCatalog.class.getName()));
        if (!database.user().isEmpty()) {
            properties.put(JdbcCatalog.PROPERTY_PREFIX + "user", database.user());
            properties.put(JdbcCatalog.PROPERTY_PREFIX + "password", database.password());
        }
        // by default files are read, written and deleted in the warehouse only, whatever a table's metadata names
        properties.put(CatalogProperties.FILE_IO_IMPL, fileIo.orElse(WarehouseFileIO.class.getName()));
        if (!extraLocations.isEmpty()) {
            properties.put(WarehouseFileIO.EXTRA_LOCATIONS, String.join(",", extraLocations));
        }
        JdbcCatalog catalog = new JdbcCatalog();
        catalog.setConf(new Configuration());
        try {
            catalog.initialize(NAME, properties);
        } catch (RuntimeException e) {
            throw new TarnException(
                    ErrorCode.CATALOG_UNAVAILABLE,
                    "lake catalog could not be opened: " + TarnException.rootMessage(e),
                    e);
        }
        return new LakeCatalog(Map.copyOf(properties), catalog);
    }

    /** Properties that open this same catalog elsewhere (Flink's Iceberg catalog factory), with {@link #NAME}. */
    public Map<String, String> properties() {
        return properties;
    }

    /** All namespaces (lake databases), sorted. */
    public List<String> listNamespaces() {
        return catalog.listNamespaces().stream()
                .map(Namespace::toString)
                .sorted()
                .toList();
    }

    /** All tables as {@code namespace.table}, sorted. */
    public List<String> listTables() {
        List<String> names = new ArrayList<>();
        for (Namespace namespace : catalog.listNamespaces()) {
            catalog.listTables(namespace).forEach(id -> names.add(id.toString()));
        }
        names.sort(String::compareTo);
        return names;
    }

    /**
     * Loads a table.
     *
     * @param name {@code namespace.table}
     * @throws TarnException {@link ErrorCode#TABLE_NOT_FOUND} if there is no such table
     */
    public Table load(String name) {
        TableIdentifier identifier = identifier(name);
        try {
            return catalog.loadTable(identifier);
        } catch (NoSuchTableException | NoSuchNamespaceException e) {
            throw new TarnException(ErrorCode.TABLE_NOT_FOUND, "lake table '%s' does not exist".formatted(name), e);
        }
    }

    /**
     * Drops a table and deletes its files: those its metadata names, and its seams ({@link Seams}), which no metadata
     * names.
     *
     * @return whether it existed
     */
    public boolean dropAndPurge(String name) {
        TableIdentifier identifier = identifier(name);
        Table table;
        try {
            table = catalog.loadTable(identifier);
        } catch (NoSuchTableException | NoSuchNamespaceException e) {
            return false;
        }
        boolean dropped = catalog.dropTable(identifier, true);
        if (dropped) {
            deleteSeams(table);
        }
        return dropped;
    }

    /**
     * Evolves a table's schema to the given columns, matched by name, as Iceberg's schema evolution allows: the columns
     * it lacks are added (optional, at the end), types are widened (int to long, float to double, a decimal to a larger
     * precision), and the columns the target no longer has are dropped (their values stay in the files written before,
     * unread). Nothing is committed when the table has those columns already.
     *
     * @return whether the schema changed
     * @throws TarnException {@link ErrorCode#TABLE_NOT_FOUND}; {@link ErrorCode#INVALID_STATE} naming Iceberg's reason
     *     when it cannot evolve so (a narrowed type, a dropped key column)
     */
    public boolean evolve(String name, Schema target) {
        Table table = load(name);
        Schema current = table.schema();
        try {
            UpdateSchema update = table.updateSchema().unionByNameWith(target);
            for (Types.NestedField column : current.columns()) {
                if (target.findField(column.name()) == null) {
                    update.deleteColumn(column.name());
                }
            }
            if (update.apply().sameSchema(current)) {
                return false;
            }
            update.commit();
            return true;
        } catch (IllegalArgumentException | IllegalStateException | ValidationException e) {
            throw new TarnException(
                    ErrorCode.INVALID_STATE,
                    "lake table %s cannot take the new columns: %s".formatted(name, e.getMessage()),
                    e);
        }
    }

    /**
     * Exchanges two tables' data in one transaction of the catalog's database: afterwards each name points at the
     * other's metadata (and so its schema, snapshots and files). A reader that loads either table sees it whole, from
     * before or from after; a commit to either between the read of their current metadata and the exchange makes the
     * swap fail and change nothing.
     *
     * @throws TarnException {@link ErrorCode#TABLE_NOT_FOUND}; {@link ErrorCode#INVALID_STATE} when a table was committed
     *     to meanwhile; {@link ErrorCode#CATALOG_UNAVAILABLE} when the catalog's database fails
     */
    public void swap(String first, String second) {
        TableIdentifier a = identifier(first);
        TableIdentifier b = identifier(second);
        keepSinkUid(load(first));
        keepSinkUid(load(second));
        String locationA = metadataLocation(load(first));
        String locationB = metadataLocation(load(second));
        Properties connection = new Properties();
        String user = properties.get(JdbcCatalog.PROPERTY_PREFIX + "user");
        if (user != null) {
            connection.setProperty("user", user);
            connection.setProperty("password", properties.getOrDefault(JdbcCatalog.PROPERTY_PREFIX + "password", ""));
        }
        try (Connection db = DriverManager.getConnection(properties.get(CatalogProperties.URI), connection)) {
            db.setAutoCommit(false);
            try {
                int updated = point(db, a, locationA, locationB) + point(db, b, locationB, locationA);
                if (updated != 2) {
                    db.rollback();
                    throw new TarnException(
                            ErrorCode.INVALID_STATE,
                            "lake tables %s and %s were not swapped: one was committed to meanwhile; try again"
                                    .formatted(first, second));
                }
                db.commit();
            } catch (SQLException | RuntimeException e) {
                db.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new TarnException(
                    ErrorCode.CATALOG_UNAVAILABLE,
                    "lake tables %s and %s were not swapped: %s".formatted(first, second, e.getMessage()),
                    e);
        }
    }

    /** Points a table's row of the JDBC catalog at another metadata file, if it still points at the expected one. */
    private static int point(Connection db, TableIdentifier table, String expected, String location)
            throws SQLException {
        try (PreparedStatement update = db.prepareStatement(
                "UPDATE iceberg_tables SET metadata_location = ?, previous_metadata_location = ? WHERE catalog_name = ?"
                        + " AND table_namespace = ? AND table_name = ? AND metadata_location = ?")) {
            update.setString(1, location);
            update.setString(2, expected);
            update.setString(3, NAME);
            update.setString(4, String.join(".", table.namespace().levels()));
            update.setString(5, table.name());
            update.setString(6, expected);
            return update.executeUpdate();
        }
    }

    /** Records in a table's metadata the uid its writers' sinks have now ({@link #SINK_UID}). */
    private static void keepSinkUid(Table table) {
        if (!table.properties().containsKey(SINK_UID)) {
            table.updateProperties().set(SINK_UID, table.name()).commit();
        }
    }

    private static String metadataLocation(Table table) {
        return ((HasTableOperations) table).operations().current().metadataFileLocation();
    }

    /** Deletes a table's seams ({@link Seams}), which no metadata names: for a purge of the table. */
    public static void deleteSeams(Table table) {
        if (table.io() instanceof SupportsPrefixOperations prefixes) {
            String location = table.location().endsWith("/") ? table.location() : table.location() + "/";
            prefixes.deletePrefix(location + Seams.DIRECTORY);
        }
    }

    /**
     * Describes a table's current state from its metadata (no data files are read).
     *
     * @throws TarnException {@link ErrorCode#TABLE_NOT_FOUND} if there is no such table
     */
    public TableInfo describe(String name) {
        Table table = load(name);
        List<TableInfo.Column> columns = table.schema().columns().stream()
                .map(f -> new TableInfo.Column(f.fieldId(), f.name(), f.type().toString(), f.isRequired()))
                .toList();
        List<String> partitioning = table.spec().fields().stream()
                .map(f -> "%s(%s)".formatted(f.transform(), table.schema().findColumnName(f.sourceId())))
                .toList();
        List<TableInfo.Snapshot> snapshots = new ArrayList<>();
        for (Snapshot snapshot : table.snapshots()) {
            snapshots.add(new TableInfo.Snapshot(
                    snapshot.snapshotId(),
                    Instant.ofEpochMilli(snapshot.timestampMillis()),
                    String.valueOf(snapshot.operation()),
                    summaryLong(snapshot, "added-records"),
                    summaryLong(snapshot, "total-records")));
        }
        Snapshot current = table.currentSnapshot();
        int formatVersion = ((HasTableOperations) table).operations().current().formatVersion();
        return new TableInfo(
                name,
                columns,
                partitioning,
                snapshots,
                Optional.ofNullable(current).map(Snapshot::snapshotId),
                current == null ? 0 : summaryLong(current, "total-data-files"),
                current == null ? 0 : summaryLong(current, "total-delete-files"),
                current == null ? 0 : summaryLong(current, "total-files-size"),
                current == null ? 0 : summaryLong(current, "total-records"),
                formatVersion);
    }

    /**
     * For each table that holds commits of the given Flink jobs (one pipeline's runs), the newest of them, read from the
     * {@code flink.job-id} and {@code flink.max-committed-checkpoint-id} that Iceberg's Flink sink writes into each
     * snapshot's summary.
     *
     * @return {@code namespace.table} to its newest commit by those jobs
     */
    public Map<String, FlinkCommit> lastCommits(Set<String> jobIds) {
        Map<String, FlinkCommit> commits = new TreeMap<>();
        if (jobIds.isEmpty()) {
            return commits;
        }
        for (String name : listTables()) {
            lastCommit(name, jobIds).ifPresent(commit -> commits.put(name, commit));
        }
        return commits;
    }

    /**
     * The newest commit of the given Flink jobs to one table, as {@link #lastCommits} finds it.
     *
     * @throws TarnException {@link ErrorCode#TABLE_NOT_FOUND} if there is no such table
     */
    public Optional<FlinkCommit> lastCommit(String name, Set<String> jobIds) {
        FlinkCommit last = null;
        for (Snapshot snapshot : load(name).snapshots()) {
            Map<String, String> summary = snapshot.summary();
            String checkpoint = summary == null ? null : summary.get(FLINK_MAX_COMMITTED_CHECKPOINT);
            String job = summary == null ? null : summary.get(FLINK_JOB_ID);
            if (checkpoint != null && job != null && jobIds.contains(job)) {
                FlinkCommit commit =
                        new FlinkCommit(Long.parseLong(checkpoint), snapshot.snapshotId(), snapshot.timestampMillis());
                if (last == null || commit.checkpointId() > last.checkpointId()) {
                    last = commit;
                }
            }
        }
        return Optional.ofNullable(last);
    }

    /**
     * Expires a table's snapshots older than a time, always keeping the current one; their files that no snapshot
     * still references are deleted. Iceberg's own cleanup deletes a file only when the snapshot that removed it
     * expires (a file a compaction replaced would stay on disk for as long as the compaction's snapshot is kept), so
     * the files referenced before and no longer after are deleted here.
     *
     * @return how many snapshots were expired
     */
    public int expireSnapshots(String name, long olderThanMillis) {
        Table table = load(name);
        Snapshot current = table.currentSnapshot();
        int before = count(table.snapshots());
        boolean anyToExpire = false;
        for (Snapshot snapshot : table.snapshots()) {
            anyToExpire |=
                    snapshot.timestampMillis() < olderThanMillis && snapshot.snapshotId() != current.snapshotId();
        }
        if (!anyToExpire) {
            return 0;
        }
        Set<Path> referenced = TableCleanup.referencedFiles(table);
        table.expireSnapshots().expireOlderThan(olderThanMillis).retainLast(1).commit();
        table.refresh();
        referenced.removeAll(TableCleanup.referencedFiles(table));
        referenced.forEach(file -> table.io().deleteFile(file.toString()));
        return before - count(table.snapshots());
    }

    private static int count(Iterable<?> items) {
        int count = 0;
        for (Object ignored : items) {
            count++;
        }
        return count;
    }

    /**
     * A commit of Iceberg's Flink sink.
     *
     * @param checkpointId the Flink checkpoint it committed
     */
    public record FlinkCommit(long checkpointId, long snapshotId, long timestampMillis) {}

    private static long summaryLong(Snapshot snapshot, String key) {
        String value = snapshot.summary() == null ? null : snapshot.summary().get(key);
        return value == null ? 0 : Long.parseLong(value);
    }

    /**
     * Parses {@code namespace.table} (also accepts a leading {@code lake.}).
     *
     * @throws TarnException {@link ErrorCode#INVALID_NAME} when it is not of that form
     */
    public static TableIdentifier identifier(String name) {
        requireNonNull(name, "name is null");
        String stripped = name.startsWith(NAME + ".") ? name.substring(NAME.length() + 1) : name;
        String[] parts = stripped.split("\\.");
        if (parts.length != 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
            throw new TarnException(
                    ErrorCode.INVALID_NAME, "lake table name '%s' must be of the form namespace.table".formatted(name));
        }
        return TableIdentifier.of(parts[0], parts[1]);
    }

    /** The Iceberg catalog itself (tables, namespaces and views), for the Iceberg REST catalog Tarn serves. */
    public JdbcCatalog icebergCatalog() {
        return catalog;
    }

    @Override
    public void close() {
        catalog.close();
    }
}
