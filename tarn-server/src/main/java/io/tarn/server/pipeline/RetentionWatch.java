package io.tarn.server.pipeline;

import static java.util.Objects.requireNonNull;

import io.tarn.core.topic.Retention;
import io.tarn.log.KafkaLog;
import io.tarn.server.metadata.MetadataStore;
import io.tarn.server.metadata.PipelineRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Warns, in a pipeline's status, when the records it has not read yet are near the end of their topic's time retention
 * (older than {@value #NEAR_PERCENT}% of it: Kafka deletes them soon), or were deleted by it before it read them. A
 * pipeline stopped for long is the usual case; topics kept until landed ({@link Retention#untilLanded}) and topics
 * without a time limit need no warning. Looked at in the background; the status shows the last look.
 */
public final class RetentionWatch {
    /** How far into its topic's retention a record a pipeline has not read is when the pipeline is warned about it. */
    static final int NEAR_PERCENT = 80;

    private final MetadataStore metadata;
    private final PipelinePositions positions;
    private final KafkaLog log;
    private final Map<String, List<String>> warnings = new ConcurrentHashMap<>();

    public RetentionWatch(MetadataStore metadata, PipelinePositions positions, KafkaLog log) {
        this.metadata = requireNonNull(metadata, "metadata is null");
        this.positions = requireNonNull(positions, "positions is null");
        this.log = requireNonNull(log, "log is null");
    }

    /** The warnings about a pipeline at the last look. */
    List<String> warnings(String pipeline) {
        return warnings.getOrDefault(pipeline, List.of());
    }

    /** Looks at every pipeline's position in the topics it reads. */
    public void run() {
        Set<String> existing = log.listTopics();
        Map<String, Long> untilLanded = metadata.untilLandedTopics();
        Map<String, List<String>> found = new HashMap<>();
        for (PipelineRecord pipeline : metadata.pipelines()) {
            List<String> about = new ArrayList<>();
            Set<String> written = metadata.pipelineWrittenTopics(pipeline.name());
            for (String table : metadata.pipelineTables(pipeline.name()).orElse(Set.of())) {
                String topic = table.startsWith("stream.") ? table.substring("stream.".length()) : null;
                if (topic == null
                        || !existing.contains(topic)
                        || untilLanded.containsKey(topic)
                        || written.contains(topic)) {
                    continue;
                }
                Retention retention = log.retention(topic);
                Map<Integer, Long> position = positions.position(pipeline.name(), topic);
                if (retention.millis() == -1 || position.isEmpty()) {
                    continue;
                }
                warn(pipeline.name(), topic, retention.millis(), position).ifPresent(about::add);
            }
            if (!about.isEmpty()) {
                found.put(pipeline.name(), List.copyOf(about));
            }
        }
        warnings.keySet().retainAll(found.keySet());
        warnings.putAll(found);
    }

    private Optional<String> warn(String pipeline, String topic, long retentionMillis, Map<Integer, Long> position) {
        Map<Integer, Long> earliest = log.earliestOffsets(topic);
        long lost = 0;
        for (Map.Entry<Integer, Long> partition : position.entrySet()) {
            lost += Math.max(0, earliest.getOrDefault(partition.getKey(), 0L) - partition.getValue());
        }
        if (lost > 0) {
            return Optional.of(
                    ("topic '%s' deleted %d records by its retention (%s) before pipeline '%s' read them; keep a topic"
                                    + " until landed to prevent it (retention untilLanded)")
                            .formatted(topic, lost, Duration.ofMillis(retentionMillis), pipeline));
        }
        long near = System.currentTimeMillis() - retentionMillis * NEAR_PERCENT / 100;
        Map<Integer, Long> old = log.offsetsFrom(topic, near);
        long aging = 0;
        for (Map.Entry<Integer, Long> partition : position.entrySet()) {
            aging += Math.max(0, old.getOrDefault(partition.getKey(), 0L) - partition.getValue());
        }
        if (aging > 0) {
            return Optional.of(
                    ("pipeline '%s' has not read %d records of topic '%s' that are older than %d%% of its retention"
                                    + " (%s): Kafka deletes them soon; start the pipeline, or keep the topic until"
                                    + " landed (retention untilLanded)")
                            .formatted(pipeline, aging, topic, NEAR_PERCENT, Duration.ofMillis(retentionMillis)));
        }
        return Optional.empty();
    }
}
