package io.tarn.server.pipeline;

import static java.util.Objects.requireNonNull;

import io.tarn.log.KafkaLog;
import io.tarn.server.metadata.MetadataStore;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Retention {@code until-landed}: Kafka keeps every record of such a topic, and this deletes (Kafka's DeleteRecords)
 * the records that every pipeline reading the topic has committed past and that are older than the topic's time
 * retention. A pipeline's position in a topic is as {@link PipelinePositions} tells. A partition a reader has no position in yet, and
 * a topic no pipeline reads (a pipeline that writes it does not count), keep everything. Stopped and failed pipelines still read: what they have not landed stays.
 */
public final class UntilLanded {
    private static final Logger LOG = LoggerFactory.getLogger(UntilLanded.class);

    private final MetadataStore metadata;
    private final PipelineService pipelines;
    private final PipelinePositions positions;
    private final KafkaLog log;

    public UntilLanded(MetadataStore metadata, PipelineService pipelines, PipelinePositions positions, KafkaLog log) {
        this.metadata = requireNonNull(metadata, "metadata is null");
        this.pipelines = requireNonNull(pipelines, "pipelines is null");
        this.positions = requireNonNull(positions, "positions is null");
        this.log = requireNonNull(log, "log is null");
    }

    /** Deletes, in every topic kept until landed, what all its readers have landed. */
    public void run() {
        Map<String, Long> topics = metadata.untilLandedTopics();
        if (topics.isEmpty()) {
            return;
        }
        Set<String> existing = log.listTopics();
        topics.forEach((topic, keepMillis) -> {
            if (existing.contains(topic)) {
                deleteLanded(topic, keepMillis);
            }
        });
    }

    /** The offsets before which every reader of the topic has committed, for the partitions where that is past 0. */
    Map<Integer, Long> landed(String topic) {
        List<String> readers = pipelines.usersOf("stream." + topic).stream()
                .filter(p -> !metadata.pipelineWrittenTopics(p).contains(topic))
                .toList();
        Map<Integer, Long> earliest = log.earliestOffsets(topic);
        if (readers.isEmpty()) {
            return Map.of();
        }
        Map<Integer, Long> landed = new HashMap<>();
        earliest.keySet().forEach(partition -> landed.put(partition, Long.MAX_VALUE));
        for (String reader : readers) {
            Map<Integer, Long> position = positions.position(reader, topic);
            earliest.keySet()
                    .forEach(partition -> landed.merge(partition, position.getOrDefault(partition, 0L), Math::min));
        }
        landed.entrySet().removeIf(e -> e.getValue() <= earliest.get(e.getKey()));
        return landed;
    }

    private void deleteLanded(String topic, long keepMillis) {
        Map<Integer, Long> landed = landed(topic);
        if (landed.isEmpty() || keepMillis == -1) {
            return;
        }
        Map<Integer, Long> young = log.offsetsFrom(topic, System.currentTimeMillis() - keepMillis);
        landed.replaceAll((partition, offset) -> Math.min(offset, young.getOrDefault(partition, 0L)));
        Map<Integer, Long> earliest = log.earliestOffsets(topic);
        landed.entrySet().removeIf(e -> e.getValue() <= earliest.getOrDefault(e.getKey(), 0L));
        if (!landed.isEmpty()) {
            log.deleteRecordsBefore(topic, landed);
            LOG.debug("Topic {}: deleted the records its pipelines landed, before {}", topic, landed);
        }
    }
}
