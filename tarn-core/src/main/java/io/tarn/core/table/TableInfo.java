package io.tarn.core.table;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * A lake table as its current snapshot describes it.
 *
 * @param name {@code namespace.table}
 * @param columns the current schema
 * @param partitionSpec partition fields as {@code transform(column)}
 * @param snapshots the snapshot history, oldest first
 * @param currentSnapshotId current snapshot, if the table has data
 * @param dataFiles data files in the current snapshot
 * @param deleteFiles delete files in the current snapshot
 * @param fileBytes bytes of the data and delete files in the current snapshot
 * @param rowsWritten rows in the data files of the current snapshot, before delete files apply (an upsert table's
 *     updates count twice: the old row stays in its file and a delete file removes it)
 * @param formatVersion Iceberg format version
 */
public record TableInfo(
        String name,
        List<Column> columns,
        List<String> partitionSpec,
        List<Snapshot> snapshots,
        Optional<Long> currentSnapshotId,
        long dataFiles,
        long deleteFiles,
        long fileBytes,
        long rowsWritten,
        int formatVersion) {
    public TableInfo {
        requireNonNull(name, "name is null");
        columns = List.copyOf(requireNonNull(columns, "columns is null"));
        partitionSpec = List.copyOf(requireNonNull(partitionSpec, "partitionSpec is null"));
        snapshots = List.copyOf(requireNonNull(snapshots, "snapshots is null"));
        requireNonNull(currentSnapshotId, "currentSnapshotId is null");
    }

    public record Column(int id, String name, String type, boolean required) {
        public Column {
            requireNonNull(name, "name is null");
            requireNonNull(type, "type is null");
        }
    }

    public record Snapshot(long id, Instant committedAt, String operation, long addedRows, long totalRows) {
        public Snapshot {
            requireNonNull(committedAt, "committedAt is null");
            requireNonNull(operation, "operation is null");
        }
    }
}
