package io.tarn.bench;

import java.util.Map;

/**
 * One timed repetition of one variant of a workload.
 *
 * @param rows rows (events) the variant processed, checked to be exactly the expected number
 * @param seconds wall-clock time
 * @param cpuSeconds CPU time the whole benchmark process used meanwhile (every thread: broker, Flink, Tarn)
 * @param extra variant-specific figures, e.g. files written
 */
public record Run(
        String workload,
        String variant,
        int repetition,
        long rows,
        double seconds,
        double cpuSeconds,
        Map<String, Object> extra) {
    /** The same run, numbered as the given repetition. */
    public Run withRepetition(int number) {
        return new Run(workload, variant, number, rows, seconds, cpuSeconds, extra);
    }

    public double rowsPerSecond() {
        return rows / seconds;
    }

    public double cpuSecondsPerMillionRows() {
        return cpuSeconds / (rows / 1_000_000.0);
    }
}
