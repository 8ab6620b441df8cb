package io.tarn.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.tarn.lake.LakeCatalog;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * The ledger harness: senders write events {@code {"id": n}} with unique, increasing ids to a topic, over HTTP and over
 * the Kafka protocol, and record every acknowledgement (an HTTP 200, a Kafka producer callback without error). They
 * never resend: an unanswered batch is given up, so its ids may or may not be in the log. The checker then compares
 * what was acknowledged with the topic and with a lake table read through Iceberg's own Java reader (and, separately,
 * through Tarn's query path), and reports ids lost, duplicated and unexpected.
 *
 * <p>HTTP ids count up from 0, Kafka-protocol ids from {@link #KAFKA_IDS}.
 */
final class Ledger implements AutoCloseable {
    /** First id sent over the Kafka protocol. */
    static final long KAFKA_IDS = 1_000_000_000_000L;

    private final String topic;
    private final Set<Long> acknowledged = ConcurrentHashMap.newKeySet();
    private final AtomicLong httpNext = new AtomicLong();
    private final AtomicLong kafkaNext = new AtomicLong(KAFKA_IDS);
    private final AtomicBoolean sending = new AtomicBoolean(true);
    private final List<Thread> senders = new ArrayList<>();

    Ledger(String topic) {
        this.topic = topic;
    }

    /** Starts a sender posting batches to {@code POST /v1/topics/{topic}/records} of whichever server is current. */
    void sendOverHttp(Supplier<Http> server, int batchSize, Duration pause) {
        start("ledger-http", () -> {
            while (sending.get()) {
                List<Map<String, Long>> batch = new ArrayList<>(batchSize);
                for (int i = 0; i < batchSize; i++) {
                    batch.add(Map.of("id", httpNext.getAndIncrement()));
                }
                try {
                    if (server.get()
                                    .post("/v1/topics/" + topic + "/records", batch)
                                    .status()
                            == 200) {
                        batch.forEach(r -> acknowledged.add(r.get("id")));
                    }
                    sleep(pause);
                } catch (RuntimeException e) {
                    sleep(Duration.ofMillis(200));
                }
            }
        });
    }

    /**
     * Starts a sender using an idempotent Kafka producer with {@code acks=all}; after any failed send it closes the
     * producer and opens a new one (the broker may have restarted), never resending.
     */
    void sendOverKafka(String bootstrapServers, int batchSize, Duration pause) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "15000");
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "10000");
        start("ledger-kafka", () -> {
            while (sending.get()) {
                AtomicBoolean failed = new AtomicBoolean();
                try (var producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
                    while (sending.get() && !failed.get()) {
                        for (int i = 0; i < batchSize; i++) {
                            long id = kafkaNext.getAndIncrement();
                            byte[] value = ("{\"id\":" + id + "}").getBytes(StandardCharsets.UTF_8);
                            producer.send(new ProducerRecord<>(topic, value), (metadata, error) -> {
                                if (error == null) {
                                    acknowledged.add(id);
                                } else {
                                    failed.set(true);
                                }
                            });
                        }
                        producer.flush();
                        sleep(pause);
                    }
                    producer.close(Duration.ofSeconds(5));
                } catch (RuntimeException e) {
                    sleep(Duration.ofMillis(200));
                }
            }
        });
    }

    private void start(String name, Runnable loop) {
        Thread thread = new Thread(loop, name);
        thread.setDaemon(true);
        thread.start();
        senders.add(thread);
    }

    /** Stops every sender and waits for its last batch to be answered. */
    void stop() throws InterruptedException {
        sending.set(false);
        for (Thread sender : senders) {
            sender.join(60_000);
        }
    }

    Set<Long> acknowledged() {
        return acknowledged;
    }

    private boolean wasSent(long id) {
        return (id >= 0 && id < httpNext.get()) || (id >= KAFKA_IDS && id < kafkaNext.get());
    }

    /** Every id in the topic, failing if the log holds one twice. */
    Set<Long> readLog(String bootstrapServers, int partitions) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        Set<Long> ids = new HashSet<>();
        long records = 0;
        try (var consumer = new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> assigned = new ArrayList<>();
            for (int p = 0; p < partitions; p++) {
                assigned.add(new TopicPartition(topic, p));
            }
            consumer.assign(assigned);
            consumer.seekToBeginning(assigned);
            Map<TopicPartition, Long> end = consumer.endOffsets(assigned);
            while (assigned.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                for (var record : consumer.poll(Duration.ofMillis(500))) {
                    records++;
                    ids.add(Http.JSON.readTree(record.value()).path("id").asLong());
                }
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        assertThat(records).as("records in the log (no id twice)").isEqualTo(ids.size());
        return ids;
    }

    /**
     * Reads a lake table's {@code id} column with Iceberg's Java reader, requiring every data and delete file of the
     * current snapshot to exist.
     *
     * @param table {@code namespace.table}
     */
    static LakeIds readLake(Path dataDir, String table) throws IOException {
        try (LakeCatalog lake = LakeCatalog.open(
                dataDir.resolve("catalog.db"), dataDir.resolve("warehouse").toString())) {
            return readLake(lake, table);
        }
    }

    /** {@link #readLake(Path, String)} through a catalog of any kind, on any storage its file IO reaches. */
    static LakeIds readLake(LakeCatalog lake, String table) throws IOException {
        Set<Long> ids = new HashSet<>();
        long rows = 0;
        Table iceberg = lake.load(table);
        try (CloseableIterable<FileScanTask> tasks = iceberg.newScan().planFiles()) {
            for (FileScanTask task : tasks) {
                assertThat(iceberg.io().newInputFile(task.file().location()).exists())
                        .as(task.file().location())
                        .isTrue();
                task.deletes().forEach(d -> assertThat(
                                iceberg.io().newInputFile(d.location()).exists())
                        .as(d.location())
                        .isTrue());
            }
        }
        try (CloseableIterable<Record> records = IcebergGenerics.read(iceberg).build()) {
            for (Record record : records) {
                rows++;
                ids.add((Long) record.getField("id"));
            }
        }
        return new LakeIds(rows, ids);
    }

    /** Compares acknowledged ids, the log and the lake. */
    Report check(Set<Long> log, LakeIds lake) {
        Set<Long> lost = new HashSet<>(acknowledged);
        lost.removeAll(lake.ids());
        Set<Long> lostFromLog = new HashSet<>(acknowledged);
        lostFromLog.removeAll(log);
        Set<Long> notLanded = new HashSet<>(log);
        notLanded.removeAll(lake.ids());
        Set<Long> unexpected = new HashSet<>();
        for (long id : lake.ids()) {
            if (!wasSent(id) || !log.contains(id)) {
                unexpected.add(id);
            }
        }
        return new Report(
                acknowledged.size(),
                log.size(),
                lake.rows(),
                lake.ids().size(),
                lost,
                lostFromLog,
                notLanded,
                unexpected);
    }

    /** Requires Tarn's query path to see the same rows as Iceberg's reader: count, distinct ids and their sum. */
    static void assertQueryPathAgrees(Http http, String table, LakeIds lake) {
        JsonNode row = Fixtures.rows(http, "SELECT count(*), count(DISTINCT id), sum(id) FROM lake." + table)
                .get(0);
        assertThat(row.get(0).asLong()).as("rows through Tarn's query path").isEqualTo(lake.rows());
        assertThat(row.get(1).asLong())
                .as("distinct ids through Tarn's query path")
                .isEqualTo(lake.ids().size());
        assertThat(row.get(2).asLong())
                .as("sum of ids through Tarn's query path")
                .isEqualTo(lake.ids().stream().mapToLong(Long::longValue).sum());
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A lake table's ids: its row count and the distinct ids. */
    record LakeIds(long rows, Set<Long> ids) {}

    /**
     * The ledger's verdict.
     *
     * @param lost acknowledged but not in the lake
     * @param lostFromLog acknowledged but not in the log
     * @param notLanded in the log but not in the lake
     * @param unexpected in the lake but never sent, or not in the log
     */
    record Report(
            int acknowledged,
            int logged,
            long lakeRows,
            int lakeDistinct,
            Set<Long> lost,
            Set<Long> lostFromLog,
            Set<Long> notLanded,
            Set<Long> unexpected) {
        long duplicated() {
            return lakeRows - lakeDistinct;
        }

        void assertExactlyOnce() {
            assertThat(lostFromLog).as("acknowledged ids missing from the log").isEmpty();
            assertThat(lost).as("acknowledged ids missing from the lake").isEmpty();
            assertThat(notLanded).as("ids in the log missing from the lake").isEmpty();
            assertThat(unexpected).as("ids in the lake that were never sent").isEmpty();
            assertThat(duplicated()).as("duplicated rows in the lake").isZero();
        }

        @Override
        public String toString() {
            return "%d acknowledged, %d in the log, %d rows in the lake (%d distinct); %d lost, %d duplicated, %d unexpected"
                    .formatted(
                            acknowledged, logged, lakeRows, lakeDistinct, lost.size(), duplicated(), unexpected.size());
        }
    }
}
