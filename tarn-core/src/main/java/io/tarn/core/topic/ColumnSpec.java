package io.tarn.core.topic;

import static java.util.Objects.requireNonNull;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.util.Locale;

/**
 * A declared column of a topic's JSON records.
 *
 * @param name JSON field name and column name
 * @param type Flink SQL type, e.g. {@code STRING}, {@code BIGINT}, {@code TIMESTAMP(3)}
 */
public record ColumnSpec(String name, ColumnType type) {
    /** The prefix of the columns Tarn adds to a stream table for its own use (dead letters); no topic column has it. */
    public static final String RESERVED_PREFIX = "__tarn_";

    public ColumnSpec {
        requireNonNull(name, "name is null");
        requireNonNull(type, "type is null");
        if (!name.matches("[A-Za-z_][A-Za-z0-9_]{0,127}")) {
            throw new TarnException(
                    ErrorCode.INVALID_NAME,
                    "column name '%s' must start with a letter or '_' and hold only letters, digits and '_'"
                            .formatted(name));
        }
        if (name.toLowerCase(Locale.ROOT).startsWith(RESERVED_PREFIX)) {
            throw new TarnException(
                    ErrorCode.INVALID_NAME,
                    "column name '%s' is reserved: names starting with %s are Tarn's own"
                            .formatted(name, RESERVED_PREFIX));
        }
        if (TopicSpec.METADATA_COLUMNS.contains(name.toLowerCase(Locale.ROOT))) {
            throw new TarnException(
                    ErrorCode.INVALID_NAME,
                    "column name '%s' is reserved for Kafka metadata (%s)".formatted(name, TopicSpec.METADATA_COLUMNS));
        }
    }

    public static ColumnSpec of(String name, String type) {
        return new ColumnSpec(name, ColumnType.parse(type));
    }
}
