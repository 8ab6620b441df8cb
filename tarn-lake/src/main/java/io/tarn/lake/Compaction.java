package io.tarn.lake;

import static java.util.Objects.requireNonNull;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.io.Directories;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Array;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.apache.iceberg.ContentFile;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.ManifestFiles;
import org.apache.iceberg.ManifestReader;
import org.apache.iceberg.Metrics;
import org.apache.iceberg.MetricsConfig;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.RewriteFiles;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.StructLike;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.ValidationException;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.InputFile;
import org.apache.iceberg.parquet.ParquetUtil;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.TypeUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rewrites a lake table's small data files — and the data files that delete files apply to — into files of the target
 * size with those deletes applied, while pipelines keep committing to the table.
 *
 * <p>Design: Iceberg plans the current snapshot; per partition, the files smaller than 3/4 of the target and the files
 * with deletes are grouped; DuckDB reads each group with {@link ScanSql} (by field id, deletes applied) and writes
 * Parquet files of about the target size with Iceberg's field ids; Iceberg's {@code RewriteFiles} commits each group.
 * Concurrent commits stay correct because the rewrite (a) validates from the snapshot it planned, so a position delete
 * committed since then against a rewritten file fails the rewrite rather than being lost, and (b) gives the new files
 * that snapshot's sequence number, so an equality delete committed since then (an upsert) still applies to the rows it
 * rewrote. A delete file is removed once every data file it applied to has been rewritten, and a delete file that
 * applies to no data file is removed at once: neither can apply to a newer file. A group whose commit fails leaves its
 * written files behind to be deleted; a crash leaves them as orphans ({@link OrphanFiles}).
 */
public final class Compaction {
    private static final Logger LOG = LoggerFactory.getLogger(Compaction.class);

    /** Snapshot summary key that marks a commit as Tarn's compaction. */
    public static final String SUMMARY_KEY = "tarn.maintenance";

    private final Settings settings;
    private final Runnable beforeCommit;

    /**
     * How compaction runs.
     *
     * @param targetFileSizeBytes size of the files it writes, unless the table sets {@code write.target-file-size-bytes}
     * @param minInputFiles small files a partition needs before they are rewritten (files with deletes always are)
     * @param maxBytesPerRun input bytes one run rewrites at most; the rest waits for the next run
     * @param threads DuckDB threads that read and write
     * @param memoryLimitBytes memory DuckDB may use; beyond it, it spills into the spill directory
     * @param spillDirectory where DuckDB spills
     */
    public record Settings(
            long targetFileSizeBytes,
            int minInputFiles,
            long maxBytesPerRun,
            int threads,
            long memoryLimitBytes,
            Path spillDirectory) {
        public Settings {
            requireNonNull(spillDirectory, "spillDirectory is null");
            if (targetFileSizeBytes < 1 || minInputFiles < 2 || maxBytesPerRun < 1 || threads < 1) {
                throw new IllegalArgumentException("invalid compaction settings: " + this);
            }
        }
    }

    /**
     * What one run did.
     *
     * @param dataFilesRewritten data files replaced
     * @param dataFilesWritten data files that replaced them
     * @param deleteFilesRemoved delete files that no longer apply to any data file
     * @param rowsWritten rows in the written files
     * @param bytesRewritten bytes of the replaced data files
     * @param bytesWritten bytes of the written files
     * @param commits groups committed
     * @param conflicts groups not committed because a concurrent commit conflicted (they are retried next run)
     * @param skipped why nothing was tried, if so
     */
    public record Result(
            int dataFilesRewritten,
            int dataFilesWritten,
            int deleteFilesRemoved,
            long rowsWritten,
            long bytesRewritten,
            long bytesWritten,
            int commits,
            int conflicts,
            Optional<String> skipped) {
        public Result {
            requireNonNull(skipped, "skipped is null");
        }

        static Result skipped(String reason) {
            return new Result(0, 0, 0, 0, 0, 0, 0, 0, Optional.of(reason));
        }
    }

    public Compaction(Settings settings) {
        this(settings, () -> {});
    }

    /** @param beforeCommit runs after a group's files are written, before they are committed (tests race it) */
    Compaction(Settings settings, Runnable beforeCommit) {
        this.settings = requireNonNull(settings, "settings is null");
        this.beforeCommit = requireNonNull(beforeCommit, "beforeCommit is null");
    }

    /**
     * Compacts one table.
     *
     * @param name {@code namespace.table}, for messages
     * @return what was rewritten; {@link Result#skipped()} says why nothing was, for a table compaction cannot handle
     */
    public Result compact(String name, Table table) {
        table.refresh();
        Snapshot start = table.currentSnapshot();
        if (start == null) {
            return Result.skipped("the table has no data");
        }
        Optional<String> unsupported = unsupported(table);
        if (unsupported.isPresent()) {
            return Result.skipped(unsupported.get());
        }
        long target = table.properties().containsKey(TableProperties.WRITE_TARGET_FILE_SIZE_BYTES)
                ? Long.parseLong(table.properties().get(TableProperties.WRITE_TARGET_FILE_SIZE_BYTES))
                : settings.targetFileSizeBytes();
        Plan plan = plan(table, start, target);
        if (plan.groups().isEmpty() && plan.danglingDeletes().isEmpty()) {
            return new Result(0, 0, 0, 0, 0, 0, 0, 0, Optional.empty());
        }
        try {
            Files.createDirectories(settings.spillDirectory());
        } catch (IOException e) {
            throw new UncheckedIOException("compaction spill directory cannot be created", e);
        }
        Path spill = settings.spillDirectory().resolve(UUID.randomUUID().toString());
        // a table in object storage: its files are read from local copies and written locally, then uploaded
        try (ObjectCache copies = TablePlan.isLocal(table) ? null : new ObjectCache(spill.resolve("objects"), 0);
                Connection duck = DuckDb.open(settings.memoryLimitBytes(), spill)) {
            DuckDb.execute(duck, "SET threads = " + settings.threads());
            DuckDb.execute(duck, "SET preserve_insertion_order = false");
            return rewrite(name, table, start, target, plan, new Output(duck, spill, copies));
        } catch (SQLException e) {
            throw new TarnException(
                    ErrorCode.MAINTENANCE_FAILED,
                    "compaction of lake table '%s' failed: %s".formatted(name, e.getMessage()),
                    e);
        } finally {
            Directories.deleteRecursively(spill);
        }
    }

    /** Why a table cannot be compacted here, if it cannot. */
    private static Optional<String> unsupported(Table table) {
        int formatVersion = ((HasTableOperations) table).operations().current().formatVersion();
        if (formatVersion > 2) {
            return Optional.of("it is an Iceberg format v%d table".formatted(formatVersion));
        }
        for (Type type : TypeUtil.indexById(table.schema().asStruct()).values().stream()
                .map(f -> f.type())
                .toList()) {
            switch (type.typeId()) {
                case FIXED, UUID, TIMESTAMP_NANO, VARIANT, GEOMETRY, GEOGRAPHY, UNKNOWN -> {
                    return Optional.of("it has a column of type " + type);
                }
                default -> {}
            }
        }
        return Optional.empty();
    }

    /** One partition's files to rewrite together. */
    private record Group(PartitionSpec spec, StructLike partition, List<FileScanTask> tasks, long bytes) {}

    /**
     * @param users for each delete file (by location), the data files (by location) it applies to
     */
    private record Plan(
            List<Group> groups,
            Map<String, DeleteFile> deletes,
            Map<String, Set<String>> users,
            List<DeleteFile> danglingDeletes) {}

    /**
     * A partition's candidates (smallest first) in groups of about {@code target} bytes, each rewritten and committed
     * on its own (a conflict or a stop then costs one group, not the run); a last file that would be a group of its
     * own joins the group before it, and a lone file without deletes is left as it is.
     */
    private static List<Group> groups(Table table, List<FileScanTask> candidates, long target) {
        List<List<FileScanTask>> chunks = new ArrayList<>();
        List<FileScanTask> chunk = new ArrayList<>();
        long chunkBytes = 0;
        for (FileScanTask task : candidates) {
            long size = task.file().fileSizeInBytes();
            if (!chunk.isEmpty() && chunkBytes + size > target) {
                chunks.add(chunk);
                chunk = new ArrayList<>();
                chunkBytes = 0;
            }
            chunk.add(task);
            chunkBytes += size;
        }
        if (chunk.size() == 1 && chunk.get(0).deletes().isEmpty() && !chunks.isEmpty()) {
            chunks.get(chunks.size() - 1).addAll(chunk); // rather a group a little over the target than a file left
        } else {
            chunks.add(chunk);
        }
        List<Group> groups = new ArrayList<>();
        for (List<FileScanTask> tasks : chunks) {
            if (tasks.size() >= 2 || !tasks.get(0).deletes().isEmpty()) {
                DataFile first = tasks.get(0).file();
                groups.add(new Group(
                        table.specs().get(first.specId()),
                        first.partition(),
                        tasks,
                        tasks.stream()
                                .mapToLong(t -> t.file().fileSizeInBytes())
                                .sum()));
            }
        }
        return groups;
    }

    private Plan plan(Table table, Snapshot start, long target) {
        long small = target * 3 / 4;
        Map<String, List<FileScanTask>> byPartition = new LinkedHashMap<>();
        Map<String, DeleteFile> deletes = new HashMap<>();
        Map<String, Set<String>> users = new HashMap<>();
        try (CloseableIterable<FileScanTask> tasks =
                table.newScan().useSnapshot(start.snapshotId()).planFiles()) {
            for (FileScanTask task : tasks) {
                DataFile file = task.file();
                String key =
                        file.specId() + "/" + table.specs().get(file.specId()).partitionToPath(file.partition());
                byPartition.computeIfAbsent(key, k -> new ArrayList<>()).add(task);
                for (DeleteFile delete : task.deletes()) {
                    deletes.putIfAbsent(delete.location(), delete);
                    users.computeIfAbsent(delete.location(), k -> new HashSet<>())
                            .add(file.location());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Group> groups = new ArrayList<>();
        for (List<FileScanTask> tasks : byPartition.values()) {
            List<FileScanTask> candidates = tasks.stream()
                    .filter(t ->
                            t.file().fileSizeInBytes() < small || !t.deletes().isEmpty())
                    .sorted(Comparator.comparingLong(t -> t.file().fileSizeInBytes()))
                    .toList();
            long bytes = candidates.stream()
                    .mapToLong(t -> t.file().fileSizeInBytes())
                    .sum();
            boolean withDeletes = candidates.stream().anyMatch(t -> !t.deletes().isEmpty());
            if (withDeletes
                    || candidates.size() >= settings.minInputFiles()
                    || (candidates.size() >= 2 && bytes >= target)) {
                groups.addAll(groups(table, candidates, target));
            }
        }
        List<DeleteFile> dangling = new ArrayList<>();
        for (ManifestFile manifest : start.deleteManifests(table.io())) {
            try (ManifestReader<DeleteFile> reader =
                    ManifestFiles.readDeleteManifest(manifest, table.io(), table.specs())) {
                for (DeleteFile delete : reader) {
                    if (!users.containsKey(delete.location())) {
                        dangling.add(delete.copyWithoutStats());
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return new Plan(groups, deletes, users, dangling);
    }

    /** Where a run writes: its DuckDB, its spill directory, and the copies of a table in object storage (else null). */
    private record Output(Connection duck, Path spill, ObjectCache copies) {}

    private Result rewrite(String name, Table table, Snapshot start, long target, Plan plan, Output output)
            throws SQLException {
        Set<String> rewritten = new HashSet<>();
        Set<String> removed = new HashSet<>();
        int filesRewritten = 0;
        int filesWritten = 0;
        int deletesRemoved = 0;
        long rows = 0;
        long bytesRewritten = 0;
        long bytesWritten = 0;
        int commits = 0;
        int conflicts = 0;
        long budget = settings.maxBytesPerRun();
        List<DeleteFile> dangling = new ArrayList<>(plan.danglingDeletes());
        for (Group group : plan.groups()) {
            if (group.bytes() > budget && commits + conflicts > 0) {
                break;
            }
            if (Thread.currentThread().isInterrupted()) { // Tarn stops: the run ends with what it committed
                break;
            }
            budget -= group.bytes();
            Written written = write(name, table, group, target, output);
            Set<String> groupFiles = new HashSet<>();
            group.tasks().forEach(t -> groupFiles.add(t.file().location()));
            Set<String> nowRewritten = new HashSet<>(rewritten);
            nowRewritten.addAll(groupFiles);
            List<DeleteFile> removable = new ArrayList<>(dangling);
            plan.users().forEach((delete, users) -> {
                if (!removed.contains(delete) && nowRewritten.containsAll(users)) {
                    removable.add(plan.deletes().get(delete));
                }
            });
            RewriteFiles rewrite = table.newRewrite().validateFromSnapshot(start.snapshotId());
            if (start.sequenceNumber() > 0) {
                rewrite.dataSequenceNumber(start.sequenceNumber());
            }
            group.tasks().forEach(t -> rewrite.deleteFile(t.file()));
            written.files().forEach(rewrite::addFile);
            removable.forEach(rewrite::deleteFile);
            rewrite.set(SUMMARY_KEY, "compaction");
            beforeCommit.run();
            try {
                rewrite.commit();
            } catch (ValidationException | CommitFailedException e) {
                conflicts++;
                written.files().forEach(f -> table.io().deleteFile(f.location()));
                LOG.info(
                        "Compaction of lake table {} left {} files of a partition for the next run: a concurrent commit"
                                + " conflicted ({})",
                        name,
                        group.tasks().size(),
                        e.getMessage());
                continue;
            }
            commits++;
            dangling.clear();
            rewritten.addAll(groupFiles);
            removable.forEach(d -> removed.add(d.location()));
            filesRewritten += group.tasks().size();
            filesWritten += written.files().size();
            deletesRemoved += removable.size();
            rows += written.rows();
            bytesRewritten += group.bytes();
            bytesWritten += written.files().stream()
                    .mapToLong(ContentFile::fileSizeInBytes)
                    .sum();
        }
        Result result = new Result(
                filesRewritten,
                filesWritten,
                deletesRemoved,
                rows,
                bytesRewritten,
                bytesWritten,
                commits,
                conflicts,
                Optional.empty());
        if (commits > 0) {
            LOG.info(
                    "Compacted lake table {}: {} data files ({} MiB) into {} ({} MiB, {} rows), {} delete files removed",
                    name,
                    filesRewritten,
                    bytesRewritten >> 20,
                    filesWritten,
                    bytesWritten >> 20,
                    rows,
                    deletesRemoved);
        }
        return result;
    }

    private record Written(List<DataFile> files, long rows) {}

    /** Copies a file written locally to its place in object storage, and deletes the local one. */
    private static void upload(Table table, Path local, String location) {
        try {
            try (OutputStream out = table.io().newOutputFile(location).create()) {
                Files.copy(local, out);
            }
            Files.delete(local);
        } catch (IOException e) {
            throw new UncheckedIOException("a compacted file could not be uploaded to object storage", e);
        }
    }

    /** Writes one group's rows, its deletes applied, into new files of about the target size. */
    private Written write(String name, Table table, Group group, long target, Output output) throws SQLException {
        Schema schema = table.schema();
        TablePlan plan = TablePlan.of(name, table, schema, group.tasks(), output.copies());
        String run = "tarn-compaction-" + UUID.randomUUID();
        // where the files go, as Iceberg names it; DuckDB writes there, or locally for an upload to object storage
        String directory = group.spec().isUnpartitioned()
                ? table.locationProvider().newDataLocation(run)
                : table.locationProvider().newDataLocation(group.spec(), group.partition(), run);
        boolean upload = output.copies() != null;
        Path written = upload
                ? output.spill().resolve("written-" + UUID.randomUUID())
                : Path.of(TablePlan.localPath(directory));
        try {
            Files.createDirectories(written);
        } catch (IOException e) {
            throw new UncheckedIOException("compaction output directory cannot be created", e);
        }
        Copied copied;
        try (ObjectCache.Pin inputs = upload ? output.copies().pin(plan.remoteFiles()) : null) {
            copied = copy(output.duck(), plan, schema, written, target, table);
        }
        MetricsConfig metricsConfig = MetricsConfig.forTable(table);
        List<DataFile> files = new ArrayList<>();
        long counted = 0;
        for (String path : copied.paths()) {
            String location = directory + "/" + Path.of(path).getFileName();
            if (upload) {
                upload(table, Path.of(path), location);
            }
            InputFile input = table.io().newInputFile(location);
            Metrics metrics = ParquetUtil.fileMetrics(input, metricsConfig);
            counted += metrics.recordCount();
            if (metrics.recordCount() == 0) {
                table.io().deleteFile(location);
                continue;
            }
            files.add(DataFiles.builder(group.spec())
                    .withPath(location)
                    .withFormat(FileFormat.PARQUET)
                    .withPartition(group.partition())
                    .withFileSizeInBytes(input.getLength())
                    .withMetrics(metrics)
                    .build());
        }
        if (counted != copied.rows()) {
            files.forEach(f -> table.io().deleteFile(f.location()));
            throw new IllegalStateException("compaction of lake table '%s' wrote %d rows but its files hold %d"
                    .formatted(name, copied.rows(), counted));
        }
        return new Written(files, copied.rows());
    }

    /** The rows DuckDB wrote and the files it wrote them to. */
    private record Copied(long rows, List<String> paths) {}

    /** Copies a plan's rows into Parquet files of about the target size in a local directory. */
    private static Copied copy(Connection duck, TablePlan plan, Schema schema, Path written, long target, Table table)
            throws SQLException {
        String codec = table.properties()
                .getOrDefault(TableProperties.PARQUET_COMPRESSION, TableProperties.PARQUET_COMPRESSION_DEFAULT)
                .toLowerCase(Locale.ROOT);
        String copy = ("COPY (%s) TO %s (FORMAT parquet, FIELD_IDS %s, FILE_SIZE_BYTES %d,"
                        + " FILENAME_PATTERN 'part-{uuid}', RETURN_FILES true, COMPRESSION %s)")
                .formatted(
                        ScanSql.rows(plan),
                        ScanSql.literal(written.toString()),
                        ScanSql.fieldIds(schema),
                        target,
                        ScanSql.literal(codec.equals("uncompressed") ? "uncompressed" : codec));
        List<String> paths = new ArrayList<>();
        try (Statement statement = duck.createStatement();
                ResultSet rs = statement.executeQuery(copy)) {
            rs.next();
            long rows = rs.getLong(1);
            Array files = rs.getArray(2);
            for (Object path : (Object[]) files.getArray()) {
                paths.add(path.toString());
            }
            return new Copied(rows, paths);
        }
    }
}
