package io.tarn.server.metadata;

import static java.util.Objects.requireNonNull;

/**
 * A live view as stored. Its columns and key are those of its topic's declaration; its state is its pipeline's.
 *
 * @param sql the view's one query, as written
 * @param topic the compacted topic its pipeline writes its rows to
 * @param pipeline the pipeline that runs its query
 */
public record ViewRecord(String name, String sql, String topic, String pipeline, long createdAt) {
    public ViewRecord {
        requireNonNull(name, "name is null");
        requireNonNull(sql, "sql is null");
        requireNonNull(topic, "topic is null");
        requireNonNull(pipeline, "pipeline is null");
    }
}
