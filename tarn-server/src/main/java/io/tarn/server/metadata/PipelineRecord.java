package io.tarn.server.metadata;

import static java.util.Objects.requireNonNull;

import io.tarn.core.pipeline.PipelineSpec;
import io.tarn.core.pipeline.QualityRule;
import io.tarn.core.pipeline.StartFrom;
import java.util.List;
import java.util.Optional;

/**
 * A pipeline as stored: its definition, whether its owner wants it running, and where its current run started from.
 *
 * @param onError what a bad record of a topic it reads does
 * @param rules its data quality rules
 * @param start where it starts reading when it starts without a checkpoint or savepoint
 * @param jobId Flink job of the current or last run
 * @param restoredFrom checkpoint or savepoint the current run was started from
 * @param savepoint savepoint taken when it was stopped; the next start resumes from it
 * @param lastError why the last submission failed, if it did
 */
public record PipelineRecord(
        String name,
        String sql,
        PipelineSpec.OnError onError,
        List<QualityRule> rules,
        StartFrom start,
        DesiredState desiredState,
        Optional<String> jobId,
        Optional<String> restoredFrom,
        Optional<String> savepoint,
        Optional<String> lastError,
        long createdAt) {
    /** What the owner asked for. */
    public enum DesiredState {
        RUNNING,
        STOPPED
    }

    public PipelineRecord {
        requireNonNull(name, "name is null");
        requireNonNull(sql, "sql is null");
        requireNonNull(onError, "onError is null");
        rules = List.copyOf(rules);
        requireNonNull(start, "start is null");
        requireNonNull(desiredState, "desiredState is null");
        requireNonNull(jobId, "jobId is null");
        requireNonNull(restoredFrom, "restoredFrom is null");
        requireNonNull(savepoint, "savepoint is null");
        requireNonNull(lastError, "lastError is null");
    }

    /** The pipeline as its owner defined it. */
    public PipelineSpec spec() {
        return new PipelineSpec(name, sql, onError, rules, start);
    }

    public PipelineRecord running(String newJobId, Optional<String> from) {
        return new PipelineRecord(
                name,
                sql,
                onError,
                rules,
                start,
                DesiredState.RUNNING,
                Optional.of(newJobId),
                from,
                Optional.empty(),
                Optional.empty(),
                createdAt);
    }

    public PipelineRecord stopped(Optional<String> resumePoint) {
        return new PipelineRecord(
                name,
                sql,
                onError,
                rules,
                start,
                DesiredState.STOPPED,
                jobId,
                restoredFrom,
                resumePoint,
                lastError,
                createdAt);
    }

    public PipelineRecord withSql(String newSql) {
        return new PipelineRecord(
                name,
                newSql,
                onError,
                rules,
                start,
                desiredState,
                jobId,
                restoredFrom,
                savepoint,
                lastError,
                createdAt);
    }

    public PipelineRecord failed(String error) {
        return new PipelineRecord(
                name,
                sql,
                onError,
                rules,
                start,
                desiredState,
                jobId,
                restoredFrom,
                savepoint,
                Optional.of(error),
                createdAt);
    }
}
