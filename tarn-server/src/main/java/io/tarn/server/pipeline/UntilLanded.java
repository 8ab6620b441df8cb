package io.tarn.server.pipeline;

import static java.util.Objects.requireNonNull;

import io.tarn.log.KafkaLog;
import io.tarn.server.metadata.MetadataStore;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Retention {@code until-landed}: Kafka keeps every record of such a topic, and this deletes (Kafka's DeleteRecords)
 * the records that every pipeline reading the topic has committed past and that are older than the topic's time
 * retention. A pipeline's position in a topic is as {@link PipelinePositions} tells. A partition a reader has no
 * position in yet, and a topic no pipeline reads (a pipeline that writes it does not count), keep everything. Stopped
 * and failed pipelines still read: what they have not landed stays.
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

    /**
     * Deletes the records of a topic before, per partition, the lowest position of its readers and the first record
     * younger than {@code keepMillis} (-1: kept for ever).
     */
    private void deleteLanded(String topic, long keepMillis) {
        if (keepMillis == -1) {
            return;
        }
        List<String> readers = pipelines.usersOf("stream." + topic).stream()
                .filter(p -> !metadata.pipelineWrittenTopics(p).contains(topic))
                .toList();
        if (readers.isEmpty()) {
            return;
        }
        Map<Integer, Long> before = log.offsetsFrom(topic, System.currentTimeMillis() - keepMillis);
        for (String reader : readers) {
            Map<Integer, Long> position = positions.position(reader, topic);
            before.replaceAll((partition, offset) -> Math.min(offset, position.getOrDefault(partition, 0L)));
        }
        Map<Integer, Long> earliest = log.earliestOffsets(topic);
        before.entrySet().removeIf(e -> e.getValue() <= earliest.getOrDefault(e.getKey(), 0L));
        if (!before.isEmpty()) {
            log.deleteRecordsBefore(topic, before);
            LOG.debug("Topic {}: deleted the records its pipelines landed, before {}", topic, before);
        }
    }
}
