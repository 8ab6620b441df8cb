package io.tarn.compute;

import static java.util.Objects.requireNonNull;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.pipeline.PipelineState;
import io.tarn.core.pipeline.PipelineStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Watches and steers jobs in the cluster: their state and counters, stop with a savepoint, cancel. */
public final class JobControl {
    private static final Logger LOG = LoggerFactory.getLogger(JobControl.class);

    /** How old a status {@link #recentStatus} answers with may be. */
    static final Duration RECENT = Duration.ofSeconds(1);

    private final FlinkRest rest;
    private final Map<String, Seen> recent = new ConcurrentHashMap<>();
    private final PipelineStateFiles state;

    JobControl(FlinkRest rest, PipelineStateFiles state) {
        this.rest = requireNonNull(rest, "rest is null");
        this.state = requireNonNull(state, "state is null");
    }

    /**
     * What a pipeline's job is doing now.
     *
     * @param ruleCounts what its quality rules counted, {@code <rule>.passed} and {@code <rule>.failed}
     */
    public record JobStatus(
            PipelineState state,
            long recordsIn,
            long recordsOut,
            long restarts,
            Optional<PipelineStatus.Checkpoint> lastCheckpoint,
            Optional<String> lastError,
            Map<String, Long> ruleCounts,
            CheckpointCounts checkpoints) {}

    /**
     * A job's checkpoints since it started.
     *
     * @param lastMillis how long its newest completed checkpoint took from trigger to its last acknowledgement; -1
     *     before its first
     */
    public record CheckpointCounts(long completed, long failed, long lastMillis) {}

    /**
     * Whether the cluster answers (one REST call).
     *
     * @throws TarnException {@link ErrorCode#COMPUTE_UNAVAILABLE} if it does not
     */
    public void probe() {
        rest.jobs();
    }

    /**
     * The jobs of a pipeline (named {@code tarn:<pipeline>}) that have not ended: after Tarn itself was killed, a
     * session cluster still runs the jobs it had submitted.
     */
    public List<String> activeJobs(String pipeline) {
        String name = PipelineJobs.jobName(pipeline);
        return rest.jobs().stream()
                .filter(job -> job.path("name").asText().equals(name)
                        && !FlinkRest.TERMINAL.contains(job.path("state").asText()))
                .map(job -> job.path("jid").asText())
                .toList();
    }

    /**
     * The state of a job as last seen at most {@link #RECENT} ago: many readers (a console, scripts polling status) share
     * one look at the cluster, which costs a few REST calls per job.
     */
    public Optional<JobStatus> recentStatus(String jobId) {
        long now = System.nanoTime();
        Seen seen = recent.get(jobId);
        if (seen != null && now - seen.at() < RECENT.toNanos()) {
            return seen.status();
        }
        Optional<JobStatus> status = status(jobId);
        recent.put(jobId, new Seen(now, status));
        if (recent.size() > 1_000) {
            recent.values().removeIf(s -> now - s.at() >= RECENT.toNanos());
        }
        return status;
    }

    private record Seen(long at, Optional<JobStatus> status) {}

    /** The state of a job now, or empty if the cluster does not know it (e.g. after a restart of Tarn). */
    public Optional<JobStatus> status(String jobId) {
        return rest.job(jobId)
                .map(view -> new JobStatus(
                        state(view.state()),
                        view.recordsIn(),
                        view.recordsOut(),
                        view.restarts(),
                        view.lastCheckpoint().map(c -> new PipelineStatus.Checkpoint(c.id(), c.completedAt())),
                        view.lastFailure(),
                        view.ruleCounts(),
                        view.checkpoints()));
    }

    /** A job's tasks, their connections and numbers now; empty if the cluster does not know the job. */
    public Optional<JobGraph> graph(String jobId) {
        return rest.graph(jobId);
    }

    /**
     * The event-time watermark that has reached a job's sinks, if one has (a job whose sources declare no watermark
     * has none).
     */
    public Optional<Instant> sinkWatermark(String jobId) {
        return rest.sinkWatermark(jobId).map(Instant::ofEpochMilli);
    }

    private static PipelineState state(String flinkState) {
        return switch (flinkState) {
            case "INITIALIZING", "CREATED", "RECONCILING" -> PipelineState.STARTING;
            case "RUNNING" -> PipelineState.RUNNING;
            case "RESTARTING", "FAILING", "SUSPENDED" -> PipelineState.RESTARTING;
            case "FAILED" -> PipelineState.FAILED;
            case "CANCELLING", "CANCELED" -> PipelineState.STOPPED;
            case "FINISHED" -> PipelineState.FINISHED;
            default -> throw new TarnException(ErrorCode.INTERNAL_ERROR, "unknown Flink job state " + flinkState);
        };
    }

    /**
     * Stops a pipeline's job with a savepoint.
     *
     * @return the savepoint's location, to resume from
     */
    public String stopWithSavepoint(String pipeline, String jobId) {
        rest.awaitTasksRunning(jobId, Duration.ofMinutes(1)); // a stop just after a start waits for the tasks
        String location = rest.stopWithSavepoint(jobId, state.savepointDirectory(pipeline), Duration.ofMinutes(5));
        awaitTerminal(jobId, Duration.ofMinutes(1));
        LOG.info("Pipeline {} stopped with savepoint {}", pipeline, location);
        return location;
    }

    /** Cancels a job and waits until it is gone; its retained checkpoints stay. */
    public void cancel(String jobId) {
        if (isTerminal(jobId)) {
            return; // finished, failed or already cancelled (e.g. paused): Flink would refuse and log an error
        }
        try {
            rest.cancel(jobId);
        } catch (TarnException e) {
            if (isTerminal(jobId)) {
                return; // it ended between the look and the cancel (a bounded job finishing): nothing to cancel
            }
            throw e;
        }
        awaitTerminal(jobId, Duration.ofMinutes(1));
    }

    private boolean isTerminal(String jobId) {
        Optional<String> state = rest.state(jobId);
        return state.isEmpty() || FlinkRest.TERMINAL.contains(state.get());
    }

    private void awaitTerminal(String jobId, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (isTerminal(jobId)) {
                return;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new TarnException(ErrorCode.COMPUTE_UNAVAILABLE, "interrupted while waiting for job " + jobId, e);
            }
        }
        throw new TarnException(
                ErrorCode.COMPUTE_UNAVAILABLE, "Flink job %s did not end within %s".formatted(jobId, timeout));
    }
}
