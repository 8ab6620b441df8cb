package io.tarn.server.pipeline;

import static java.util.Objects.requireNonNull;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.lake.LakeCatalog;
import io.tarn.lake.Seams;
import io.tarn.log.KafkaLog;
import io.tarn.server.metadata.MetadataStore;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.iceberg.Table;

/**
 * Where a pipeline is in a topic it reads, per partition: the seam of the lake table it lands the topic in ({@link
 * Seams}: the offsets its newest commit covers), or else the offsets its consumer group {@code tarn-<pipeline>}
 * committed at its checkpoints (Flink's Kafka source commits them when a checkpoint completes). A partition it has no
 * position in is left out.
 */
public final class PipelinePositions {
    /** How a pipeline's lake tables are named among the tables it uses ({@code lake.<namespace>.<table>}). */
    private static final String LAKE_PREFIX = "lake.";

    private final MetadataStore metadata;
    private final LakeCatalog lake;
    private final KafkaLog log;

    public PipelinePositions(MetadataStore metadata, LakeCatalog lake, KafkaLog log) {
        this.metadata = requireNonNull(metadata, "metadata is null");
        this.lake = requireNonNull(lake, "lake is null");
        this.log = requireNonNull(log, "log is null");
    }

    /** Where a pipeline is in a topic: the seam of the lake table it lands the topic in, else its group's offsets. */
    public Map<Integer, Long> position(String pipeline, String topic) {
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
