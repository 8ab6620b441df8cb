package io.tarn.lake;

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
import org.apache.iceberg.Table;
import org.apache.iceberg.io.CloseableIterable;

/**
 * The files of a lake table's current snapshot as Iceberg plans them: its data files and the delete files that apply
 * to them, with the sequence numbers and partitions that decide which rows a delete removes.
 *
 * @param equalityDeletes equality delete files by the names of their equality columns
 */
record TablePlan(
        Schema schema,
        List<DataFileInfo> dataFileInfos,
        List<DeleteFileInfo> deleteFileInfos,
        List<String> positionDeletes,
        Map<List<String>, List<String>> equalityDeletes) {

    /** Columns the delete-aware scan adds to a table's rows; a table with such a column cannot be read with deletes. */
    static final Set<String> SCAN_COLUMNS = Set.of("__tarn_file", "file_row_number");

    /**
     * @param path as DuckDB reads it
     * @param location as Iceberg's metadata (and position delete files) name it
     * @param partition spec id and partition path; empty for an unpartitioned spec
     */
    record DataFileInfo(String path, String location, long sequence, String partition) {}

    /** @param partition as {@link DataFileInfo#partition()}; null when the delete applies to every partition */
    record DeleteFileInfo(String path, long sequence, String partition) {}

    List<String> dataFiles() {
        return dataFileInfos.stream().map(DataFileInfo::path).toList();
    }

    boolean hasDeletes() {
        return !deleteFileInfos.isEmpty();
    }

    /**
     * @throws TarnException {@link ErrorCode#UNSUPPORTED_QUERY} for deletion vectors (format v3) and for a table with
     *     deletes that has a column the scan needs for itself
     */
    static TablePlan of(String name, Table table) {
        List<DataFileInfo> data = new ArrayList<>();
        Map<String, DeleteFileInfo> deletes = new LinkedHashMap<>();
        List<String> positions = new ArrayList<>();
        Map<List<String>, List<String>> equalities = new LinkedHashMap<>();
        try (CloseableIterable<FileScanTask> tasks = table.newScan().planFiles()) {
            for (FileScanTask task : tasks) {
                data.add(new DataFileInfo(
                        localPath(task.file().location()),
                        task.file().location(),
                        sequence(task.file()),
                        partition(table, task.file())));
                for (DeleteFile delete : task.deletes()) {
                    String path = localPath(delete.location());
                    if (deletes.containsKey(path)) {
                        continue;
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
                                    path, sequence(delete), spec.isUnpartitioned() ? null : partition(table, delete)));
                    if (delete.content() == FileContent.POSITION_DELETES) {
                        positions.add(path);
                    } else {
                        List<String> columns = delete.equalityFieldIds().stream()
                                .map(id -> table.schema().findColumnName(id))
                                .toList();
                        equalities
                                .computeIfAbsent(columns, c -> new ArrayList<>())
                                .add(path);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (!deletes.isEmpty()) {
            for (var column : table.schema().columns()) {
                if (SCAN_COLUMNS.contains(column.name())) {
                    throw new TarnException(
                            ErrorCode.UNSUPPORTED_QUERY,
                            ("lake table '%s' has deletes and a column named '%s', which the fast query path needs for"
                                            + " applying them: run the query with \"engine\": \"flink\"")
                                    .formatted(name, column.name()));
                }
            }
        }
        return new TablePlan(table.schema(), data, List.copyOf(deletes.values()), positions, equalities);
    }

    private static long sequence(ContentFile<?> file) {
        Long sequence = file.dataSequenceNumber();
        return sequence == null ? 0 : sequence; // format v1: no sequence numbers, and no deletes
    }

    private static String partition(Table table, ContentFile<?> file) {
        PartitionSpec spec = table.specs().get(file.specId());
        return spec.isUnpartitioned() ? "" : file.specId() + "/" + spec.partitionToPath(file.partition());
    }

    static String localPath(String location) {
        return location.startsWith("file:") ? URI.create(location).getPath() : location;
    }
}
