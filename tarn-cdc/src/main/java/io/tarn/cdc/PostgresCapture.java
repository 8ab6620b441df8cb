package io.tarn.cdc;

import static java.util.Objects.requireNonNull;

import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Captures tables of a PostgreSQL database (logical replication, {@code pgoutput}) into one topic per table with the
 * Debezium embedded engine: an initial snapshot, then every committed change, as {@link ChangeEnvelope} JSON keyed by
 * the primary key. A batch of changes is marked processed only after Kafka acknowledged all of it (idempotent
 * producer, {@code acks=all}), and Debezium's offsets are kept in a file of the capture's state directory, so a
 * restart resumes where the acknowledged changes end: nothing is lost, and what is repeated after a crash
 * (Debezium is at-least-once) is a repeated change of the same key, which an upsert table absorbs.
 */
public final class PostgresCapture implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PostgresCapture.class);

    /**
     * @param name the capture's name: replication slot and publication {@code tarn_<name>}, topic prefix
     * @param connection where the database is, with the driver parameters that passed {@link ConnectionUrl}
     * @param tables {@code schema.table} names to capture
     */
    public record Spec(String name, ConnectionUrl connection, String user, String password, List<String> tables) {
        public Spec {
            requireNonNull(name, "name is null");
            requireNonNull(connection, "connection is null");
            requireNonNull(user, "user is null");
            requireNonNull(password, "password is null");
            tables = List.copyOf(tables);
        }

        @Override
        public String toString() { // never the password
            return "PostgresCapture.Spec[name=%s, %s@%s:%d/%s, tables=%s]"
                    .formatted(name, user, connection.host(), connection.port(), connection.database(), tables);
        }
    }

    private final Spec spec;
    private final KafkaProducer<byte[], byte[]> producer;
    private final DebeziumEngine<RecordChangeEvent<SourceRecord>> engine;
    private final ExecutorService runner;
    private volatile Throwable failure;

    private PostgresCapture(Spec spec, Path stateDirectory, String bootstrapServers) throws IOException {
        this.spec = spec;
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
        this.engine = DebeziumEngine.create(ChangeEventFormat.of(io.debezium.embedded.Connect.class))
                .using(properties(spec, stateDirectory))
                .notifying(this::handle)
                .using((success, message, error) -> {
                    if (!success) {
                        failure = error == null ? new IllegalStateException(message) : error;
                        LOG.error("Capture {} stopped: {}", spec.name(), message);
                    }
                })
                .build();
        this.runner = Executors.newSingleThreadExecutor(r -> new Thread(r, "tarn-cdc-" + spec.name()));
    }

    /** Starts capturing; a new capture first snapshots its tables, a resumed one continues from its offsets. */
    public static PostgresCapture start(Spec spec, Path stateDirectory, String bootstrapServers) throws IOException {
        PostgresCapture capture = new PostgresCapture(spec, stateDirectory, bootstrapServers);
        capture.runner.execute(capture.engine);
        LOG.info("Capture {} started", spec);
        return capture;
    }

    /** The topic a captured table's changes go to. */
    public static String topic(String captureName, String table) {
        return captureName + "." + table;
    }

    /** Why the engine stopped, if it did on an error. */
    public java.util.Optional<Throwable> failure() {
        return java.util.Optional.ofNullable(failure);
    }

    private void handle(
            List<RecordChangeEvent<SourceRecord>> events,
            DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer)
            throws InterruptedException {
        List<Future<RecordMetadata>> sent = new ArrayList<>(events.size());
        for (RecordChangeEvent<SourceRecord> event : events) {
            SourceRecord record = event.record();
            if (!(record.key() instanceof Struct key) || record.topic().startsWith("__debezium")) {
                continue; // heartbeats and transaction markers have no table
            }
            String table = record.topic().substring(spec.name().length() + 1); // Debezium's <prefix>.<schema>.<table>
            byte[] value =
                    record.value() instanceof Struct change ? ChangeEnvelope.value(change) : null; // null: tombstone
            sent.add(producer.send(new ProducerRecord<>(topic(spec.name(), table), ChangeEnvelope.key(key), value)));
        }
        producer.flush();
        for (Future<RecordMetadata> future : sent) {
            try {
                future.get();
            } catch (java.util.concurrent.ExecutionException e) {
                // not marked processed: the engine stops and a restart resumes before this batch
                throw new IllegalStateException(
                        "capture " + spec.name() + " could not write to Kafka: " + e.getCause(), e);
            }
        }
        for (RecordChangeEvent<SourceRecord> event : events) {
            committer.markProcessed(event);
        }
        committer.markBatchFinished();
    }

    private static Properties properties(Spec spec, Path stateDirectory) {
        Properties p = new Properties();
        p.setProperty("name", "tarn-" + spec.name());
        p.setProperty("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
        p.setProperty("offset.storage", "org.apache.kafka.connect.storage.FileOffsetBackingStore");
        p.setProperty(
                "offset.storage.file.filename",
                stateDirectory.resolve("offsets.dat").toString());
        p.setProperty("offset.flush.interval.ms", "1000");
        p.setProperty("database.hostname", spec.connection().host());
        p.setProperty("database.port", String.valueOf(spec.connection().port()));
        p.setProperty("database.user", spec.user());
        p.setProperty("database.password", spec.password());
        p.setProperty("database.dbname", spec.connection().database());
        // only ConnectionUrl's allow-listed driver parameters, none of which loads code
        spec.connection()
                .parameters()
                .forEach((key, value) ->
                        p.setProperty(key.equals("sslmode") ? "database.sslmode" : "driver." + key, value));
        p.setProperty("topic.prefix", spec.name());
        p.setProperty("plugin.name", "pgoutput");
        p.setProperty("slot.name", "tarn_" + spec.name().replace('-', '_'));
        p.setProperty("publication.name", "tarn_" + spec.name().replace('-', '_'));
        p.setProperty("publication.autocreate.mode", "filtered");
        p.setProperty("table.include.list", String.join(",", spec.tables()));
        p.setProperty("snapshot.mode", "initial");
        p.setProperty("decimal.handling.mode", "precise");
        p.setProperty("time.precision.mode", "adaptive_time_microseconds");
        p.setProperty("poll.interval.ms", "10");
        p.setProperty("heartbeat.interval.ms", "10000");
        return p;
    }

    @Override
    public void close() throws Exception {
        try {
            engine.close();
        } finally {
            runner.shutdown();
            runner.awaitTermination(1, TimeUnit.MINUTES);
            producer.close();
            LOG.info("Capture {} stopped", spec.name());
        }
    }
}
