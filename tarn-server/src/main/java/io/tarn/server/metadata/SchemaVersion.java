package io.tarn.server.metadata;

import io.tarn.core.topic.ColumnSpec;
import java.util.List;

/**
 * One version of a topic's columns.
 *
 * @param version numbered from 1
 * @param createdAt epoch milliseconds
 */
public record SchemaVersion(int version, List<ColumnSpec> columns, long createdAt) {
    public SchemaVersion {
        columns = List.copyOf(columns);
    }
}
