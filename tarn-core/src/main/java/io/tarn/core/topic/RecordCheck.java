package io.tarn.core.topic;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Whether a JSON record fits a topic's columns: the one check that HTTP ingest refuses records by and that a pipeline
 * dead-letters records by, so that a record is refused at the door exactly when a pipeline could not decode it.
 */
public final class RecordCheck {
    private RecordCheck() {}

    /**
     * Why a record does not fit, or empty.
     *
     * @param columns the topic's columns (none for a raw topic: every object fits)
     */
    public static Optional<Problem> problem(JsonNode record, List<ColumnSpec> columns) {
        if (!record.isObject()) {
            return Optional.of(new Problem(
                    Problem.NOT_AN_OBJECT,
                    "record must be a JSON object, got "
                            + record.getNodeType().name().toLowerCase(Locale.ROOT)));
        }
        for (ColumnSpec column : columns) {
            Optional<String> problem = column.type().check(record.get(column.name()));
            if (problem.isPresent()) {
                return Optional.of(
                        new Problem(Problem.INVALID_FIELD, "field '%s' %s".formatted(column.name(), problem.get())));
            }
        }
        return Optional.empty();
    }

    /**
     * What is wrong with a record.
     *
     * @param errorClass a stable name of the kind of problem: {@link #NOT_AN_OBJECT} or {@link #INVALID_FIELD} here;
     *     dead letters add others
     * @param message the problem, naming the field
     */
    public record Problem(String errorClass, String message) {
        public static final String NOT_AN_OBJECT = "NOT_AN_OBJECT";
        public static final String INVALID_FIELD = "INVALID_FIELD";
    }
}
