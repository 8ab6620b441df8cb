package io.tarn.core.topic;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.time.Duration;

/**
 * How long and how much of a topic Kafka keeps: its {@code retention.ms} and {@code retention.bytes} (per partition).
 * Kafka deletes whole segments that fall out of either, so records go somewhat after they leave it.
 *
 * @param millis how long a record is kept; -1: without limit
 * @param bytesPerPartition how many bytes a partition keeps; -1: without limit
 * @param untilLanded Kafka keeps every record and Tarn deletes those that every pipeline reading the topic has
 *     committed past and that are older than {@code millis} (-1: kept for ever): a record is kept at least until
 *     landed, and at least as long as a time retention would keep it
 */
public record Retention(long millis, long bytesPerPartition, boolean untilLanded) {
    /** Records are kept for 7 days (Kafka's default) and until every pipeline reading the topic committed past them. */
    public static final Retention UNTIL_LANDED =
            new Retention(Duration.ofDays(7).toMillis(), -1, true);

    /** The shortest time retention Tarn sets. */
    public static final long MIN_MILLIS = 1_000;
    /** The smallest size retention Tarn sets (a segment's worth at least). */
    public static final long MIN_BYTES = 1 << 20;

    /**
     * @throws TarnException {@link ErrorCode#INVALID_REQUEST} for a time under a second or a size under 1 MiB (other
     *     than -1)
     */
    public Retention {
        if (untilLanded && bytesPerPartition != -1) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST, "retention until landed has no size limit: bytes must be -1");
        }
        if (millis != -1 && millis < MIN_MILLIS) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST, "retention ms must be -1 (no limit) or at least " + MIN_MILLIS);
        }
        if (bytesPerPartition != -1 && bytesPerPartition < MIN_BYTES) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST, "retention bytes must be -1 (no limit) or at least " + MIN_BYTES);
        }
    }

    /** A retention by time and size. */
    public Retention(long millis, long bytesPerPartition) {
        this(millis, bytesPerPartition, false);
    }
}
