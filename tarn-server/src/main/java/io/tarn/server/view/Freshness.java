package io.tarn.server.view;

import java.time.Instant;
import java.util.Optional;

/**
 * How fresh a view's rows are.
 *
 * @param appliedAt when its store last applied a change, if it did
 * @param changedAt when the newest applied change was written to the view's topic (its Kafka timestamp), if any
 * @param lag records of the topic not applied yet; empty until the store has positions for every partition
 * @param watermark the event-time watermark that has reached the view's job's sink (all rows of event times before it
 *     are in), if its topics declare one; as of at most a second ago
 */
public record Freshness(
        Optional<Instant> appliedAt, Optional<Instant> changedAt, Optional<Long> lag, Optional<Instant> watermark) {
    static final Freshness UNKNOWN =
            new Freshness(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());

    Freshness(Optional<Instant> appliedAt, Optional<Instant> changedAt, Optional<Long> lag) {
        this(appliedAt, changedAt, lag, Optional.empty());
    }

    Freshness withWatermark(Optional<Instant> watermark) {
        return new Freshness(appliedAt, changedAt, lag, watermark);
    }
}
