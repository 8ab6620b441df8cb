package io.tarn.compute;

import static java.util.Objects.requireNonNull;

import io.tarn.core.topic.TopicSpec;
import java.util.Collection;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Tarn's use of a Flink cluster reached through its REST endpoint (the embedded MiniCluster or a session cluster), by
 * responsibility: {@link #pipelines() submitting} pipelines' SQL, {@link #jobs() watching and steering} their jobs, and
 * their {@link #state() checkpoints and savepoints} on disk; {@link #queryEngine} answers batch queries.
 */
public final class FlinkCompute {
    private final JobSetup setup;
    private final PipelineJobs pipelines;
    private final JobControl jobs;
    private final PipelineStateFiles state;
    private final ViewQueries views;

    /**
     * @param lakeCatalog the Iceberg catalog's properties, declared as catalog {@code lake} in every job
     * @param bootstrapServers the Kafka cluster of the topics, declared as {@code stream.<topic>}
     */
    public FlinkCompute(
            FlinkAccess access, ComputeSettings settings, Map<String, String> lakeCatalog, String bootstrapServers) {
        this.setup = new JobSetup(access, settings, lakeCatalog, bootstrapServers);
        this.pipelines = new PipelineJobs(setup);
        this.views = new ViewQueries(setup);
        this.state = new PipelineStateFiles(settings);
        this.jobs = new JobControl(new FlinkRest(access), state);
    }

    /** Validates pipelines' SQL and submits their jobs. */
    public PipelineJobs pipelines() {
        return pipelines;
    }

    /** The queries of live views. */
    public ViewQueries views() {
        return views;
    }

    /** The jobs' state and counters; stop and cancel. */
    public JobControl jobs() {
        return jobs;
    }

    /** Pipelines' retained checkpoints and savepoints. */
    public PipelineStateFiles state() {
        return state;
    }

    /**
     * Batch queries with Flink.
     *
     * @param topics the topics to declare as {@code stream.<topic>}, asked for at each query
     */
    public FlinkQueryEngine queryEngine(
            Supplier<? extends Collection<TopicSpec>> topics, FlinkQueryEngine.QueryLimits limits) {
        return new FlinkQueryEngine(setup, requireNonNull(topics, "topics is null"), limits);
    }
}
