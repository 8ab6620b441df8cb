package io.tarn.server.metadata;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.pipeline.PipelineSpec;
import io.tarn.core.pipeline.QualityRule;
import io.tarn.core.pipeline.StartFrom;
import io.tarn.core.topic.ColumnSpec;
import io.tarn.core.topic.TopicSpec;
import io.tarn.core.topic.WatermarkSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Tarn's own durable metadata in {@code tarn.db} (SQLite, synchronous=FULL): how topics were declared and what
 * pipelines exist, what state their owner wants them in and where each resumes from; sources; API tokens (hashed). Everything else (records,
 * tables, checkpoints) lives in Kafka, Iceberg and Flink.
 *
 * <p>Size: the whole schema of {@code tarn.db} (tables, migrations, reads and writes of each record) in one place, so
 * that a change of the schema is one change.
 */
public final class MetadataStore implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int SCHEMA_VERSION = 10;
    /** How long a check that a connection to a database server still works may take. */
    private static final int VALIDATION_SECONDS = 5;

    private final Dialect dialect;
    private final String url;
    private final String user;
    private final String password;
    /** Names in the order of their bytes, in every database (PostgreSQL's default collation follows the locale). */
    private final String byName;

    private Connection connection;
    /** Inside {@link #transaction}: a lost connection fails it rather than connecting again halfway. */
    private boolean inTransaction;

    private MetadataStore(Connection connection, Dialect dialect, String url, String user, String password) {
        this.connection = connection;
        this.dialect = dialect;
        this.url = url;
        this.user = user;
        this.password = password;
        this.byName = dialect.binary("name");
    }

    /** The databases the store can be in. */
    private enum Dialect {
        SQLITE,
        POSTGRESQL;

        static Dialect of(String url) {
            if (url.startsWith("jdbc:sqlite:")) {
                return SQLITE;
            }
            if (url.startsWith("jdbc:postgresql:")) {
                return POSTGRESQL;
            }
            throw new TarnException(
                    ErrorCode.INVALID_CONFIG,
                    "metadata.uri must be a jdbc:postgresql: URL (or empty: SQLite in the data directory); got '%s'"
                            .formatted(url.contains(":") ? url.substring(0, url.indexOf(':') + 1) + "..." : "..."));
        }

        /** A column in an ORDER BY, compared by bytes. */
        String binary(String column) {
            return this == POSTGRESQL ? column + " COLLATE \"C\"" : column;
        }
    }

    private static Connection connect(String url, String user, String password) throws SQLException {
        return user.isEmpty() ? DriverManager.getConnection(url) : DriverManager.getConnection(url, user, password);
    }

    /**
     * Opens (creating if needed) the store in a SQLite file.
     *
     * @throws TarnException {@link ErrorCode#METADATA_UNAVAILABLE} if the file cannot be opened or is from a newer Tarn
     */
    public static MetadataStore open(Path file) {
        ownerOnly(file);
        return open("jdbc:sqlite:" + file.toAbsolutePath(), "", "");
    }

    /**
     * Opens (creating its tables if needed) the store in a database: SQLite ({@code jdbc:sqlite:}) or PostgreSQL
     * ({@code jdbc:postgresql:}), where several Tarn servers can share it.
     *
     * @param user empty: none (or the one the URL names)
     * @throws TarnException {@link ErrorCode#METADATA_UNAVAILABLE} if the database cannot be opened or is from a newer
     *     Tarn, {@link ErrorCode#INVALID_CONFIG} for another kind of database
     */
    public static MetadataStore open(String url, String user, String password) {
        Dialect dialect = Dialect.of(url);
        try {
            Connection connection = connect(url, user, password);
            try (Statement statement = connection.createStatement()) {
                if (dialect == Dialect.SQLITE) {
                    statement.execute("PRAGMA journal_mode = WAL");
                    statement.execute("PRAGMA synchronous = FULL");
                }
                statement.execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)");
                statement.execute(
                        """
                        CREATE TABLE IF NOT EXISTS topics (
                          name TEXT PRIMARY KEY, partitions BIGINT NOT NULL, columns TEXT NOT NULL,
                          watermark TEXT, created_at BIGINT NOT NULL)""");
                statement.execute(
                        """
                        CREATE TABLE IF NOT EXISTS pipelines (
                          name TEXT PRIMARY KEY, sql TEXT NOT NULL, desired_state TEXT NOT NULL, job_id TEXT,
                          restored_from TEXT, savepoint TEXT, last_error TEXT, created_at BIGINT NOT NULL)""");
                statement.execute(
                        """
                        CREATE TABLE IF NOT EXISTS pipeline_jobs (
                          pipeline TEXT NOT NULL, job_id TEXT NOT NULL, submitted_at BIGINT NOT NULL,
                          PRIMARY KEY (pipeline, job_id))""");
                statement.execute(
                        """
                        CREATE TABLE IF NOT EXISTS sources (
                          name TEXT PRIMARY KEY, type TEXT NOT NULL, connection TEXT NOT NULL, "user" TEXT NOT NULL,
                          password TEXT NOT NULL, tables TEXT NOT NULL, mirror BIGINT NOT NULL,
                          created_at BIGINT NOT NULL)""");
                statement.execute(
                        """
                        CREATE TABLE IF NOT EXISTS pipeline_tables (pipeline TEXT PRIMARY KEY, tables TEXT NOT NULL)""");
                statement.execute(
                        """
                        CREATE TABLE IF NOT EXISTS views (
                          name TEXT PRIMARY KEY, sql TEXT NOT NULL, topic TEXT NOT NULL, pipeline TEXT NOT NULL,
                          created_at BIGINT NOT NULL, history TEXT)""");
                statement.execute(
                        """
                        CREATE TABLE IF NOT EXISTS tokens (
                          name TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL)""");
                statement.execute(
                        """
                        CREATE TABLE IF NOT EXISTS leases (
                          name TEXT PRIMARY KEY, owner TEXT NOT NULL, renewed_at BIGINT NOT NULL)""");
                statement.execute( // version 8: versions of topics' columns
                        """
                        CREATE TABLE IF NOT EXISTS topic_schemas (
                          topic TEXT NOT NULL, version BIGINT NOT NULL, columns TEXT NOT NULL, created_at BIGINT NOT NULL,
                          PRIMARY KEY (topic, version))""");
                statement.execute( // version 8: topics kept until landed
                        "CREATE TABLE IF NOT EXISTS until_landed_topics (name TEXT PRIMARY KEY, keep_ms BIGINT NOT NULL)");
                statement.execute( // version 8: replays of dead letters
                        """
                        CREATE TABLE IF NOT EXISTS dead_letter_replays (
                          pipeline TEXT NOT NULL, id BIGINT NOT NULL, done BIGINT NOT NULL, ends TEXT NOT NULL,
                          started_at BIGINT NOT NULL, PRIMARY KEY (pipeline, id))""");
                statement.execute(
                        """
                        CREATE TABLE IF NOT EXISTS replayed_dead_letters (
                          pipeline TEXT NOT NULL, topic TEXT NOT NULL, kafka_partition BIGINT NOT NULL,
                          kafka_offset BIGINT NOT NULL, replay BIGINT NOT NULL, corrected_value TEXT,
                          PRIMARY KEY (pipeline, topic, kafka_partition, kafka_offset))""");
                statement.execute( // version 9: the schema registry's settings and its next id
                        "CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)");
                statement.execute("INSERT INTO settings (name, value) VALUES ('" + NEXT_SCHEMA_ID
                        + "', '1') ON CONFLICT (name) DO NOTHING");
                statement.execute( // version 10: grants to principals (tokens) and roles, and roles' members
                        """
                        CREATE TABLE IF NOT EXISTS grants (
                          grantee_kind TEXT NOT NULL, grantee TEXT NOT NULL, privilege TEXT NOT NULL,
                          resource TEXT NOT NULL, PRIMARY KEY (grantee_kind, grantee, privilege, resource))""");
                statement.execute( // version 10: each pipeline's lineage, from its compiled plan
                        "CREATE TABLE IF NOT EXISTS pipeline_lineage (pipeline TEXT PRIMARY KEY, lineage TEXT NOT NULL)");
                statement.execute(
                        """
                        CREATE TABLE IF NOT EXISTS role_members (
                          principal TEXT NOT NULL, role TEXT NOT NULL, PRIMARY KEY (principal, role))""");
                int version;
                try (ResultSet rs = statement.executeQuery("SELECT max(version) FROM schema_version")) {
                    version = rs.next() ? rs.getInt(1) : 0;
                }
                if (version > SCHEMA_VERSION) {
                    throw new TarnException(
                            ErrorCode.METADATA_UNAVAILABLE,
                            "tarn.db has schema version %d but this Tarn knows only up to %d; use a newer Tarn"
                                    .formatted(version, SCHEMA_VERSION));
                }
                // a migration is one transaction (DDL is transactional in both): a crash leaves the old schema whole
                connection.setAutoCommit(false);
                if (!hasColumn(connection, "topics", "format")) { // version 1: topics were all JSON, without key
                    statement.execute("ALTER TABLE topics ADD COLUMN format TEXT NOT NULL DEFAULT 'JSON'");
                    statement.execute("ALTER TABLE topics ADD COLUMN primary_key TEXT NOT NULL DEFAULT '[]'");
                }
                if (!hasColumn(connection, "pipeline_jobs", "seen_in")) { // version 4: what each run counted
                    for (String column :
                            List.of("earlier_in", "earlier_out", "seen_in", "seen_out", "restarts", "checkpoint_at")) {
                        statement.execute(
                                "ALTER TABLE pipeline_jobs ADD COLUMN " + column + " BIGINT NOT NULL DEFAULT 0");
                    }
                    statement.execute("ALTER TABLE pipeline_jobs ADD COLUMN checkpoint_id BIGINT");
                }
                if (!hasColumn(connection, "views", "history")) { // version 5: a view's history table
                    statement.execute("ALTER TABLE views ADD COLUMN history TEXT");
                }
                if (!hasColumn(connection, "pipelines", "on_error")) { // version 7: pipelines that dead-letter
                    statement.execute("ALTER TABLE pipelines ADD COLUMN on_error TEXT NOT NULL DEFAULT 'FAIL'");
                }
                if (!hasColumn(connection, "pipelines", "rules")) { // version 8: quality rules, what they counted
                    statement.execute("ALTER TABLE pipelines ADD COLUMN rules TEXT NOT NULL DEFAULT '[]'");
                    statement.execute("ALTER TABLE pipeline_jobs ADD COLUMN earlier_rules TEXT NOT NULL DEFAULT '{}'");
                    statement.execute("ALTER TABLE pipeline_jobs ADD COLUMN seen_rules TEXT NOT NULL DEFAULT '{}'");
                    statement.execute("ALTER TABLE pipeline_tables ADD COLUMN written TEXT NOT NULL DEFAULT '[]'");
                    statement.execute("ALTER TABLE topics ADD COLUMN compatibility TEXT NOT NULL DEFAULT 'BACKWARD'");
                    statement.execute("ALTER TABLE pipelines ADD COLUMN start_from TEXT NOT NULL DEFAULT 'earliest'");
                }
                if (!hasColumn(connection, "topic_schemas", "schema_id")) { // version 9: the schema registry's ids
                    statement.execute("ALTER TABLE topic_schemas ADD COLUMN schema_id BIGINT NOT NULL DEFAULT 0");
                    statement.execute("ALTER TABLE topic_schemas ADD COLUMN avro TEXT");
                }
                if (version > 0 && version < 10) { // tokens made before grants could use every route: they keep it
                    statement.execute("INSERT INTO grants (grantee_kind, grantee, privilege, resource) SELECT"
                            + " 'principal', name, 'manage', '*' FROM tokens WHERE name <> 'admin' ON CONFLICT DO"
                            + " NOTHING");
                }
                if (!hasColumn(connection, "pipelines", "owner")) { // version 10: whose privileges a pipeline has
                    statement.execute("ALTER TABLE pipelines ADD COLUMN owner TEXT NOT NULL DEFAULT 'admin'");
                }
                if (version < SCHEMA_VERSION) {
                    statement.execute("DELETE FROM schema_version");
                    statement.execute("INSERT INTO schema_version VALUES (" + SCHEMA_VERSION + ")");
                }
                connection.commit();
                connection.setAutoCommit(true);
            }
            return new MetadataStore(connection, dialect, url, user, password);
        } catch (SQLException e) {
            throw new TarnException(
                    ErrorCode.METADATA_UNAVAILABLE,
                    "metadata store could not be opened: " + TarnException.rootMessage(e),
                    e);
        }
    }

    /** The store holds source passwords: it is created readable and writable by its owner only (where POSIX). */
    private static void ownerOnly(Path file) {
        try {
            if (!Files.exists(file)) {
                Files.createFile(file);
            }
            if (file.getFileSystem().supportedFileAttributeViews().contains("posix")) {
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
            }
        } catch (IOException e) {
            throw new TarnException(
                    ErrorCode.METADATA_UNAVAILABLE, "metadata store could not be opened: " + e.getMessage(), e);
        }
    }

    private static boolean hasColumn(Connection connection, String table, String column) throws SQLException {
        try (ResultSet rs = connection.getMetaData().getColumns(null, connection.getSchema(), table, column)) {
            return rs.next();
        }
    }

    public synchronized void putTopic(TopicSpec topic) {
        update(
                """
                INSERT INTO topics (name, partitions, columns, watermark, created_at, format, primary_key)
                VALUES (?, ?, ?, ?, ?, ?, ?)"""
                        + replacing(
                                "name", "partitions", "columns", "watermark", "created_at", "format", "primary_key"),
                topic.name(),
                topic.partitions(),
                json(topic.columns().stream()
                        .map(c -> Map.of("name", c.name(), "type", c.type().sql()))
                        .toList()),
                topic.watermark()
                        .map(w -> json(Map.of("column", w.column(), "delayMillis", w.delayMillis())))
                        .orElse(null),
                System.currentTimeMillis(),
                topic.format().name(),
                json(topic.primaryKey()));
    }

    public synchronized Optional<TopicSpec> topic(String name) {
        return topics("WHERE name = ?", name).stream().findFirst();
    }

    public synchronized List<TopicSpec> topics() {
        return topics("");
    }

    public synchronized void deleteTopic(String name) {
        transaction(() -> {
            update("DELETE FROM topics WHERE name = ?", name);
            update("DELETE FROM until_landed_topics WHERE name = ?", name);
            update("DELETE FROM topic_schemas WHERE topic = ?", name);
        });
    }

    /** The versions of a topic's columns, oldest first (none for a topic whose columns never changed). */
    public synchronized List<SchemaVersion> topicSchemas(String topic) {
        List<SchemaVersion> versions = new ArrayList<>();
        query(
                "SELECT version, columns, created_at, schema_id, avro FROM topic_schemas WHERE topic = ? ORDER BY version",
                rs -> versions.add(schemaVersion(rs)),
                topic);
        return versions;
    }

    private static SchemaVersion schemaVersion(ResultSet rs) throws SQLException {
        return new SchemaVersion(
                rs.getInt(1),
                columns(rs.getString(2)),
                rs.getLong(3),
                rs.getInt(4),
                Optional.ofNullable(rs.getString(5)));
    }

    /**
     * Adds a version of a topic's columns (numbered one after the last) with the next registry id.
     *
     * @param avro its Avro schema, if it has one
     */
    public synchronized SchemaVersion addTopicSchema(String topic, List<ColumnSpec> columns, Optional<String> avro) {
        int[] last = {0};
        SchemaVersion[] added = {null};
        transaction(() -> {
            query(
                    "SELECT coalesce(max(version), 0) FROM topic_schemas WHERE topic = ?",
                    rs -> last[0] = rs.getInt(1),
                    topic);
            added[0] = new SchemaVersion(last[0] + 1, columns, System.currentTimeMillis(), nextSchemaId(), avro);
            update(
                    "INSERT INTO topic_schemas (topic, version, columns, created_at, schema_id, avro)"
                            + " VALUES (?, ?, ?, ?, ?, ?)",
                    topic,
                    added[0].version(),
                    columnsJson(columns),
                    added[0].createdAt(),
                    added[0].id(),
                    avro.orElse(null));
        });
        return added[0];
    }

    /** Gives a version kept before the registry existed its registry id and Avro schema; returns it with them. */
    public synchronized SchemaVersion registerTopicSchema(String topic, SchemaVersion version, Optional<String> avro) {
        SchemaVersion[] registered = {null};
        transaction(() -> {
            registered[0] =
                    new SchemaVersion(version.version(), version.columns(), version.createdAt(), nextSchemaId(), avro);
            update(
                    "UPDATE topic_schemas SET schema_id = ?, avro = ? WHERE topic = ? AND version = ?",
                    registered[0].id(),
                    avro.orElse(null),
                    topic,
                    version.version());
        });
        return registered[0];
    }

    /** The topic and version of a registry id. */
    public record RegisteredSchema(String topic, SchemaVersion version) {}

    public synchronized Optional<RegisteredSchema> topicSchema(int id) {
        List<RegisteredSchema> found = new ArrayList<>();
        query(
                "SELECT version, columns, created_at, schema_id, avro, topic FROM topic_schemas WHERE schema_id = ?",
                rs -> found.add(new RegisteredSchema(rs.getString(6), schemaVersion(rs))),
                id);
        return found.stream().findFirst();
    }

    /** Every registry id with its Avro schema, of every topic. */
    public synchronized Map<Integer, String> registeredSchemas() {
        Map<Integer, String> schemas = new HashMap<>();
        query(
                "SELECT schema_id, avro FROM topic_schemas WHERE schema_id > 0 AND avro IS NOT NULL",
                rs -> schemas.put(rs.getInt(1), rs.getString(2)));
        return schemas;
    }

    /** The next registry id, counted in {@code settings} so that the ids of a deleted topic are never given again. */
    private int nextSchemaId() {
        // the row is locked first: of two servers sharing a PostgreSQL store, the second waits and reads the new value
        update("UPDATE settings SET value = value WHERE name = ?", NEXT_SCHEMA_ID);
        int id = setting(NEXT_SCHEMA_ID).map(Integer::parseInt).orElseThrow();
        putSetting(NEXT_SCHEMA_ID, Integer.toString(id + 1));
        return id;
    }

    private static final String NEXT_SCHEMA_ID = "next_schema_id";

    /** A setting of Tarn's kept in the store (the registry's default compatibility, its next id). */
    public synchronized Optional<String> setting(String name) {
        List<String> found = new ArrayList<>();
        query("SELECT value FROM settings WHERE name = ?", rs -> found.add(rs.getString(1)), name);
        return found.stream().findFirst();
    }

    public synchronized void putSetting(String name, String value) {
        update("INSERT INTO settings (name, value) VALUES (?, ?)" + replacing("name", "value"), name, value);
    }

    /** A topic's schema compatibility, as {@link io.tarn.core.topic.SchemaCompatibility} names it. */
    public synchronized Optional<String> topicCompatibility(String topic) {
        List<String> found = new ArrayList<>();
        query("SELECT compatibility FROM topics WHERE name = ?", rs -> found.add(rs.getString(1)), topic);
        return found.stream().findFirst();
    }

    public synchronized void setTopicCompatibility(String topic, String compatibility) {
        update("UPDATE topics SET compatibility = ? WHERE name = ?", compatibility, topic);
    }

    private static String columnsJson(List<ColumnSpec> columns) {
        return json(columns.stream()
                .map(c -> Map.of("name", c.name(), "type", c.type().sql()))
                .toList());
    }

    private static List<ColumnSpec> columns(String json) {
        List<Map<String, String>> columns = read(json, new TypeReference<>() {});
        return columns.stream()
                .map(c -> ColumnSpec.of(c.get("name"), c.get("type")))
                .toList();
    }

    /**
     * Whether a topic is kept until its pipelines landed it ({@link io.tarn.core.topic.Retention#untilLanded}), and
     * how long at least.
     *
     * @param keepMillis empty: it is not
     */
    public synchronized void setUntilLanded(String topic, Optional<Long> keepMillis) {
        if (keepMillis.isPresent()) {
            update(
                    "INSERT INTO until_landed_topics (name, keep_ms) VALUES (?, ?)" + replacing("name", "keep_ms"),
                    topic,
                    keepMillis.get());
        } else {
            update("DELETE FROM until_landed_topics WHERE name = ?", topic);
        }
    }

    /** The topics kept until their pipelines landed them, with how long each keeps its records at least (-1: ever). */
    public synchronized Map<String, Long> untilLandedTopics() {
        Map<String, Long> topics = new TreeMap<>();
        query("SELECT name, keep_ms FROM until_landed_topics", rs -> topics.put(rs.getString(1), rs.getLong(2)));
        return topics;
    }

    private List<TopicSpec> topics(String where, Object... args) {
        List<TopicSpec> topics = new ArrayList<>();
        query(
                "SELECT name, partitions, columns, watermark, format, primary_key FROM topics " + where + " ORDER BY "
                        + byName,
                rs -> {
                    List<Map<String, String>> columns = read(rs.getString(3), new TypeReference<>() {});
                    String watermark = rs.getString(4);
                    Optional<WatermarkSpec> spec = Optional.ofNullable(watermark)
                            .map(w -> {
                                Map<String, Object> m = read(w, new TypeReference<>() {});
                                return new WatermarkSpec(
                                        (String) m.get("column"), ((Number) m.get("delayMillis")).longValue());
                            });
                    topics.add(new TopicSpec(
                            rs.getString(1),
                            rs.getInt(2),
                            columns.stream()
                                    .map(c -> ColumnSpec.of(c.get("name"), c.get("type")))
                                    .toList(),
                            spec,
                            TopicSpec.Format.valueOf(rs.getString(5)),
                            read(rs.getString(6), new TypeReference<List<String>>() {})));
                },
                args);
        return topics;
    }

    public synchronized void putPipeline(PipelineRecord pipeline) {
        update(
                """
                INSERT INTO pipelines
                  (name, sql, on_error, rules, start_from, desired_state, job_id, restored_from, savepoint, last_error,
                   created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""
                        + replacing(
                                "name",
                                "sql",
                                "on_error",
                                "rules",
                                "start_from",
                                "desired_state",
                                "job_id",
                                "restored_from",
                                "savepoint",
                                "last_error",
                                "created_at"),
                pipeline.name(),
                pipeline.sql(),
                pipeline.onError().name(),
                QualityRule.toJson(pipeline.rules()),
                pipeline.start().spelling(),
                pipeline.desiredState().name(),
                pipeline.jobId().orElse(null),
                pipeline.restoredFrom().orElse(null),
                pipeline.savepoint().orElse(null),
                pipeline.lastError().orElse(null),
                pipeline.createdAt());
    }

    public synchronized Optional<PipelineRecord> pipeline(String name) {
        return pipelines("WHERE name = ?", name).stream().findFirst();
    }

    public synchronized List<PipelineRecord> pipelines() {
        return pipelines("");
    }

    public synchronized void deletePipeline(String name) {
        transaction(() -> {
            update("DELETE FROM pipeline_jobs WHERE pipeline = ?", name);
            update("DELETE FROM pipeline_tables WHERE pipeline = ?", name);
            update("DELETE FROM pipeline_lineage WHERE pipeline = ?", name);
            update("DELETE FROM pipelines WHERE name = ?", name);
        });
    }

    /**
     * Runs several changes as one: after a crash the store holds all of them or none. Within it, other threads wait;
     * a transaction inside a transaction is part of it.
     */
    public synchronized void transaction(Runnable changes) {
        if (inTransaction) {
            changes.run();
            return;
        }
        run("write", () -> {
            // PostgreSQL's driver begins a transaction with its first statement: a lost connection is found now
            if (dialect == Dialect.POSTGRESQL && !connection.isValid(VALIDATION_SECONDS)) {
                reconnect();
            }
            connection.setAutoCommit(false);
            return null;
        });
        inTransaction = true;
        try {
            changes.run();
            connection.commit();
        } catch (RuntimeException | SQLException e) {
            try {
                connection.rollback();
            } catch (SQLException rollback) {
                e.addSuppressed(rollback); // a lost connection: the server rolls the transaction back
            }
            if (e instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new TarnException(
                    ErrorCode.METADATA_UNAVAILABLE, "metadata store write failed: " + TarnException.rootMessage(e), e);
        } finally {
            inTransaction = false;
            try {
                connection.setAutoCommit(true);
            } catch (SQLException e) {
                // a lost connection: the next statement connects again
            }
        }
    }

    /**
     * Begins a replay of dead letters of a pipeline: records it, and each dead letter as replayed by it.
     *
     * @throws TarnException {@link ErrorCode#INVALID_STATE} if another replay of the pipeline has not finished, or one
     *     of the dead letters was replayed before (naming it)
     */
    public synchronized ReplayRecord beginReplay(
            String pipeline,
            List<DeadLetterPosition> positions,
            Map<DeadLetterPosition, byte[]> corrections,
            Map<String, Map<Integer, Long>> ends) {
        long[] id = {0};
        transaction(() -> {
            query(
                    "SELECT coalesce(max(id), 0), coalesce(min(done), 1) FROM dead_letter_replays WHERE pipeline = ?",
                    rs -> {
                        if (rs.getLong(2) == 0) {
                            throw new TarnException(
                                    ErrorCode.INVALID_STATE,
                                    "a replay of the dead letters of pipeline '%s' has not finished yet"
                                            .formatted(pipeline));
                        }
                        id[0] = rs.getLong(1) + 1;
                    },
                    pipeline);
            Set<DeadLetterPosition> done = replayedAmong(pipeline, positions);
            if (!done.isEmpty()) {
                throw new TarnException(
                        ErrorCode.INVALID_STATE,
                        "dead letter %s of pipeline '%s' was replayed already"
                                .formatted(done.iterator().next(), pipeline));
            }
            update(
                    "INSERT INTO dead_letter_replays (pipeline, id, done, ends, started_at) VALUES (?, ?, 0, ?, ?)",
                    pipeline,
                    id[0],
                    json(ends),
                    System.currentTimeMillis());
            for (DeadLetterPosition position : positions) {
                update(
                        """
                        INSERT INTO replayed_dead_letters
                          (pipeline, topic, kafka_partition, kafka_offset, replay, corrected_value)
                        VALUES (?, ?, ?, ?, ?, ?)""",
                        pipeline,
                        position.topic(),
                        position.partition(),
                        position.offset(),
                        id[0],
                        Optional.ofNullable(corrections.get(position))
                                .map(Base64.getEncoder()::encodeToString)
                                .orElse(null));
            }
        });
        return new ReplayRecord(pipeline, id[0], positions, corrections, ends);
    }

    /** Marks a replay as finished: its records are committed in the replay topics. */
    public synchronized void finishReplay(String pipeline, long id) {
        update("UPDATE dead_letter_replays SET done = 1 WHERE pipeline = ? AND id = ?", pipeline, id);
    }

    /** The replays that were begun and not finished (at most one per pipeline), by pipeline. */
    public synchronized List<ReplayRecord> unfinishedReplays() {
        List<ReplayRecord> replays = new ArrayList<>();
        query(
                "SELECT pipeline, id, ends FROM dead_letter_replays WHERE done = 0 ORDER BY "
                        + dialect.binary("pipeline"),
                rs -> replays.add(new ReplayRecord(
                        rs.getString(1),
                        rs.getLong(2),
                        List.of(),
                        Map.of(),
                        read(rs.getString(3), new TypeReference<Map<String, Map<Integer, Long>>>() {}))));
        List<ReplayRecord> whole = new ArrayList<>();
        for (ReplayRecord replay : replays) {
            List<DeadLetterPosition> positions = new ArrayList<>();
            Map<DeadLetterPosition, byte[]> corrections = new HashMap<>();
            query(
                    """
                    SELECT topic, kafka_partition, kafka_offset, corrected_value FROM replayed_dead_letters
                    WHERE pipeline = ? AND replay = ? ORDER BY topic, kafka_partition, kafka_offset""",
                    rs -> {
                        DeadLetterPosition position =
                                new DeadLetterPosition(rs.getString(1), rs.getInt(2), rs.getLong(3));
                        positions.add(position);
                        if (rs.getString(4) != null) {
                            corrections.put(position, Base64.getDecoder().decode(rs.getString(4)));
                        }
                    },
                    replay.pipeline(),
                    replay.id());
            whole.add(new ReplayRecord(replay.pipeline(), replay.id(), positions, corrections, replay.ends()));
        }
        return whole;
    }

    /** Which of these dead letters of a pipeline were replayed. */
    public synchronized Set<DeadLetterPosition> replayedAmong(
            String pipeline, Collection<DeadLetterPosition> positions) {
        Set<DeadLetterPosition> replayed = new TreeSet<>();
        for (DeadLetterPosition position : positions) {
            query(
                    """
                    SELECT 1 FROM replayed_dead_letters
                    WHERE pipeline = ? AND topic = ? AND kafka_partition = ? AND kafka_offset = ?""",
                    rs -> replayed.add(position),
                    pipeline,
                    position.topic(),
                    position.partition(),
                    position.offset());
        }
        return replayed;
    }

    /** How many dead letters of a pipeline were replayed. */
    public synchronized long replayedCount(String pipeline) {
        long[] count = {0};
        query(
                "SELECT count(*) FROM replayed_dead_letters WHERE pipeline = ?",
                rs -> count[0] = rs.getLong(1),
                pipeline);
        return count[0];
    }

    /** Remembers that a Flink job ran for a pipeline: its commits in lake tables are the pipeline's. */
    public synchronized void addPipelineJob(String pipeline, String jobId) {
        update(
                "INSERT INTO pipeline_jobs (pipeline, job_id, submitted_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                pipeline,
                jobId,
                System.currentTimeMillis());
    }

    /** Every Flink job that ever ran for a pipeline (since Tarn recorded them). */
    public synchronized Set<String> pipelineJobs(String pipeline) {
        Set<String> jobs = new HashSet<>();
        query("SELECT job_id FROM pipeline_jobs WHERE pipeline = ?", rs -> jobs.add(rs.getString(1)), pipeline);
        return jobs;
    }

    /** Stores what a job of a pipeline counted; a job it does not know is ignored. */
    public synchronized void putJobCounters(String pipeline, JobCounters counters) {
        update(
                """
                UPDATE pipeline_jobs SET earlier_in = ?, earlier_out = ?, seen_in = ?, seen_out = ?, restarts = ?,
                  checkpoint_id = ?, checkpoint_at = ?, earlier_rules = ?, seen_rules = ?
                WHERE pipeline = ? AND job_id = ?""",
                counters.earlierIn(),
                counters.earlierOut(),
                counters.seenIn(),
                counters.seenOut(),
                counters.restarts(),
                counters.checkpointId().orElse(null),
                counters.checkpointAt(),
                json(counters.earlierRules()),
                json(counters.seenRules()),
                pipeline,
                counters.jobId());
    }

    /** What each job that ran for a pipeline counted, oldest job first. */
    public synchronized List<JobCounters> jobCounters(String pipeline) {
        List<JobCounters> counters = new ArrayList<>();
        query(
                """
                SELECT job_id, earlier_in, earlier_out, seen_in, seen_out, restarts, checkpoint_id, checkpoint_at,
                  earlier_rules, seen_rules
                FROM pipeline_jobs WHERE pipeline = ? ORDER BY submitted_at, """
                        + dialect.binary("job_id"),
                rs -> counters.add(new JobCounters(
                        rs.getString(1),
                        rs.getLong(2),
                        rs.getLong(3),
                        rs.getLong(4),
                        rs.getLong(5),
                        rs.getLong(6),
                        Optional.ofNullable(rs.getObject(7)).map(id -> ((Number) id).longValue()),
                        rs.getLong(8),
                        read(rs.getString(9), new TypeReference<Map<String, Long>>() {}),
                        read(rs.getString(10), new TypeReference<Map<String, Long>>() {}))),
                pipeline);
        return counters;
    }

    public synchronized void putSource(SourceRecord source) {
        update(
                """
                INSERT INTO sources (name, type, connection, "user", password, tables, mirror, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)"""
                        + replacing(
                                "name", "type", "connection", "\"user\"", "password", "tables", "mirror", "created_at"),
                source.name(),
                source.type(),
                source.connection(),
                source.user(),
                source.password(),
                json(source.tables()),
                source.mirror() ? 1 : 0,
                source.createdAt());
    }

    public synchronized Optional<SourceRecord> source(String name) {
        return sources("WHERE name = ?", name).stream().findFirst();
    }

    public synchronized List<SourceRecord> sources() {
        return sources("");
    }

    public synchronized void deleteSource(String name) {
        update("DELETE FROM sources WHERE name = ?", name);
    }

    /**
     * Records the topics ({@code stream.<topic>}) and lake tables ({@code lake.<ns>.<table>}) a pipeline uses, as its
     * last submission's plan named them; empty: not known (its plan could not be compiled). Also the topics it writes.
     */
    public synchronized void putPipelineTables(String pipeline, Optional<Set<String>> tables, Set<String> written) {
        if (tables.isEmpty()) {
            update("DELETE FROM pipeline_tables WHERE pipeline = ?", pipeline);
        } else {
            update(
                    "INSERT INTO pipeline_tables (pipeline, tables, written) VALUES (?, ?, ?)"
                            + replacing("pipeline", "tables", "written"),
                    pipeline,
                    json(new TreeSet<>(tables.get())),
                    json(new TreeSet<>(written)));
        }
    }

    /** A pipeline's lineage (JSON) as its last submission's plan gave it; empty: unknown (none kept). */
    public synchronized void putPipelineLineage(String pipeline, Optional<String> lineage) {
        if (lineage.isEmpty()) {
            update("DELETE FROM pipeline_lineage WHERE pipeline = ?", pipeline);
        } else {
            update(
                    "INSERT INTO pipeline_lineage (pipeline, lineage) VALUES (?, ?)" + replacing("pipeline", "lineage"),
                    pipeline,
                    lineage.get());
        }
    }

    /** One pipeline's lineage (JSON) that {@link #putPipelineLineage} kept; empty when none is. */
    public synchronized Optional<String> pipelineLineage(String pipeline) {
        List<String> found = new ArrayList<>();
        query("SELECT lineage FROM pipeline_lineage WHERE pipeline = ?", rs -> found.add(rs.getString(1)), pipeline);
        return found.stream().findFirst();
    }

    /** Every pipeline's lineage (JSON) that {@link #putPipelineLineage} kept, by pipeline. */
    public synchronized Map<String, String> pipelineLineages() {
        Map<String, String> lineages = new TreeMap<>();
        query("SELECT pipeline, lineage FROM pipeline_lineage", rs -> lineages.put(rs.getString(1), rs.getString(2)));
        return lineages;
    }

    /** The topics a pipeline writes, as {@link #putPipelineTables} recorded them. */
    public synchronized Set<String> pipelineWrittenTopics(String pipeline) {
        Set<String> written = new TreeSet<>();
        query(
                "SELECT written FROM pipeline_tables WHERE pipeline = ?",
                rs -> written.addAll(read(rs.getString(1), new TypeReference<Set<String>>() {})),
                pipeline);
        return written;
    }

    /** What {@link #putPipelineTables} recorded, if anything. */
    public synchronized Optional<Set<String>> pipelineTables(String pipeline) {
        List<Set<String>> found = new ArrayList<>();
        query(
                "SELECT tables FROM pipeline_tables WHERE pipeline = ?",
                rs -> found.add(read(rs.getString(1), new TypeReference<Set<String>>() {})),
                pipeline);
        return found.stream().findFirst();
    }

    /** Stores a token's hash under its name, replacing the token of that name if there is one. */
    public synchronized void putToken(TokenRecord token) {
        update(
                "INSERT INTO tokens (name, hash, created_at) VALUES (?, ?, ?)"
                        + replacing("name", "hash", "created_at"),
                token.name(),
                token.hash(),
                token.createdAt());
    }

    public synchronized List<TokenRecord> tokens() {
        List<TokenRecord> tokens = new ArrayList<>();
        query(
                "SELECT name, hash, created_at FROM tokens ORDER BY " + byName,
                rs -> tokens.add(new TokenRecord(rs.getString(1), rs.getString(2), rs.getLong(3))));
        return tokens;
    }

    /** @return whether there was such a token */
    public synchronized boolean deleteToken(String name) {
        return update("DELETE FROM tokens WHERE name = ?", name) > 0;
    }

    /** Whose privileges a pipeline runs with: who created it or last changed its SQL. */
    public synchronized void setPipelineOwner(String pipeline, String owner) {
        update("UPDATE pipelines SET owner = ? WHERE name = ?", owner, pipeline);
    }

    /** The pipeline's owner ({@code admin} for one made before owners were kept); empty if there is no such pipeline. */
    public synchronized Optional<String> pipelineOwner(String pipeline) {
        List<String> found = new ArrayList<>();
        query("SELECT owner FROM pipelines WHERE name = ?", rs -> found.add(rs.getString(1)), pipeline);
        return found.stream().findFirst();
    }

    /** Adds a grant; one that exists already is kept. */
    public synchronized void putGrant(GrantRecord grant) {
        update(
                "INSERT INTO grants (grantee_kind, grantee, privilege, resource) VALUES (?, ?, ?, ?) ON CONFLICT DO"
                        + " NOTHING",
                grant.granteeKind(),
                grant.grantee(),
                grant.privilege(),
                grant.resource());
    }

    /** @return whether there was such a grant */
    public synchronized boolean deleteGrant(GrantRecord grant) {
        return update(
                        "DELETE FROM grants WHERE grantee_kind = ? AND grantee = ? AND privilege = ? AND resource = ?",
                        grant.granteeKind(),
                        grant.grantee(),
                        grant.privilege(),
                        grant.resource())
                > 0;
    }

    public synchronized List<GrantRecord> grants() {
        List<GrantRecord> grants = new ArrayList<>();
        query(
                "SELECT grantee_kind, grantee, privilege, resource FROM grants ORDER BY grantee_kind, "
                        + dialect.binary("grantee") + ", privilege, " + dialect.binary("resource"),
                rs -> grants.add(new GrantRecord(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4))));
        return grants;
    }

    /** Makes a principal a member of a role; kept if it is one already. */
    public synchronized void putRoleMember(String principal, String role) {
        update("INSERT INTO role_members (principal, role) VALUES (?, ?) ON CONFLICT DO NOTHING", principal, role);
    }

    /** @return whether the principal was a member */
    public synchronized boolean deleteRoleMember(String principal, String role) {
        return update("DELETE FROM role_members WHERE principal = ? AND role = ?", principal, role) > 0;
    }

    /** Each principal's roles, by principal. */
    public synchronized Map<String, List<String>> roleMembers() {
        Map<String, List<String>> roles = new TreeMap<>();
        query(
                "SELECT principal, role FROM role_members ORDER BY " + dialect.binary("principal") + ", "
                        + dialect.binary("role"),
                rs -> roles.computeIfAbsent(rs.getString(1), p -> new ArrayList<>())
                        .add(rs.getString(2)));
        return roles;
    }

    /** Deletes what a principal was granted and its roles, with its token: a token made again under its name starts bare. */
    public synchronized void deletePrincipal(String principal) {
        transaction(() -> {
            update("DELETE FROM grants WHERE grantee_kind = 'principal' AND grantee = ?", principal);
            update("DELETE FROM role_members WHERE principal = ?", principal);
        });
    }

    /**
     * Takes or renews a lease: one owner at a time, until it lets it go or does not renew it for {@code ttlMillis}.
     * Each step is one statement, so that two servers claiming at once cannot both win.
     *
     * @return the owner that holds it now: {@code owner} when it was taken or renewed
     */
    public synchronized String claimLease(String name, String owner, long now, long ttlMillis) {
        update(
                "INSERT INTO leases (name, owner, renewed_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                name,
                owner,
                now);
        update(
                "UPDATE leases SET owner = ?, renewed_at = ? WHERE name = ? AND (owner = ? OR renewed_at < ?)",
                owner,
                now,
                name,
                owner,
                now - ttlMillis);
        List<String> holder = new ArrayList<>();
        query("SELECT owner FROM leases WHERE name = ?", rs -> holder.add(rs.getString(1)), name);
        return holder.isEmpty() ? "" : holder.get(0);
    }

    /** Lets a lease go, if this owner holds it. */
    public synchronized void releaseLease(String name, String owner) {
        update("DELETE FROM leases WHERE name = ? AND owner = ?", name, owner);
    }

    public synchronized void putView(ViewRecord view) {
        update(
                "INSERT INTO views (name, sql, topic, pipeline, created_at, history) VALUES (?, ?, ?, ?, ?, ?)"
                        + replacing("name", "sql", "topic", "pipeline", "created_at", "history"),
                view.name(),
                view.sql(),
                view.topic(),
                view.pipeline(),
                view.createdAt(),
                view.history().orElse(null));
    }

    public synchronized Optional<ViewRecord> view(String name) {
        return views("WHERE name = ?", name).stream().findFirst();
    }

    public synchronized List<ViewRecord> views() {
        return views("");
    }

    public synchronized void deleteView(String name) {
        update("DELETE FROM views WHERE name = ?", name);
    }

    private List<ViewRecord> views(String where, Object... args) {
        List<ViewRecord> views = new ArrayList<>();
        query(
                "SELECT name, sql, topic, pipeline, created_at, history FROM views " + where + " ORDER BY " + byName,
                rs -> views.add(new ViewRecord(
                        rs.getString(1),
                        rs.getString(2),
                        rs.getString(3),
                        rs.getString(4),
                        rs.getLong(5),
                        Optional.ofNullable(rs.getString(6)))),
                args);
        return views;
    }

    private List<SourceRecord> sources(String where, Object... args) {
        List<SourceRecord> sources = new ArrayList<>();
        query(
                "SELECT name, type, connection, \"user\", password, tables, mirror, created_at FROM sources " + where
                        + " ORDER BY " + byName,
                rs -> sources.add(new SourceRecord(
                        rs.getString(1),
                        rs.getString(2),
                        rs.getString(3),
                        rs.getString(4),
                        rs.getString(5),
                        read(rs.getString(6), new TypeReference<List<String>>() {}),
                        rs.getInt(7) != 0,
                        rs.getLong(8))),
                args);
        return sources;
    }

    private List<PipelineRecord> pipelines(String where, Object... args) {
        List<PipelineRecord> pipelines = new ArrayList<>();
        query(
                "SELECT name, sql, desired_state, job_id, restored_from, savepoint, last_error, created_at, on_error,"
                        + " rules, start_from FROM pipelines "
                        + where + " ORDER BY " + byName,
                rs -> pipelines.add(new PipelineRecord(
                        rs.getString(1),
                        rs.getString(2),
                        PipelineSpec.OnError.valueOf(rs.getString(9)),
                        QualityRule.parse(read(rs.getString(10), new TypeReference<JsonNode>() {})),
                        StartFrom.of(rs.getString(11)),
                        PipelineRecord.DesiredState.valueOf(rs.getString(3)),
                        Optional.ofNullable(rs.getString(4)),
                        Optional.ofNullable(rs.getString(5)),
                        Optional.ofNullable(rs.getString(6)),
                        Optional.ofNullable(rs.getString(7)),
                        rs.getLong(8))),
                args);
        return pipelines;
    }

    /**
     * The ON CONFLICT clause that makes an INSERT of these columns replace the row of the same first column (the
     * primary key), as SQLite's and PostgreSQL's upsert both read it.
     */
    private static String replacing(String key, String... columns) {
        List<String> sets = new ArrayList<>();
        for (String column : columns) {
            sets.add(column + " = excluded." + column);
        }
        return " ON CONFLICT (" + key + ") DO UPDATE SET " + String.join(", ", sets);
    }

    private interface RowReader {
        void read(ResultSet rs) throws SQLException;
    }

    private void query(String sql, RowReader reader, Object... args) {
        run("read", () -> {
            try (PreparedStatement statement = connection.prepareStatement(sql)) {
                bind(statement, args);
                try (ResultSet rs = statement.executeQuery()) {
                    while (rs.next()) {
                        reader.read(rs);
                    }
                }
            }
            return null;
        });
    }

    private int update(String sql, Object... args) {
        return run("write", () -> {
            try (PreparedStatement statement = connection.prepareStatement(sql)) {
                bind(statement, args);
                return statement.executeUpdate();
            }
        });
    }

    private interface Work<T> {
        T run() throws SQLException;
    }

    /**
     * Runs one statement. When the connection to a database server was lost outside a transaction, connects again and
     * runs it once more: every statement of the store reads, or writes a whole row by key, so running it twice is
     * running it once.
     */
    private <T> T run(String what, Work<T> work) {
        try {
            try {
                return work.run();
            } catch (SQLException e) {
                if (dialect == Dialect.SQLITE || !isConnectionLost(e) || inTransaction) {
                    throw e;
                }
                reconnect();
                return work.run();
            }
        } catch (SQLException e) {
            throw new TarnException(
                    ErrorCode.METADATA_UNAVAILABLE,
                    "metadata store %s failed: %s".formatted(what, TarnException.rootMessage(e)),
                    e);
        }
    }

    private void reconnect() throws SQLException {
        connection.close();
        connection = connect(url, user, password);
    }

    /**
     * SQL state class 08, the connection failed (the network dropped it), or 57P01–57P03, the server ended it (it
     * restarted, or an administrator terminated the session).
     */
    private static boolean isConnectionLost(SQLException e) {
        String state = e.getSQLState();
        return state != null
                && (state.startsWith("08") || List.of("57P01", "57P02", "57P03").contains(state));
    }

    private static void bind(PreparedStatement statement, Object... args) throws SQLException {
        for (int i = 0; i < args.length; i++) {
            statement.setObject(i + 1, args[i]);
        }
    }

    private static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static <T> T read(String json, TypeReference<T> type) {
        try {
            return JSON.readValue(json, type);
        } catch (JsonProcessingException e) {
            throw new TarnException(ErrorCode.METADATA_UNAVAILABLE, "metadata store holds unreadable JSON", e);
        }
    }

    @Override
    public synchronized void close() {
        try {
            connection.close();
        } catch (SQLException e) {
            throw new TarnException(
                    ErrorCode.METADATA_UNAVAILABLE, "metadata store did not close: " + e.getMessage(), e);
        }
    }
}
