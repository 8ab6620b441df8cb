package io.tarn.compute;

import static java.util.Objects.requireNonNull;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;
import org.apache.flink.runtime.checkpoint.Checkpoints;

/**
 * A pipeline's state: retained checkpoints in {@code checkpoints/<pipeline>/<job>/chk-N} and savepoints in
 * {@code savepoints/<pipeline>/}, under the compute settings' state root, read and deleted through Flink's file systems
 * (a local directory or object storage, as {@link StateStorage} set them up).
 */
public final class PipelineStateFiles {
    private static final Pattern CHECKPOINT_DIR = Pattern.compile("chk-(\\d+)");
    private static final String METADATA = "_metadata";

    private final ComputeSettings settings;

    PipelineStateFiles(ComputeSettings settings) {
        this.settings = requireNonNull(settings, "settings is null");
    }

    /**
     * A savepoint of a pipeline.
     *
     * @param name its directory's name, which users refer to it by
     */
    public record Savepoint(String name, String location, long checkpointId, Instant createdAt) {}

    /** The name of a checkpoint or savepoint: its location's last segment. */
    public static String name(String location) {
        return new Path(location).getName();
    }

    /** Where a pipeline's savepoints go, as a URI. */
    String savepointDirectory(String pipeline) {
        return settings.savepoints(pipeline).toString();
    }

    /**
     * The newest completed checkpoint a job retained (checkpoint directories are complete once their
     * {@code _metadata} file exists).
     */
    public Optional<String> latestRetainedCheckpoint(String pipeline, String jobId) {
        Path job = new Path(settings.checkpoints(pipeline), jobId);
        FileSystem fs = fileSystem(job);
        try {
            Path latest = null;
            long latestId = -1;
            for (FileStatus child : list(fs, job)) {
                Matcher chk = CHECKPOINT_DIR.matcher(child.getPath().getName());
                if (chk.matches()
                        && Long.parseLong(chk.group(1)) > latestId
                        && fs.exists(new Path(child.getPath(), METADATA))) {
                    latest = child.getPath();
                    latestId = Long.parseLong(chk.group(1));
                }
            }
            return Optional.ofNullable(latest).map(Path::toString);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The id of the checkpoint a checkpoint or savepoint location holds: from a {@code chk-N} directory's name, else
     * from its {@code _metadata}.
     *
     * @throws TarnException {@link ErrorCode#RESTORE_REFUSED} if it cannot be read
     */
    public long checkpointId(String location) {
        Path directory = new Path(location);
        Matcher chk = CHECKPOINT_DIR.matcher(directory.getName());
        if (chk.matches()) {
            return Long.parseLong(chk.group(1));
        }
        Path metadata = new Path(directory, METADATA);
        try (DataInputStream in =
                new DataInputStream(new BufferedInputStream(fileSystem(metadata).open(metadata)))) {
            return Checkpoints.loadCheckpointMetadata(in, PipelineStateFiles.class.getClassLoader(), location)
                    .getCheckpointId();
        } catch (IOException | RuntimeException e) {
            throw new TarnException(
                    ErrorCode.RESTORE_REFUSED,
                    "savepoint %s cannot be read: %s".formatted(directory.getName(), TarnException.rootMessage(e)),
                    e);
        }
    }

    /** A pipeline's savepoints, oldest checkpoint first. */
    public List<Savepoint> savepoints(String pipeline) {
        Path root = settings.savepoints(pipeline);
        FileSystem fs = fileSystem(root);
        List<Savepoint> savepoints = new ArrayList<>();
        try {
            for (FileStatus child : list(fs, root)) {
                Path metadata = new Path(child.getPath(), METADATA);
                if (!child.isDir() || !fs.exists(metadata)) {
                    continue;
                }
                String location = child.getPath().toString();
                savepoints.add(new Savepoint(
                        child.getPath().getName(),
                        location,
                        checkpointId(location),
                        Instant.ofEpochMilli(fs.getFileStatus(metadata).getModificationTime())));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        savepoints.sort(Comparator.comparingLong(Savepoint::checkpointId));
        return savepoints;
    }

    /** Deletes retained checkpoints of a pipeline's earlier jobs, keeping those of {@code currentJobId}. */
    public void pruneCheckpoints(String pipeline, String currentJobId) {
        Path root = settings.checkpoints(pipeline);
        FileSystem fs = fileSystem(root);
        try {
            for (FileStatus job : list(fs, root)) {
                if (!job.getPath().getName().equals(currentJobId)) {
                    fs.delete(job.getPath(), true);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Deletes every checkpoint and savepoint of a pipeline. */
    public void deleteState(String pipeline) {
        for (Path root : List.of(settings.checkpoints(pipeline), settings.savepoints(pipeline))) {
            try {
                fileSystem(root).delete(root, true);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** The children of a directory; none if it does not exist. */
    private static List<FileStatus> list(FileSystem fs, Path directory) throws IOException {
        try {
            FileStatus[] children = fs.exists(directory) ? fs.listStatus(directory) : null;
            return children == null ? List.of() : List.of(children);
        } catch (FileNotFoundException e) {
            return List.of();
        }
    }

    private static FileSystem fileSystem(Path path) {
        try {
            return path.getFileSystem();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
