package io.tarn.server.metadata;

import java.util.List;
import java.util.Map;

/**
 * A replay of dead letters that was begun: the dead letters it sends again and where each replay topic ended before
 * (so that after a crash, the replay topics are searched from there for what it may have committed).
 *
 * @param id the pipeline's replays are numbered from 1
 * @param corrections the values sent in place of those of some dead letters, as the user corrected them
 * @param ends per replay topic, per partition, the offset after its last committed record when the replay began
 */
public record ReplayRecord(
        String pipeline,
        long id,
        List<DeadLetterPosition> positions,
        Map<DeadLetterPosition, byte[]> corrections,
        Map<String, Map<Integer, Long>> ends) {
    public ReplayRecord {
        positions = List.copyOf(positions);
        corrections = Map.copyOf(corrections);
        ends = Map.copyOf(ends);
    }
}
