package io.tarn.log;

import static java.util.Objects.requireNonNull;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.topic.Retention;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Topics and records on a Kafka cluster (the embedded node or an external one), with Kafka's exceptions translated into
 * {@link TarnException}s. Appends wait until Kafka acknowledged every record ({@code acks=all}, idempotent producer).
 */
public final class KafkaLog implements AutoCloseable {
    private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(30);

    private final String bootstrapServers;
    private final Admin admin;
    private final KafkaProducer<byte[], byte[]> producer;
    /** The ingest producer's settings, on which transactional producers are made. */
    private final Properties producerProps;

    public KafkaLog(String bootstrapServers, int maxRecordBytes) {
        this.bootstrapServers = requireNonNull(bootstrapServers, "bootstrapServers is null");
        Properties adminProps = new Properties();
        adminProps.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        adminProps.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) ADMIN_TIMEOUT.toMillis());
        adminProps.put(AdminClientConfig.CLIENT_ID_CONFIG, "tarn-admin");
        this.admin = Admin.create(adminProps);
        producerProps = new Properties();
        producerProps.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        producerProps.put(ProducerConfig.CLIENT_ID_CONFIG, "tarn-ingest");
        producerProps.put(ProducerConfig.ACKS_CONFIG, "all");
        producerProps.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        producerProps.put(ProducerConfig.LINGER_MS_CONFIG, 2);
        producerProps.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
        producerProps.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, EmbeddedKafka.maxBatchBytes(maxRecordBytes));
        producerProps.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 15_000);
        producerProps.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 60_000);
        producerProps.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 30_000);
        this.producer = new KafkaProducer<>(producerProps, new ByteArraySerializer(), new ByteArraySerializer());
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    /**
     * @throws TarnException {@link ErrorCode#TOPIC_ALREADY_EXISTS} if it exists, {@link ErrorCode#LOG_UNAVAILABLE} if
     *     Kafka does not answer
     */
    public void createTopic(String name, int partitions) {
        createTopic(name, partitions, Map.of());
    }

    /**
     * As {@link #createTopic(String, int)}, with topic configurations (e.g. {@code cleanup.policy=compact}).
     *
     * @throws TarnException as {@link #createTopic(String, int)}
     */
    public void createTopic(String name, int partitions, Map<String, String> configs) {
        await(
                admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1).configs(configs)))
                        .all(),
                "create topic " + name);
        awaitLeaders(name, partitions);
    }

    /**
     * Returns once every partition's leader serves requests (answers a ListOffsets, which only the leader does). The
     * controller acknowledges a new topic before the broker has applied it; an idempotent producer appending at once
     * can then have its first request refused (NOT_LEADER_OR_FOLLOWER) and a later one accepted, after which every
     * retry of the first is out of sequence until it expires (KAFKA-15591): part of an ingest request would be
     * written and the rest refused.
     */
    private void awaitLeaders(String name, int partitions) {
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        for (int p = 0; p < partitions; p++) {
            latest.put(new TopicPartition(name, p), OffsetSpec.latest());
        }
        long deadline = System.nanoTime() + ADMIN_TIMEOUT.toNanos();
        while (true) {
            try {
                await(admin.listOffsets(latest).all(), "wait for the leaders of topic " + name);
                return;
            } catch (TarnException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new TarnException(ErrorCode.LOG_UNAVAILABLE, "interrupted while creating topic " + name, e);
            }
        }
    }

    /**
     * @throws TarnException {@link ErrorCode#TOPIC_NOT_FOUND} if it does not exist
     */
    public void deleteTopic(String name) {
        await(admin.deleteTopics(List.of(name)).all(), "delete topic " + name);
    }

    /** Names of all topics, internal ones excluded. */
    public Set<String> listTopics() {
        return await(admin.listTopics().names(), "list topics");
    }

    /**
     * Partition count and retained record count of each named topic.
     *
     * @throws TarnException {@link ErrorCode#TOPIC_NOT_FOUND} if one does not exist
     */
    public Map<String, TopicStats> describe(Collection<String> names) {
        if (names.isEmpty()) {
            return Map.of();
        }
        Map<String, TopicDescription> descriptions =
                await(admin.describeTopics(names).allTopicNames(), "describe topics " + names);
        Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        descriptions.values().forEach(d -> d.partitions().forEach(p -> {
            TopicPartition tp = new TopicPartition(d.name(), p.partition());
            earliest.put(tp, OffsetSpec.earliest());
            latest.put(tp, OffsetSpec.latest());
        }));
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> starts =
                await(admin.listOffsets(earliest).all(), "list offsets");
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends =
                await(admin.listOffsets(latest).all(), "list offsets");
        Map<String, TopicStats> stats = new HashMap<>();
        descriptions.values().forEach(d -> {
            long records = 0;
            for (var p : d.partitions()) {
                TopicPartition tp = new TopicPartition(d.name(), p.partition());
                records += ends.get(tp).offset() - starts.get(tp).offset();
            }
            stats.put(d.name(), new TopicStats(d.partitions().size(), records));
        });
        return stats;
    }

    /**
     * Each named topic's end: the sum over its partitions of the offset the next record gets (records ever appended,
     * a transaction's commit marker counting as one).
     *
     * @throws TarnException {@link ErrorCode#TOPIC_NOT_FOUND} if one does not exist
     */
    public Map<String, Long> endOffsets(Collection<String> names) {
        if (names.isEmpty()) {
            return Map.of();
        }
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        await(admin.describeTopics(names).allTopicNames(), "describe topics " + names)
                .values()
                .forEach(d -> d.partitions()
                        .forEach(p -> latest.put(new TopicPartition(d.name(), p.partition()), OffsetSpec.latest())));
        Map<String, Long> ends = new HashMap<>();
        await(admin.listOffsets(latest).all(), "list offsets")
                .forEach((partition, info) -> ends.merge(partition.topic(), info.offset(), Long::sum));
        return ends;
    }

    /**
     * Appends records and returns once Kafka acknowledged all of them.
     *
     * @param keys record keys, each may be null; same size as values
     * @throws TarnException {@link ErrorCode#LOG_UNAVAILABLE} (retriable) if any record was not acknowledged in time;
     *     some records of the batch may then have been written
     */
    public void append(String topic, List<byte[]> keys, List<byte[]> values) {
        if (keys.size() != values.size()) {
            throw new IllegalArgumentException(
                    "keys and values differ in size: " + keys.size() + " vs " + values.size());
        }
        List<CompletableFuture<Void>> acks = new ArrayList<>(values.size());
        for (int i = 0; i < values.size(); i++) {
            CompletableFuture<Void> ack = new CompletableFuture<>();
            producer.send(new ProducerRecord<>(topic, keys.get(i), values.get(i)), (metadata, error) -> {
                if (error == null) {
                    ack.complete(null);
                } else {
                    ack.completeExceptionally(error);
                }
            });
            acks.add(ack);
        }
        try {
            CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(90, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw translate(e.getCause(), "append to topic " + topic);
        } catch (TimeoutException e) {
            throw new TarnException(
                    ErrorCode.LOG_UNAVAILABLE, "Kafka did not acknowledge records for topic " + topic, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TarnException(ErrorCode.LOG_UNAVAILABLE, "interrupted while appending to topic " + topic, e);
        }
    }

    /**
     * A record to append in a transaction ({@link #appendInTransaction}).
     *
     * @param key may be null
     * @param timestamp the record's time, epoch milliseconds
     */
    public record Outgoing(String topic, byte[] key, byte[] value, long timestamp, Map<String, byte[]> headers) {}

    /**
     * Appends records in one Kafka transaction: a {@code read_committed} reader sees all of them or none. A producer of
     * the same transactional id that died with a transaction open is fenced first and its transaction aborted.
     *
     * @throws TarnException {@link ErrorCode#LOG_UNAVAILABLE} if Kafka did not commit it; none of the records is then
     *     visible, unless the commit reached Kafka before the failure (which {@link #containsHeader} tells)
     */
    public void appendInTransaction(String transactionalId, List<Outgoing> records) {
        String action = "append in transaction " + transactionalId;
        try (KafkaProducer<byte[], byte[]> transactional = transactionalProducer(transactionalId)) {
            transactional.initTransactions();
            transactional.beginTransaction();
            for (Outgoing record : records) {
                ProducerRecord<byte[], byte[]> sent =
                        new ProducerRecord<>(record.topic(), null, record.timestamp(), record.key(), record.value());
                record.headers().forEach((name, value) -> sent.headers().add(name, value));
                transactional.send(sent);
            }
            transactional.commitTransaction();
        } catch (KafkaException e) {
            throw translate(e, action);
        }
    }

    /**
     * Fences any producer of a transactional id: a transaction it left open is aborted, one whose commit reached Kafka
     * is completed. Afterwards a {@code read_committed} reader sees everything of that id that will ever be seen.
     *
     * @throws TarnException {@link ErrorCode#LOG_UNAVAILABLE} if Kafka does not answer
     */
    public void fence(String transactionalId) {
        try (KafkaProducer<byte[], byte[]> transactional = transactionalProducer(transactionalId)) {
            transactional.initTransactions();
        } catch (KafkaException e) {
            throw translate(e, "fence transaction " + transactionalId);
        }
    }

    private KafkaProducer<byte[], byte[]> transactionalProducer(String transactionalId) {
        Properties props = new Properties();
        props.putAll(producerProps);
        props.put(ProducerConfig.CLIENT_ID_CONFIG, "tarn-" + transactionalId);
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 60_000);
        return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    }

    /**
     * The offset after the last committed record (Kafka's last stable offset) of each partition of a topic.
     *
     * @throws TarnException {@link ErrorCode#TOPIC_NOT_FOUND} if it does not exist
     */
    public Map<Integer, Long> committedEnds(String topic) {
        TopicDescription description = await(
                        admin.describeTopics(List.of(topic)).allTopicNames(), "describe topic " + topic)
                .get(topic);
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        description
                .partitions()
                .forEach(p -> latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest()));
        Map<Integer, Long> ends = new TreeMap<>();
        await(
                        admin.listOffsets(latest, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED))
                                .all(),
                        "list the offsets of topic " + topic)
                .forEach((partition, info) -> ends.put(partition.partition(), info.offset()));
        return ends;
    }

    /**
     * Whether a committed record of a topic from the given offsets on (partitions not given: from their start) carries
     * a header with the given value.
     *
     * @throws TarnException {@link ErrorCode#LOG_UNAVAILABLE} if the topic cannot be read to its end in time
     */
    public boolean containsHeader(String topic, Map<Integer, Long> from, String header, byte[] value) {
        Map<Integer, Long> ends = committedEnds(topic);
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "tarn-replay-check");
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            Map<TopicPartition, Long> remaining = new HashMap<>();
            ends.forEach((partition, end) -> {
                long start = from.getOrDefault(partition, 0L);
                if (start < end) {
                    remaining.put(new TopicPartition(topic, partition), end);
                }
            });
            consumer.assign(remaining.keySet());
            remaining.keySet().forEach(tp -> {
                long start = from.getOrDefault(tp.partition(), 0L);
                if (start > 0) {
                    consumer.seek(tp, start);
                } else {
                    consumer.seekToBeginning(List.of(tp));
                }
            });
            long deadline = System.nanoTime() + ADMIN_TIMEOUT.toNanos();
            while (!remaining.isEmpty()) {
                if (System.nanoTime() > deadline) {
                    throw new TarnException(
                            ErrorCode.LOG_UNAVAILABLE, "could not read topic %s to its end in time".formatted(topic));
                }
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    for (Header h : record.headers().headers(header)) {
                        if (Arrays.equals(h.value(), value)) {
                            return true;
                        }
                    }
                }
                remaining.keySet().removeIf(tp -> consumer.position(tp) >= remaining.get(tp));
                consumer.assign(remaining.keySet());
            }
            return false;
        } catch (KafkaException e) {
            throw translate(e, "read topic " + topic);
        }
    }

    private <T> T await(KafkaFuture<T> future, String action) {
        try {
            return future.get(ADMIN_TIMEOUT.toMillis() + 5_000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw translate(e.getCause(), action);
        } catch (TimeoutException e) {
            throw new TarnException(ErrorCode.LOG_UNAVAILABLE, "Kafka did not answer in time to " + action, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TarnException(ErrorCode.LOG_UNAVAILABLE, "interrupted while trying to " + action, e);
        }
    }

    private static TarnException translate(Throwable error, String action) {
        if (error instanceof TopicExistsException) {
            return new TarnException(ErrorCode.TOPIC_ALREADY_EXISTS, error.getMessage(), error);
        }
        if (error instanceof UnknownTopicOrPartitionException) {
            return new TarnException(ErrorCode.TOPIC_NOT_FOUND, "cannot " + action + ": topic does not exist", error);
        }
        if (error instanceof RecordTooLargeException) {
            return new TarnException(
                    ErrorCode.REQUEST_TOO_LARGE, "cannot " + action + ": " + error.getMessage(), error);
        }
        if (error instanceof RetriableException || error instanceof org.apache.kafka.common.errors.TimeoutException) {
            return new TarnException(ErrorCode.LOG_UNAVAILABLE, "cannot " + action + ": " + error.getMessage(), error);
        }
        return new TarnException(
                ErrorCode.LOG_UNAVAILABLE, "cannot " + action + ": " + TarnException.rootMessage(error), error);
    }

    /**
     * @throws TarnException {@link ErrorCode#TOPIC_NOT_FOUND} if it does not exist
     */
    public Retention retention(String topic) {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        Config config = await(admin.describeConfigs(List.of(resource)).all(), "describe topic " + topic)
                .get(resource);
        return new Retention(
                Long.parseLong(config.get(TopicConfig.RETENTION_MS_CONFIG).value()),
                Long.parseLong(config.get(TopicConfig.RETENTION_BYTES_CONFIG).value()));
    }

    /**
     * Sets a topic's retention; Kafka deletes what falls out of it (whole segments, so somewhat later).
     *
     * @throws TarnException {@link ErrorCode#TOPIC_NOT_FOUND} if it does not exist
     */
    public void setRetention(String topic, Retention retention) {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        await(
                admin.incrementalAlterConfigs(Map.of(
                                resource,
                                List.of(
                                        new AlterConfigOp(
                                                new ConfigEntry(
                                                        TopicConfig.RETENTION_MS_CONFIG,
                                                        String.valueOf(retention.millis())),
                                                AlterConfigOp.OpType.SET),
                                        new AlterConfigOp(
                                                new ConfigEntry(
                                                        TopicConfig.RETENTION_BYTES_CONFIG,
                                                        String.valueOf(retention.bytesPerPartition())),
                                                AlterConfigOp.OpType.SET))))
                        .all(),
                "set the retention of topic " + topic);
    }

    /**
     * Whether a topic's retention is Kafka's default (neither time nor size was set on the topic).
     *
     * @throws TarnException {@link ErrorCode#TOPIC_NOT_FOUND} if it does not exist
     */
    public boolean hasDefaultRetention(String topic) {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        Config config = await(admin.describeConfigs(List.of(resource)).all(), "describe topic " + topic)
                .get(resource);
        return config.get(TopicConfig.RETENTION_MS_CONFIG).source() != ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG
                && config.get(TopicConfig.RETENTION_BYTES_CONFIG).source()
                        != ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG;
    }

    /**
     * The offset of the first record Kafka still has, per partition of a topic.
     *
     * @throws TarnException {@link ErrorCode#TOPIC_NOT_FOUND} if it does not exist
     */
    public Map<Integer, Long> earliestOffsets(String topic) {
        TopicDescription description = await(
                        admin.describeTopics(List.of(topic)).allTopicNames(), "describe topic " + topic)
                .get(topic);
        Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
        description
                .partitions()
                .forEach(p -> earliest.put(new TopicPartition(topic, p.partition()), OffsetSpec.earliest()));
        Map<Integer, Long> offsets = new TreeMap<>();
        await(admin.listOffsets(earliest).all(), "list the offsets of topic " + topic)
                .forEach((partition, info) -> offsets.put(partition.partition(), info.offset()));
        return offsets;
    }

    /**
     * Per partition of a topic, the offset of its first record with a timestamp at or after the given time, or the
     * partition's end offset when it has none.
     *
     * @throws TarnException {@link ErrorCode#TOPIC_NOT_FOUND} if it does not exist
     */
    public Map<Integer, Long> offsetsFrom(String topic, long timestamp) {
        TopicDescription description = await(
                        admin.describeTopics(List.of(topic)).allTopicNames(), "describe topic " + topic)
                .get(topic);
        Map<TopicPartition, OffsetSpec> atTime = new HashMap<>();
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        description.partitions().forEach(p -> {
            TopicPartition partition = new TopicPartition(topic, p.partition());
            atTime.put(partition, OffsetSpec.forTimestamp(timestamp));
            latest.put(partition, OffsetSpec.latest());
        });
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> found =
                await(admin.listOffsets(atTime).all(), "list the offsets of topic " + topic);
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends =
                await(admin.listOffsets(latest).all(), "list the offsets of topic " + topic);
        Map<Integer, Long> offsets = new TreeMap<>();
        found.forEach((partition, info) -> offsets.put(
                partition.partition(),
                info.offset() >= 0 ? info.offset() : ends.get(partition).offset()));
        return offsets;
    }

    /** The offsets a consumer group committed for the partitions of a topic (none for a group that committed none). */
    public Map<Integer, Long> committedOffsets(String group, String topic) {
        Map<Integer, Long> offsets = new TreeMap<>();
        await(
                        admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata(),
                        "list the offsets of consumer group " + group)
                .forEach((partition, committed) -> {
                    if (partition.topic().equals(topic) && committed != null) {
                        offsets.put(partition.partition(), committed.offset());
                    }
                });
        return offsets;
    }

    /**
     * Deletes the records of a topic's partitions before the given offsets (Kafka's DeleteRecords); the partitions'
     * first offsets move there.
     *
     * @throws TarnException {@link ErrorCode#TOPIC_NOT_FOUND} if it does not exist
     */
    public void deleteRecordsBefore(String topic, Map<Integer, Long> offsets) {
        Map<TopicPartition, RecordsToDelete> before = new HashMap<>();
        offsets.forEach((partition, offset) ->
                before.put(new TopicPartition(topic, partition), RecordsToDelete.beforeOffset(offset)));
        await(admin.deleteRecords(before).all(), "delete records of topic " + topic);
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(10));
        admin.close(Duration.ofSeconds(10));
    }

    /** Partition count and retained records of a topic. */
    public record TopicStats(int partitions, long records) {}
}
