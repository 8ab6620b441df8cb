package io.tarn.server.topic;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * One client following a topic's records as Server-Sent Events: the last {@code last} committed records of each
 * partition, then every record committed after them, each a {@code record} event whose data is {@code
 * {"partition","offset","timestamp","key","value"}} (key and value as UTF-8 text, null when absent). A {@code :
 * keepalive} comment goes out after 15 s without records; when Tarn stops or the topic is deleted a {@code cutoff}
 * event says why. The client's Kafka consumer is its own (no group, no offsets kept).
 */
public final class TopicTail implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String topic;
    private final int partitions;
    private final int last;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Consumer<TopicTail> onClose;
    private volatile String endedBecause;

    TopicTail(String topic, int partitions, int last, String bootstrapServers, Consumer<TopicTail> onClose) {
        this.topic = topic;
        this.partitions = partitions;
        this.last = last;
        this.onClose = onClose;
        this.consumer = FollowedRecords.consumer(bootstrapServers, "tarn-topic-tail-" + topic, 500);
    }

    /** Writes the events until the client goes away or the tail is ended. */
    public void writeTo(OutputStream out) throws IOException {
        List<TopicPartition> assigned = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            assigned.add(new TopicPartition(topic, p));
        }
        consumer.assign(assigned);
        Map<TopicPartition, Long> starts = consumer.beginningOffsets(assigned);
        Map<TopicPartition, Long> ends = consumer.endOffsets(assigned);
        for (TopicPartition partition : assigned) {
            consumer.seek(partition, Math.max(starts.get(partition), ends.get(partition) - last));
        }
        out.write(": following\n\n".getBytes(UTF_8)); // the status and headers go out before the first record
        out.flush();
        FollowedRecords.follow(consumer, out, () -> endedBecause, records -> {
            for (ConsumerRecord<byte[], byte[]> record : records) {
                ObjectNode data = JSON.createObjectNode()
                        .put("partition", record.partition())
                        .put("offset", record.offset())
                        .put("timestamp", record.timestamp())
                        .put("key", record.key() == null ? null : new String(record.key(), UTF_8))
                        .put("value", record.value() == null ? null : new String(record.value(), UTF_8));
                out.write(("event: record\nid: " + record.partition() + ":" + record.offset() + "\ndata: "
                                + JSON.writeValueAsString(data) + "\n\n")
                        .getBytes(UTF_8));
            }
        });
        ObjectNode reason = JSON.createObjectNode().put("reason", endedBecause);
        out.write(("event: cutoff\ndata: " + JSON.writeValueAsString(reason) + "\n\n").getBytes(UTF_8));
        out.flush();
    }

    String topic() {
        return topic;
    }

    /** Ends the stream with a cutoff event giving the reason. */
    void end(String reason) {
        endedBecause = reason;
        consumer.wakeup();
    }

    @Override
    public void close() {
        try {
            consumer.close(Duration.ofSeconds(5));
        } finally {
            onClose.accept(this);
        }
    }
}
