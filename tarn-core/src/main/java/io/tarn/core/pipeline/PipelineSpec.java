package io.tarn.core.pipeline;

import static java.util.Objects.requireNonNull;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * A pipeline as a user defines it.
 *
 * @param name unique name, also the Flink job name
 * @param sql Flink SQL: optional DDL statements, then one or more {@code INSERT INTO} statements
 * @param onError what a record of a topic it reads that is not a JSON object of the topic's columns does
 * @param rules data quality rules on the records of topics it reads
 * @param start where it starts reading its topics when it starts without a checkpoint or savepoint
 */
public record PipelineSpec(String name, String sql, OnError onError, List<QualityRule> rules, StartFrom start) {
    /** What a bad record does to a pipeline. */
    public enum OnError {
        /** It fails the pipeline's job (which restarts, then fails for good): the record stops the pipeline. */
        FAIL,
        /** It goes to the pipeline's dead letters, with why; the pipeline goes on. */
        DEAD_LETTER;

        /** As the API spells it: {@code fail}, {@code dead-letter}. */
        public String spelling() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        /**
         * @throws TarnException {@link ErrorCode#INVALID_REQUEST} for another spelling
         */
        public static OnError of(String spelling) {
            return Arrays.stream(values())
                    .filter(v -> v.spelling().equals(spelling))
                    .findFirst()
                    .orElseThrow(() ->
                            new TarnException(ErrorCode.INVALID_REQUEST, "onError must be 'fail' or 'dead-letter'"));
        }
    }

    public PipelineSpec {
        requireNonNull(name, "name is null");
        requireNonNull(sql, "sql is null");
        requireNonNull(onError, "onError is null");
        rules = List.copyOf(rules);
        requireNonNull(start, "start is null");
        if (!name.matches("[a-z0-9][a-z0-9_-]{0,99}")) {
            throw new TarnException(
                    ErrorCode.INVALID_NAME,
                    "pipeline name '%s' must be 1-100 characters of lower-case letters, digits, '_' and '-', starting with a letter or digit"
                            .formatted(name));
        }
        if (sql.isBlank()) {
            throw new TarnException(ErrorCode.INVALID_SQL, "pipeline '%s' has no SQL".formatted(name));
        }
        if (onError == OnError.DEAD_LETTER && start.kind() != StartFrom.Kind.EARLIEST) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST,
                    ("pipeline '%s' dead-letters bad records, so it reads its topics from their first records (a"
                                    + " replayed dead letter keeps its record's time, which may be before any other)")
                            .formatted(name));
        }
        for (QualityRule rule : rules) {
            if (rule.action() == QualityRule.Action.DEAD_LETTER && onError != OnError.DEAD_LETTER) {
                throw new TarnException(
                        ErrorCode.INVALID_REQUEST,
                        "rule '%s' dead-letters the records that fail it: the pipeline's onError must be dead-letter"
                                .formatted(rule.name()));
            }
        }
    }

    /** A pipeline without rules. */
    public PipelineSpec(String name, String sql, OnError onError) {
        this(name, sql, onError, List.of());
    }

    /** A pipeline that starts from its topics' earliest records. */
    public PipelineSpec(String name, String sql, OnError onError, List<QualityRule> rules) {
        this(name, sql, onError, rules, StartFrom.EARLIEST);
    }

    /** A pipeline that fails on a bad record. */
    public PipelineSpec(String name, String sql) {
        this(name, sql, OnError.FAIL);
    }
}
