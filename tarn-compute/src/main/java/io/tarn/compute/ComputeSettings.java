package io.tarn.compute;

import static java.util.Objects.requireNonNull;

import io.tarn.core.config.ConfigKeys;
import io.tarn.core.config.TarnConfig;
import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.flink.core.fs.Path;

/**
 * How pipelines run: defaults applied to every submitted job, and where checkpoints and savepoints are kept.
 *
 * @param stateRoot root of {@code checkpoints/<pipeline>/<job>/chk-N} and {@code savepoints/<pipeline>/}: a
 *     {@code file:} or {@code s3:} URI without a trailing slash (see {@link StateStorage})
 * @param objectReuse Flink's {@code pipeline.object-reuse} for pipelines
 * @param lakeWriterThread whether lake table sinks encode on a thread of their own
 * @param landingJobs whether pipelines that only copy columns of a topic into a lake table run as a {@link LandingJob}
 * @param sqlRules what pipeline SQL may do
 */
public record ComputeSettings(
        URI stateRoot,
        int parallelism,
        Duration checkpointInterval,
        int retainedCheckpoints,
        int restartMaxFailures,
        Duration restartFailureInterval,
        Duration restartDelay,
        boolean objectReuse,
        boolean lakeWriterThread,
        boolean landingJobs,
        PipelineSqlRules sqlRules,
        Map<String, Duration> quietPipelines) {
    public ComputeSettings {
        requireNonNull(stateRoot, "stateRoot is null");
        quietPipelines = Map.copyOf(quietPipelines);
        requireNonNull(checkpointInterval, "checkpointInterval is null");
        requireNonNull(restartFailureInterval, "restartFailureInterval is null");
        requireNonNull(restartDelay, "restartDelay is null");
        requireNonNull(sqlRules, "sqlRules is null");
    }

    /**
     * The settings of Tarn's configuration ({@code compute.*}).
     *
     * @param stateRoot root of pipelines' checkpoints and savepoints ({@link StateStorage#root})
     */
    public static ComputeSettings from(TarnConfig config, URI stateRoot) {
        return new ComputeSettings(
                stateRoot,
                config.get(ConfigKeys.COMPUTE_PARALLELISM),
                config.get(ConfigKeys.COMPUTE_CHECKPOINT_INTERVAL),
                config.get(ConfigKeys.COMPUTE_RETAINED_CHECKPOINTS),
                config.get(ConfigKeys.COMPUTE_RESTART_MAX_FAILURES),
                config.get(ConfigKeys.COMPUTE_RESTART_FAILURE_INTERVAL),
                config.get(ConfigKeys.COMPUTE_RESTART_DELAY),
                config.get(ConfigKeys.COMPUTE_OBJECT_REUSE),
                config.get(ConfigKeys.COMPUTE_LAKE_WRITER_THREAD),
                config.get(ConfigKeys.COMPUTE_LANDING_JOBS),
                new PipelineSqlRules(
                        config.get(ConfigKeys.COMPUTE_SQL_ALLOWED_CONNECTORS),
                        config.get(ConfigKeys.COMPUTE_SQL_ALLOWED_FUNCTIONS)),
                Map.of());
    }

    /**
     * These settings, with one more pipeline of Tarn's own that carries little (the audit log's): it runs at
     * parallelism 1, checkpoints (so commits) at its own interval rather than every {@link #checkpointInterval}, and
     * its reader fetches at most once a second (or a megabyte), not at each record.
     */
    public ComputeSettings withQuietPipeline(String pipeline, Duration interval) {
        Map<String, Duration> quiet = new HashMap<>(quietPipelines);
        quiet.put(pipeline, interval);
        return new ComputeSettings(
                stateRoot,
                parallelism,
                checkpointInterval,
                retainedCheckpoints,
                restartMaxFailures,
                restartFailureInterval,
                restartDelay,
                objectReuse,
                lakeWriterThread,
                landingJobs,
                sqlRules,
                quiet);
    }

    /** Whether a pipeline is one of Tarn's own that carry little ({@link #withQuietPipeline}). */
    boolean quiet(String pipeline) {
        return quietPipelines.containsKey(pipeline);
    }

    /** The parallelism of a pipeline's job. */
    int parallelism(String pipeline) {
        return quiet(pipeline) ? 1 : parallelism;
    }

    /** How often a pipeline's job checkpoints (and commits to the lake). */
    Duration checkpointInterval(String pipeline) {
        return quietPipelines.getOrDefault(pipeline, checkpointInterval);
    }

    Path checkpoints(String pipeline) {
        return new Path(stateRoot + "/checkpoints/" + pipeline);
    }

    Path savepoints(String pipeline) {
        return new Path(stateRoot + "/savepoints/" + pipeline);
    }
}
