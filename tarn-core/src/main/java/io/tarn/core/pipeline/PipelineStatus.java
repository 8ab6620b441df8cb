package io.tarn.core.pipeline;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A pipeline and what its Flink job is doing.
 *
 * @param spec its definition
 * @param state current state
 * @param jobId Flink job id of the current or last run
 * @param lastCheckpoint its newest completed checkpoint, of the current run or, before it has one, of an earlier run
 * @param recordsIn records read by its sources, over all its runs (records read again after a recovery count again)
 * @param recordsOut records received by its sinks, over all its runs
 * @param restarts task restarts of the current run
 * @param lastError root cause of the last failure, if any
 * @param savepoint savepoint it resumes from on start, if stopped
 * @param deadLetters bad records it committed to its dead-letter table (0 for a pipeline that fails on them)
 * @param ruleCounts what its quality rules counted over all its runs, {@code <rule>.passed} and {@code <rule>.failed}
 *     (records read again after a recovery count again)
 * @param warnings what needs its owner's attention: records near the end of their topic's retention, or deleted by it,
 *     that it has not read
 */
public record PipelineStatus(
        PipelineSpec spec,
        PipelineState state,
        Optional<String> jobId,
        Optional<Checkpoint> lastCheckpoint,
        long recordsIn,
        long recordsOut,
        long restarts,
        Optional<String> lastError,
        Optional<String> savepoint,
        long deadLetters,
        Map<String, Long> ruleCounts,
        List<String> warnings) {
    public PipelineStatus {
        requireNonNull(spec, "spec is null");
        requireNonNull(state, "state is null");
        requireNonNull(jobId, "jobId is null");
        requireNonNull(lastCheckpoint, "lastCheckpoint is null");
        requireNonNull(lastError, "lastError is null");
        requireNonNull(savepoint, "savepoint is null");
        ruleCounts = Map.copyOf(ruleCounts);
        warnings = List.copyOf(warnings);
    }

    /** A completed checkpoint. */
    public record Checkpoint(long id, Instant completedAt) {
        public Checkpoint {
            requireNonNull(completedAt, "completedAt is null");
        }
    }
}
