package io.tarn.server.pipeline;

import static java.util.Objects.requireNonNull;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.lake.LakeCatalog;
import io.tarn.lake.Seams;
import io.tarn.log.KafkaLog;
import io.tarn.server.metadata.MetadataStore;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.iceberg.Table;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Retention {@code until-landed}: Kafka keeps every record of such a topic, and this deletes (Kafka's DeleteRecords)
 * the records that every pipeline reading the topic has committed past. A pipeline's position in a topic is the seam of
 * the lake table it lands the topic in ({@link Seams}: the offsets its newest commit covers), or else the offsets its
 * consumer group {@code tarn-<pipeline>} committed at its checkpoints. A partition a reader has no position in yet, and
 * a topic no pipeline reads, keep everything. Stopped and failed pipelines still read: what they have not landed stays.
 */
public final class UntilLanded {
    private static final Logger LOG = LoggerFactory.getLogger(UntilLanded.class);
    /** How a pipeline's lake tables are named among the tables it uses ({@code lake.<namespace>.<table>}). */
    private static final String LAKE_PREFIX = "lake.";

    private final MetadataStore metadata;
    private final PipelineService pipelines;
    private final LakeCatalog lake;
    private final KafkaLog log;

    public UntilLanded(MetadataStore metadata, PipelineService pipelines, LakeCatalog lake, KafkaLog log) {
        this.metadata = requireNonNull(metadata, "metadata is null");
        this.pipelines = requireNonNull(pipelines, "pipelines is null");
        this.lake = requireNonNull(lake, "lake is null");
        this.log = requireNonNull(log, "log is null");
    }

    /** Deletes, in every topic kept until landed, what all its readers have landed. */
    public void run() {
        Set<String> topics = metadata.untilLandedTopics();
        if (topics.isEmpty()) {
            return;
        }
        Set<String> existing = log.listTopics();
        for (String topic : topics) {
            if (existing.contains(topic)) {
                deleteLanded(topic);
            }
        }
    }

    /** The offsets before which every reader of the topic has committed, for the partitions where that is past 0. */
    Map<Integer, Long> landed(String topic) {
        List<String> readers = pipelines.usersOf("stream." + topic);
        Map<Integer, Long> earliest = log.earliestOffsets(topic);
        if (readers.isEmpty()) {
            return Map.of();
        }
        Map<Integer, Long> landed = new HashMap<>();
        earliest.keySet().forEach(partition -> landed.put(partition, Long.MAX_VALUE));
        for (String reader : readers) {
            Map<Integer, Long> position = position(reader, topic);
            earliest.keySet()
                    .forEach(partition -> landed.merge(partition, position.getOrDefault(partition, 0L), Math::min));
        }
        landed.entrySet().removeIf(e -> e.getValue() <= earliest.get(e.getKey()));
        return landed;
    }

    private void deleteLanded(String topic) {
        Map<Integer, Long> landed = landed(topic);
        if (!landed.isEmpty()) {
            log.deleteRecordsBefore(topic, landed);
            LOG.debug("Topic {}: deleted the records its pipelines landed, before {}", topic, landed);
        }
    }

    /** Where a pipeline is in a topic: the seam of the lake table it lands the topic in, else its group's offsets. */
    private Map<Integer, Long> position(String pipeline, String topic) {
        for (String table : metadata.pipelineTables(pipeline).orElse(Set.of())) {
            if (!table.startsWith(LAKE_PREFIX)) {
                continue;
            }
            Optional<Seams.Covered> covered = covered(table.substring(LAKE_PREFIX.length()));
            if (covered.isPresent() && covered.get().topic().equals(topic)) {
                return covered.get().offsets();
            }
        }
        return log.committedOffsets("tarn-" + pipeline, topic);
    }

    private Optional<Seams.Covered> covered(String table) {
        try {
            Table loaded = lake.load(table);
            return loaded.currentSnapshot() == null
                    ? Optional.empty()
                    : Seams.covered(loaded, loaded.currentSnapshot());
        } catch (TarnException e) {
            if (e.code() == ErrorCode.TABLE_NOT_FOUND) {
                return Optional.empty();
            }
            throw e;
        }
    }
}
