package io.tarn.core.topic;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * A topic as it is now.
 *
 * @param spec how it was declared
 * @param records records currently retained (sum over partitions of end minus start offset)
 * @param retention what Kafka keeps of it, when asked for (one topic's description)
 */
public record TopicInfo(TopicSpec spec, long records, Optional<Retention> retention) {
    public TopicInfo {
        requireNonNull(spec, "spec is null");
        requireNonNull(retention, "retention is null");
    }

    public TopicInfo(TopicSpec spec, long records) {
        this(spec, records, Optional.empty());
    }
}
