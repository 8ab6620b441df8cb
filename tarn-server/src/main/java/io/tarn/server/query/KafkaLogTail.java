package io.tarn.server.query;

import static java.util.Objects.requireNonNull;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.lake.LogTail;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads a topic's tail for fresh reads with Kafka consumers kept between reads (one per read in flight): committed
 * records only, as the landing pipelines read them, from given offsets to the end each partition has when the read
 * begins. Consumers keep no group offsets.
 */
public final class KafkaLogTail implements LogTail, AutoCloseable {
    private final String bootstrapServers;
    private final Duration timeout;
    private final LinkedBlockingQueue<KafkaConsumer<byte[], byte[]>> idle = new LinkedBlockingQueue<>();
    private volatile boolean closed;

    /**
     * @param timeout how long one read may take before it fails
     */
    public KafkaLogTail(String bootstrapServers, Duration timeout) {
        this.bootstrapServers = requireNonNull(bootstrapServers, "bootstrapServers is null");
        this.timeout = requireNonNull(timeout, "timeout is null");
    }

    @Override
    public Map<Integer, Long> read(String topic, Map<Integer, Long> from, RecordSink sink) throws IOException {
        KafkaConsumer<byte[], byte[]> consumer = borrow();
        boolean healthy = false;
        try {
            Map<Integer, Long> read = read(consumer, topic, from, sink);
            healthy = true;
            return read;
        } catch (KafkaException e) {
            throw new TarnException(
                    ErrorCode.LOG_UNAVAILABLE,
                    "topic '%s' could not be read for a fresh read: %s".formatted(topic, e.getMessage()),
                    e);
        } finally {
            consumer.unsubscribe();
            if (healthy && !closed) {
                idle.offer(consumer);
            } else {
                consumer.close(Duration.ZERO);
            }
        }
    }

    private Map<Integer, Long> read(
            KafkaConsumer<byte[], byte[]> consumer, String topic, Map<Integer, Long> from, RecordSink sink)
            throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<PartitionInfo> infos = consumer.partitionsFor(topic, timeout);
        if (infos == null || infos.isEmpty()) {
            throw new TarnException(
                    ErrorCode.TOPIC_NOT_FOUND,
                    "topic '%s', which a fresh read continues the lake table with, does not exist".formatted(topic));
        }
        List<TopicPartition> partitions = new ArrayList<>();
        infos.forEach(info -> partitions.add(new TopicPartition(topic, info.partition())));
        consumer.assign(partitions);
        Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, timeout); // read_committed: the stable end
        Map<TopicPartition, Long> remaining = new HashMap<>();
        Map<Integer, Long> reached = new HashMap<>();
        for (TopicPartition partition : partitions) {
            long start = from.getOrDefault(partition.partition(), 0L);
            long end = ends.get(partition);
            if (start < end) {
                consumer.seek(partition, start); // before the log's start, auto.offset.reset moves it there
                remaining.put(partition, end);
            }
            reached.put(partition.partition(), Math.max(start, end));
        }
        consumer.pause(
                partitions.stream().filter(p -> !remaining.containsKey(p)).toList());
        while (!remaining.isEmpty()) {
            if (System.nanoTime() > deadline) {
                throw new TarnException(
                        ErrorCode.QUERY_TIMEOUT,
                        "the tail of topic '%s' could not be read within query.timeout".formatted(topic));
            }
            for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(100))) {
                TopicPartition partition = new TopicPartition(record.topic(), record.partition());
                Long end = remaining.get(partition);
                if (end != null && record.offset() < end && record.value() != null) {
                    sink.record(
                            record.partition(), record.offset(), new String(record.value(), StandardCharsets.UTF_8));
                }
            }
            for (TopicPartition partition : List.copyOf(remaining.keySet())) {
                if (consumer.position(partition) >= remaining.get(partition)) {
                    remaining.remove(partition);
                    consumer.pause(List.of(partition));
                }
            }
        }
        return reached;
    }

    private KafkaConsumer<byte[], byte[]> borrow() {
        if (closed) {
            throw new IllegalStateException("log tail reader is closed");
        }
        KafkaConsumer<byte[], byte[]> consumer = idle.poll();
        if (consumer != null) {
            return consumer;
        }
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, "tarn-fresh-read");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 10_000);
        config.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 5);
        return new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    @Override
    public void close() {
        closed = true;
        for (KafkaConsumer<byte[], byte[]> consumer = idle.poll(); consumer != null; consumer = idle.poll()) {
            try {
                consumer.close(Duration.ZERO);
            } catch (WakeupException | IllegalStateException e) {
                // closing anyway
            }
        }
    }
}
