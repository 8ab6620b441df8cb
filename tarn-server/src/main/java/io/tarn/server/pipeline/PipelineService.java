package io.tarn.server.pipeline;

import static java.util.Objects.requireNonNull;

import io.tarn.compute.FlinkCompute;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.pipeline.PipelineSpec;
import io.tarn.core.pipeline.PipelineState;
import io.tarn.core.pipeline.PipelineStatus;
import io.tarn.server.metadata.MetadataStore;
import io.tarn.server.metadata.PipelineRecord;
import io.tarn.server.metadata.PipelineRecord.DesiredState;
import io.tarn.server.topic.TopicService;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The life of pipelines: create (validate and submit), stop with a savepoint, start from it, delete, and resume every
 * pipeline that should be running after Tarn restarts.
 *
 * <p>A run resumes from, in order: the newest checkpoint its last Flink job retained on disk, else the point that job
 * itself was started from. This chain is what makes a restart (clean or kill -9) neither lose nor repeat data: the
 * Kafka offsets and the pending Iceberg commits of the checkpoint are restored together. Changes are serialised; reads
 * are not.
 */
public final class PipelineService {
    private static final Logger LOG = LoggerFactory.getLogger(PipelineService.class);

    private final FlinkCompute compute;
    private final MetadataStore metadata;
    private final TopicService topics;
    /** Jobs submitted by this process; a job id from before a restart is unknown to the new cluster. */
    private final java.util.Set<String> submittedJobs = java.util.concurrent.ConcurrentHashMap.newKeySet();

    public PipelineService(FlinkCompute compute, MetadataStore metadata, TopicService topics) {
        this.compute = requireNonNull(compute, "compute is null");
        this.metadata = requireNonNull(metadata, "metadata is null");
        this.topics = requireNonNull(topics, "topics is null");
    }

    /**
     * Validates and starts a new pipeline.
     *
     * @throws TarnException {@link ErrorCode#PIPELINE_ALREADY_EXISTS} for a taken name, {@link ErrorCode#INVALID_SQL}
     *     when Flink refuses the SQL
     */
    public synchronized PipelineStatus create(PipelineSpec spec) {
        if (metadata.pipeline(spec.name()).isPresent()) {
            throw new TarnException(
                    ErrorCode.PIPELINE_ALREADY_EXISTS, "pipeline '%s' already exists".formatted(spec.name()));
        }
        compute.deleteState(spec.name());
        String jobId = compute.submit(spec, topics.streamTables(), Optional.empty());
        submittedJobs.add(jobId);
        PipelineRecord record = new PipelineRecord(
                        spec.name(),
                        spec.sql(),
                        DesiredState.RUNNING,
                        Optional.empty(),
                        Optional.empty(),
                        Optional.empty(),
                        Optional.empty(),
                        System.currentTimeMillis())
                .running(jobId, Optional.empty());
        metadata.putPipeline(record);
        LOG.info("Pipeline {} created", spec.name());
        return status(record);
    }

    public List<PipelineStatus> list() {
        return metadata.pipelines().stream().map(this::status).toList();
    }

    /**
     * @throws TarnException {@link ErrorCode#PIPELINE_NOT_FOUND} if there is no such pipeline
     */
    public PipelineStatus get(String name) {
        return status(load(name));
    }

    /**
     * Stops a running pipeline with a savepoint; a pipeline whose job is not running (failed) is marked stopped and
     * will resume from its newest retained checkpoint.
     *
     * @throws TarnException {@link ErrorCode#INVALID_STATE} if it is already stopped
     */
    public synchronized PipelineStatus stop(String name) {
        PipelineRecord record = load(name);
        if (record.desiredState() == DesiredState.STOPPED) {
            throw new TarnException(ErrorCode.INVALID_STATE, "pipeline '%s' is already stopped".formatted(name));
        }
        PipelineState state = status(record).state();
        Optional<String> resumePoint;
        if (state == PipelineState.RUNNING) {
            resumePoint =
                    Optional.of(compute.stopWithSavepoint(name, record.jobId().orElseThrow()));
        } else {
            record.jobId().filter(submittedJobs::contains).ifPresent(this::cancelQuietly);
            resumePoint = resumePoint(record);
        }
        PipelineRecord stopped = record.stopped(resumePoint);
        metadata.putPipeline(stopped);
        LOG.info("Pipeline {} stopped; resumes from {}", name, resumePoint.orElse("the beginning"));
        return status(stopped);
    }

    /**
     * Starts a stopped or failed pipeline from where it stopped.
     *
     * @throws TarnException {@link ErrorCode#INVALID_STATE} if it is running
     */
    public synchronized PipelineStatus start(String name) {
        PipelineRecord record = load(name);
        PipelineState state = status(record).state();
        if (record.desiredState() == DesiredState.RUNNING
                && List.of(PipelineState.RUNNING, PipelineState.STARTING, PipelineState.RESTARTING)
                        .contains(state)) {
            throw new TarnException(ErrorCode.INVALID_STATE, "pipeline '%s' is already %s".formatted(name, state));
        }
        record.jobId().filter(submittedJobs::contains).ifPresent(this::cancelQuietly);
        Optional<String> from =
                record.desiredState() == DesiredState.STOPPED ? record.savepoint() : resumePoint(record);
        return status(submit(record, from));
    }

    /**
     * Cancels a pipeline's job and forgets the pipeline, its checkpoints and savepoints. Its lake tables stay.
     */
    public synchronized void delete(String name) {
        PipelineRecord record = load(name);
        record.jobId().filter(submittedJobs::contains).ifPresent(this::cancelQuietly);
        metadata.deletePipeline(name);
        compute.deleteState(name);
        LOG.info("Pipeline {} deleted", name);
    }

    /** After a start of Tarn: submits every pipeline that should be running, from its resume point. */
    public synchronized void resumeAll() {
        for (PipelineRecord record : metadata.pipelines()) {
            if (record.desiredState() != DesiredState.RUNNING) {
                continue;
            }
            try {
                submit(record, resumePoint(record));
            } catch (TarnException e) {
                LOG.error("Pipeline {} could not be resumed: {}", record.name(), e.getMessage());
                metadata.putPipeline(record.failed(e.getMessage()));
            }
        }
    }

    /** Deletes checkpoints of earlier runs once the current run has one of its own. */
    public void pruneCheckpoints() {
        for (PipelineRecord record : metadata.pipelines()) {
            record.jobId().ifPresent(job -> {
                if (compute.latestRetainedCheckpoint(record.name(), job).isPresent()) {
                    compute.pruneCheckpoints(record.name(), job);
                }
            });
        }
    }

    private PipelineRecord submit(PipelineRecord record, Optional<String> from) {
        String jobId = compute.submit(new PipelineSpec(record.name(), record.sql()), topics.streamTables(), from);
        submittedJobs.add(jobId);
        PipelineRecord running = record.running(jobId, from);
        metadata.putPipeline(running);
        return running;
    }

    private Optional<String> resumePoint(PipelineRecord record) {
        return record.jobId()
                .flatMap(job -> compute.latestRetainedCheckpoint(record.name(), job))
                .or(record::restoredFrom);
    }

    private void cancelQuietly(String jobId) {
        try {
            compute.cancel(jobId);
        } catch (TarnException e) {
            LOG.warn("Flink job {} could not be cancelled: {}", jobId, e.getMessage());
        }
    }

    private PipelineRecord load(String name) {
        return metadata.pipeline(name)
                .orElseThrow(() -> new TarnException(
                        ErrorCode.PIPELINE_NOT_FOUND, "pipeline '%s' does not exist".formatted(name)));
    }

    private PipelineStatus status(PipelineRecord record) {
        PipelineSpec spec = new PipelineSpec(record.name(), record.sql());
        Optional<FlinkCompute.JobStatus> job =
                record.jobId().filter(submittedJobs::contains).flatMap(compute::status);
        Optional<String> savepoint =
                record.desiredState() == DesiredState.STOPPED ? record.savepoint() : Optional.empty();
        if (record.desiredState() == DesiredState.STOPPED) {
            return new PipelineStatus(
                    spec,
                    PipelineState.STOPPED,
                    record.jobId(),
                    Optional.empty(),
                    0,
                    0,
                    0,
                    record.lastError(),
                    savepoint);
        }
        if (job.isEmpty()) {
            PipelineState state = record.lastError().isPresent() ? PipelineState.FAILED : PipelineState.STARTING;
            return new PipelineStatus(
                    spec, state, record.jobId(), Optional.empty(), 0, 0, 0, record.lastError(), savepoint);
        }
        FlinkCompute.JobStatus s = job.get();
        return new PipelineStatus(
                spec,
                s.state(),
                record.jobId(),
                s.lastCheckpoint(),
                s.recordsIn(),
                s.recordsOut(),
                s.restarts(),
                s.lastError().or(record::lastError),
                savepoint);
    }
}
