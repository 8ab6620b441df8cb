package io.tarn.server.metadata;

import static java.util.Objects.requireNonNull;

import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What one Flink job of a pipeline (one run) counted, as last seen. Flink's counters start at zero again when a job
 * restarts after a failure; what the attempts before the latest restart counted is kept apart, so that the run's
 * total only grows.
 *
 * @param earlierIn records read by the job's attempts before its latest restart
 * @param earlierOut records written by them
 * @param seenIn records read by its current attempt, when last seen
 * @param seenOut records written by it
 * @param restarts the job's restarts, when last seen
 * @param checkpointId the job's newest completed checkpoint, when last seen
 * @param checkpointAt when that checkpoint completed, epoch milliseconds
 * @param earlierRules what its quality rules counted in attempts before its latest restart ({@code <rule>.passed},
 *     {@code <rule>.failed})
 * @param seenRules what they counted in its current attempt, when last seen
 */
public record JobCounters(
        String jobId,
        long earlierIn,
        long earlierOut,
        long seenIn,
        long seenOut,
        long restarts,
        Optional<Long> checkpointId,
        long checkpointAt,
        Map<String, Long> earlierRules,
        Map<String, Long> seenRules) {
    public JobCounters {
        requireNonNull(jobId, "jobId is null");
        requireNonNull(checkpointId, "checkpointId is null");
        earlierRules = Map.copyOf(earlierRules);
        seenRules = Map.copyOf(seenRules);
    }

    public static JobCounters none(String jobId) {
        return new JobCounters(jobId, 0, 0, 0, 0, 0, Optional.empty(), 0, Map.of(), Map.of());
    }

    /** What the job's quality rules counted in all its attempts. */
    public Map<String, Long> ruleCounts() {
        Map<String, Long> counts = new TreeMap<>(earlierRules);
        seenRules.forEach((name, count) -> counts.merge(name, count, Long::sum));
        return counts;
    }

    public long recordsIn() {
        return earlierIn + seenIn;
    }

    public long recordsOut() {
        return earlierOut + seenOut;
    }

    /**
     * These counters after the job was seen again. When it restarted since (its current attempt counts from zero),
     * what was seen so far moves to the earlier attempts; otherwise a counter never goes down (a count Flink has not
     * gathered yet reads as zero).
     */
    public JobCounters seen(
            long in,
            long out,
            long restartsNow,
            Optional<Long> checkpoint,
            long checkpointTime,
            Map<String, Long> rulesNow) {
        boolean restarted = restartsNow > restarts;
        Map<String, Long> rules = new TreeMap<>(restarted ? Map.of() : seenRules);
        rulesNow.forEach((name, count) -> rules.merge(name, count, Math::max));
        return new JobCounters(
                jobId,
                restarted ? earlierIn + seenIn : earlierIn,
                restarted ? earlierOut + seenOut : earlierOut,
                restarted ? in : Math.max(in, seenIn),
                restarted ? out : Math.max(out, seenOut),
                Math.max(restarts, restartsNow),
                checkpoint.isPresent() ? checkpoint : checkpointId,
                checkpoint.isPresent() ? checkpointTime : checkpointAt,
                restarted ? ruleCounts() : earlierRules,
                rules);
    }
}
