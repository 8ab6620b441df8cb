package io.tarn.core.topic;

import static java.util.Objects.requireNonNull;

/**
 * A topic as it is now.
 *
 * @param spec how it was declared
 * @param records records currently retained (sum over partitions of end minus start offset)
 */
public record TopicInfo(TopicSpec spec, long records) {
    public TopicInfo {
        requireNonNull(spec, "spec is null");
    }
}
