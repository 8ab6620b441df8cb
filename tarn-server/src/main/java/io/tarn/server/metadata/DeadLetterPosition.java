package io.tarn.server.metadata;

import static java.util.Objects.requireNonNull;

/**
 * Where a dead letter was read: a pipeline's dead letters have one each, which names it.
 *
 * @param topic the topic it was read from (the topic, or the pipeline's replay topic of it)
 */
public record DeadLetterPosition(String topic, int partition, long offset) implements Comparable<DeadLetterPosition> {
    public DeadLetterPosition {
        requireNonNull(topic, "topic is null");
    }

    @Override
    public int compareTo(DeadLetterPosition other) {
        int byTopic = topic.compareTo(other.topic);
        if (byTopic != 0) {
            return byTopic;
        }
        return partition != other.partition
                ? Integer.compare(partition, other.partition)
                : Long.compare(offset, other.offset);
    }

    @Override
    public String toString() {
        return topic + "/" + partition + "/" + offset;
    }
}
