package io.tarn.server.metadata;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * A live view as stored. Its columns and key are those of its topic's declaration; its state is its pipeline's.
 *
 * @param sql the view's one query, as written
 * @param topic the compacted topic its pipeline writes its rows to
 * @param pipeline the pipeline that runs its query
 * @param history the lake table ({@code namespace.table}) its pipeline also upserts its rows into, if any
 */
public record ViewRecord(
        String name, String sql, String topic, String pipeline, long createdAt, Optional<String> history) {
    public ViewRecord {
        requireNonNull(history, "history is null");
        requireNonNull(name, "name is null");
        requireNonNull(sql, "sql is null");
        requireNonNull(topic, "topic is null");
        requireNonNull(pipeline, "pipeline is null");
    }
}
