package io.tarn.server.source;

import static java.util.Objects.requireNonNull;

import io.tarn.cdc.Capture;
import io.tarn.cdc.ConnectionUrl;
import io.tarn.cdc.SourceDatabase;
import io.tarn.cdc.TableSchema;
import io.tarn.compute.ColumnTypes;
import io.tarn.core.config.ConfigKeys;
import io.tarn.core.config.TarnConfig;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.io.DataDir;
import io.tarn.core.io.Directories;
import io.tarn.core.pipeline.PipelineSpec;
import io.tarn.core.pipeline.PipelineState;
import io.tarn.core.pipeline.PipelineStatus;
import io.tarn.core.topic.ColumnSpec;
import io.tarn.core.topic.SchemaCompatibility;
import io.tarn.core.topic.TopicSpec;
import io.tarn.lake.LakeCatalog;
import io.tarn.server.metadata.MetadataStore;
import io.tarn.server.metadata.SourceRecord;
import io.tarn.server.pipeline.PipelineService;
import io.tarn.server.topic.TopicService;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.config.Configurator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Change data capture sources: each captures tables of a PostgreSQL or MariaDB database into one topic per table (Debezium
 * change events, keyed by primary key) and, when mirrored, has a pipeline that keeps a lake table per captured table
 * in step ({@link MirrorSql}). Sources are resumed when Tarn starts, from the offsets their capture stored in
 * {@code sources/<name>/} of the data dir. Deleting a source removes what its capture keeps in the database (PostgreSQL:
 * replication slot and publication) and its mirror pipeline; its topics and lake tables stay. Changes of one source are
 * serialised by a lock of its own, never one lock for all: a database that does not answer (until its connection
 * times out) holds up requests about its own source only. Reads take no lock.
 *
 * <p>Size: a source's life (checks, topics, mirror pipeline, capture, status, deletion) under its own lock; the parts
 * that do not need the lock live in {@link MirrorSql} and tarn-cdc.
 */
public final class SourceService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SourceService.class);

    private final MetadataStore metadata;
    private final TopicService topics;
    private final PipelineService pipelines;
    private final Path stateRoot;
    private final String bootstrapServers;
    private final int partitions;
    private final Duration heartbeat;
    private final long walWarningBytes;
    private final LakeCatalog lake;
    private final Map<String, Capture> captures = new ConcurrentHashMap<>();
    /** Sources whose capture stopped at a schema change that is being evolved. */
    private final Set<String> evolving = ConcurrentHashMap.newKeySet();
    /** Where captures stopped at a schema change are evolved and restarted, one at a time. */
    private final ExecutorService evolutions = Executors.newSingleThreadExecutor(r -> {
        Thread thread = new Thread(r, "tarn-source-evolution");
        thread.setDaemon(true);
        return thread;
    });
    /** Why a source's capture could not be started, by source. */
    private final Map<String, String> startErrors = new ConcurrentHashMap<>();
    /** One lock per source name, for its changes. */
    private final Map<String, Object> locks = new ConcurrentHashMap<>();

    /**
     * How sources run.
     *
     * @param stateRoot where each source keeps its offsets and schema history ({@code <stateRoot>/<name>/})
     * @param partitions partitions of the topics a source creates
     * @param heartbeat how often captures confirm their position to a quiet database ({@code cdc.heartbeat-interval})
     * @param walWarningBytes WAL a PostgreSQL slot may hold back before a warning ({@code cdc.wal-warning-bytes})
     */
    public record Settings(Path stateRoot, int partitions, Duration heartbeat, long walWarningBytes) {
        public Settings {
            requireNonNull(stateRoot, "stateRoot is null");
            requireNonNull(heartbeat, "heartbeat is null");
        }

        /** The settings of Tarn's configuration and data directory. */
        public static Settings from(TarnConfig config, DataDir dataDir) {
            return new Settings(
                    dataDir.sources(),
                    config.get(ConfigKeys.LOG_DEFAULT_PARTITIONS),
                    config.get(ConfigKeys.CDC_HEARTBEAT_INTERVAL),
                    config.get(ConfigKeys.CDC_WAL_WARNING_BYTES));
        }
    }

    public SourceService(
            MetadataStore metadata,
            TopicService topics,
            PipelineService pipelines,
            LakeCatalog lake,
            String bootstrapServers,
            Settings settings) {
        this.metadata = requireNonNull(metadata, "metadata is null");
        this.lake = requireNonNull(lake, "lake is null");
        this.topics = requireNonNull(topics, "topics is null");
        this.pipelines = requireNonNull(pipelines, "pipelines is null");
        this.bootstrapServers = requireNonNull(bootstrapServers, "bootstrapServers is null");
        this.stateRoot = settings.stateRoot();
        this.partitions = settings.partitions();
        this.heartbeat = settings.heartbeat();
        this.walWarningBytes = settings.walWarningBytes();
        quietDebeziumConfiguration();
    }

    /**
     * Debezium's engine logs its whole configuration, the database password in clear, at DEBUG (it masks it at INFO):
     * that logger never logs below INFO in Tarn, whatever the log configuration says.
     */
    static void quietDebeziumConfiguration() {
        String engine = "io.debezium.embedded.async.AsyncEmbeddedEngine";
        if (LogManager.getLogger(engine).isDebugEnabled()) {
            Configurator.setLevel(engine, Level.INFO);
        }
    }

    /**
     * A source as its owner asks for it.
     *
     * @param tables {@code schema.table} names
     */
    public record Request(
            String name,
            String type,
            String connection,
            String user,
            String password,
            List<String> tables,
            boolean mirror) {
        @Override
        public String toString() { // never the password
            return "Request[name=%s, type=%s, connection=%s, user=%s, tables=%s, mirror=%s]"
                    .formatted(name, type, connection, user, tables, mirror);
        }
    }

    /**
     * A source's state.
     *
     * @param state {@code SNAPSHOT} while the initial snapshot runs, {@code STREAMING} after it, {@code STARTING}
     *     before either, {@code FAILED} when the capture stopped on an error
     * @param lag where the capture stands against the database, empty if the database could not be asked
     * @param topics change topic per captured table
     * @param lakeTables mirror table per captured table (empty when not mirrored)
     * @param warnings conditions that need the owner's attention, e.g. WAL piling up
     */
    public record Status(
            SourceRecord source,
            String state,
            Snapshot snapshot,
            long records,
            Optional<Lag> lag,
            Map<String, String> topics,
            Map<String, String> lakeTables,
            Optional<String> mirrorPipeline,
            Optional<String> lastError,
            List<String> warnings) {}

    /**
     * The capture's initial snapshot.
     *
     * @param tables tables it takes, of which {@code remainingTables} are still to come
     * @param rowsScanned rows read so far, by table
     */
    public record Snapshot(
            boolean running, boolean completed, int tables, int remainingTables, Map<String, Long> rowsScanned) {
        public Snapshot {
            rowsScanned = Map.copyOf(rowsScanned);
        }
    }

    /**
     * Where the capture stands against the database (PostgreSQL: WAL positions of the slot; MariaDB: binlog positions).
     *
     * @param retainedBytes what the database keeps for the capture
     * @param active whether the capture is connected
     */
    public record Lag(
            String captured, String server, String confirmed, long bytesBehind, long retainedBytes, boolean active) {}

    /**
     * Checks the database and tables, creates the change topics, starts the mirror pipeline (if asked) and the
     * capture, which snapshots the tables first.
     *
     * @throws TarnException {@link ErrorCode#SOURCE_ALREADY_EXISTS}; {@link ErrorCode#INVALID_REQUEST} for a bad
     *     connection URL, a table that is missing, has no primary key or a column type Tarn cannot carry, or a database
     *     without logical decoding; {@link ErrorCode#TOPIC_ALREADY_EXISTS} if a change topic is left from an earlier
     *     source of the same name; {@link ErrorCode#SOURCE_UNAVAILABLE} if the database cannot be reached
     */
    public Status create(Request request) {
        requireValidName(request.name());
        if (request.tables().isEmpty()) {
            throw new TarnException(ErrorCode.INVALID_REQUEST, "a source needs at least one table to capture");
        }
        List<String> tables = List.copyOf(new LinkedHashSet<>(request.tables()));
        ConnectionUrl url = ConnectionUrl.parse(request.connection());
        if (request.type() != null && !request.type().equals(url.kind())) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST,
                    "source type '%s' does not match the connection URL, which is %s://"
                            .formatted(request.type(), url.kind()));
        }
        synchronized (lock(request.name())) {
            return create(request, url, tables);
        }
    }

    private Status create(Request request, ConnectionUrl url, List<String> tables) {
        if (metadata.source(request.name()).isPresent()) {
            throw new TarnException(
                    ErrorCode.SOURCE_ALREADY_EXISTS, "source '%s' already exists".formatted(request.name()));
        }
        SourceDatabase database = SourceDatabase.of(url, request.user(), request.password());
        List<TableSchema> schemas = database.describe(tables);
        String mirrorSql =
                request.mirror() ? MirrorSql.pipeline(request.name(), database.defaultSchema(), schemas) : null;
        if (request.mirror()) {
            pipelines.requireAbsent(MirrorSql.pipelineName(request.name()));
        }
        List<String> created = new ArrayList<>();
        try {
            for (TableSchema schema : schemas) {
                String topic = Capture.topic(request.name(), schema.name());
                topics.create(TopicSpec.changes(topic, partitions, schema.columns(), schema.primaryKey()));
                created.add(topic);
            }
            if (mirrorSql != null) {
                pipelines.create(new PipelineSpec(MirrorSql.pipelineName(request.name()), mirrorSql));
            }
        } catch (RuntimeException e) {
            created.forEach(this::deleteTopicQuietly);
            throw e;
        }
        SourceRecord record = new SourceRecord(
                request.name(),
                url.kind(),
                url.text(),
                request.user(),
                request.password(),
                tables,
                request.mirror(),
                System.currentTimeMillis());
        metadata.putSource(record);
        // a new source snapshots: offsets left by an earlier source of this name (say, a delete cut short) must not
        // make it resume instead
        Directories.deleteRecursively(stateDirectory(record.name()));
        startCapture(record);
        LOG.info("Source {} created", record);
        return status(record);
    }

    /** The sources whose captured changes go to a topic. */
    public List<String> capturingInto(String topic) {
        return metadata.sources().stream()
                .filter(source -> source.tables().stream()
                        .anyMatch(table -> Capture.topic(source.name(), table).equals(topic)))
                .map(SourceRecord::name)
                .toList();
    }

    public List<Status> list() {
        return metadata.sources().stream().map(this::status).toList();
    }

    /**
     * @throws TarnException {@link ErrorCode#SOURCE_NOT_FOUND}
     */
    public Status get(String name) {
        return status(load(name));
    }

    /**
     * Stops the capture, drops its replication slot and publication in the database, deletes the mirror pipeline and
     * the capture's offsets. Topics and lake tables stay.
     *
     * @throws TarnException {@link ErrorCode#SOURCE_NOT_FOUND}; {@link ErrorCode#SOURCE_UNAVAILABLE} when the slot
     *     cannot be dropped because the database cannot be reached (the source is kept and capturing)
     */
    public void delete(String name) {
        synchronized (lock(name)) {
            deleteLocked(name);
        }
    }

    private void deleteLocked(String name) {
        SourceRecord record = load(name);
        stopCapture(name);
        try {
            database(record).dropCapture(name);
        } catch (TarnException e) {
            startCapture(record);
            throw new TarnException(
                    e.code(),
                    "source '%s' is kept: its replication slot could not be dropped (%s)"
                            .formatted(name, e.getMessage()),
                    e);
        }
        if (record.mirror()) {
            String pipeline = MirrorSql.pipelineName(name);
            if (pipelines.exists(pipeline)) {
                pipelines.delete(pipeline);
            }
        }
        metadata.deleteSource(name);
        startErrors.remove(name);
        Directories.deleteRecursively(stateDirectory(name));
        LOG.info("Source {} deleted", name);
    }

    /**
     * After a start of Tarn: resumes every source's capture from its stored offsets, once its mirror has the columns
     * of its change topics (an evolution cut off by a crash is finished first).
     */
    public void resumeAll() {
        for (SourceRecord record : metadata.sources()) {
            synchronized (lock(record.name())) {
                try {
                    if (record.mirror()) {
                        for (String table : record.tables()) {
                            evolveLakeTable(
                                    record, table, changeTopic(record, table).columns());
                        }
                        remirror(record);
                    }
                } catch (RuntimeException e) {
                    String message =
                            "the mirror could not take its tables' new columns: " + TarnException.rootMessage(e);
                    startErrors.put(record.name(), message);
                    LOG.error("Source {} could not start: {}", record.name(), message);
                    continue;
                }
                startCapture(record);
            }
        }
    }

    /**
     * A capture stopped at a schema change of a table: when the new columns can flow on (optional columns added, types
     * widened, columns dropped — as Iceberg evolves a table), the mirror's lake table, the change topic and the mirror
     * pipeline take them and the capture starts again from the change; otherwise it stays stopped, saying why.
     */
    private void evolve(String name, Capture.SchemaChange change) {
        synchronized (lock(name)) {
            Optional<SourceRecord> record = metadata.source(name);
            if (record.isEmpty() || !captures.containsKey(name)) {
                return; // deleted or stopped meanwhile
            }
            stopCapture(name);
            try {
                applyChange(record.get(), change);
            } catch (RuntimeException e) {
                String message = change.getMessage() + ". " + TarnException.rootMessage(e)
                        + "; delete and re-create the source to capture the table with its new columns";
                startErrors.put(name, message);
                LOG.error("Source {} stopped: {}", name, message);
                return;
            }
            startCapture(record.get());
        }
    }

    private void applyChange(SourceRecord record, Capture.SchemaChange change) {
        String table = change.table();
        TableSchema now = change.now().orElseThrow(() -> refusal("the table could not be described"));
        TopicSpec topic = changeTopic(record, table);
        List<ColumnSpec> before = topic.columns();
        List<ColumnSpec> after = now.columns();
        if (before.equals(after)) {
            throw refusal("its changes carry other columns than the table has now");
        }
        if (!now.primaryKey().equals(topic.primaryKey())) {
            throw refusal("its primary key changed from %s to %s".formatted(topic.primaryKey(), now.primaryKey()));
        }
        Set<String> beforeNames =
                new LinkedHashSet<>(before.stream().map(ColumnSpec::name).toList());
        Set<String> afterNames =
                new LinkedHashSet<>(after.stream().map(ColumnSpec::name).toList());
        List<String> added =
                afterNames.stream().filter(n -> !beforeNames.contains(n)).toList();
        List<String> dropped =
                beforeNames.stream().filter(n -> !afterNames.contains(n)).toList();
        if (!added.isEmpty() && !dropped.isEmpty()) {
            throw refusal(
                    ("it cannot flow into the lake: %s gone and %s new at once, which the change stream cannot tell"
                                    + " from a rename")
                            .formatted(dropped, added));
        }
        List<String> defaulted =
                added.stream().filter(now.defaulted()::contains).toList();
        if (!defaulted.isEmpty()) {
            throw refusal(("it cannot flow into the lake: %s added with a default, which the rows written before have"
                            + " in the database but not in the change stream")
                    .formatted(defaulted));
        }
        try {
            SchemaCompatibility.BACKWARD.check(List.of(before), after, topics.typeProblems());
        } catch (TarnException e) {
            throw refusal("it cannot flow into the lake: " + e.getMessage());
        }
        if (record.mirror()) {
            evolveLakeTable(record, table, after);
        }
        topics.evolveChanges(topic.name(), after);
        if (record.mirror()) {
            remirror(record);
        }
        LOG.info(
                "Source {}: table {} has new columns ({}); its changes flow on",
                record.name(),
                table,
                String.join("; ", Capture.differences(before, after)));
    }

    private static IllegalStateException refusal(String reason) {
        return new IllegalStateException(reason.substring(0, 1).toUpperCase(Locale.ROOT) + reason.substring(1));
    }

    private TopicSpec changeTopic(SourceRecord record, String table) {
        String name = Capture.topic(record.name(), table);
        return metadata.topic(name)
                .orElseThrow(() -> new TarnException(
                        ErrorCode.TOPIC_NOT_FOUND, "change topic '%s' does not exist".formatted(name)));
    }

    /** Gives a mirror's lake table a captured table's columns (none yet: the mirror creates it with them). */
    private void evolveLakeTable(SourceRecord record, String table, List<ColumnSpec> columns) {
        String lakeTable = MirrorSql.lakeTable(record.name(), database(record).defaultSchema(), table);
        try {
            if (lake.evolve(lakeTable, ColumnTypes.icebergSchema(columns))) {
                LOG.info("Lake table {} has the new columns of {}", lakeTable, table);
            }
        } catch (TarnException e) {
            if (e.code() != ErrorCode.TABLE_NOT_FOUND) {
                throw e;
            }
        }
    }

    /**
     * Gives the mirror pipeline the SQL of the change topics' columns, if it has other SQL: stopped with a savepoint,
     * changed and started again from it (or only changed, when its owner stopped it).
     */
    private void remirror(SourceRecord record) {
        String pipeline = MirrorSql.pipelineName(record.name());
        if (!pipelines.exists(pipeline)) {
            return;
        }
        List<TableSchema> tables = new ArrayList<>();
        for (String table : record.tables()) {
            TopicSpec topic = changeTopic(record, table);
            tables.add(new TableSchema(table, topic.columns(), topic.primaryKey()));
        }
        String sql = MirrorSql.pipeline(record.name(), database(record).defaultSchema(), tables);
        PipelineStatus status = pipelines.get(pipeline);
        if (status.spec().sql().equals(sql)) {
            return;
        }
        boolean running = status.state() != PipelineState.STOPPED;
        if (running) {
            pipelines.stop(pipeline);
        }
        pipelines.update(pipeline, sql);
        if (running) {
            pipelines.start(pipeline, Optional.empty());
        }
        LOG.info("Mirror pipeline {} reads its tables' new columns", pipeline);
    }

    private Object lock(String name) {
        return locks.computeIfAbsent(name, n -> new Object());
    }

    private void startCapture(SourceRecord record) {
        try {
            Capture capture =
                    Capture.start(spec(record), stateDirectory(record.name()), bootstrapServers, heartbeat, change -> {
                        evolving.add(record.name());
                        evolutions.execute(() -> {
                            try {
                                evolve(record.name(), change);
                            } finally {
                                evolving.remove(record.name());
                            }
                        });
                    });
            captures.put(record.name(), capture);
            startErrors.remove(record.name());
        } catch (IOException | RuntimeException e) {
            startErrors.put(record.name(), "the capture could not start: " + TarnException.rootMessage(e));
            LOG.error("Source {} could not start: {}", record.name(), TarnException.rootMessage(e));
        }
    }

    private void stopCapture(String name) {
        Capture capture = captures.remove(name);
        if (capture != null) {
            try {
                capture.close();
            } catch (Exception e) {
                LOG.warn("Source {} did not stop cleanly: {}", name, e.getMessage());
            }
        }
    }

    private Status status(SourceRecord record) {
        Capture capture = captures.get(record.name());
        Capture.Progress progress =
                capture == null ? new Capture.Progress(false, false, 0, 0, Map.of(), Map.of(), 0) : capture.progress();
        Optional<String> error = Optional.ofNullable(startErrors.get(record.name()));
        if (capture != null && capture.failure().isPresent()) {
            error = Optional.of(TarnException.rootMessage(capture.failure().get()));
        }
        List<String> warnings = new ArrayList<>();
        Optional<SourceDatabase.Lag> lag = Optional.empty();
        try {
            lag = Optional.of(database(record).lag(record.name(), progress.captured()));
            warnings.addAll(lag.get().warnings());
        } catch (TarnException e) {
            warnings.add(e.getMessage());
        }
        lag.filter(l -> l.retainedBytes() > walWarningBytes)
                .ifPresent(l ->
                        warnings.add(("the database keeps %d MiB of WAL for this source's replication slot (more than"
                                        + " cdc.wal-warning-bytes); it is freed as the capture confirms its position")
                                .formatted(l.retainedBytes() >> 20)));
        String state;
        if (evolving.contains(record.name())) {
            state = "EVOLVING"; // a schema change flows into its topic and lake table; the capture starts again
            error = Optional.empty();
        } else if (error.isPresent()) {
            state = "FAILED";
        } else if (progress.snapshotRunning()) {
            state = "SNAPSHOT";
        } else if (progress.snapshotCompleted() || !progress.captured().isEmpty()) {
            state = "STREAMING";
        } else {
            state = "STARTING";
        }
        Map<String, String> topicNames = new LinkedHashMap<>();
        Map<String, String> lakeTables = new LinkedHashMap<>();
        for (String table : record.tables()) {
            topicNames.put(table, Capture.topic(record.name(), table));
            if (record.mirror()) {
                lakeTables.put(
                        table,
                        MirrorSql.lakeTable(record.name(), database(record).defaultSchema(), table));
            }
        }
        return new Status(
                record,
                state,
                new Snapshot(
                        progress.snapshotRunning(),
                        progress.snapshotCompleted(),
                        progress.tablesTotal(),
                        progress.tablesRemaining(),
                        progress.rowsScanned()),
                progress.records(),
                lag.map(l -> new Lag(
                        l.captured(), l.server(), l.confirmed(), l.bytesBehind(), l.retainedBytes(), l.active())),
                topicNames,
                lakeTables,
                record.mirror() ? Optional.of(MirrorSql.pipelineName(record.name())) : Optional.empty(),
                error,
                warnings);
    }

    private SourceRecord load(String name) {
        return metadata.source(name)
                .orElseThrow(() ->
                        new TarnException(ErrorCode.SOURCE_NOT_FOUND, "source '%s' does not exist".formatted(name)));
    }

    /** The capture of a source, checking each table's columns against its change topic's declaration. */
    private Capture.Spec spec(SourceRecord record) {
        Map<String, List<ColumnSpec>> columns = new HashMap<>();
        for (String table : record.tables()) {
            metadata.topic(Capture.topic(record.name(), table)).ifPresent(topic -> columns.put(table, topic.columns()));
        }
        return new Capture.Spec(record.name(), database(record), record.tables(), columns);
    }

    private static SourceDatabase database(SourceRecord record) {
        return SourceDatabase.of(ConnectionUrl.parse(record.connection()), record.user(), record.password());
    }

    private Path stateDirectory(String name) {
        return stateRoot.resolve(name);
    }

    private void deleteTopicQuietly(String topic) {
        try {
            topics.delete(topic);
        } catch (RuntimeException e) {
            LOG.warn("Topic {} could not be removed after a failed source creation: {}", topic, e.getMessage());
        }
    }

    /**
     * Source names become the replication slot {@code tarn_<name>}, the topic prefix and the lake namespace.
     *
     * @throws TarnException {@link ErrorCode#INVALID_NAME}
     */
    static void requireValidName(String name) {
        if (name == null || !name.matches("[a-z][a-z0-9_]{0,39}")) {
            throw new TarnException(
                    ErrorCode.INVALID_NAME,
                    "source name '%s' must be 1-40 characters of lower-case letters, digits and '_', starting with a letter"
                            .formatted(name));
        }
    }

    /** Stops every capture; their offsets stay for the next start. */
    @Override
    public void close() {
        evolutions.shutdownNow();
        for (String name : List.copyOf(captures.keySet())) {
            stopCapture(name);
        }
    }
}
