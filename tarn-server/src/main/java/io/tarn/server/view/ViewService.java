package io.tarn.server.view;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tarn.compute.ColumnTypes;
import io.tarn.compute.JobControl;
import io.tarn.compute.ViewQueries;
import io.tarn.core.config.ConfigKeys;
import io.tarn.core.config.TarnConfig;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.io.Directories;
import io.tarn.core.pipeline.PipelineSpec;
import io.tarn.core.pipeline.PipelineStatus;
import io.tarn.core.sql.TableGuard;
import io.tarn.core.topic.ColumnSpec;
import io.tarn.core.topic.TopicSpec;
import io.tarn.core.view.ViewNames;
import io.tarn.lake.LiveTables;
import io.tarn.server.metadata.MetadataStore;
import io.tarn.server.metadata.PipelineRecord;
import io.tarn.server.metadata.ViewRecord;
import io.tarn.server.pipeline.PipelineService;
import io.tarn.server.topic.TopicService;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.apache.iceberg.Schema;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Live views: a query over topics (and lake tables) that Tarn keeps answered. A view runs as a pipeline,
 * {@code <view>-view}, whose query's rows go as upserts by the view's key to a compacted topic, {@code <view>.view};
 * a {@link ViewStore} applies that topic to a store on disk that answers reads by key in milliseconds. After a restart
 * the pipeline resumes from its checkpoint and the store from the offsets its rows are at.
 *
 * <p>The pipeline writes its topic at least once, as soon as a row changes: a reader sees a change within
 * milliseconds, and after a failure the rows written since the checkpoint the pipeline restores are written again, with
 * the values they had then, until the pipeline has caught up (docs/guarantees.md).
 */
public final class ViewService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ViewService.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final MetadataStore metadata;
    private final TopicService topics;
    private final PipelineService pipelines;
    private final ViewQueries queries;
    private final JobControl jobs;
    private final Path directory;
    private final String bootstrapServers;
    private final int partitions;
    private final int maxRows;
    private final Settings settings;
    private final Map<String, ViewStore> stores = new ConcurrentHashMap<>();
    /** Each view's sink watermark as last read from Flink, and when; reads of rows never wait for Flink. */
    private final Map<String, Watermark> watermarks = new ConcurrentHashMap<>();

    private final ExecutorService watermarkReader = Executors.newSingleThreadExecutor(r -> {
        Thread thread = new Thread(r, "tarn-view-watermarks");
        thread.setDaemon(true);
        return thread;
    });

    private record Watermark(Optional<Instant> value, long readAtNanos, boolean reading) {}

    /**
     * On a server that follows the views of another ({@link #follow}): each followed view's creation time, so that a
     * view deleted and made again under its name gets a new store.
     */
    private final Map<String, Long> followed = new ConcurrentHashMap<>();
    /** Views (name and creation time) whose store could not be opened here, each logged once. */
    private final Set<String> unopened = ConcurrentHashMap.newKeySet();

    private volatile boolean following;

    /** Clients following views' changes, with the view each follows. */
    private final Map<ViewChanges, String> subscribers = new IdentityHashMap<>();

    /**
     * @param maxSubscribers most clients following views' changes at once
     * @param subscriberMaxLag changes a client may fall behind before it is cut off
     */
    public record Settings(int maxSubscribers, int subscriberMaxLag) {
        public static Settings from(TarnConfig config) {
            return new Settings(
                    config.get(ConfigKeys.VIEWS_MAX_SUBSCRIBERS), config.get(ConfigKeys.VIEWS_SUBSCRIBER_MAX_LAG));
        }
    }

    /**
     * @param directory where the views' stores are, one file per view
     * @param partitions partitions of a view's topic
     * @param maxRows the most rows one read returns
     */
    public ViewService(
            MetadataStore metadata,
            TopicService topics,
            PipelineService pipelines,
            ViewQueries queries,
            JobControl jobs,
            Path directory,
            String bootstrapServers,
            int partitions,
            int maxRows,
            Settings settings) {
        this.metadata = requireNonNull(metadata, "metadata is null");
        this.topics = requireNonNull(topics, "topics is null");
        this.pipelines = requireNonNull(pipelines, "pipelines is null");
        this.queries = requireNonNull(queries, "queries is null");
        this.jobs = requireNonNull(jobs, "jobs is null");
        this.directory = requireNonNull(directory, "directory is null");
        this.bootstrapServers = requireNonNull(bootstrapServers, "bootstrapServers is null");
        this.partitions = partitions;
        this.maxRows = maxRows;
        this.settings = requireNonNull(settings, "settings is null");
    }

    /**
     * A view as its owner asks for it.
     *
     * @param key the columns that identify a row; empty: the key Flink's planner derives for the query's rows
     * @param history whether the view's rows are also kept in a lake table, {@code views.<name>} (upserted by key)
     */
    public record Request(String name, String sql, List<String> key, boolean history) {
        public Request {
            requireNonNull(name, "name is null");
            requireNonNull(sql, "sql is null");
            key = List.copyOf(key);
        }
    }

    /**
     * A view and how it is doing.
     *
     * @param rows rows it has now
     * @param skipped records of its topic that were not rows of it (written there by something else), with the last
     *     one's reason in {@code problem}
     */
    public record Status(
            ViewRecord view,
            List<ColumnSpec> columns,
            List<String> key,
            PipelineStatus pipeline,
            long rows,
            Freshness freshness,
            long skipped,
            Optional<String> problem) {
        public Status {
            columns = List.copyOf(columns);
            key = List.copyOf(key);
        }
    }

    /** Rows of a read and how fresh they are. */
    public record Rows(List<JsonNode> rows, Freshness freshness) {
        public Rows {
            rows = List.copyOf(rows);
        }
    }

    /**
     * Checks the query with Flink's planner, creates the view's topic and store, and starts its pipeline.
     *
     * @throws TarnException {@link ErrorCode#INVALID_NAME}; {@link ErrorCode#VIEW_ALREADY_EXISTS};
     *     {@link ErrorCode#INVALID_SQL} when the SQL is not one query Flink can plan; {@link ErrorCode#INVALID_REQUEST}
     *     for a key that is not columns of the query, or when no key is given and Flink derives none;
     *     {@link ErrorCode#TOPIC_ALREADY_EXISTS} / {@link ErrorCode#PIPELINE_ALREADY_EXISTS} when the view's topic or
     *     pipeline name is taken
     */
    public synchronized Status create(Request request) {
        String name = request.name();
        new PipelineSpec(ViewNames.pipeline(requireValidName(name)), request.sql()); // the pipeline's own checks, named
        if (metadata.view(name).isPresent()) {
            throw new TarnException(ErrorCode.VIEW_ALREADY_EXISTS, "view '%s' already exists".formatted(name));
        }
        ViewQueries.Shape shape = queries.describe(name, request.sql(), topics.streamTables());
        List<String> key = key(name, request.key(), shape);
        pipelines.requireAbsent(ViewNames.pipeline(name));
        String topic = ViewNames.topic(name);
        TopicSpec spec = TopicSpec.upserts(topic, partitions, shape.columns(), key);
        topics.create(spec);
        Optional<String> history = request.history() ? Optional.of(ViewNames.historyTable(name)) : Optional.empty();
        ViewRecord record = new ViewRecord(
                name, shape.query(), topic, ViewNames.pipeline(name), System.currentTimeMillis(), history);
        try {
            metadata.putView(record);
            stores.put(name, ViewStore.open(name, spec, storeFile(name), bootstrapServers));
            // the view's own pipeline writes the view's topic (and history table): its query's reads were checked above
            TableGuard.unchecked(() -> pipelines.create(new PipelineSpec(
                    record.pipeline(), ViewQueries.pipelineSql(topic, shape.query(), shape.columns(), key, history))));
        } catch (RuntimeException e) {
            Optional.ofNullable(stores.remove(name)).ifPresent(ViewStore::closeAndDelete);
            metadata.deleteView(name);
            deleteTopicQuietly(topic);
            throw e;
        }
        LOG.info(
                "View {} created: key {}, {} columns{}",
                name,
                key,
                shape.columns().size(),
                history.map(t -> ", history in lake." + t).orElse(""));
        return status(record);
    }

    private static String requireValidName(String name) {
        if (!name.matches("[a-z0-9][a-z0-9_-]{0,94}")) {
            throw new TarnException(
                    ErrorCode.INVALID_NAME,
                    ("view name '%s' must be 1-95 characters of lower-case letters, digits, '_' and '-', starting with a"
                                    + " letter or digit")
                            .formatted(name));
        }
        return name;
    }

    /** The view's key: the one asked for (columns of the query), else the one Flink derives. */
    private static List<String> key(String view, List<String> asked, ViewQueries.Shape shape) {
        List<String> columns = shape.columns().stream().map(ColumnSpec::name).toList();
        if (asked.isEmpty()) {
            if (shape.key().isEmpty()) {
                throw new TarnException(
                        ErrorCode.INVALID_REQUEST,
                        ("view '%s': Flink derives no key for its rows (%s); give \"key\", the columns %s that identify"
                                        + " a row")
                                .formatted(
                                        view,
                                        shape.appendOnly()
                                                ? "its query only appends rows"
                                                : "its query has one row for everything; add a GROUP BY",
                                        columns));
            }
            return shape.key();
        }
        Set<String> seen = new HashSet<>();
        for (String column : asked) {
            if (!columns.contains(column)) {
                throw new TarnException(
                        ErrorCode.INVALID_REQUEST,
                        "view '%s': key column '%s' is not a column of its query %s".formatted(view, column, columns));
            }
            if (!seen.add(column)) {
                throw new TarnException(
                        ErrorCode.INVALID_REQUEST, "view '%s': key column '%s' is named twice".formatted(view, column));
            }
        }
        return asked;
    }

    /** Views as the live tables of lake SQL, {@code live.<view>}: the rows their stores have when a query runs. */
    public LiveTables liveTables() {
        return name -> Optional.ofNullable(stores.get(name)).map(store -> new LiveTables.Table() {
            @Override
            public Schema schema() {
                return ColumnTypes.icebergSchema(store.topic().columns());
            }

            @Override
            public void rows(LiveTables.RowSink sink) throws IOException {
                store.snapshot(sink);
            }
        });
    }

    /** Every view with its status, by name. */
    public List<Status> list() {
        return metadata.views().stream().map(this::status).toList();
    }

    /**
     * @throws TarnException {@link ErrorCode#VIEW_NOT_FOUND}
     */
    public Status get(String name) {
        return status(load(name));
    }

    /**
     * Rows of a view by key, in key order.
     *
     * @param parameters {@code key} (one key: its value, or a JSON array of the values of a key of several columns),
     *     {@code keys} (a JSON array of such keys), {@code prefix} (the first values of a key of several columns),
     *     {@code from} (inclusive) and {@code to} (exclusive) over the key's first columns, {@code limit} (default
     *     100) and {@code order} ({@code asc}, {@code desc})
     * @throws TarnException {@link ErrorCode#VIEW_NOT_FOUND}; {@link ErrorCode#INVALID_REQUEST} for an unknown
     *     parameter, values that do not fit the key, or a limit above the most rows a read returns
     */
    public Rows read(String name, Map<String, String> parameters) {
        ViewStore store = stores.get(name); // a read asks no metadata: the store knows its view
        if (store == null) {
            load(name);
            store = store(name);
        }
        int keyColumns = store.keyColumns();
        Set<String> unknown = new HashSet<>(parameters.keySet());
        unknown.removeAll(READ_PARAMETERS);
        if (!unknown.isEmpty()) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST,
                    "unknown parameter %s; a read of a view takes %s"
                            .formatted(new TreeSet<>(unknown), READ_PARAMETERS));
        }
        List<List<String>> keys = new ArrayList<>();
        Optional.ofNullable(parameters.get("key")).ifPresent(k -> keys.add(values("key", k, keyColumns > 1)));
        Optional.ofNullable(parameters.get("keys")).ifPresent(k -> {
            JsonNode array = json("keys", k);
            if (!array.isArray() || array.isEmpty()) {
                throw new TarnException(
                        ErrorCode.INVALID_REQUEST, "keys must be a JSON array of keys, e.g. [\"a\", \"b\"]");
            }
            if (array.size() > MAX_KEYS) {
                throw new TarnException(
                        ErrorCode.INVALID_REQUEST,
                        "keys lists %d keys; a read takes at most %d".formatted(array.size(), MAX_KEYS));
            }
            array.forEach(one -> keys.add(valuesOf("keys", one)));
        });
        int limit = Optional.ofNullable(parameters.get("limit"))
                .map(l -> {
                    try {
                        return Integer.parseInt(l);
                    } catch (NumberFormatException e) {
                        return -1;
                    }
                })
                .orElse(Math.min(DEFAULT_LIMIT, maxRows));
        if (limit < 1 || limit > maxRows) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST,
                    "limit must be between 1 and %d (query.max-rows), got %s"
                            .formatted(maxRows, parameters.get("limit")));
        }
        String order = parameters.getOrDefault("order", "asc");
        if (!order.equals("asc") && !order.equals("desc")) {
            throw new TarnException(ErrorCode.INVALID_REQUEST, "order must be asc or desc, got '%s'".formatted(order));
        }
        ViewStore.Read read = new ViewStore.Read(
                keys,
                optionalValues("prefix", parameters.get("prefix")),
                optionalValues("from", parameters.get("from")),
                optionalValues("to", parameters.get("to")),
                limit,
                order.equals("desc"));
        // before the rows: the rows are at least this fresh
        Freshness freshness = store.freshness().withWatermark(recentWatermark(name));
        return new Rows(store.read(read), freshness);
    }

    /** Parameters of a read; see docs/http-api.md. */
    private static final List<String> READ_PARAMETERS =
            List.of("key", "keys", "prefix", "from", "to", "limit", "order");

    private static final int DEFAULT_LIMIT = 100;

    /** Most keys one read names (each is a parameter of one SQLite statement). */
    private static final int MAX_KEYS = 1000;

    private static List<String> optionalValues(String parameter, String text) {
        return text == null ? List.of() : values(parameter, text, true);
    }

    /** A parameter's values: a JSON array of them, or (for one value) the value as text. */
    private static List<String> values(String parameter, String text, boolean jsonArray) {
        if (!jsonArray || !text.startsWith("[")) {
            return List.of(text);
        }
        return valuesOf(parameter, json(parameter, text));
    }

    private static List<String> valuesOf(String parameter, JsonNode node) {
        List<String> values = new ArrayList<>();
        if (node.isArray()) {
            node.forEach(value -> values.add(scalar(parameter, value)));
        } else {
            values.add(scalar(parameter, node));
        }
        return values;
    }

    private static String scalar(String parameter, JsonNode value) {
        if (value.isNull() || value.isContainerNode()) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST,
                    "%s: a key value is a string, number or boolean, not %s".formatted(parameter, value));
        }
        return value.asText();
    }

    private static JsonNode json(String parameter, String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST, "%s is not valid JSON: %s".formatted(parameter, text), e);
        }
    }

    /**
     * A client following a view's changes (see {@link ViewChanges}); close it when the client is gone.
     *
     * @param lastEventId the id of the last event the client saw, to go on after it without the rows again
     * @throws TarnException {@link ErrorCode#VIEW_NOT_FOUND}; {@link ErrorCode#INVALID_REQUEST} for an id that is not
     *     a position of the view; {@link ErrorCode#QUERY_BUSY} when {@code views.max-subscribers} clients follow views
     */
    public ViewChanges changes(String name, Optional<String> lastEventId) {
        ViewRecord view = load(name);
        TopicSpec topic = topic(view);
        Optional<Map<Integer, Long>> from = lastEventId.map(id -> ViewChanges.position(name, topic.partitions(), id));
        ViewStore store = store(name);
        synchronized (subscribers) {
            if (subscribers.size() >= settings.maxSubscribers()) {
                throw new TarnException(
                        ErrorCode.QUERY_BUSY,
                        "%d clients follow views already (views.max-subscribers); try again later"
                                .formatted(subscribers.size()));
            }
            ViewChanges changes =
                    new ViewChanges(name, topic, store, from, settings.subscriberMaxLag(), bootstrapServers, ended -> {
                        synchronized (subscribers) {
                            subscribers.remove(ended);
                        }
                    });
            subscribers.put(changes, name);
            return changes;
        }
    }

    /**
     * Stops the view's pipeline with a savepoint; the view keeps answering with the rows it has.
     *
     * @throws TarnException {@link ErrorCode#VIEW_NOT_FOUND}; what {@link PipelineService#stop} throws
     */
    public synchronized Status stop(String name) {
        ViewRecord view = load(name);
        pipelines.stop(view.pipeline());
        return status(view);
    }

    /**
     * Starts a stopped view's pipeline from its savepoint.
     *
     * @throws TarnException {@link ErrorCode#VIEW_NOT_FOUND}; what {@link PipelineService#start} throws
     */
    public synchronized Status start(String name) {
        ViewRecord view = load(name);
        pipelines.start(view.pipeline(), Optional.empty());
        return status(view);
    }

    /**
     * Deletes a view: its pipeline, store and topic.
     *
     * @throws TarnException {@link ErrorCode#VIEW_NOT_FOUND}
     */
    public synchronized void delete(String name) {
        ViewRecord view = load(name);
        if (pipelines.exists(view.pipeline())) {
            pipelines.delete(view.pipeline());
        }
        endSubscriptions(name::equals, "view '%s' was deleted".formatted(name));
        watermarks.remove(name);
        Optional.ofNullable(stores.remove(name)).ifPresent(ViewStore::closeAndDelete);
        metadata.deleteView(name);
        deleteTopicQuietly(view.topic());
        LOG.info("View {} deleted", name);
    }

    /** After a start of Tarn: opens every view's store, which goes on from the offsets its rows are at. */
    public synchronized void resumeAll() {
        Directories.createOwnerOnly(directory);
        for (ViewRecord view : metadata.views()) {
            try {
                stores.put(
                        view.name(),
                        ViewStore.open(view.name(), topic(view), storeFile(view.name()), bootstrapServers));
            } catch (TarnException e) {
                LOG.error("View {} could not be opened: {}", view.name(), e.getMessage());
            }
        }
    }

    /**
     * On a server that runs no views ({@code node.role=query}): keeps a store of every view the other server runs,
     * applied from the view's topic like that server's, so that this one answers reads of the views' rows, their changes
     * and {@code live.<view>} too. Opens the stores of views made since the last call and closes and deletes those of
     * views deleted meanwhile; at the first call, also the files of stores of views that are gone. Called every second.
     */
    public synchronized void follow() {
        Map<String, ViewRecord> current = new HashMap<>();
        metadata.views().forEach(view -> current.put(view.name(), view));
        if (!following) {
            deleteStoresOfOtherViews(current.values());
            following = true;
        }
        for (String name : List.copyOf(followed.keySet())) {
            ViewRecord view = current.get(name);
            if (view == null || view.createdAt() != followed.get(name)) {
                endSubscriptions(name::equals, "view '%s' was deleted".formatted(name));
                Optional.ofNullable(stores.remove(name)).ifPresent(ViewStore::closeAndDelete);
                followed.remove(name);
            }
        }
        for (ViewRecord view : current.values()) {
            if (!followed.containsKey(view.name())) {
                try {
                    stores.put(
                            view.name(),
                            ViewStore.open(view.name(), topic(view), followedStore(view), bootstrapServers));
                    followed.put(view.name(), view.createdAt());
                } catch (TarnException e) {
                    if (unopened.add(followedStore(view).getFileName().toString())) {
                        LOG.error("View {} could not be opened: {}", view.name(), e.getMessage());
                    }
                }
            }
        }
    }

    /** A followed view's store: named by the view and its creation time, so that a view made again starts afresh. */
    private Path followedStore(ViewRecord view) {
        return storeFile(view.name() + "@" + view.createdAt());
    }

    private void deleteStoresOfOtherViews(Collection<ViewRecord> views) {
        Directories.createOwnerOnly(directory);
        Set<String> kept = new HashSet<>();
        views.forEach(view -> kept.add(followedStore(view).getFileName().toString()));
        try (Stream<Path> files = Files.list(directory)) {
            for (Path file : files.toList()) {
                String name = file.getFileName().toString();
                if (kept.stream().noneMatch(name::startsWith)) {
                    Files.deleteIfExists(file);
                }
            }
        } catch (IOException e) {
            LOG.warn("The stores of deleted views could not be deleted: {}", e.getMessage());
        }
    }

    private Status status(ViewRecord view) {
        TopicSpec topic = topic(view);
        ViewStore store = stores.get(view.name());
        return new Status(
                view,
                topic.columns(),
                topic.primaryKey(),
                pipelines.get(view.pipeline()),
                store == null ? 0 : store.rowCount(),
                (store == null ? Freshness.UNKNOWN : store.freshness()).withWatermark(watermark(view)),
                store == null ? 0 : store.skipped(),
                store == null ? Optional.of("the view's store is not open; see the log") : store.lastProblem());
    }

    /** The watermark of a view's job as read at most a second ago (a newer one is read in the background). */
    private Optional<Instant> recentWatermark(String view) {
        if (following) { // the view's job is the other server's: not in this one's Flink
            return Optional.empty();
        }
        long now = System.nanoTime();
        Watermark known = watermarks.get(view);
        if (known == null || (!known.reading() && now - known.readAtNanos() > WATERMARK_AGE.toNanos())) {
            Optional<Instant> value = known == null ? Optional.empty() : known.value();
            watermarks.put(view, new Watermark(value, known == null ? 0 : known.readAtNanos(), true));
            watermarkReader.execute(() -> metadata.view(view).ifPresent(this::watermark));
        }
        return known == null ? Optional.empty() : known.value();
    }

    private static final Duration WATERMARK_AGE = Duration.ofSeconds(1);

    /** The watermark of a view's job now, from Flink (empty if its job is not running or has none). */
    private Optional<Instant> watermark(ViewRecord view) {
        Optional<Instant> value;
        try {
            value = metadata.pipeline(view.pipeline())
                    .flatMap(PipelineRecord::jobId)
                    .flatMap(jobs::sinkWatermark);
        } catch (RuntimeException e) { // Flink not answering: no watermark known, asked again in a second
            value = Optional.empty();
        }
        watermarks.put(view.name(), new Watermark(value, System.nanoTime(), false));
        return value;
    }

    private TopicSpec topic(ViewRecord view) {
        return metadata.topic(view.topic())
                .orElseThrow(() -> new TarnException(
                        ErrorCode.INTERNAL_ERROR, "view '%s' has no declared topic".formatted(view.name())));
    }

    private ViewStore store(String name) {
        ViewStore store = stores.get(name);
        if (store == null && following) { // a view made on the other server since the last look
            follow();
            store = stores.get(name);
        }
        if (store == null) {
            throw new TarnException(
                    ErrorCode.INTERNAL_ERROR, "the store of view '%s' is not open; see the log".formatted(name));
        }
        return store;
    }

    private ViewRecord load(String name) {
        return metadata.view(name)
                .orElseThrow(
                        () -> new TarnException(ErrorCode.VIEW_NOT_FOUND, "view '%s' does not exist".formatted(name)));
    }

    private Path storeFile(String view) {
        Directories.createOwnerOnly(directory);
        return directory.resolve(view + ".db");
    }

    private void deleteTopicQuietly(String topic) {
        try {
            topics.delete(topic);
        } catch (TarnException e) {
            LOG.warn("The topic {} of a view could not be deleted: {}", topic, e.getMessage());
        }
    }

    private void endSubscriptions(Predicate<String> ofView, String reason) {
        synchronized (subscribers) {
            subscribers.forEach((changes, view) -> {
                if (ofView.test(view)) {
                    changes.end(reason);
                }
            });
        }
    }

    @Override
    public void close() {
        endSubscriptions(view -> true, "Tarn stops");
        watermarkReader.shutdownNow();
        stores.values().forEach(ViewStore::close);
        stores.clear();
    }
}
