package io.tarn.server.topic;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tarn.compute.DeadLetters;
import io.tarn.compute.avro.AvroSchemas;
import io.tarn.core.audit.AuditNames;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.topic.ColumnSpec;
import io.tarn.core.topic.ColumnType;
import io.tarn.core.topic.RecordCheck;
import io.tarn.core.topic.Retention;
import io.tarn.core.topic.SchemaCompatibility;
import io.tarn.core.topic.TopicInfo;
import io.tarn.core.topic.TopicSpec;
import io.tarn.log.KafkaLog;
import io.tarn.server.metadata.MetadataStore;
import io.tarn.server.metadata.SchemaVersion;
import io.tarn.server.storage.StorageGuard;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Topics as Tarn knows them: Kafka holds the records, the metadata store how each topic was declared. A topic created
 * by a plain Kafka client is a raw topic (one {@code value STRING} column).
 */
public final class TopicService {
    /** Topics whose names begin so are internal (Kafka's, Tarn's replay topics): not stream tables, not listed. */
    private static final String INTERNAL_PREFIX = "__";

    private static final Logger LOG = LoggerFactory.getLogger(TopicService.class);

    private static final ObjectMapper JSON = new ObjectMapper();

    private final KafkaLog log;
    private final MetadataStore metadata;
    private final int maxRecordBytes;
    /** Declarations of topics known to exist, so that ingest asks Kafka nothing but to append. */
    private final ConcurrentMap<String, TopicSpec> known = new ConcurrentHashMap<>();

    private final StorageGuard storage;

    /** Told how many records HTTP ingest wrote to a topic and how many it refused. */
    public interface IngestListener {
        void ingested(String topic, long accepted, long refused);
    }

    private volatile IngestListener onIngest = (topic, accepted, refused) -> {};

    /** Sets who is told what HTTP ingest wrote and refused (the metrics). */
    public void onIngest(IngestListener listener) {
        onIngest = requireNonNull(listener, "listener is null");
    }

    /** Told the name of a topic that got a new version of its columns. */
    private volatile Consumer<String> onNewVersion = topic -> {};

    private final Function<String, ColumnType> columnTypes;
    private final BiFunction<String, String, Optional<String>> typeProblems;

    /**
     * @param columnTypes how a type a user writes is read (Flink's own type parser)
     * @param typeProblems why a column of the second type cannot hold every value of the first, if it cannot
     */
    public TopicService(
            KafkaLog log,
            MetadataStore metadata,
            int maxRecordBytes,
            StorageGuard storage,
            Function<String, ColumnType> columnTypes,
            BiFunction<String, String, Optional<String>> typeProblems) {
        this.log = requireNonNull(log, "log is null");
        this.columnTypes = requireNonNull(columnTypes, "columnTypes is null");
        this.typeProblems = requireNonNull(typeProblems, "typeProblems is null");
        this.storage = requireNonNull(storage, "storage is null");
        this.metadata = requireNonNull(metadata, "metadata is null");
        this.maxRecordBytes = maxRecordBytes;
    }

    /** Sets who is told the name of a topic that gets a new version of its columns (its readers' restarts). */
    public void onNewVersion(Consumer<String> listener) {
        onNewVersion = requireNonNull(listener, "listener is null");
    }

    /**
     * A column type as a user wrote it, read by the engine that will decode it.
     *
     * @throws TarnException {@link ErrorCode#INVALID_REQUEST} naming the type and why it is refused
     */
    public ColumnType columnType(String text) {
        return columnTypes.apply(text);
    }

    /**
     * @throws TarnException {@link ErrorCode#TOPIC_ALREADY_EXISTS} if Kafka already has it
     */
    public TopicInfo create(TopicSpec spec) {
        return create(spec, Optional.empty());
    }

    /**
     * As {@link #create(TopicSpec)}, with a retention (else Kafka's default: 7 days, no size limit).
     */
    public TopicInfo create(TopicSpec spec, Optional<Retention> retention) {
        Map<String, String> configs = new HashMap<>();
        // a view's topic keeps the newest row of each key (and a tombstone for a while): a new reader replays the view
        if (spec.format() == TopicSpec.Format.UPSERT_JSON) {
            configs.put("cleanup.policy", "compact");
        }
        retention.map(TopicService::kafkaRetention).ifPresent(r -> {
            configs.put("retention.ms", String.valueOf(r.millis()));
            configs.put("retention.bytes", String.valueOf(r.bytesPerPartition()));
        });
        log.createTopic(spec.name(), spec.partitions(), configs);
        metadata.putTopic(spec);
        SchemaCompatibility compatibility = defaultCompatibility();
        if (compatibility != SchemaCompatibility.BACKWARD) {
            metadata.setTopicCompatibility(spec.name(), compatibility.name());
        }
        retention
                .filter(Retention::untilLanded)
                .ifPresent(r -> metadata.setUntilLanded(spec.name(), Optional.of(r.millis())));
        known.put(spec.name(), spec);
        return new TopicInfo(spec, 0);
    }

    /** Every topic with its current record count, sorted by name. */
    public List<TopicInfo> list() {
        Map<String, TopicSpec> specs = specs();
        Map<String, KafkaLog.TopicStats> stats = log.describe(specs.keySet());
        List<TopicInfo> topics = new ArrayList<>();
        specs.forEach((name, spec) -> {
            KafkaLog.TopicStats s = stats.get(name);
            if (s != null) {
                topics.add(new TopicInfo(spec.withPartitions(s.partitions()), s.records()));
            }
        });
        return topics;
    }

    /**
     * @throws TarnException {@link ErrorCode#TOPIC_NOT_FOUND} if there is no such topic
     */
    public TopicInfo describe(String name) {
        TopicSpec.requireValidName(name);
        KafkaLog.TopicStats stats = log.describe(List.of(name)).get(name);
        TopicSpec spec = metadata.topic(name).orElseGet(() -> raw(name, stats.partitions()));
        Long keep = metadata.untilLandedTopics().get(name);
        Retention retention = keep != null ? new Retention(keep, -1, true) : log.retention(name);
        return new TopicInfo(spec.withPartitions(stats.partitions()), stats.records(), Optional.of(retention));
    }

    /**
     * Changes how long and how much of a topic Kafka keeps.
     *
     * @throws TarnException {@link ErrorCode#TOPIC_NOT_FOUND} if there is no such topic
     */
    public TopicInfo setRetention(String name, Retention retention) {
        existing(name);
        log.setRetention(name, kafkaRetention(retention));
        metadata.setUntilLanded(name, retention.untilLanded() ? Optional.of(retention.millis()) : Optional.empty());
        if (retention.untilLanded()) {
            LOG.info(
                    "Topic {} now keeps records for {} ms (-1: no limit) and until every pipeline reading it has"
                            + " committed past them",
                    name,
                    retention.millis());
        } else {
            LOG.info(
                    "Topic {} now keeps records for {} ms and {} bytes per partition (-1: no limit)",
                    name,
                    retention.millis(),
                    retention.bytesPerPartition());
        }
        return describe(name);
    }

    /**
     * Makes a topic that a pipeline reads keep its records until landed, unless its retention was set: the default for
     * the topics pipelines land (not for a view's topic, which Kafka compacts).
     */
    public void keepUntilLandedByDefault(String name) {
        if (name.startsWith(INTERNAL_PREFIX)
                || metadata.untilLandedTopics().containsKey(name)
                || metadata.topic(name)
                        .map(t -> t.format() == TopicSpec.Format.UPSERT_JSON)
                        .orElse(false)
                || !log.listTopics().contains(name)
                || !log.hasDefaultRetention(name)) {
            return;
        }
        setRetention(name, Retention.UNTIL_LANDED);
    }

    /** A topic's versions of columns and the compatibility new ones must have. */
    public record Schemas(SchemaCompatibility compatibility, List<SchemaVersion> versions) {}

    /**
     * The versions of a topic's columns: its first ones are version 1.
     *
     * @throws TarnException {@link ErrorCode#TOPIC_NOT_FOUND} for an unknown topic, {@link ErrorCode#INVALID_STATE} for
     *     one without columns Tarn declared
     */
    public Schemas schemas(String name) {
        TopicSpec spec = declared(name);
        return new Schemas(compatibility(name), versions(spec));
    }

    /**
     * Gives a topic new columns, as its next version, if they follow its earlier ones under its compatibility (or the
     * one given, which becomes the topic's). HTTP ingest checks records by them at once; pipelines read them from their
     * next start. The same columns as the last version change nothing.
     *
     * @throws TarnException {@link ErrorCode#SCHEMA_INCOMPATIBLE} naming the column and the rule; {@link
     *     ErrorCode#TOPIC_NOT_FOUND}, {@link ErrorCode#INVALID_STATE} as {@link #schemas}; {@link
     *     ErrorCode#INVALID_REQUEST} for columns the topic cannot have (a watermark's column gone, a name twice)
     */
    public synchronized Schemas evolve(String name, List<ColumnSpec> columns, Optional<SchemaCompatibility> given) {
        if (name.equals(AuditNames.TOPIC)) {
            throw AuditNames.refused("the columns of topic '%s' are Tarn's".formatted(name));
        }
        TopicSpec spec = declared(name);
        TopicSpec evolved = new TopicSpec(
                spec.name(), spec.partitions(), columns, spec.watermark(), spec.format(), spec.primaryKey());
        if (evolved.columns().isEmpty()) {
            throw new TarnException(ErrorCode.INVALID_REQUEST, "a topic's new columns cannot be none");
        }
        SchemaCompatibility compatibility = given.orElseGet(() -> compatibility(name));
        List<SchemaVersion> versions = versions(spec);
        boolean same = versions.get(versions.size() - 1).columns().equals(evolved.columns());
        if (!same) {
            compatibility.check(
                    versions.stream().map(SchemaVersion::columns).toList(), evolved.columns(), typeProblems);
        }
        metadata.transaction(() -> {
            if (metadata.topicSchemas(name).isEmpty()) { // the first columns, as version 1
                metadata.addTopicSchema(name, spec.columns(), avro(name, spec.columns()));
            }
            if (!same) {
                metadata.addTopicSchema(name, evolved.columns(), avro(name, evolved.columns()));
                metadata.putTopic(evolved);
            }
            given.ifPresent(c -> metadata.setTopicCompatibility(name, c.name()));
        });
        known.put(name, evolved);
        if (!same) {
            LOG.info("Topic {} has new columns, version {}", name, versions.size() + 1);
            onNewVersion.accept(name);
        }
        return schemas(name);
    }

    /**
     * Registers an Avro schema as a topic's next version ({@link SchemaRegistry}), if it follows the earlier versions
     * under the topic's compatibility; a version already registered with the same schema is returned as it is.
     *
     * @param columns the schema's columns
     * @param same whether a version has the same schema
     * @throws TarnException as {@link #evolve}
     */
    public synchronized SchemaVersion register(
            String name, List<ColumnSpec> columns, String avro, Predicate<SchemaVersion> same) {
        TopicSpec spec = declared(name);
        List<SchemaVersion> versions = registered(name);
        Optional<SchemaVersion> found = versions.stream().filter(same).findFirst();
        if (found.isPresent()) {
            return found.get();
        }
        TopicSpec evolved = new TopicSpec(
                spec.name(), spec.partitions(), columns, spec.watermark(), spec.format(), spec.primaryKey());
        boolean sameColumns = versions.get(versions.size() - 1).columns().equals(columns);
        if (!sameColumns) {
            compatibility(name)
                    .check(versions.stream().map(SchemaVersion::columns).toList(), evolved.columns(), typeProblems);
        }
        SchemaVersion[] added = {null};
        metadata.transaction(() -> {
            added[0] = metadata.addTopicSchema(name, columns, Optional.of(avro));
            if (!sameColumns) {
                metadata.putTopic(evolved);
            }
        });
        known.put(name, evolved);
        LOG.info("Topic {} has a new schema, version {} (registry id {})", name, added[0].version(), added[0].id());
        if (!sameColumns) {
            onNewVersion.accept(name);
        }
        return added[0];
    }

    /**
     * A topic's versions, each with its registry id and Avro schema (given to those kept before the registry existed).
     *
     * @throws TarnException as {@link #schemas}
     */
    public synchronized List<SchemaVersion> registered(String name) {
        TopicSpec spec = declared(name);
        metadata.transaction(() -> {
            if (metadata.topicSchemas(name).isEmpty()) {
                metadata.addTopicSchema(name, spec.columns(), avro(name, spec.columns()));
            }
            for (SchemaVersion version : metadata.topicSchemas(name)) {
                if (version.id() == 0) {
                    metadata.registerTopicSchema(name, version, avro(name, version.columns()));
                }
            }
        });
        return metadata.topicSchemas(name);
    }

    /** The Avro schema of a version declared as columns, if its columns have an Avro form. */
    private static Optional<String> avro(String topic, List<ColumnSpec> columns) {
        try {
            return Optional.of(AvroSchemas.schema(topic, columns).toString());
        } catch (TarnException e) {
            return Optional.empty();
        }
    }

    /** The names of the topics whose columns Tarn declared (those with schema versions), sorted. */
    public List<String> declaredTopics() {
        Set<String> existing = log.listTopics();
        return metadata.topics().stream()
                .filter(t -> t.format() == TopicSpec.Format.JSON && !t.raw() && existing.contains(t.name()))
                .map(TopicSpec::name)
                .sorted()
                .toList();
    }

    /**
     * Gives a source's change topic the new columns of its captured table, as its next version (the capture checked
     * that they follow the earlier ones). Pipelines read them from their next start.
     *
     * @throws TarnException {@link ErrorCode#TOPIC_NOT_FOUND} unless it is a change topic Tarn declared
     */
    public synchronized void evolveChanges(String name, List<ColumnSpec> columns) {
        TopicSpec spec = metadata.topic(name)
                .filter(t -> t.format() == TopicSpec.Format.DEBEZIUM_JSON)
                .orElseThrow(() -> new TarnException(
                        ErrorCode.TOPIC_NOT_FOUND, "change topic '%s' does not exist".formatted(name)));
        if (spec.columns().equals(columns)) {
            return;
        }
        TopicSpec evolved = TopicSpec.changes(name, spec.partitions(), columns, spec.primaryKey());
        metadata.transaction(() -> {
            if (metadata.topicSchemas(name).isEmpty()) {
                metadata.addTopicSchema(name, spec.columns(), Optional.empty());
            }
            metadata.addTopicSchema(name, columns, Optional.empty());
            metadata.putTopic(evolved);
        });
        known.put(name, evolved);
    }

    /** A topic whose columns Tarn declared (JSON rows). */
    private TopicSpec declared(String name) {
        existing(name);
        TopicSpec spec = metadata.topic(name)
                .filter(t -> t.format() == TopicSpec.Format.JSON && !t.raw())
                .orElseThrow(() -> new TarnException(
                        ErrorCode.INVALID_STATE,
                        "topic '%s' has no columns of JSON rows that Tarn declared; only those have versions"
                                .formatted(name)));
        return spec;
    }

    private List<SchemaVersion> versions(TopicSpec spec) {
        List<SchemaVersion> versions = metadata.topicSchemas(spec.name());
        return versions.isEmpty() ? List.of(new SchemaVersion(1, spec.columns(), 0)) : versions;
    }

    private SchemaCompatibility compatibility(String name) {
        return metadata.topicCompatibility(name).map(SchemaCompatibility::of).orElse(SchemaCompatibility.BACKWARD);
    }

    /** Why a column of the second type cannot hold every value of the first, if it cannot. */
    public BiFunction<String, String, Optional<String>> typeProblems() {
        return typeProblems;
    }

    /**
     * Sets the compatibility a topic's new versions must have.
     *
     * @throws TarnException as {@link #schemas}
     */
    public synchronized void setCompatibility(String name, SchemaCompatibility compatibility) {
        declared(name);
        metadata.setTopicCompatibility(name, compatibility.name());
    }

    /** The compatibility topics are created with ({@code BACKWARD} unless set). */
    public SchemaCompatibility defaultCompatibility() {
        return metadata.setting(DEFAULT_COMPATIBILITY)
                .map(SchemaCompatibility::of)
                .orElse(SchemaCompatibility.BACKWARD);
    }

    public void setDefaultCompatibility(SchemaCompatibility compatibility) {
        metadata.putSetting(DEFAULT_COMPATIBILITY, compatibility.name());
    }

    private static final String DEFAULT_COMPATIBILITY = "default_compatibility";

    /** What Kafka keeps of a topic: all of it when Tarn deletes what was landed. */
    private static Retention kafkaRetention(Retention retention) {
        return retention.untilLanded() ? new Retention(-1, -1) : retention;
    }

    /** Declarations of all topics Kafka has, raw for those Tarn did not create; what pipelines see as stream tables. */
    public Collection<TopicSpec> streamTables() {
        return specs().values();
    }

    private Map<String, TopicSpec> specs() {
        Map<String, TopicSpec> specs = new TreeMap<>();
        for (String name : log.listTopics()) {
            if (!name.startsWith(INTERNAL_PREFIX)) {
                specs.put(name, raw(name, 1));
            }
        }
        for (TopicSpec spec : metadata.topics()) {
            if (specs.containsKey(spec.name())) {
                specs.put(spec.name(), spec);
            }
        }
        return specs;
    }

    private static TopicSpec raw(String name, int partitions) {
        return new TopicSpec(name, partitions, List.of(), Optional.empty());
    }

    /** Deletes the topics into which a pipeline's dead letters are replayed ({@link DeadLetters#replayTopic}). */
    public void deleteReplayTopics(String pipeline) {
        for (String name : log.listTopics()) {
            if (name.startsWith(DeadLetters.replayTopicPrefix(pipeline))) {
                try {
                    log.deleteTopic(name);
                } catch (TarnException e) {
                    if (e.code() != ErrorCode.TOPIC_NOT_FOUND) {
                        throw e;
                    }
                }
            }
        }
    }

    /**
     * @throws TarnException {@link ErrorCode#TOPIC_NOT_FOUND} if there is no such topic
     */
    public void delete(String name) {
        TopicSpec.requireValidName(name);
        known.remove(name);
        log.deleteTopic(name);
        metadata.deleteTopic(name);
    }

    /**
     * The declaration of an existing topic, from the cache or, for a topic not seen yet (e.g. created by a Kafka
     * client), after one look at Kafka's topic list.
     *
     * @throws TarnException {@link ErrorCode#TOPIC_NOT_FOUND} if Kafka has no such topic
     */
    private TopicSpec existing(String name) {
        TopicSpec cached = known.get(name);
        if (cached != null) {
            return cached;
        }
        TopicSpec.requireValidName(name);
        if (!log.listTopics().contains(name)) {
            throw new TarnException(ErrorCode.TOPIC_NOT_FOUND, "topic '%s' does not exist".formatted(name));
        }
        TopicSpec spec = metadata.topic(name).orElseGet(() -> raw(name, 1));
        known.put(name, spec);
        return spec;
    }

    /**
     * Validates every record of a batch, then appends all of them and returns once Kafka acknowledged each. If any
     * record is invalid, nothing of the batch is written; the first {@value InvalidRecordsException#LISTED} problems are
     * listed, the others counted, and records after the first problem are checked but not kept.
     *
     * @param records JSON values as sent
     * @param keyField field whose value becomes the record key, if any
     * @return how many records were appended
     * @throws InvalidRecordsException listing bad records by index
     * @throws TarnException {@link ErrorCode#TOPIC_NOT_FOUND} for an unknown topic; {@link ErrorCode#STORAGE_FULL}
     *     while storage is below its reserve; what {@link RecordStream#next()} throws for the request as a whole
     */
    public Appended append(String topic, RecordStream records, Optional<String> keyField) {
        return append(topic, records, keyField, Set.of());
    }

    /** How an append treats its batch. */
    public enum AppendOption {
        /** Check every record as an append would, and write none. */
        VALIDATE_ONLY,
        /** Write the valid records of a batch and refuse the others, instead of refusing the whole batch. */
        PARTIAL
    }

    /**
     * What an append did.
     *
     * @param records how many records were appended (or, when only validated, are valid)
     * @param undeclaredFields fields of the records that are not columns of the topic (up to ten): they are kept in the
     *     records, but no pipeline sees them
     * @param refused how many records were refused (only with {@link AppendOption#PARTIAL})
     * @param refusedRecords the first {@value InvalidRecordsException#LISTED} of them, by index in the batch
     */
    public record Appended(
            int records,
            SortedSet<String> undeclaredFields,
            long refused,
            List<InvalidRecordsException.Problem> refusedRecords) {
        public Appended {
            refusedRecords = List.copyOf(refusedRecords);
        }
    }

    /**
     * As {@link #append(String, RecordStream, Optional)}, or only the validation of it, or of its valid records.
     *
     * @return how many records were appended, or are valid, and which were refused
     * @throws InvalidRecordsException without {@link AppendOption#PARTIAL}, when a record is invalid
     */
    public Appended append(String topic, RecordStream records, Optional<String> keyField, Set<AppendOption> options) {
        if (topic.equals(AuditNames.TOPIC)) {
            throw AuditNames.refused("topic '%s' is written by Tarn only".formatted(topic));
        }
        boolean partial = options.contains(AppendOption.PARTIAL);
        TopicSpec spec = existing(topic);
        if (spec.format() != TopicSpec.Format.JSON) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST,
                    "topic '%s' holds %s; it does not accept records over HTTP"
                            .formatted(
                                    topic,
                                    spec.format() == TopicSpec.Format.DEBEZIUM_JSON
                                            ? "change events written by its source"
                                            : "the rows of a view, written by its job"));
        }
        storage.requireSpace();
        List<InvalidRecordsException.Problem> problems = new ArrayList<>();
        long invalid = 0;
        List<byte[]> keys = new ArrayList<>();
        List<byte[]> values = new ArrayList<>();
        SortedSet<String> undeclared = new TreeSet<>();
        Set<String> declared = new HashSet<>();
        spec.columns().forEach(c -> declared.add(c.name()));
        long index = 0;
        for (; ; index++) {
            Optional<String> problem;
            JsonNode record = null;
            try {
                record = records.next();
                if (record == null) {
                    break;
                }
                problem = check(record, spec, keyField);
            } catch (RecordStream.UnreadableRecordException e) {
                problem = Optional.of(e.getMessage());
            }
            byte[] value = null;
            if (problem.isEmpty()) {
                value = utf8(record);
                if (value.length > maxRecordBytes) {
                    problem = Optional.of(
                            "record is %d bytes, more than the limit of %d".formatted(value.length, maxRecordBytes));
                }
            }
            if (problem.isPresent()) {
                if (invalid++ < InvalidRecordsException.LISTED) {
                    problems.add(new InvalidRecordsException.Problem(index, problem.get()));
                }
                if (!partial) {
                    values.clear(); // nothing will be written: keep no more records in memory
                    keys.clear();
                }
                continue;
            }
            if (!spec.raw() && undeclared.size() < 10) {
                record.fieldNames().forEachRemaining(field -> {
                    if (!declared.contains(field) && undeclared.size() < 10) {
                        undeclared.add(field);
                    }
                });
            }
            if (invalid == 0 || partial) {
                JsonNode fields = record;
                values.add(value);
                keys.add(keyField.map(f -> fields.get(f).asText().getBytes(StandardCharsets.UTF_8))
                        .orElse(null));
            }
        }
        boolean write = !options.contains(AppendOption.VALIDATE_ONLY);
        if (invalid > 0 && !partial) {
            if (write) {
                onIngest.ingested(topic, 0, index);
            }
            throw new InvalidRecordsException(invalid, index, problems);
        }
        if (!values.isEmpty() && write) {
            log.append(topic, keys, values);
        }
        if (write) {
            onIngest.ingested(topic, values.size(), invalid);
        }
        return new Appended(values.size(), undeclared, invalid, problems);
    }

    /** A record as the log keeps it: its JSON, written straight to UTF-8 (not through a String, as toString would). */
    private static byte[] utf8(JsonNode record) {
        try {
            return JSON.writeValueAsBytes(record);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree could not be written", e);
        }
    }

    private static Optional<String> check(JsonNode record, TopicSpec spec, Optional<String> keyField) {
        Optional<RecordCheck.Problem> problem = RecordCheck.problem(record, spec.columns());
        if (problem.isPresent()) {
            return Optional.of(problem.get().message());
        }
        if (keyField.isPresent()) {
            JsonNode key = record.get(keyField.get());
            if (key == null || key.isNull() || !key.isValueNode()) {
                return Optional.of("key field '%s' is missing or not a scalar".formatted(keyField.get()));
            }
        }
        return Optional.empty();
    }
}
