package io.tarn.lake;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.iceberg.DataOperations;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.exceptions.NotFoundException;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.io.InputFile;
import org.apache.iceberg.io.OutputFile;

/**
 * The seam between a lake table and the topic a landing pipeline copies into it: the offsets of the topic whose records
 * a snapshot of the table holds, all those before them and none after.
 *
 * <p>Each source subtask of a landing job writes, for every checkpoint {@code N}, before the checkpoint can complete, a
 * seam file {@code <table location>/tarn-seams/<job id>/<N>-<subtask>.json}: the topic, how many subtasks read it, the
 * next offset of every partition the subtask reads (the position of its split when the checkpoint barrier left it), and
 * which field of the topic's JSON each column of the table is copied from. Iceberg's Flink committer writes {@code
 * flink.job-id} and {@code flink.max-committed-checkpoint-id} into the summary of every snapshot it commits, and the
 * snapshot of checkpoint {@code N} holds exactly the rows of the records the sources had read at its barrier: the seam
 * of {@code N}. A partition no subtask read yet has nothing in the table (landing jobs read from the earliest offset).
 */
public final class Seams {
    /** The directory under a table's location that holds its seam files. */
    public static final String DIRECTORY = "tarn-seams";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String JOB_ID = "flink.job-id";
    private static final String CHECKPOINT_ID = "flink.max-committed-checkpoint-id";

    private Seams() {}

    /**
     * What one source subtask had read at a checkpoint.
     *
     * @param subtasks how many subtasks read the topic
     * @param offsets per partition the subtask reads, the offset of the next record it would read
     * @param columns per column of the table, the field of the topic's JSON values it is copied from
     */
    public record Seam(String topic, int subtasks, Map<Integer, Long> offsets, Map<String, String> columns) {
        public Seam {
            requireNonNull(topic, "topic is null");
            offsets = Map.copyOf(offsets);
            columns = Collections.unmodifiableMap(new LinkedHashMap<>(columns));
        }
    }

    /**
     * The offsets a snapshot covers, for the whole topic.
     *
     * @param offsets per partition read so far, the next offset; a partition not in it was not read at all
     * @param snapshotId the snapshot whose seam this is: the one asked about, or the newest landing commit before it
     *     when later snapshots only rewrote its files
     */
    public record Covered(String topic, Map<Integer, Long> offsets, Map<String, String> columns, long snapshotId) {
        public Covered {
            offsets = Map.copyOf(offsets);
        }
    }

    /** Where a subtask's seam of a checkpoint is. */
    public static String location(String tableLocation, String jobId, long checkpointId, int subtask) {
        String root = tableLocation.endsWith("/") ? tableLocation : tableLocation + "/";
        return root + DIRECTORY + "/" + jobId + "/" + checkpointId + "-" + subtask + ".json";
    }

    /**
     * The seam files the table's current snapshot is read with (a fresh read's), as local paths' prefix: every other
     * seam file is garbage once it is older than any read in flight.
     */
    static Optional<String> currentPrefix(Table table) {
        return landingCommit(table, table.currentSnapshot()).map(commit -> {
            String first = TablePlan.localPath(location(table.location(), commit.jobId(), commit.checkpointId(), 0));
            return first.substring(0, first.length() - "0.json".length());
        });
    }

    /** Writes a seam, replacing one of the same checkpoint and subtask. */
    public static void write(FileIO io, String location, Seam seam) {
        ObjectNode node = JSON.createObjectNode();
        node.put("topic", seam.topic());
        node.put("subtasks", seam.subtasks());
        ObjectNode offsets = node.putObject("offsets");
        seam.offsets().forEach((partition, offset) -> offsets.put(Integer.toString(partition), offset));
        ObjectNode columns = node.putObject("columns");
        seam.columns().forEach(columns::put);
        OutputFile file = io.newOutputFile(location);
        try (OutputStream out = file.createOrOverwrite()) {
            out.write(node.toString().getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("the seam of a landing checkpoint could not be written", e);
        }
    }

    /**
     * The job and checkpoint a snapshot's rows were committed at: of the snapshot itself, or, when it only rewrote
     * files (compaction), of the newest snapshot before it that a landing job committed.
     *
     * @return empty when a snapshot on the way was written by something else (an insert, delete or overwrite that
     *     Iceberg's Flink committer did not make), or there is no snapshot
     */
    static Optional<Commit> landingCommit(Table table, Snapshot snapshot) {
        for (Snapshot s = snapshot; s != null; s = s.parentId() == null ? null : table.snapshot(s.parentId())) {
            Map<String, String> summary = s.summary();
            if (summary.containsKey(JOB_ID) && summary.containsKey(CHECKPOINT_ID)) {
                return Optional.of(
                        new Commit(summary.get(JOB_ID), Long.parseLong(summary.get(CHECKPOINT_ID)), s.snapshotId()));
            }
            if (!DataOperations.REPLACE.equals(s.operation())) {
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    /** A commit of a landing job: its job, its checkpoint, and the snapshot it made. */
    record Commit(String jobId, long checkpointId, long snapshotId) {}

    /**
     * The offsets of its topic that a snapshot of a landing table covers.
     *
     * @return empty when the snapshot was not committed by a landing job that writes seams (or its seams are gone:
     *     pruned because a newer snapshot replaced it, so the caller reads a newer one)
     */
    public static Optional<Covered> covered(Table table, Snapshot snapshot) {
        Optional<Commit> commit = landingCommit(table, snapshot);
        if (commit.isEmpty()) {
            return Optional.empty();
        }
        Optional<Seam> first = read(table, commit.get(), 0);
        if (first.isEmpty()) {
            return Optional.empty();
        }
        Map<Integer, Long> offsets = new HashMap<>(first.get().offsets());
        for (int subtask = 1; subtask < first.get().subtasks(); subtask++) {
            Optional<Seam> seam = read(table, commit.get(), subtask);
            if (seam.isEmpty()) {
                return Optional.empty();
            }
            offsets.putAll(seam.get().offsets());
        }
        return Optional.of(new Covered(
                first.get().topic(),
                offsets,
                first.get().columns(),
                commit.get().snapshotId()));
    }

    private static Optional<Seam> read(Table table, Commit commit, int subtask) {
        InputFile file =
                table.io().newInputFile(location(table.location(), commit.jobId(), commit.checkpointId(), subtask));
        JsonNode node;
        try (InputStream in = file.newStream()) {
            node = JSON.readTree(in);
        } catch (NotFoundException | FileNotFoundException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("the seam of lake table " + table.name() + " could not be read", e);
        }
        Map<Integer, Long> offsets = new HashMap<>();
        node.path("offsets")
                .properties()
                .forEach(e ->
                        offsets.put(Integer.parseInt(e.getKey()), e.getValue().asLong()));
        Map<String, String> columns = new LinkedHashMap<>();
        node.path("columns")
                .properties()
                .forEach(e -> columns.put(e.getKey(), e.getValue().asText()));
        return Optional.of(
                new Seam(node.path("topic").asText(), node.path("subtasks").asInt(), offsets, columns));
    }
}
