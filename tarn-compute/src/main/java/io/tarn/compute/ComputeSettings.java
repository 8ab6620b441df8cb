package io.tarn.compute;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.time.Duration;

/**
 * How pipelines run: defaults applied to every submitted job, and where checkpoints and savepoints are kept.
 *
 * @param stateDirectory root of {@code checkpoints/<pipeline>/<job>/chk-N} and {@code savepoints/<pipeline>/}
 * @param objectReuse Flink's {@code pipeline.object-reuse} for pipelines
 * @param lakeWriterThread whether lake table sinks encode on a thread of their own
 * @param landingJobs whether pipelines that only copy columns of a topic into a lake table run as a {@link LandingJob}
 * @param sqlRules what pipeline SQL may do
 */
public record ComputeSettings(
        Path stateDirectory,
        int parallelism,
        Duration checkpointInterval,
        int retainedCheckpoints,
        int restartMaxFailures,
        Duration restartFailureInterval,
        Duration restartDelay,
        boolean objectReuse,
        boolean lakeWriterThread,
        boolean landingJobs,
        PipelineSqlRules sqlRules) {
    public ComputeSettings {
        requireNonNull(stateDirectory, "stateDirectory is null");
        requireNonNull(checkpointInterval, "checkpointInterval is null");
        requireNonNull(restartFailureInterval, "restartFailureInterval is null");
        requireNonNull(restartDelay, "restartDelay is null");
        requireNonNull(sqlRules, "sqlRules is null");
    }

    Path checkpoints(String pipeline) {
        return stateDirectory.resolve("checkpoints").resolve(pipeline);
    }

    Path savepoints(String pipeline) {
        return stateDirectory.resolve("savepoints").resolve(pipeline);
    }
}
