package io.tarn.server.pipeline;

import static java.util.Objects.requireNonNull;

import io.tarn.compute.JobControl;
import io.tarn.core.pipeline.PipelineStatus;
import io.tarn.server.metadata.JobCounters;
import io.tarn.server.metadata.MetadataStore;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What each run (Flink job) of a pipeline counted. Flink's counters start at zero in every job; the metadata keeps each
 * job's last look, so that a pipeline's records in and out add up over its runs and survive a restart of Tarn. Looks
 * are stored every 10 s at most while a job runs, and always when it ends.
 */
final class PipelineCounters {
    private static final long STORE_EVERY_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final MetadataStore metadata;
    /** What this process last saw each job count, and what of it the metadata holds. */
    private final Map<String, JobCounters> seen = new HashMap<>();

    private final Map<String, JobCounters> stored = new HashMap<>();
    private final Map<String, Long> storedAt = new HashMap<>();

    PipelineCounters(MetadataStore metadata) {
        this.metadata = requireNonNull(metadata, "metadata is null");
    }

    /** Adds what a job counts now to what it counted before; stores it when forced or 10 s after the last store. */
    synchronized JobCounters observe(String pipeline, String job, JobControl.JobStatus status, boolean force) {
        JobCounters before = seen.computeIfAbsent(job, id -> metadata.jobCounters(pipeline).stream()
                .filter(c -> c.jobId().equals(id))
                .findFirst()
                .orElse(JobCounters.none(id)));
        JobCounters after = before.seen(
                status.recordsIn(),
                status.recordsOut(),
                status.restarts(),
                status.lastCheckpoint().map(PipelineStatus.Checkpoint::id),
                status.lastCheckpoint().map(c -> c.completedAt().toEpochMilli()).orElse(0L),
                status.ruleCounts());
        seen.put(job, after);
        long now = System.nanoTime();
        Long last = storedAt.get(job);
        if (!after.equals(stored.get(job)) && (force || last == null || now - last >= STORE_EVERY_NANOS)) {
            metadata.putJobCounters(pipeline, after);
            stored.put(job, after);
            storedAt.put(job, now);
        }
        return after;
    }

    /** What every run of a pipeline counted, the ones this process watches as last seen. */
    synchronized List<JobCounters> runs(String pipeline) {
        return metadata.jobCounters(pipeline).stream()
                .map(c -> seen.getOrDefault(c.jobId(), c))
                .toList();
    }

    /** Forgets the runs of a pipeline that is deleted. */
    synchronized void forget(String pipeline) {
        metadata.jobCounters(pipeline).forEach(c -> {
            seen.remove(c.jobId());
            stored.remove(c.jobId());
            storedAt.remove(c.jobId());
        });
    }
}
