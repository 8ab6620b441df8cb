package io.tarn.log;

import static java.util.Objects.requireNonNull;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.topic.Retention;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
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

    public KafkaLog(String bootstrapServers, int maxRecordBytes) {
        this.bootstrapServers = requireNonNull(bootstrapServers, "bootstrapServers is null");
        Properties adminProps = new Properties();
        adminProps.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        adminProps.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) ADMIN_TIMEOUT.toMillis());
        adminProps.put(AdminClientConfig.CLIENT_ID_CONFIG, "tarn-admin");
        this.admin = Admin.create(adminProps);
        Properties producerProps = new Properties();
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

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(10));
        admin.close(Duration.ofSeconds(10));
    }

    /** Partition count and retained records of a topic. */
    public record TopicStats(int partitions, long records) {}
}
