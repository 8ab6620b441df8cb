package io.tarn.cdc;

import static java.util.Objects.requireNonNull;

import io.debezium.embedded.Connect;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;
import io.debezium.engine.spi.OffsetCommitPolicy;
import io.tarn.core.error.TarnException;
import io.tarn.core.topic.ColumnSpec;
import io.tarn.core.topic.ColumnType;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.openmbean.CompositeData;
import javax.management.openmbean.TabularData;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Captures tables of a database ({@link SourceDatabase}: PostgreSQL's logical replication, MariaDB's binlog) into one
 * topic per table with the Debezium embedded engine: an initial snapshot, then every committed change, as {@link ChangeEnvelope} JSON keyed by
 * the primary key. A batch of changes is marked processed only after Kafka acknowledged all of it (idempotent
 * producer, {@code acks=all}), and Debezium's offsets are kept in a file of the capture's state directory, so a
 * restart resumes where the acknowledged changes end: nothing is lost, and what is repeated after a crash
 * (Debezium is at-least-once) is a repeated change of the same key, which an upsert table absorbs.
 *
 * <p>Size: the engine's configuration, the checks of each change (schema, TRUNCATE) and its progress (read from the
 * engine's JMX beans) belong to one running capture.
 */
public final class Capture implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Capture.class);

    /**
     * @param name the capture's name: topic prefix (and PostgreSQL's slot and publication {@code tarn_<name>})
     * @param database the database, reached with the driver parameters that passed {@link ConnectionUrl}
     * @param tables {@code schema.table} names to capture
     * @param columns the columns each table had when its topic was declared: a change whose row has other columns (or
     *     whose table now has other columns or types) stops the capture before it is written, naming the difference
     */
    public record Spec(
            String name, SourceDatabase database, List<String> tables, Map<String, List<ColumnSpec>> columns) {
        public Spec {
            requireNonNull(name, "name is null");
            requireNonNull(database, "database is null");
            tables = List.copyOf(tables);
            columns = Map.copyOf(columns);
        }

        /** A capture whose tables' columns are not checked. */
        public Spec(String name, SourceDatabase database, List<String> tables) {
            this(name, database, tables, Map.of());
        }

        @Override
        public String toString() { // never the password
            return "Capture.Spec[name=%s, %s, tables=%s]"
                    .formatted(name, database.url().text(), tables);
        }
    }

    /**
     * How far a capture is, from Debezium's snapshot metrics and the changes this capture wrote.
     *
     * @param snapshotCompleted whether the initial snapshot is done (also true for a capture that resumed after it)
     * @param tablesTotal tables the snapshot reads; 0 when this run took no snapshot
     * @param tablesRemaining of those, tables not read yet
     * @param rowsScanned rows the snapshot read per {@code schema.table}
     * @param captured Debezium's source offset of the newest change or heartbeat written; empty before the first
     * @param records change records (and tombstones) written to Kafka by this run
     */
    public record Progress(
            boolean snapshotRunning,
            boolean snapshotCompleted,
            int tablesTotal,
            int tablesRemaining,
            Map<String, Long> rowsScanned,
            Map<String, ?> captured,
            long records) {
        public Progress {
            rowsScanned = Map.copyOf(rowsScanned);
            captured = Map.copyOf(captured);
        }
    }

    /**
     * A change of a captured table whose row no longer has the columns its topic declares: the capture stopped before
     * writing it. Its message says what changed and that the capture stopped.
     *
     * @param table {@code schema.table}
     * @param now the table as its database describes it now (maybe further on than the change); empty when it could
     *     not be described
     */
    public static final class SchemaChange extends IllegalStateException {
        private static final long serialVersionUID = 1L;
        private final String table;
        private final transient Optional<TableSchema> now;

        SchemaChange(String message, String table, Optional<TableSchema> now) {
            super(message);
            this.table = table;
            this.now = now;
        }

        public String table() {
            return table;
        }

        public Optional<TableSchema> now() {
            return now;
        }
    }

    private final Spec spec;
    private final Consumer<SchemaChange> onSchemaChange;
    /** The schema change the capture stopped writing at, for its listener. */
    private volatile SchemaChange stoppedAt;
    /** The row schema each table's changes were last checked with; Debezium makes a new one when a table changes. */
    private final Map<String, Schema> checkedSchemas = new HashMap<>();

    private final AtomicLong records = new AtomicLong();
    private volatile Map<String, ?> captured = Map.of();
    private final KafkaProducer<byte[], byte[]> producer;
    private final DebeziumEngine<RecordChangeEvent<SourceRecord>> engine;
    private final ExecutorService runner;
    private volatile Throwable failure;

    private Capture(
            Spec spec,
            Path stateDirectory,
            String bootstrapServers,
            Duration heartbeat,
            Consumer<SchemaChange> onSchemaChange)
            throws IOException {
        this.spec = spec;
        this.onSchemaChange = onSchemaChange;
        Files.createDirectories(stateDirectory);
        Map<String, Object> producerConfig = Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrapServers,
                ProducerConfig.ACKS_CONFIG,
                "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
                true,
                ProducerConfig.LINGER_MS_CONFIG,
                5,
                ProducerConfig.CLIENT_ID_CONFIG,
                "tarn-cdc-" + spec.name());
        this.producer = new KafkaProducer<>(producerConfig, new ByteArraySerializer(), new ByteArraySerializer());
        this.engine = DebeziumEngine.create(ChangeEventFormat.of(Connect.class))
                .using(properties(spec, stateDirectory, heartbeat))
                .notifying(this::handle)
                // offsets are stored after every batch Kafka acknowledged, not every second: a crash right after the
                // snapshot would otherwise find no stored end of it and snapshot again, and a row deleted in between
                // has no delete event in the second snapshot (see docs/guarantees.md)
                .using(OffsetCommitPolicy.always())
                .using((success, message, error) -> {
                    if (!success) {
                        failure = error == null ? new IllegalStateException(message) : error;
                        LOG.error("Capture {} stopped: {}", spec.name(), message);
                    }
                })
                .build();
        this.runner = Executors.newSingleThreadExecutor(r -> new Thread(r, "tarn-cdc-" + spec.name()));
    }

    /**
     * Starts capturing; a new capture first snapshots its tables, a resumed one continues from its offsets.
     *
     * @param heartbeat how often the capture confirms its position to the database even when none of its tables
     *     changes, so that the server can recycle WAL written for other tables and databases
     */
    public static Capture start(Spec spec, Path stateDirectory, String bootstrapServers, Duration heartbeat)
            throws IOException {
        return start(spec, stateDirectory, bootstrapServers, heartbeat, null);
    }

    /**
     * As {@link #start(Spec, Path, String, Duration)}, telling a listener when the capture stops writing at a schema
     * change (on the capture's thread: the listener must not wait for the capture). The capture then writes nothing
     * more and marks nothing more processed until it is closed, which the listener is to see to; without a listener
     * (null) it fails at the change.
     */
    public static Capture start(
            Spec spec,
            Path stateDirectory,
            String bootstrapServers,
            Duration heartbeat,
            Consumer<SchemaChange> onSchemaChange)
            throws IOException {
        Capture capture = new Capture(spec, stateDirectory, bootstrapServers, heartbeat, onSchemaChange);
        capture.runner.execute(capture.engine);
        LOG.info("Capture {} started", spec);
        return capture;
    }

    /** Where the capture is now. */
    public Progress progress() {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        boolean running = false;
        boolean completed = false;
        int total = 0;
        int remaining = 0;
        Map<String, Long> rows = new TreeMap<>();
        try {
            ObjectName pattern = new ObjectName("debezium.postgres:type=connector-metrics,context=snapshot,server="
                    + ObjectName.quote(spec.name()) + ",*");
            Set<ObjectName> names = server.queryNames(pattern, null);
            if (names.isEmpty()) {
                pattern = new ObjectName(spec.database().metricsDomain()
                        + ":type=connector-metrics,context=snapshot,server=" + spec.name() + ",*");
                names = server.queryNames(pattern, null);
            }
            for (ObjectName name : names) {
                running = (Boolean) server.getAttribute(name, "SnapshotRunning");
                completed = (Boolean) server.getAttribute(name, "SnapshotCompleted");
                total = (Integer) server.getAttribute(name, "TotalTableCount");
                remaining = (Integer) server.getAttribute(name, "RemainingTableCount");
                Object scanned = server.getAttribute(name, "RowsScanned");
                if (scanned instanceof TabularData table) { // an MXBean's Map
                    for (Object row : table.values()) {
                        var entry = (CompositeData) row;
                        rows.put(String.valueOf(entry.get("key")), ((Number) entry.get("value")).longValue());
                    }
                }
            }
        } catch (JMException e) {
            LOG.debug("Snapshot metrics of capture {} unreadable: {}", spec.name(), e.getMessage());
        }
        return new Progress(running, completed, total, remaining, rows, captured, records.get());
    }

    /** The topic a captured table's changes go to. */
    public static String topic(String captureName, String table) {
        return captureName + "." + table;
    }

    /** Why the engine stopped, if it did on an error. */
    public Optional<Throwable> failure() {
        return Optional.ofNullable(failure);
    }

    private void handle(
            List<RecordChangeEvent<SourceRecord>> events,
            DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer)
            throws InterruptedException {
        if (stoppedAt != null) {
            return; // stopped at a schema change: nothing more is written or marked processed until the close
        }
        List<Future<RecordMetadata>> sent = new ArrayList<>(events.size());
        Map<String, ?> position = captured;
        int accepted = 0;
        IllegalStateException stop = null;
        for (RecordChangeEvent<SourceRecord> event : events) {
            SourceRecord record = event.record();
            if (record.topic().equals(spec.name())) { // MariaDB's schema changes: DDL, no rows
                Optional<String> table = truncatedTable(record);
                if (table.isPresent()) {
                    stop = truncated(table.get());
                    break;
                }
            } else if (!record.topic().startsWith("__debezium")) { // heartbeats have no table
                String table = record.topic().substring(spec.name().length() + 1); // <prefix>.<schema>.<table>
                try {
                    if (record.value() instanceof Struct change
                            && change.schema().field("op") != null
                            && "t".equals(change.getString("op"))) {
                        throw truncated(table);
                    }
                    if (!(record.key() instanceof Struct)) {
                        throw new IllegalStateException("capture %s: a change of %s has no key (the table lost its"
                                        .formatted(spec.name(), table)
                                + " primary key?)");
                    }
                    if (record.value() instanceof Struct change) {
                        checkColumns(table, change);
                    }
                } catch (IllegalStateException e) {
                    stop = e; // what came before is written and acknowledged; this and what follows is not
                    break;
                }
                byte[] value = record.value() instanceof Struct change ? ChangeEnvelope.value(change) : null;
                byte[] key = ChangeEnvelope.key((Struct) record.key());
                sent.add(producer.send(new ProducerRecord<>(topic(spec.name(), table), key, value))); // null: tombstone
            }
            if (record.sourceOffset() != null) {
                position = record.sourceOffset(); // offsets only grow within a capture
            }
            accepted++;
        }
        producer.flush();
        for (Future<RecordMetadata> future : sent) {
            try {
                future.get();
            } catch (ExecutionException e) {
                // not marked processed: the engine stops and a restart resumes before this batch
                throw new IllegalStateException(
                        "capture " + spec.name() + " could not write to Kafka: " + e.getCause(), e);
            }
        }
        for (RecordChangeEvent<SourceRecord> event : events.subList(0, accepted)) {
            committer.markProcessed(event);
        }
        committer.markBatchFinished();
        records.addAndGet(sent.size());
        captured = position;
        if (stop instanceof SchemaChange change && onSchemaChange != null) {
            stoppedAt = change;
            LOG.info("{}", change.getMessage());
            onSchemaChange.accept(change);
        } else if (stop != null) {
            throw stop; // the engine stops; the database keeps the rest for the slot
        }
    }

    private static final Pattern TRUNCATE =
            Pattern.compile("(?i)^\\s*(?:/\\*.*?\\*/\\s*)*TRUNCATE\\s+(?:TABLE\\s+)?([`\\w.$]+)");

    /** The captured table a schema change event (MariaDB) truncates, if it is a TRUNCATE of one. */
    private Optional<String> truncatedTable(SourceRecord record) {
        if (!(record.value() instanceof Struct change) || change.schema().field("ddl") == null) {
            return Optional.empty();
        }
        Matcher truncate = TRUNCATE.matcher(String.valueOf(change.get("ddl")));
        if (!truncate.find()) {
            return Optional.empty();
        }
        String name = truncate.group(1).replace("`", "");
        if (name.indexOf('.') < 0 && change.schema().field("databaseName") != null) {
            name = change.getString("databaseName") + "." + name;
        }
        return spec.tables().contains(name) ? Optional.of(name) : Optional.empty();
    }

    private IllegalStateException truncated(String what) {
        return new IllegalStateException(("capture %s stopped at a TRUNCATE of %s: a truncate has no rows to upsert or"
                        + " delete, so the topic and the lake table would keep rows the table no longer has; delete and"
                        + " re-create the source to snapshot the table again")
                .formatted(spec.name(), what));
    }

    /**
     * Stops the capture (by throwing a {@link SchemaChange} before the change is written) when a change's row has
     * columns its topic does not declare, or a value of a type the declared column cannot hold; a row without a
     * nullable column (written before the column was added) or with a narrower type (before it was widened) is read as
     * the topic declares it.
     */
    private void checkColumns(String table, Struct change) {
        List<ColumnSpec> expected = spec.columns().get(table);
        Struct row = change.schema().field("after") != null && change.getStruct("after") != null
                ? change.getStruct("after")
                : null;
        if (expected == null || row == null || row.schema() == checkedSchemas.get(table)) {
            return;
        }
        List<Field> fields = row.schema().fields();
        Map<String, ColumnSpec> declared = new HashMap<>();
        expected.forEach(c -> declared.put(c.name(), c));
        boolean same = true;
        for (Field field : fields) {
            ColumnSpec column = declared.get(field.name());
            same &= column != null && reads(column.type(), field.schema());
        }
        for (ColumnSpec column : expected) {
            same &= row.schema().field(column.name()) != null
                    || !column.type().sql().endsWith(" NOT NULL");
        }
        if (!same) {
            // the row's own schema decides that the table changed; the catalog (maybe further on) names the new types
            Optional<TableSchema> now;
            try {
                now = Optional.of(spec.database().describe(List.of(table)).get(0));
            } catch (TarnException e) {
                now = Optional.empty();
            }
            List<String> differences =
                    differences(expected, now.map(TableSchema::columns).orElse(List.of()));
            throw new SchemaChange(
                    ("capture %s stopped at a schema change of %s: %s. Nothing from this change on was written (the"
                                    + " database keeps it for the replication slot)")
                            .formatted(
                                    spec.name(),
                                    table,
                                    differences.isEmpty()
                                            ? "its changes now carry columns "
                                                    + fields.stream()
                                                            .map(Field::name)
                                                            .toList()
                                            : String.join("; ", differences)),
                    table,
                    now);
        }
        checkedSchemas.put(table, row.schema());
    }

    /**
     * Whether a column of this Flink type reads the values of Debezium's schema: those it was captured as, or those
     * of a narrower type of its family (a change written before the column was widened).
     */
    static boolean reads(ColumnType type, Schema field) {
        String logical = field.name() == null ? "" : field.name();
        String sql = type.sql().replace(" NOT NULL", "");
        return switch (type.kind()) {
            case BOOLEAN -> field.type() == Schema.Type.BOOLEAN;
            case INTEGER -> {
                boolean integer = field.type() == Schema.Type.INT32 || field.type() == Schema.Type.INT16;
                yield sql.equals("BIGINT")
                        ? (field.type() == Schema.Type.INT64 && logical.isEmpty()) || integer && logical.isEmpty()
                        : integer && (logical.isEmpty() || logical.equals("io.debezium.time.Year"));
            }
            case FLOATING ->
                field.type() == Schema.Type.FLOAT32 || sql.equals("DOUBLE") && field.type() == Schema.Type.FLOAT64;
            case DECIMAL -> decimalReads(sql, logical, field);
            case DATE -> logical.equals("io.debezium.time.Date");
            case TIMESTAMP -> logical.endsWith("Timestamp") && !logical.equals("io.debezium.time.ZonedTimestamp");
            case TIMESTAMP_LTZ -> logical.equals("io.debezium.time.ZonedTimestamp");
            case BYTES -> field.type() == Schema.Type.BYTES;
            // text, and what is carried as text: unconstrained or wide numerics, times, intervals, enums, JSON
            case STRING ->
                field.type() == Schema.Type.STRING
                        || logical.equals("io.debezium.data.VariableScaleDecimal")
                        || logical.equals("org.apache.kafka.connect.data.Decimal")
                        || logical.endsWith("Time");
            default -> false;
        };
    }

    /** Whether a DECIMAL(p, s) column holds a decimal of Debezium's: the same scale and no more digits. */
    private static boolean decimalReads(String sql, String logical, Schema field) {
        if (!logical.equals("org.apache.kafka.connect.data.Decimal") || field.parameters() == null) {
            return false;
        }
        int open = sql.indexOf('(');
        int comma = sql.indexOf(',');
        if (open < 0 || comma < 0) {
            return false;
        }
        try {
            int precision = Integer.parseInt(sql.substring(open + 1, comma).strip());
            int scale =
                    Integer.parseInt(sql.substring(comma + 1, sql.length() - 1).strip());
            return Integer.parseInt(field.parameters().get("scale")) == scale
                    && Integer.parseInt(field.parameters().get("connect.decimal.precision")) <= precision;
        } catch (NumberFormatException | NullPointerException e) {
            return false;
        }
    }

    /** What changed from one column list to another, by name: added, dropped and retyped columns. */
    public static List<String> differences(List<ColumnSpec> before, List<ColumnSpec> after) {
        Map<String, String> old = new LinkedHashMap<>();
        before.forEach(c -> old.put(c.name(), c.type().sql()));
        Map<String, String> now = new LinkedHashMap<>();
        after.forEach(c -> now.put(c.name(), c.type().sql()));
        List<String> differences = new ArrayList<>();
        now.forEach((name, type) -> {
            if (!old.containsKey(name)) {
                differences.add("column %s %s added".formatted(name, type));
            } else if (!old.get(name).equals(type)) {
                differences.add("column %s changed from %s to %s".formatted(name, old.get(name), type));
            }
        });
        old.keySet().stream()
                .filter(name -> !now.containsKey(name))
                .forEach(name -> differences.add("column %s dropped (or renamed)".formatted(name)));
        return differences;
    }

    private static Properties properties(Spec spec, Path stateDirectory, Duration heartbeat) {
        Properties p = spec.database().connector(spec.name(), stateDirectory, spec.tables());
        spec.database().prepare(spec.name(), spec.tables()).forEach(p::setProperty);
        p.setProperty("name", "tarn-" + spec.name());
        p.setProperty("offset.storage", AtomicOffsetFile.class.getName());
        p.setProperty(
                "offset.storage.file.filename",
                stateDirectory.resolve("offsets.dat").toString());
        p.setProperty("topic.prefix", spec.name());
        p.setProperty("snapshot.mode", "initial");
        p.setProperty("decimal.handling.mode", "precise");
        p.setProperty("time.precision.mode", "adaptive_time_microseconds");
        p.setProperty("poll.interval.ms", "10");
        // Debezium skips truncates by default; Tarn must see them to stop instead of silently keeping the rows
        p.setProperty("skipped.operations", "none");
        // larger batches: each batch waits for Kafka's acknowledgement of all of it before it is marked processed
        p.setProperty("max.batch.size", "8192");
        p.setProperty("max.queue.size", "32768");
        p.setProperty("heartbeat.interval.ms", String.valueOf(heartbeat.toMillis()));
        return p;
    }

    @Override
    public void close() throws Exception {
        try {
            engine.close();
        } catch (IllegalStateException e) {
            if (failure == null) {
                throw e;
            } // else the engine already shut itself down on that failure
        } finally {
            runner.shutdown();
            runner.awaitTermination(1, TimeUnit.MINUTES);
            producer.close();
            LOG.info("Capture {} stopped", spec.name());
        }
    }
}
