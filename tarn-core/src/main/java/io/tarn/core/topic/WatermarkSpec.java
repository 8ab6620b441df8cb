package io.tarn.core.topic;

import static java.util.Objects.requireNonNull;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;

/**
 * Event-time watermark of a stream table: events may arrive up to {@code delayMillis} late in event time.
 *
 * @param column a TIMESTAMP column
 * @param delayMillis allowed lateness
 */
public record WatermarkSpec(String column, long delayMillis) {
    public WatermarkSpec {
        requireNonNull(column, "column is null");
        if (delayMillis < 0) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST,
                    "watermark delay must not be negative, got %d ms".formatted(delayMillis));
        }
    }
}
