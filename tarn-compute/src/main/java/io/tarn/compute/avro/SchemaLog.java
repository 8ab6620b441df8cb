package io.tarn.compute.avro;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The registry's schemas by id, as the Kafka topic {@value #TOPIC} holds them (one record per id: the id in decimal as
 * key, the schema's text as value; compacted), so that a pipeline's decoder finds the schema of a record's id wherever
 * its task runs, with the same access to Kafka it reads the record with — as Confluent's registry keeps its own
 * schemas in Kafka. The server writes an id's record before it answers the id, so that a record written with an id is
 * always after it; ids are never reused, so a schema read once is the id's for ever.
 */
public final class SchemaLog {
    public static final String TOPIC = "__tarn_schemas";

    private static final Duration READ_TIMEOUT = Duration.ofSeconds(30);
    /** Schemas read, per Kafka cluster (its bootstrap servers) and id. */
    private static final Map<String, Map<Integer, String>> READ = new ConcurrentHashMap<>();

    private SchemaLog() {}

    /**
     * The schema of an id: from what was read before, or read from the topic to its end when not.
     *
     * @throws TarnException {@link ErrorCode#LOG_UNAVAILABLE} when the topic cannot be read in time
     */
    public static Optional<String> schema(String bootstrapServers, int id) {
        Map<Integer, String> known = READ.computeIfAbsent(bootstrapServers, b -> new ConcurrentHashMap<>());
        String schema = known.get(id);
        if (schema != null) {
            return Optional.of(schema);
        }
        synchronized (known) {
            if (!known.containsKey(id)) {
                known.putAll(readAll(bootstrapServers));
            }
        }
        return Optional.ofNullable(known.get(id));
    }

    /**
     * Every schema the topic holds, by id (none when there is no topic yet).
     *
     * @throws TarnException {@link ErrorCode#LOG_UNAVAILABLE} when the topic cannot be read in time
     */
    public static Map<Integer, String> readAll(String bootstrapServers) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "tarn-schemas");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) READ_TIMEOUT.toMillis());
        Map<Integer, String> schemas = new HashMap<>();
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<PartitionInfo> partitions = consumer.partitionsFor(TOPIC, READ_TIMEOUT);
            if (partitions == null || partitions.isEmpty()) {
                return schemas;
            }
            List<TopicPartition> assigned = partitions.stream()
                    .map(p -> new TopicPartition(TOPIC, p.partition()))
                    .toList();
            consumer.assign(assigned);
            consumer.seekToBeginning(assigned);
            Map<TopicPartition, Long> ends = consumer.endOffsets(assigned, READ_TIMEOUT);
            long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
            while (assigned.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new TarnException(
                            ErrorCode.LOG_UNAVAILABLE,
                            "the registry's schemas (topic %s) could not be read in time".formatted(TOPIC));
                }
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    if (record.key() != null && record.value() != null) {
                        schemas.put(
                                Integer.parseInt(new String(record.key(), StandardCharsets.US_ASCII)),
                                new String(record.value(), StandardCharsets.UTF_8));
                    }
                }
            }
            return schemas;
        } catch (KafkaException | NumberFormatException e) {
            throw new TarnException(
                    ErrorCode.LOG_UNAVAILABLE,
                    "the registry's schemas (topic %s) could not be read: %s"
                            .formatted(TOPIC, TarnException.rootMessage(e)),
                    e);
        }
    }

    /** Takes a schema as read from a cluster's topic (for tests without Kafka). */
    static void remember(String bootstrapServers, int id, String schema) {
        READ.computeIfAbsent(bootstrapServers, b -> new ConcurrentHashMap<>()).put(id, schema);
    }

    /** The record key of an id. */
    public static byte[] key(int id) {
        return Integer.toString(id).getBytes(StandardCharsets.US_ASCII);
    }
}
