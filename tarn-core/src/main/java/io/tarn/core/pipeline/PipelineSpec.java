package io.tarn.core.pipeline;

import static java.util.Objects.requireNonNull;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;

/**
 * A pipeline as a user defines it.
 *
 * @param name unique name, also the Flink job name
 * @param sql Flink SQL: optional DDL statements, then one or more {@code INSERT INTO} statements
 */
public record PipelineSpec(String name, String sql) {
    public PipelineSpec {
        requireNonNull(name, "name is null");
        requireNonNull(sql, "sql is null");
        if (!name.matches("[a-z0-9][a-z0-9_-]{0,99}")) {
            throw new TarnException(
                    ErrorCode.INVALID_NAME,
                    "pipeline name '%s' must be 1-100 characters of lower-case letters, digits, '_' and '-', starting with a letter or digit"
                            .formatted(name));
        }
        if (sql.isBlank()) {
            throw new TarnException(ErrorCode.INVALID_SQL, "pipeline '%s' has no SQL".formatted(name));
        }
    }
}
