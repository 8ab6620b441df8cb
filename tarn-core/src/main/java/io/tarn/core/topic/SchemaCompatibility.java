package io.tarn.core.topic;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Whether a topic's new columns may follow its earlier ones, as Confluent Schema Registry defines compatibility: {@code
 * BACKWARD} (the default), a reader of the new schema reads records written with the last one; {@code FORWARD}, a
 * reader of the last schema reads records written with the new one; {@code FULL}, both; {@code NONE}, no check. The
 * {@code _TRANSITIVE} variants check against every earlier version, not only the last.
 *
 * <p>A reader reads a writer's records when every column it has either exists in the writer with a type it can hold
 * (the same, or a widening) or is nullable (a record without it reads as null); columns only the writer has are
 * ignored, as JSON fields a reader does not declare are.
 */
public enum SchemaCompatibility {
    NONE,
    BACKWARD,
    FORWARD,
    FULL,
    BACKWARD_TRANSITIVE,
    FORWARD_TRANSITIVE,
    FULL_TRANSITIVE;

    /**
     * @throws TarnException {@link ErrorCode#INVALID_REQUEST} for another name
     */
    public static SchemaCompatibility of(String name) {
        try {
            return valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST,
                    "compatibility must be one of "
                            + Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", ")));
        }
    }

    private boolean backward() {
        return this == BACKWARD || this == FULL || this == BACKWARD_TRANSITIVE || this == FULL_TRANSITIVE;
    }

    private boolean forward() {
        return this == FORWARD || this == FULL || this == FORWARD_TRANSITIVE || this == FULL_TRANSITIVE;
    }

    private boolean transitive() {
        return name().endsWith("_TRANSITIVE");
    }

    /**
     * Refuses new columns that do not follow the earlier versions under this compatibility, naming the column and the
     * rule.
     *
     * @param versions the earlier versions' columns, oldest first
     * @param typeProblem why a column of the second type cannot hold every value of the first, if it cannot
     * @throws TarnException {@link ErrorCode#SCHEMA_INCOMPATIBLE} naming the column, the version and the rule
     */
    public void check(
            List<List<ColumnSpec>> versions,
            List<ColumnSpec> columns,
            BiFunction<String, String, Optional<String>> typeProblem) {
        for (int i = transitive() ? 0 : Math.max(0, versions.size() - 1); i < versions.size(); i++) {
            int version = i + 1;
            if (backward()) {
                problem(versions.get(i), columns, typeProblem)
                        .ifPresent(p -> refuse(
                                p, version, "the new columns must read records written with version " + version));
            }
            if (forward()) {
                problem(columns, versions.get(i), typeProblem)
                        .ifPresent(p -> refuse(
                                p, version, "version " + version + " must read records written with the new columns"));
            }
        }
    }

    private void refuse(String problem, int version, String rule) {
        throw new TarnException(
                ErrorCode.SCHEMA_INCOMPATIBLE, "%s; compatibility %s: %s".formatted(problem, name(), rule));
    }

    /** Why a reader of these columns cannot read records written with those, if it cannot. */
    private static Optional<String> problem(
            List<ColumnSpec> writer,
            List<ColumnSpec> reader,
            BiFunction<String, String, Optional<String>> typeProblem) {
        Map<String, ColumnSpec> written =
                writer.stream().collect(Collectors.toMap(ColumnSpec::name, Function.identity()));
        for (ColumnSpec column : reader) {
            ColumnSpec had = written.get(column.name());
            if (had == null) {
                if (column.type().sql().endsWith("NOT NULL")) {
                    return Optional.of(
                            "column '%s' is NOT NULL and records without it cannot be read".formatted(column.name()));
                }
                continue;
            }
            Optional<String> type =
                    typeProblem.apply(had.type().sql(), column.type().sql());
            if (type.isPresent()) {
                return Optional.of("column '%s': %s".formatted(column.name(), type.get()));
            }
        }
        return Optional.empty();
    }
}
