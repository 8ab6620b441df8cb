package io.tarn.core.topic;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;

/**
 * How long and how much of a topic Kafka keeps: its {@code retention.ms} and {@code retention.bytes} (per partition).
 * Kafka deletes whole segments that fall out of either, so records go somewhat after they leave it.
 *
 * @param millis how long a record is kept; -1: without limit
 * @param bytesPerPartition how many bytes a partition keeps; -1: without limit
 */
public record Retention(long millis, long bytesPerPartition) {
    /** The shortest time retention Tarn sets. */
    public static final long MIN_MILLIS = 1_000;
    /** The smallest size retention Tarn sets (a segment's worth at least). */
    public static final long MIN_BYTES = 1 << 20;

    /**
     * @throws TarnException {@link ErrorCode#INVALID_REQUEST} for a time under a second or a size under 1 MiB (other
     *     than -1)
     */
    public Retention {
        if (millis != -1 && millis < MIN_MILLIS) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST, "retention ms must be -1 (no limit) or at least " + MIN_MILLIS);
        }
        if (bytesPerPartition != -1 && bytesPerPartition < MIN_BYTES) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST, "retention bytes must be -1 (no limit) or at least " + MIN_BYTES);
        }
    }
}
