package io.tarn.server.topic;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * What the Server-Sent Events streams of Kafka records (a topic's tail, a view's changes) and a view's store share: a
 * reader of committed records that keeps no group offsets, and the loop that polls it, writes what came, and sends a
 * {@code : keepalive} comment after 15 s without records.
 */
public final class FollowedRecords {
    private static final Duration KEEPALIVE = Duration.ofSeconds(15);

    private FollowedRecords() {}

    /** What a stream writes of each poll's records (called after quiet polls too, with none). */
    @FunctionalInterface
    public interface Polled {
        void write(ConsumerRecords<byte[], byte[]> records) throws IOException;
    }

    /**
     * A reader that keeps no group offsets (its position is the caller's: assigned and sought), sees only committed
     * records of transactional writers, starts at the beginning where no position is known, and answers a poll as soon
     * as a record is there.
     */
    public static KafkaConsumer<byte[], byte[]> consumer(String bootstrapServers, String clientId, int maxPollRecords) {
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, maxPollRecords);
        config.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 20);
        return new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    /**
     * Polls and writes until {@code endedBecause} gives a reason, or the consumer is woken up (by whoever set the
     * reason from another thread).
     */
    public static void follow(
            KafkaConsumer<byte[], byte[]> consumer, OutputStream out, Supplier<String> endedBecause, Polled polled)
            throws IOException {
        long quietSince = System.nanoTime();
        try {
            while (endedBecause.get() == null) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(500));
                polled.write(records);
                if (!records.isEmpty()) {
                    out.flush();
                    quietSince = System.nanoTime();
                } else if (System.nanoTime() - quietSince > KEEPALIVE.toNanos()) {
                    out.write(": keepalive\n\n".getBytes(UTF_8));
                    out.flush();
                    quietSince = System.nanoTime();
                }
            }
        } catch (WakeupException e) {
            // ended from outside: the reason says why
        }
    }
}
