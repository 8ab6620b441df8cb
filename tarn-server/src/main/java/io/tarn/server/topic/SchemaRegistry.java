package io.tarn.server.topic;

import static java.util.Objects.requireNonNull;

import io.tarn.compute.avro.AvroSchemas;
import io.tarn.compute.avro.SchemaLog;
import io.tarn.core.audit.AuditNames;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.topic.ColumnSpec;
import io.tarn.core.topic.SchemaCompatibility;
import io.tarn.log.KafkaLog;
import io.tarn.server.metadata.MetadataStore;
import io.tarn.server.metadata.SchemaVersion;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;

/**
 * Topics' schema versions as Confluent Schema Registry serves them: the subject {@code <topic>-value} (Confluent's
 * default TopicNameStrategy) is the versions of a topic whose columns Tarn declared, each an Avro record schema with a
 * registry id. An Avro schema registered under a subject becomes the topic's next version when its columns ({@link
 * AvroSchemas}) follow the earlier ones under the topic's compatibility; a version declared as columns ({@code PUT
 * /v1/topics/{t}/schema}) has the Avro schema of its columns. Record keys are text to Tarn, so {@code <topic>-key}
 * subjects have no versions.
 *
 * <p>Before an id is answered, its schema is in Kafka ({@link SchemaLog}), where pipelines read it when they meet a
 * record written with it.
 */
public final class SchemaRegistry {
    /** The suffix of a topic's value subject. */
    public static final String VALUE = "-value";

    private static final String KEY = "-key";

    /** A refusal with the error code Confluent's API gives it ({@code 40401}, {@code 42201}, …). */
    public static final class Failure extends TarnException {
        private static final long serialVersionUID = 1L;
        private final int errorCode;

        public Failure(ErrorCode code, int errorCode, String message) {
            super(code, message);
            this.errorCode = errorCode;
        }

        public int errorCode() {
            return errorCode;
        }
    }

    /** Confluent's error codes. */
    public static final int SUBJECT_NOT_FOUND = 40401;

    public static final int VERSION_NOT_FOUND = 40402;
    public static final int SCHEMA_NOT_FOUND = 40403;
    public static final int INVALID_SCHEMA = 42201;
    public static final int INVALID_VERSION = 42202;
    public static final int INVALID_COMPATIBILITY = 42203;

    private final TopicService topics;
    private final MetadataStore metadata;
    private final KafkaLog log;
    /** Ids whose schema Kafka holds. */
    private final Set<Integer> published = ConcurrentHashMap.newKeySet();

    private boolean logRead;

    public SchemaRegistry(TopicService topics, MetadataStore metadata, KafkaLog log) {
        this.topics = requireNonNull(topics, "topics is null");
        this.metadata = requireNonNull(metadata, "metadata is null");
        this.log = requireNonNull(log, "log is null");
    }

    /** One version of a subject. */
    public record Registered(String subject, int version, int id, String schema) {}

    /** The value subjects of the topics whose columns Tarn declared, sorted. */
    public List<String> subjects() {
        return topics.declaredTopics().stream()
                .filter(t -> !t.equals(AuditNames.TOPIC)) // written by Tarn only: no producer needs its schema
                .map(t -> t + VALUE)
                .toList();
    }

    /** A subject's version numbers. */
    public List<Integer> versions(String subject) {
        return registered(subject).stream().map(SchemaVersion::version).toList();
    }

    /**
     * @param version a number, or {@code latest} ({@code -1})
     */
    public Registered version(String subject, String version) {
        List<SchemaVersion> versions = registered(subject);
        SchemaVersion found;
        if (version.equals("latest") || version.equals("-1")) {
            found = versions.get(versions.size() - 1);
        } else {
            int number;
            try {
                number = Integer.parseInt(version);
            } catch (NumberFormatException e) {
                number = 0;
            }
            if (number < 1) {
                throw new Failure(
                        ErrorCode.INVALID_REQUEST,
                        INVALID_VERSION,
                        "version '%s' is not valid: a positive number or 'latest'".formatted(abbreviate(version)));
            }
            int wanted = number;
            found = versions.stream()
                    .filter(v -> v.version() == wanted)
                    .findFirst()
                    .orElseThrow(() -> new Failure(
                            ErrorCode.SCHEMA_NOT_FOUND,
                            VERSION_NOT_FOUND,
                            "subject '%s' has no version %d".formatted(subject, wanted)));
        }
        return registered(subject, found);
    }

    /** The schema of an id. */
    public Registered byId(int id) {
        MetadataStore.RegisteredSchema found = metadata.topicSchema(id)
                .filter(s -> s.version().avro().isPresent())
                .orElseThrow(() -> new Failure(
                        ErrorCode.SCHEMA_NOT_FOUND, SCHEMA_NOT_FOUND, "schema id %d is not known".formatted(id)));
        return new Registered(
                found.topic() + VALUE,
                found.version().version(),
                id,
                found.version().avro().orElseThrow());
    }

    /**
     * Registers a schema under a subject (the topic's next version), or answers the version that already has it.
     *
     * @throws TarnException a {@link Failure} for an unknown subject or an invalid schema, {@link
     *     ErrorCode#SCHEMA_INCOMPATIBLE} naming the column and the rule
     */
    public Registered register(String subject, String text) {
        String topic = topic(subject);
        Schema schema = schema(text);
        List<ColumnSpec> columns = columns(schema);
        SchemaVersion version;
        try {
            version = topics.register(topic, columns, schema.toString(), v -> same(v, schema));
        } catch (Failure e) {
            throw e;
        } catch (TarnException e) {
            if (e.code() == ErrorCode.INVALID_REQUEST || e.code() == ErrorCode.INVALID_NAME) {
                throw new Failure(e.code(), INVALID_SCHEMA, e.getMessage());
            }
            throw notFound(subject, e);
        }
        return registered(subject, version);
    }

    /** The version of a subject that has a schema. */
    public Registered lookup(String subject, String text) {
        Schema schema = schema(text);
        return registered(subject).stream()
                .filter(v -> same(v, schema))
                .findFirst()
                .map(v -> registered(subject, v))
                .orElseThrow(() -> new Failure(
                        ErrorCode.SCHEMA_NOT_FOUND,
                        SCHEMA_NOT_FOUND,
                        "subject '%s' has no such schema".formatted(subject)));
    }

    /**
     * Why a schema could not be the subject's next version, checked against one version (or all of them, as the
     * subject's compatibility says, for {@code latest}): empty when it could.
     */
    public List<String> compatibilityProblems(String subject, Optional<String> version, String text) {
        List<SchemaVersion> versions = registered(subject);
        List<ColumnSpec> columns = columns(schema(text));
        List<List<ColumnSpec>> against =
                versions.stream().map(SchemaVersion::columns).toList();
        if (version.isPresent()
                && !version.get().equals("latest")
                && !version.get().equals("-1")) {
            int number = version(subject, version.get()).version();
            against = versions.stream()
                    .filter(v -> v.version() == number)
                    .map(SchemaVersion::columns)
                    .toList();
        }
        try {
            topics.schemas(topic(subject)).compatibility().check(against, columns, topics.typeProblems());
            return List.of();
        } catch (TarnException e) {
            if (e.code() == ErrorCode.SCHEMA_INCOMPATIBLE) {
                return List.of(e.getMessage());
            }
            throw e;
        }
    }

    public SchemaCompatibility compatibility(Optional<String> subject) {
        return subject.map(s -> topics.schemas(topic(s)).compatibility()).orElseGet(topics::defaultCompatibility);
    }

    public void setCompatibility(Optional<String> subject, String level) {
        SchemaCompatibility compatibility;
        try {
            compatibility = SchemaCompatibility.of(level);
        } catch (TarnException e) {
            throw new Failure(ErrorCode.INVALID_REQUEST, INVALID_COMPATIBILITY, e.getMessage());
        }
        if (subject.isPresent()) {
            topics.setCompatibility(topic(subject.get()), compatibility);
        } else {
            topics.setDefaultCompatibility(compatibility);
        }
    }

    private List<SchemaVersion> registered(String subject) {
        String topic = topic(subject);
        try {
            return topics.registered(topic);
        } catch (TarnException e) {
            throw notFound(subject, e);
        }
    }

    /** A subject whose topic is not found (or has no declared columns) as Confluent's subject not found. */
    private static TarnException notFound(String subject, TarnException e) {
        if (e.code() == ErrorCode.TOPIC_NOT_FOUND || e.code() == ErrorCode.INVALID_STATE) {
            return new Failure(
                    ErrorCode.SCHEMA_NOT_FOUND,
                    SUBJECT_NOT_FOUND,
                    "subject '%s' not found: %s".formatted(abbreviate(subject), e.getMessage()));
        }
        return e;
    }

    private Registered registered(String subject, SchemaVersion version) {
        String schema = version.avro()
                .orElseThrow(() -> new Failure(
                        ErrorCode.INVALID_STATE,
                        SCHEMA_NOT_FOUND,
                        "version %d of subject '%s' has columns that have no Avro form"
                                .formatted(version.version(), subject)));
        publish(version.id(), schema);
        return new Registered(subject, version.version(), version.id(), schema);
    }

    /** The topic of a value subject. */
    private static String topic(String subject) {
        if (subject.endsWith(KEY)) {
            throw new Failure(
                    ErrorCode.SCHEMA_NOT_FOUND,
                    SUBJECT_NOT_FOUND,
                    ("subject '%s' not found: Tarn reads record keys as text, so a key has no schema; write keys with"
                                    + " a StringSerializer")
                            .formatted(abbreviate(subject)));
        }
        if (!subject.endsWith(VALUE) || subject.length() == VALUE.length()) {
            throw new Failure(
                    ErrorCode.SCHEMA_NOT_FOUND,
                    SUBJECT_NOT_FOUND,
                    "subject '%s' not found: subjects are '<topic>-value', the default TopicNameStrategy"
                            .formatted(abbreviate(subject)));
        }
        return subject.substring(0, subject.length() - VALUE.length());
    }

    private static Schema schema(String text) {
        try {
            return AvroSchemas.parse(text);
        } catch (TarnException e) {
            throw new Failure(ErrorCode.INVALID_REQUEST, INVALID_SCHEMA, e.getMessage());
        }
    }

    private static List<ColumnSpec> columns(Schema schema) {
        try {
            return AvroSchemas.columns(schema);
        } catch (TarnException e) {
            throw new Failure(e.code(), INVALID_SCHEMA, e.getMessage());
        }
    }

    private static boolean same(SchemaVersion version, Schema schema) {
        return version.avro().map(a -> AvroSchemas.parse(a).equals(schema)).orElse(false);
    }

    /** Makes sure Kafka holds an id's schema before the id is answered. */
    private void publish(int id, String schema) {
        if (published.contains(id)) {
            return;
        }
        synchronized (this) {
            if (!logRead) {
                published.addAll(SchemaLog.readAll(log.bootstrapServers()).keySet());
                logRead = true;
            }
            if (published.contains(id)) {
                return;
            }
            if (!log.listTopics().contains(SchemaLog.TOPIC)) {
                try {
                    log.createTopic(SchemaLog.TOPIC, 1, Map.of("cleanup.policy", "compact", "retention.ms", "-1"));
                } catch (TarnException e) {
                    if (e.code() != ErrorCode.TOPIC_ALREADY_EXISTS) {
                        throw e;
                    }
                }
            }
            log.append(SchemaLog.TOPIC, List.of(SchemaLog.key(id)), List.of(schema.getBytes(StandardCharsets.UTF_8)));
            published.add(id);
        }
    }

    private static String abbreviate(String text) {
        return text.length() <= 300 ? text : text.substring(0, 297) + "...";
    }
}
