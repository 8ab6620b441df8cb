package io.tarn.compute;

import static java.util.Objects.requireNonNull;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.io.Directories;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.flink.runtime.checkpoint.Checkpoints;

/**
 * A pipeline's state on disk: retained checkpoints in {@code checkpoints/<pipeline>/<job>/chk-N} and savepoints in
 * {@code savepoints/<pipeline>/}, under the compute settings' state directory.
 */
public final class PipelineStateFiles {
    private static final Pattern CHECKPOINT_DIR = Pattern.compile("chk-(\\d+)");

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

    /** Where a pipeline's savepoints go, as a URI. */
    String savepointDirectory(String pipeline) {
        return settings.savepoints(pipeline).toUri().toString();
    }

    /**
     * The newest completed checkpoint a job retained on disk (checkpoint directories are complete once their
     * {@code _metadata} file exists).
     */
    public Optional<String> latestRetainedCheckpoint(String pipeline, String jobId) {
        Path jobDirectory = settings.checkpoints(pipeline).resolve(jobId);
        if (!Files.isDirectory(jobDirectory)) {
            return Optional.empty();
        }
        try (Stream<Path> children = Files.list(jobDirectory)) {
            return children.filter(p ->
                            CHECKPOINT_DIR.matcher(p.getFileName().toString()).matches())
                    .filter(p -> Files.isRegularFile(p.resolve("_metadata")))
                    .max(Comparator.comparingLong(
                            p -> Long.parseLong(p.getFileName().toString().substring(4))))
                    .map(p -> p.toUri().toString());
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
        Path directory = directory(location);
        Matcher chk = CHECKPOINT_DIR.matcher(directory.getFileName().toString());
        if (chk.matches()) {
            return Long.parseLong(chk.group(1));
        }
        try (DataInputStream in =
                new DataInputStream(new BufferedInputStream(Files.newInputStream(directory.resolve("_metadata"))))) {
            return Checkpoints.loadCheckpointMetadata(in, PipelineStateFiles.class.getClassLoader(), location)
                    .getCheckpointId();
        } catch (IOException | RuntimeException e) {
            throw new TarnException(
                    ErrorCode.RESTORE_REFUSED,
                    "savepoint %s cannot be read: %s".formatted(directory.getFileName(), TarnException.rootMessage(e)),
                    e);
        }
    }

    /** The directory of a checkpoint or savepoint location, given as a {@code file:} URI or a path. */
    static Path directory(String location) {
        return location.startsWith("file:") ? Path.of(URI.create(location)) : Path.of(location);
    }

    /** A pipeline's savepoints on disk, oldest checkpoint first. */
    public List<Savepoint> savepoints(String pipeline) {
        Path root = settings.savepoints(pipeline);
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        List<Savepoint> savepoints = new ArrayList<>();
        try (Stream<Path> children = Files.list(root)) {
            for (Path directory : children.filter(p -> Files.isRegularFile(p.resolve("_metadata")))
                    .toList()) {
                String location = directory.toUri().toString();
                savepoints.add(new Savepoint(
                        directory.getFileName().toString(),
                        location,
                        checkpointId(location),
                        Files.getLastModifiedTime(directory.resolve("_metadata"))
                                .toInstant()));
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
        if (!Files.isDirectory(root)) {
            return;
        }
        try (Stream<Path> jobs = Files.list(root)) {
            jobs.filter(p -> !p.getFileName().toString().equals(currentJobId)).forEach(Directories::deleteRecursively);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Deletes every checkpoint and savepoint of a pipeline. */
    public void deleteState(String pipeline) {
        Directories.deleteRecursively(settings.checkpoints(pipeline));
        Directories.deleteRecursively(settings.savepoints(pipeline));
    }
}
