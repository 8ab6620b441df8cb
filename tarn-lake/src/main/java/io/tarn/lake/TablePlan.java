package io.tarn.lake;

import static java.util.Objects.requireNonNull;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.iceberg.ContentFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileContent;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableScan;
import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.io.CloseableIterable;

/**
 * Files that make up a lake table's rows as Iceberg plans them: data files and the delete files that apply to them,
 * with the sequence numbers and partitions that decide which rows a delete removes, and the schema to read them with
 * (by field id).
 */
record TablePlan(
        Schema schema,
        List<DataFileInfo> dataFileInfos,
        List<DeleteFileInfo> deleteFileInfos,
        List<ObjectCache.RemoteFile> remoteFiles) {

    /** Columns the delete-aware scan adds to a table's rows; a table with such a column cannot be read with deletes. */
    static final Set<String> SCAN_COLUMNS = Set.of("__tarn_file", "file_row_number");

    TablePlan {
        requireNonNull(schema, "schema is null");
        dataFileInfos = List.copyOf(requireNonNull(dataFileInfos, "dataFileInfos is null"));
        deleteFileInfos = List.copyOf(requireNonNull(deleteFileInfos, "deleteFileInfos is null"));
        remoteFiles = List.copyOf(requireNonNull(remoteFiles, "remoteFiles is null"));
    }

    /**
     * @param path as DuckDB reads it
     * @param location as Iceberg's metadata (and position delete files) name it
     * @param partition spec id and partition path; empty for an unpartitioned spec
     */
    record DataFileInfo(String path, String location, long sequence, String partition) {}

    /**
     * @param partition as {@link DataFileInfo#partition()}; null when the delete applies to every partition
     * @param equalityFieldIds the columns an equality delete compares; empty for a position delete
     */
    record DeleteFileInfo(String path, long sequence, String partition, List<Integer> equalityFieldIds) {
        boolean isPositional() {
            return equalityFieldIds.isEmpty();
        }
    }

    List<String> dataFiles() {
        return dataFileInfos.stream().map(DataFileInfo::path).toList();
    }

    /** Every file the plan reads, data and delete files. */
    List<String> files() {
        List<String> files = new ArrayList<>(dataFiles());
        deleteFileInfos.forEach(d -> files.add(d.path()));
        return files;
    }

    boolean hasDeletes() {
        return !deleteFileInfos.isEmpty();
    }

    List<String> positionDeletes() {
        return deleteFileInfos.stream()
                .filter(DeleteFileInfo::isPositional)
                .map(DeleteFileInfo::path)
                .toList();
    }

    /** Equality delete files by the field ids they compare. */
    Map<List<Integer>, List<String>> equalityDeletes() {
        Map<List<Integer>, List<String>> groups = new LinkedHashMap<>();
        for (DeleteFileInfo delete : deleteFileInfos) {
            if (!delete.isPositional()) {
                groups.computeIfAbsent(delete.equalityFieldIds(), c -> new ArrayList<>())
                        .add(delete.path());
            }
        }
        return groups;
    }

    /**
     * The table's current snapshot, read with its current schema.
     *
     * @param cache where a table in object storage is read from; null: such a table is refused
     * @throws TarnException as {@link #of(String, Table, Schema, Iterable, ObjectCache)}
     */
    static TablePlan of(String name, Table table, ObjectCache cache) {
        return plan(name, table, table.schema(), table.newScan(), cache);
    }

    /**
     * The files of the table's current snapshot that may hold rows matching {@code filter} (Iceberg prunes by partition
     * and by each file's column min/max), read with its current schema.
     *
     * @throws org.apache.iceberg.exceptions.ValidationException when the filter does not bind to the schema
     * @throws TarnException as {@link #of(String, Table, Schema, Iterable, ObjectCache)}
     */
    static TablePlan of(String name, Table table, Expression filter, ObjectCache cache) {
        return plan(name, table, table.schema(), table.newScan().filter(filter), cache);
    }

    /**
     * A past snapshot of the table, read with the schema it was written with.
     *
     * @throws TarnException as {@link #of(String, Table, Schema, Iterable, ObjectCache)}
     */
    static TablePlan at(String name, Table table, Snapshot snapshot, ObjectCache cache) {
        Schema schema =
                snapshot.schemaId() == null ? table.schema() : table.schemas().get(snapshot.schemaId());
        return plan(name, table, schema, table.newScan().useSnapshot(snapshot.snapshotId()), cache);
    }

    private static TablePlan plan(String name, Table table, Schema schema, TableScan scan, ObjectCache cache) {
        try (CloseableIterable<FileScanTask> tasks = scan.planFiles()) {
            return of(name, table, schema, tasks, cache);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The given scan tasks' files. The files of a table in object storage are read from their copies in the cache,
     * which the plan's {@link #remoteFiles()} are to be {@link ObjectCache#pin pinned} in before DuckDB reads them.
     *
     * @param cache null: a table in object storage is refused
     * @throws TarnException {@link ErrorCode#UNSUPPORTED_QUERY} for a table in object storage without a cache, for
     *     deletion vectors (format v3) and for a table with deletes that has a column the scan needs for itself
     */
    static TablePlan of(String name, Table table, Schema schema, Iterable<FileScanTask> tasks, ObjectCache cache) {
        boolean local = isLocal(table);
        if (!local && cache == null) {
            throw new TarnException(
                    ErrorCode.UNSUPPORTED_QUERY,
                    ("lake table '%s' is in object storage; the fast query path reads local files only so far: run the"
                                    + " query with \"engine\": \"flink\"")
                            .formatted(name));
        }
        List<DataFileInfo> data = new ArrayList<>();
        Map<String, DeleteFileInfo> deletes = new LinkedHashMap<>();
        List<ObjectCache.RemoteFile> remote = new ArrayList<>();
        for (FileScanTask task : tasks) {
            String location = task.file().location();
            if (!local) {
                remote.add(new ObjectCache.RemoteFile(
                        table.io(), location, task.file().fileSizeInBytes()));
            }
            data.add(new DataFileInfo(
                    local ? localPath(location) : cache.localPath(location),
                    location,
                    sequence(task.file()),
                    partition(table, task.file())));
            for (DeleteFile delete : task.deletes()) {
                String path = local ? localPath(delete.location()) : cache.localPath(delete.location());
                if (deletes.containsKey(path)) {
                    continue;
                }
                if (!local) {
                    remote.add(new ObjectCache.RemoteFile(table.io(), delete.location(), delete.fileSizeInBytes()));
                }
                if (delete.format() != FileFormat.PARQUET) {
                    throw new TarnException(
                            ErrorCode.UNSUPPORTED_QUERY,
                            ("lake table '%s' has %s delete files (deletion vectors); the fast query path reads"
                                            + " Parquet delete files only: run the query with \"engine\": \"flink\"")
                                    .formatted(name, delete.format()));
                }
                PartitionSpec spec = table.specs().get(delete.specId());
                deletes.put(
                        path,
                        new DeleteFileInfo(
                                path,
                                sequence(delete),
                                spec.isUnpartitioned() ? null : partition(table, delete),
                                delete.content() == FileContent.POSITION_DELETES
                                        ? List.of()
                                        : List.copyOf(delete.equalityFieldIds())));
            }
        }
        if (!deletes.isEmpty()) {
            for (var column : schema.columns()) {
                if (SCAN_COLUMNS.contains(column.name())) {
                    throw new TarnException(
                            ErrorCode.UNSUPPORTED_QUERY,
                            ("lake table '%s' has deletes and a column named '%s', which the fast query path needs for"
                                            + " applying them: run the query with \"engine\": \"flink\"")
                                    .formatted(name, column.name()));
                }
            }
        }
        return new TablePlan(schema, data, List.copyOf(deletes.values()), remote);
    }

    private static long sequence(ContentFile<?> file) {
        Long sequence = file.dataSequenceNumber();
        return sequence == null ? 0 : sequence; // format v1: no sequence numbers, and no deletes
    }

    private static String partition(Table table, ContentFile<?> file) {
        PartitionSpec spec = table.specs().get(file.specId());
        return spec.isUnpartitioned() ? "" : file.specId() + "/" + spec.partitionToPath(file.partition());
    }

    /** Whether a table's files are on a local file system, where DuckDB reads them (not in an object store). */
    static boolean isLocal(Table table) {
        return localPath(table.location()).startsWith("/");
    }

    static String localPath(String location) {
        return location.startsWith("file:") ? URI.create(location).getPath() : location;
    }
}
