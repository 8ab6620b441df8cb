package io.tarn.server.metadata;

import io.tarn.core.topic.ColumnSpec;
import java.util.List;
import java.util.Optional;

/**
 * One version of a topic's columns.
 *
 * @param version numbered from 1
 * @param createdAt epoch milliseconds
 * @param id its id in the schema registry, unique among all topics' versions and never reused; 0 until it has one
 * @param avro its Avro record schema, as registered or as Tarn wrote it for the columns; empty until it has one (or
 *     when its columns have no Avro form)
 */
public record SchemaVersion(int version, List<ColumnSpec> columns, long createdAt, int id, Optional<String> avro) {
    public SchemaVersion {
        columns = List.copyOf(columns);
    }

    /** A version without registry id. */
    public SchemaVersion(int version, List<ColumnSpec> columns, long createdAt) {
        this(version, columns, createdAt, 0, Optional.empty());
    }
}
