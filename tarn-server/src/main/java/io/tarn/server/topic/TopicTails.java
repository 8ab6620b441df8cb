package io.tarn.server.topic;

import static java.util.Objects.requireNonNull;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.topic.TopicInfo;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** The clients following topics ({@link TopicTail}): at most {@link #MAX} at once, all ended when Tarn stops. */
public final class TopicTails implements AutoCloseable {
    /** Clients that may follow topics at once: each holds a Kafka consumer and a thread. */
    public static final int MAX = 16;

    /** Records of each partition a client gets before the new ones, by default and at most. */
    public static final int DEFAULT_LAST = 10;

    public static final int MAX_LAST = 100;

    private final TopicService topics;
    private final String bootstrapServers;
    private final Set<TopicTail> following = new HashSet<>();

    public TopicTails(TopicService topics, String bootstrapServers) {
        this.topics = requireNonNull(topics, "topics is null");
        this.bootstrapServers = requireNonNull(bootstrapServers, "bootstrapServers is null");
    }

    /**
     * A new client of a topic.
     *
     * @throws TarnException {@link ErrorCode#TOPIC_NOT_FOUND}; {@link ErrorCode#INVALID_REQUEST} for {@code last}
     *     outside 0…{@value #MAX_LAST}; {@link ErrorCode#QUERY_BUSY} when {@value #MAX} clients follow topics
     */
    public TopicTail follow(String topic, long last) {
        if (last < 0 || last > MAX_LAST) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST,
                    "last must be between 0 and %d records per partition, not %d".formatted(MAX_LAST, last));
        }
        TopicInfo info = topics.describe(topic);
        synchronized (following) {
            if (following.size() >= MAX) {
                throw new TarnException(
                        ErrorCode.QUERY_BUSY,
                        "%d clients follow topics already (at most %d); try again later"
                                .formatted(following.size(), MAX));
            }
            TopicTail tail = new TopicTail(topic, info.spec().partitions(), (int) last, bootstrapServers, ended -> {
                synchronized (following) {
                    following.remove(ended);
                }
            });
            following.add(tail);
            return tail;
        }
    }

    /** Ends the clients of a topic that was deleted. */
    public void deleted(String topic) {
        for (TopicTail tail : snapshot()) {
            if (tail.topic().equals(topic)) {
                tail.end("topic '%s' was deleted".formatted(topic));
            }
        }
    }

    private List<TopicTail> snapshot() {
        synchronized (following) {
            return List.copyOf(following);
        }
    }

    @Override
    public void close() {
        snapshot().forEach(tail -> tail.end("Tarn is stopping"));
    }
}
