package io.tarn.server.pipeline;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tarn.compute.DeadLetters;
import io.tarn.compute.FlinkCompute;
import io.tarn.compute.JobControl;
import io.tarn.compute.PipelineJobs;
import io.tarn.compute.PipelineStateFiles;
import io.tarn.compute.PlanLineage;
import io.tarn.core.audit.AuditNames;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.pipeline.PipelineSpec;
import io.tarn.core.pipeline.PipelineState;
import io.tarn.core.pipeline.PipelineStatus;
import io.tarn.core.sql.SqlScript;
import io.tarn.core.sql.TableGuard;
import io.tarn.lake.LakeCatalog;
import io.tarn.server.auth.Tokens;
import io.tarn.server.metadata.JobCounters;
import io.tarn.server.metadata.MetadataStore;
import io.tarn.server.metadata.PipelineRecord;
import io.tarn.server.metadata.PipelineRecord.DesiredState;
import io.tarn.server.storage.StorageGuard;
import io.tarn.server.topic.TopicService;
import java.net.URI;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotSummary;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The life of pipelines: create (validate and submit), stop with a savepoint, start from it, delete, and resume every
 * pipeline that should be running after Tarn restarts.
 *
 * <p>A run resumes from, in order: the newest checkpoint its last Flink job retained on disk, else the point that job
 * itself was started from. This chain is what makes a restart (clean or kill -9) neither lose nor repeat data: the
 * Kafka offsets and the pending Iceberg commits of the checkpoint are restored together. Changes are serialised; reads
 * are not.
 *
 * <p>Size: a pipeline's life is one state machine serialised by this class's lock (the resume chain, the jobs of this
 * process, pauses for storage); its counters live in {@link PipelineCounters}.
 */
public final class PipelineService {
    private static final Logger LOG = LoggerFactory.getLogger(PipelineService.class);

    /** How topics are named among the tables a pipeline uses. */
    private static final String STREAM_PREFIX = "stream.";

    private final FlinkCompute compute;
    private final MetadataStore metadata;
    private final TopicService topics;
    private final LakeCatalog lake;
    private final StorageGuard storage;
    /** Pipelines this process paused because storage ran low, with why; they resume when it is back. */
    private final Map<String, String> paused = new ConcurrentHashMap<>();
    /** The jobs whose run has ended, each told to {@link #runs} once. */
    private final Set<String> endedJobs = ConcurrentHashMap.newKeySet();

    private volatile RunListener runs = RunListener.NONE;

    /** Hears of each pipeline job's run: its start and its end (OpenLineage's run events). */
    public interface RunListener {
        RunListener NONE = new RunListener() {
            @Override
            public void started(String pipeline, String jobId, String sql, Optional<PlanLineage> lineage) {}

            @Override
            public void ended(String pipeline, String jobId, String sql, Outcome outcome, Optional<String> error) {}
        };

        /** How a run ended: stopped with a savepoint or finished, failed, or its pipeline deleted while it ran. */
        enum Outcome {
            COMPLETE,
            FAIL,
            ABORT
        }

        void started(String pipeline, String jobId, String sql, Optional<PlanLineage> lineage);

        void ended(String pipeline, String jobId, String sql, Outcome outcome, Optional<String> error);
    }

    public void onRuns(RunListener listener) {
        this.runs = requireNonNull(listener, "listener is null");
    }

    /** Tells the end of a job's run, once. */
    private void ended(PipelineRecord record, String jobId, RunListener.Outcome outcome, Optional<String> error) {
        if (endedJobs.add(jobId)) {
            runs.ended(record.name(), jobId, record.sql(), outcome, error);
        }
    }
    /** Jobs submitted by this process; a job id from before a restart is unknown to the new cluster. */
    private final Set<String> submittedJobs = ConcurrentHashMap.newKeySet();
    /** What each run counted. */
    private final PipelineCounters counters;
    /** What the last look at each pipeline's topics' retention found. */
    private final RetentionWatch retentionWatch;
    /** Per pipeline, its dead letters and when they were counted ({@link #deadLetters}). */
    private final Map<String, long[]> deadLetterCounts = new ConcurrentHashMap<>();
    /** Where readers of a topic with new columns are restarted, one topic at a time. */
    private final ExecutorService restarts = Executors.newSingleThreadExecutor(r -> {
        Thread thread = new Thread(r, "tarn-pipeline-restarts");
        thread.setDaemon(true);
        return thread;
    });

    public PipelineService(
            FlinkCompute compute,
            MetadataStore metadata,
            TopicService topics,
            LakeCatalog lake,
            StorageGuard storage,
            RetentionWatch retentionWatch) {
        this.compute = requireNonNull(compute, "compute is null");
        this.retentionWatch = requireNonNull(retentionWatch, "retentionWatch is null");
        this.metadata = requireNonNull(metadata, "metadata is null");
        this.topics = requireNonNull(topics, "topics is null");
        this.lake = requireNonNull(lake, "lake is null");
        this.storage = requireNonNull(storage, "storage is null");
        this.counters = new PipelineCounters(metadata);
    }

    /**
     * Validates and starts a new pipeline.
     *
     * @throws TarnException {@link ErrorCode#PIPELINE_ALREADY_EXISTS} for a taken name, {@link ErrorCode#INVALID_SQL}
     *     when Flink refuses the SQL
     */
    public synchronized PipelineStatus create(PipelineSpec spec) {
        return create(spec, Tokens.ADMIN);
    }

    /**
     * Validates and starts a new pipeline that runs with its owner's privileges: planned inside the caller's
     * {@link TableGuard#checking}, each topic and table it reads or writes is the owner's to read or write.
     *
     * @param owner the principal that asks for it
     * @throws TarnException as {@link #create(PipelineSpec)}; {@link ErrorCode#NOT_PERMITTED} naming a table the owner
     *     may not read or write
     */
    public synchronized PipelineStatus create(PipelineSpec spec, String owner) {
        storage.requireSpace();
        requireAbsent(spec.name());
        compute.state().deleteState(spec.name());
        PipelineJobs.Submission submission = compute.pipelines().submit(spec, topics.streamTables(), Optional.empty());
        String jobId = submission.jobId();
        submittedJobs.add(jobId);
        PipelineRecord record = new PipelineRecord(
                        spec.name(),
                        spec.sql(),
                        spec.onError(),
                        spec.rules(),
                        spec.start(),
                        DesiredState.RUNNING,
                        Optional.empty(),
                        Optional.empty(),
                        Optional.empty(),
                        Optional.empty(),
                        System.currentTimeMillis())
                .running(jobId, Optional.empty());
        metadata.transaction(() -> {
            metadata.putPipelineTables(spec.name(), submission.tables(), submission.writtenTopics());
            metadata.putPipelineLineage(spec.name(), lineageJson(submission));
            metadata.addPipelineJob(spec.name(), jobId);
            metadata.putPipeline(record);
            metadata.setPipelineOwner(spec.name(), owner);
        });
        runs.started(spec.name(), jobId, spec.sql(), submission.lineage());
        LOG.info("Pipeline {} created", spec.name());
        submission.tables().orElse(Set.of()).stream()
                .filter(table -> table.startsWith("stream."))
                .map(table -> table.substring("stream.".length()))
                .filter(topic -> !submission.writtenTopics().contains(topic))
                .forEach(this::keepUntilLanded);
        return status(record);
    }

    /** A topic a new pipeline uses keeps its records until landed, unless its retention was set (logged, not thrown). */
    private void keepUntilLanded(String topic) {
        try {
            topics.keepUntilLandedByDefault(topic);
        } catch (TarnException e) {
            LOG.warn("Topic {} keeps Kafka's default retention: {}", topic, e.getMessage());
        }
    }

    public boolean exists(String name) {
        return metadata.pipeline(name).isPresent();
    }

    /**
     * @throws TarnException {@link ErrorCode#PIPELINE_ALREADY_EXISTS} if the name is taken
     */
    public void requireAbsent(String name) {
        if (exists(name)) {
            throw new TarnException(ErrorCode.PIPELINE_ALREADY_EXISTS, "pipeline '%s' already exists".formatted(name));
        }
    }

    public List<PipelineStatus> list() {
        return metadata.pipelines().stream().map(this::status).toList();
    }

    /**
     * @throws TarnException {@link ErrorCode#PIPELINE_NOT_FOUND} if there is no such pipeline
     */
    public PipelineStatus get(String name) {
        return status(load(name));
    }

    /**
     * @throws TarnException {@link ErrorCode#PIPELINE_NOT_FOUND} if there is no such pipeline
     */
    public PipelineSpec.OnError onError(String name) {
        return load(name).onError();
    }

    /**
     * The dead letters a pipeline committed to its dead-letter table.
     *
     * @throws TarnException {@link ErrorCode#PIPELINE_NOT_FOUND} if there is no such pipeline
     */
    public long deadLetterCount(String name) {
        return load(name).onError() == PipelineSpec.OnError.DEAD_LETTER ? deadLetters(name) : 0;
    }

    /**
     * Stops a running pipeline with a savepoint; a pipeline whose job is not running (failed) is marked stopped and
     * will resume from its newest retained checkpoint.
     *
     * @throws TarnException {@link ErrorCode#INVALID_STATE} if it is already stopped
     */
    public synchronized PipelineStatus stop(String name) {
        PipelineRecord record = load(name);
        if (record.desiredState() == DesiredState.STOPPED) {
            throw new TarnException(ErrorCode.INVALID_STATE, "pipeline '%s' is already stopped".formatted(name));
        }
        PipelineState state = status(record, true).state();
        Optional<String> resumePoint;
        settle(record);
        if (state == PipelineState.RUNNING) {
            resumePoint = Optional.of(
                    compute.jobs().stopWithSavepoint(name, record.jobId().orElseThrow()));
            settle(record); // the final counts of the finished job
            ended(record, record.jobId().orElseThrow(), RunListener.Outcome.COMPLETE, Optional.empty());
        } else {
            record.jobId().filter(submittedJobs::contains).ifPresent(this::cancelQuietly);
            resumePoint = resumePoint(record);
        }
        PipelineRecord stopped = record.stopped(resumePoint);
        paused.remove(name);
        metadata.putPipeline(stopped);
        LOG.info("Pipeline {} stopped; resumes from {}", name, resumePoint.orElse("the beginning"));
        return status(stopped);
    }

    /**
     * Starts a stopped or failed pipeline from where it stopped, or from one of its savepoints.
     *
     * <p>If Flink cannot map a savepoint's state to the pipeline's job (its SQL was changed in a way that changed its
     * operators) the pipeline stays stopped at that savepoint.
     *
     * @param savepoint name of one of the pipeline's savepoints (see {@link #savepoints}); empty: where it stopped
     * @throws TarnException {@link ErrorCode#INVALID_STATE} if it is running; {@link ErrorCode#RESTORE_REFUSED} if the
     *     savepoint is older than what the pipeline already committed to a lake table, or its state does not fit the
     *     pipeline's SQL
     */
    public synchronized PipelineStatus start(String name, Optional<String> savepoint) {
        return start(name, savepoint, owner -> (table, write) -> {});
    }

    /**
     * Starts a stopped or failed pipeline as {@link #start(String, Optional)} does, with its owner's privileges: each
     * topic and table it reads or writes must still be the owner's to read or write.
     *
     * @param privileges the check of a principal's privileges on tables
     */
    public synchronized PipelineStatus start(
            String name, Optional<String> savepoint, Function<String, TableGuard.Check> privileges) {
        String owner = metadata.pipelineOwner(name).orElse(Tokens.ADMIN);
        return owner.equals(Tokens.ADMIN)
                ? started(name, savepoint)
                : TableGuard.checking(privileges.apply(owner), () -> started(name, savepoint));
    }

    private PipelineStatus started(String name, Optional<String> savepoint) {
        PipelineRecord record = load(name);
        storage.requireSpace();
        paused.remove(name);
        PipelineState state = status(record, true).state();
        if (record.desiredState() == DesiredState.RUNNING
                && List.of(PipelineState.RUNNING, PipelineState.STARTING, PipelineState.RESTARTING)
                        .contains(state)) {
            throw new TarnException(ErrorCode.INVALID_STATE, "pipeline '%s' is already %s".formatted(name, state));
        }
        Optional<String> from;
        if (savepoint.isPresent()) {
            from = Optional.of(compute.state().savepoints(name).stream()
                    .filter(s -> s.name().equals(savepoint.get()))
                    .findFirst()
                    .orElseThrow(() -> new TarnException(
                            ErrorCode.INVALID_REQUEST,
                            "pipeline '%s' has no savepoint '%s'".formatted(name, savepoint.get())))
                    .location());
        } else {
            from = record.desiredState() == DesiredState.STOPPED ? record.savepoint() : resumePoint(record);
        }
        from.ifPresent(location -> checkRestorePoint(name, location));
        if (record.desiredState() == DesiredState.RUNNING) {
            // A failed run's job may still be known to Flink; a stopped one ended with its savepoint.
            settle(record);
            record.jobId().filter(submittedJobs::contains).ifPresent(this::cancelQuietly);
        }
        return status(submit(record, from));
    }

    /**
     * Replaces the SQL of a stopped pipeline; its next start resumes the new SQL from the savepoint it stopped at,
     * which works when the change keeps the pipeline's operators (e.g. a changed filter or projection) and is refused
     * by {@link #start} otherwise.
     *
     * @throws TarnException {@link ErrorCode#INVALID_STATE} unless it is stopped; {@link ErrorCode#INVALID_SQL} when
     *     Flink refuses the SQL
     */
    public synchronized PipelineStatus update(String name, String sql) {
        return update(name, sql, Tokens.ADMIN);
    }

    /**
     * Replaces the SQL of a stopped pipeline as {@link #update(String, String)} does; the principal that asks becomes
     * its owner, and its privileges are checked as {@link #create(PipelineSpec, String)} checks them.
     */
    public synchronized PipelineStatus update(String name, String sql, String owner) {
        requireNotAudit(name, "changed");
        PipelineRecord record = load(name);
        if (record.desiredState() != DesiredState.STOPPED) {
            throw new TarnException(
                    ErrorCode.INVALID_STATE, "pipeline '%s' must be stopped before its SQL is changed".formatted(name));
        }
        PipelineSpec spec = new PipelineSpec(name, sql, record.onError());
        compute.pipelines().validate(spec, topics.streamTables());
        PipelineRecord updated = record.withSql(sql);
        metadata.transaction(() -> {
            metadata.putPipeline(updated);
            metadata.setPipelineOwner(name, owner);
        });
        LOG.info("Pipeline {} SQL changed", name);
        return status(updated);
    }

    /**
     * The pipeline's savepoints, oldest first.
     *
     * @throws TarnException {@link ErrorCode#PIPELINE_NOT_FOUND} if there is no such pipeline
     */
    public List<PipelineStateFiles.Savepoint> savepoints(String name) {
        load(name);
        return compute.state().savepoints(name);
    }

    /**
     * Refuses a restore point older than what the pipeline already committed: its Kafka offsets lie before rows that
     * are already in a lake table, so resuming there would write those rows a second time. (Iceberg's sink only
     * recognises the commit of the very checkpoint it restores.)
     */
    private void checkRestorePoint(String pipeline, String location) {
        long checkpoint = compute.state().checkpointId(location);
        lake.lastCommits(metadata.pipelineJobs(pipeline)).forEach((table, commit) -> {
            long committed = commit.checkpointId();
            if (committed > checkpoint) {
                throw new TarnException(
                        ErrorCode.RESTORE_REFUSED,
                        ("pipeline '%s' cannot resume from %s (checkpoint %d): lake table %s already holds its commits"
                                        + " up to checkpoint %d, so the rows in between would be written twice."
                                        + " Resume from a newer savepoint.")
                                .formatted(
                                        pipeline,
                                        Path.of(URI.create(location)).getFileName(),
                                        checkpoint,
                                        table,
                                        committed));
            }
        });
    }

    /**
     * Cancels a pipeline's job and forgets the pipeline, its checkpoints, savepoints and replay topics. Its lake tables
     * (its dead-letter table too) stay, and so does which dead letters were replayed.
     */
    public synchronized void delete(String name) {
        requireNotAudit(name, "deleted");
        PipelineRecord record = load(name);
        record.jobId().filter(submittedJobs::contains).ifPresent(job -> {
            cancelQuietly(job);
            if (record.desiredState() == DesiredState.RUNNING) {
                ended(record, job, RunListener.Outcome.ABORT, Optional.empty());
            }
        });
        counters.forget(name);
        deadLetterCounts.remove(name);
        metadata.deletePipeline(name);
        paused.remove(name);
        compute.state().deleteState(name);
        topics.deleteReplayTopics(name);
        LOG.info("Pipeline {} deleted", name);
    }

    /** After a start of Tarn: submits every pipeline that should be running, from its resume point. */
    public synchronized void resumeAll() {
        for (PipelineRecord record : metadata.pipelines()) {
            if (record.desiredState() != DesiredState.RUNNING) {
                continue;
            }
            Optional<String> low = storage.problem();
            if (low.isPresent()) {
                paused.put(record.name(), low.get());
                continue;
            }
            resume(record);
        }
    }

    /**
     * Pauses every running pipeline while storage is low (its job is cancelled; its retained checkpoints stay) and
     * resumes the paused ones from their newest checkpoint, exactly once, when it is back.
     *
     * @param problem why storage is low, or empty once it is back
     */
    public synchronized void storageChanged(Optional<String> problem) {
        if (problem.isPresent()) {
            for (PipelineRecord record : metadata.pipelines()) {
                if (record.desiredState() == DesiredState.RUNNING && !paused.containsKey(record.name())) {
                    settle(record);
                    record.jobId().filter(submittedJobs::contains).ifPresent(this::cancelQuietly);
                    paused.put(record.name(), problem.get());
                    LOG.warn("Pipeline {} paused: {}", record.name(), problem.get());
                }
            }
            return;
        }
        for (String name : List.copyOf(paused.keySet())) {
            paused.remove(name);
            metadata.pipeline(name)
                    .filter(r -> r.desiredState() == DesiredState.RUNNING)
                    .ifPresent(this::resume);
        }
    }

    /**
     * The pipelines that read or write a topic ({@code stream.<topic>}) or lake table ({@code lake.<ns>.<table>}), as
     * their last plan named them; a pipeline whose plan was not known counts when its SQL names the table at all.
     */
    public List<String> usersOf(String table) {
        String bare = table.substring(table.indexOf('.') + 1).toLowerCase(Locale.ROOT);
        return metadata.pipelines().stream()
                .filter(p -> metadata.pipelineTables(p.name())
                        .map(tables -> tables.contains(table))
                        .orElseGet(() -> p.sql()
                                .replace("`", "")
                                .toLowerCase(Locale.ROOT)
                                .contains(bare)))
                .map(PipelineRecord::name)
                .toList();
    }

    /**
     * After a topic got new columns: restarts, in the background, the running pipelines that read it — each stopped
     * with a savepoint and started from it — so that they read the new columns and types without a manual restart. A
     * pipeline whose SQL no longer plans with them (a widened column into a narrower lake column) or whose state does
     * not fit stays stopped at its savepoint, and the log says why. Views' pipelines read them from their next start.
     */
    public void restartReadersLater(String topic) {
        if (restarts.isShutdown()) {
            return; // Tarn is stopping: its readers read the new columns from the next start
        }
        restarts.execute(() -> {
            try {
                restartReaders(topic);
            } catch (RuntimeException e) {
                LOG.warn("Readers of topic {} could not be restarted: {}", topic, TarnException.rootMessage(e));
            }
        });
    }

    private synchronized void restartReaders(String topic) {
        Set<String> views = new HashSet<>();
        metadata.views().forEach(v -> views.add(v.pipeline()));
        for (String name : usersOf(STREAM_PREFIX + topic)) {
            Optional<PipelineRecord> record = metadata.pipeline(name);
            if (record.isEmpty()
                    || views.contains(name)
                    || record.get().desiredState() != DesiredState.RUNNING
                    || metadata.pipelineWrittenTopics(name).contains(topic)
                    || status(record.get(), true).state() != PipelineState.RUNNING) {
                continue;
            }
            try {
                stop(name);
            } catch (TarnException e) {
                LOG.warn("Pipeline {} keeps reading topic {} as before: {}", name, topic, e.getMessage());
                continue;
            }
            try {
                start(name, Optional.empty());
                LOG.info("Pipeline {} restarted from a savepoint to read topic {}'s new columns", name, topic);
            } catch (TarnException e) {
                LOG.warn(
                        "Pipeline {} stays stopped at its savepoint: it cannot start with topic {}'s new columns: {}",
                        name,
                        topic,
                        e.getMessage());
            }
        }
    }

    /** What a swap of two lake tables did to the pipelines that use them. */
    public record Swap(List<String> restarted, Map<String, String> leftStopped) {
        public Swap {
            restarted = List.copyOf(restarted);
            leftStopped = Map.copyOf(leftStopped);
        }
    }

    /**
     * Exchanges two lake tables' data ({@link LakeCatalog#swap}) — the Kappa move after a pipeline's new version
     * reprocessed its topics into a table of its own — with the pipelines that use either table stopped meanwhile
     * (with savepoints). Each pipeline's SQL then names the other table wherever it named one of them, so that it goes
     * on with the data it wrote; Flink's parser checks that the tables each creates and writes are exactly the
     * exchanged ones, or the swap is undone. The pipelines that were running start again from their savepoints.
     *
     * @throws TarnException {@link ErrorCode#TABLE_NOT_FOUND}; {@link ErrorCode#INVALID_REQUEST} for one table twice or
     *     SQL whose tables cannot be exchanged so (nothing changes)
     */
    private static final ObjectMapper LINEAGE_JSON = new ObjectMapper();

    /** A submission's lineage as the metadata store keeps it. */
    private static Optional<String> lineageJson(PipelineJobs.Submission submission) {
        return submission.lineage().map(lineage -> {
            try {
                return LINEAGE_JSON.writeValueAsString(lineage);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("a lineage that Jackson cannot write", e);
            }
        });
    }

    /** Tarn's audit pipeline may be stopped and started, and is neither changed nor deleted. */
    private static void requireNotAudit(String pipeline, String what) {
        if (pipeline.equals(AuditNames.PIPELINE)) {
            throw AuditNames.refused(
                    "pipeline '%s' lands the audit log in lake.%s and is not %s (audit.lake=false stops making it)"
                            .formatted(pipeline, AuditNames.TABLE, what));
        }
    }

    public synchronized Swap swapTables(String first, String second) {
        for (String table : List.of(first, second)) {
            if (LakeCatalog.identifier(table).toString().equals(AuditNames.TABLE)) {
                throw AuditNames.refused("lake table %s is not swapped".formatted(AuditNames.TABLE));
            }
        }
        if (first.equalsIgnoreCase(second)) {
            throw new TarnException(ErrorCode.INVALID_REQUEST, "a table cannot be swapped with itself");
        }
        lake.load(first);
        lake.load(second);
        Map<String, String> renames = Map.of(first, second, second, first);
        Set<String> users = new TreeSet<>(usersOf("lake." + first));
        users.addAll(usersOf("lake." + second));
        for (PipelineRecord record : metadata.pipelines()) {
            if (!SqlScript.renameTables(record.sql(), LakeCatalog.NAME, renames).equals(record.sql())) {
                users.add(record.name());
            }
        }
        Map<String, String> sql = new TreeMap<>();
        Map<String, Set<String>> expected = new TreeMap<>();
        for (String name : users) {
            PipelineRecord record = load(name);
            String renamed = SqlScript.renameTables(record.sql(), LakeCatalog.NAME, renames);
            if (!renamed.equals(record.sql())) {
                sql.put(name, renamed);
                Set<String> written = new HashSet<>();
                compute.pipelines()
                        .lakeTablesWritten(
                                new PipelineSpec(name, record.sql(), record.onError()), topics.streamTables())
                        .forEach(t -> written.add(renames.getOrDefault(t, t)));
                expected.put(name, written);
            }
        }
        List<String> stopped = new ArrayList<>();
        for (String name : users) {
            if (load(name).desiredState() == DesiredState.RUNNING) {
                stop(name);
                stopped.add(name);
            }
        }
        try {
            lake.swap(first, second);
            try {
                for (Map.Entry<String, String> change : sql.entrySet()) {
                    PipelineRecord record = load(change.getKey());
                    Set<String> written = compute.pipelines()
                            .lakeTablesWritten(
                                    new PipelineSpec(record.name(), change.getValue(), record.onError()),
                                    topics.streamTables());
                    if (!written.equals(expected.get(record.name()))) {
                        throw new TarnException(
                                ErrorCode.INVALID_REQUEST,
                                ("pipeline '%s' names the tables in a way Tarn cannot exchange (it would write %s"
                                                + " instead of %s); name them as lake.<namespace>.<table>")
                                        .formatted(record.name(), written, expected.get(record.name())));
                    }
                }
            } catch (RuntimeException e) {
                lake.swap(first, second); // back
                throw e;
            }
        } catch (RuntimeException e) {
            stopped.forEach(this::startQuietly);
            throw e;
        }
        sql.forEach((name, renamed) -> metadata.putPipeline(load(name).withSql(renamed)));
        LOG.info("Lake tables {} and {} swapped; pipelines using them: {}", first, second, users);
        List<String> restarted = new ArrayList<>();
        Map<String, String> leftStopped = new TreeMap<>();
        for (String name : stopped) {
            try {
                start(name, Optional.empty());
                restarted.add(name);
            } catch (TarnException e) {
                leftStopped.put(name, e.getMessage());
                LOG.warn("Pipeline {} stays stopped after the swap: {}", name, e.getMessage());
            }
        }
        return new Swap(restarted, leftStopped);
    }

    private void startQuietly(String name) {
        try {
            start(name, Optional.empty());
        } catch (TarnException e) {
            LOG.warn("Pipeline {} stays stopped: {}", name, e.getMessage());
        }
    }

    /**
     * Stops pipelines whose topic or table is gone: their jobs are cancelled and they are FAILED with the reason.
     */
    public synchronized void fail(List<String> names, String reason) {
        for (String name : names) {
            metadata.pipeline(name).ifPresent(record -> {
                settle(record);
                record.jobId().filter(submittedJobs::contains).ifPresent(job -> {
                    cancelQuietly(job);
                    submittedJobs.remove(job); // its state is the failure now, not Flink's CANCELED
                    ended(record, job, RunListener.Outcome.FAIL, Optional.of(reason));
                });
                paused.remove(name);
                metadata.putPipeline(record.failed(reason));
                LOG.warn("Pipeline {} failed: {}", name, reason);
            });
        }
    }

    /**
     * Fails running pipelines that read or write a topic which no longer exists (deleted behind Tarn's back), instead
     * of letting their Kafka clients retry it forever.
     *
     * @param topics the topics that exist
     */
    public void failWhereTopicsAreMissing(Set<String> topics) {
        for (PipelineRecord record : metadata.pipelines()) {
            if (record.desiredState() != DesiredState.RUNNING
                    || record.lastError().isPresent()) {
                continue;
            }
            metadata.pipelineTables(record.name())
                    .flatMap(tables -> tables.stream()
                            .filter(t -> t.startsWith(STREAM_PREFIX))
                            .map(t -> t.substring(STREAM_PREFIX.length()))
                            .filter(t -> !topics.contains(t))
                            .findFirst())
                    .ifPresent(missing -> fail(
                            List.of(record.name()),
                            "its topic '%s' no longer exists; re-create the topic and start the pipeline"
                                    .formatted(missing)));
        }
    }

    /**
     * Before Tarn stops: cancels the jobs of running pipelines, which resume from their newest retained checkpoints at
     * the next start (as after a crash). A job left running would fail noisily when its cluster goes away.
     */
    public synchronized void suspendAll() {
        restarts.shutdownNow();
        int cancelled = 0;
        for (PipelineRecord record : metadata.pipelines()) {
            if (record.desiredState() == DesiredState.RUNNING
                    && record.jobId().filter(submittedJobs::contains).isPresent()) {
                settle(record);
                cancelQuietly(record.jobId().get());
                cancelled++;
            }
        }
        if (cancelled > 0) {
            LOG.info(
                    "{} pipeline jobs cancelled for the stop; they resume from their checkpoints at the next start",
                    cancelled);
        }
    }

    /**
     * Looks at the jobs of running pipelines, so that what they count is stored while they run (and survives a crash
     * of Tarn but for the last seconds).
     */
    public void observeRunning() {
        for (PipelineRecord record : metadata.pipelines()) {
            if (record.desiredState() == DesiredState.RUNNING) {
                status(record);
            }
        }
    }

    /** Looks at a pipeline's job one last time before it ends, and stores what it counted. */
    private void settle(PipelineRecord record) {
        record.jobId().filter(submittedJobs::contains).ifPresent(job -> {
            try {
                compute.jobs().status(job).ifPresent(s -> counters.observe(record.name(), job, s, true));
            } catch (TarnException e) {
                LOG.debug("The counters of Flink job {} could not be read: {}", job, e.getMessage());
            }
        });
    }

    /** Deletes checkpoints of earlier runs once the current run has one of its own. */
    public void pruneCheckpoints() {
        for (PipelineRecord record : metadata.pipelines()) {
            record.jobId().ifPresent(job -> {
                if (compute.state().latestRetainedCheckpoint(record.name(), job).isPresent()) {
                    compute.state().pruneCheckpoints(record.name(), job);
                }
            });
        }
    }

    /**
     * Resumes a pipeline that should be running from its resume point; if that fails, it is FAILED with why. On a
     * session cluster its last job may still be running (Tarn was killed, the cluster was not): Tarn goes on with it,
     * and cancels any other job of the pipeline (one submitted just before the kill, before it was recorded).
     */
    private void resume(PipelineRecord record) {
        try {
            List<String> active = compute.jobs().activeJobs(record.name());
            Optional<String> running = record.jobId().filter(active::contains);
            for (String job : active) {
                if (running.isEmpty() || !running.get().equals(job)) {
                    LOG.warn("Pipeline {}: cancelling Flink job {}, which Tarn did not record", record.name(), job);
                    compute.jobs().cancel(job);
                }
            }
            if (running.isPresent()) {
                submittedJobs.add(running.get());
                LOG.info(
                        "Pipeline {} goes on with Flink job {}, still running on the cluster",
                        record.name(),
                        running.get());
                return;
            }
            Optional<String> from = resumePoint(record);
            from.ifPresent(location -> checkRestorePoint(record.name(), location));
            submit(record, from);
        } catch (TarnException e) {
            LOG.error("Pipeline {} could not be resumed: {}", record.name(), e.getMessage());
            metadata.putPipeline(record.failed(e.getMessage()));
        }
    }

    private PipelineRecord submit(PipelineRecord record, Optional<String> from) {
        PipelineJobs.Submission submission = compute.pipelines().submit(record.spec(), topics.streamTables(), from);
        String jobId = submission.jobId();
        submittedJobs.add(jobId);
        PipelineRecord running = record.running(jobId, from);
        metadata.transaction(() -> {
            metadata.putPipelineTables(record.name(), submission.tables(), submission.writtenTopics());
            metadata.putPipelineLineage(record.name(), lineageJson(submission));
            metadata.addPipelineJob(record.name(), jobId);
            metadata.putPipeline(running);
        });
        runs.started(record.name(), jobId, record.sql(), submission.lineage());
        return running;
    }

    private Optional<String> resumePoint(PipelineRecord record) {
        return record.jobId()
                .flatMap(job -> compute.state().latestRetainedCheckpoint(record.name(), job))
                .or(record::restoredFrom);
    }

    private void cancelQuietly(String jobId) {
        try {
            compute.jobs().cancel(jobId);
        } catch (TarnException e) {
            LOG.warn("Flink job {} could not be cancelled: {}", jobId, e.getMessage());
        }
    }

    private PipelineRecord load(String name) {
        return metadata.pipeline(name)
                .orElseThrow(() -> new TarnException(
                        ErrorCode.PIPELINE_NOT_FOUND, "pipeline '%s' does not exist".formatted(name)));
    }

    /**
     * Where a pipeline is, and what all its runs counted: records in and out add up over its runs (Flink's own counters
     * start at zero in each), and its last checkpoint is that of its newest run that completed one.
     */
    private PipelineStatus status(PipelineRecord record) {
        return status(record, false);
    }

    /**
     * The dead letters a pipeline committed, from its dead-letter table's metadata (none before its first commit), as
     * last read at most a second ago: a listing of many pipelines, polled, loads each table once a second at most.
     */
    private long deadLetters(String pipeline) {
        long now = System.nanoTime();
        long[] seen = deadLetterCounts.get(pipeline);
        if (seen != null && now - seen[1] < TimeUnit.SECONDS.toNanos(1)) {
            return seen[0];
        }
        long count;
        try {
            Snapshot current = lake.load(DeadLetters.table(pipeline)).currentSnapshot();
            count = current == null
                    ? 0
                    : Long.parseLong(current.summary().getOrDefault(SnapshotSummary.TOTAL_RECORDS_PROP, "0"));
        } catch (TarnException e) {
            if (e.code() != ErrorCode.TABLE_NOT_FOUND) {
                throw e;
            }
            count = 0;
        }
        deadLetterCounts.put(pipeline, new long[] {count, now});
        return count;
    }

    /** @param fresh whether to look at the job now rather than take a look of the last second */
    private PipelineStatus status(PipelineRecord record, boolean fresh) {
        PipelineSpec spec = record.spec();
        Optional<String> liveJob = record.jobId().filter(submittedJobs::contains);
        Optional<JobControl.JobStatus> job =
                liveJob.flatMap(fresh ? compute.jobs()::status : compute.jobs()::recentStatus);
        job.ifPresent(s -> counters.observe(record.name(), liveJob.get(), s, false));
        List<JobCounters> runs = counters.runs(record.name());
        long recordsIn = runs.stream().mapToLong(JobCounters::recordsIn).sum();
        long recordsOut = runs.stream().mapToLong(JobCounters::recordsOut).sum();
        Optional<PipelineStatus.Checkpoint> newestOfRuns = runs.stream()
                .filter(r -> r.checkpointId().isPresent())
                .max(Comparator.comparingLong(JobCounters::checkpointAt))
                .map(r ->
                        new PipelineStatus.Checkpoint(r.checkpointId().get(), Instant.ofEpochMilli(r.checkpointAt())));
        Optional<String> savepoint =
                record.desiredState() == DesiredState.STOPPED ? record.savepoint() : Optional.empty();
        long deadLetters = spec.onError() == PipelineSpec.OnError.DEAD_LETTER ? deadLetters(record.name()) : 0;
        Map<String, Long> ruleCounts = new TreeMap<>();
        runs.forEach(r -> r.ruleCounts().forEach((rule, count) -> ruleCounts.merge(rule, count, Long::sum)));
        PipelineState state;
        Optional<PipelineStatus.Checkpoint> checkpoint = newestOfRuns;
        long restarts = 0;
        Optional<String> lastError = record.lastError();
        String pause = paused.get(record.name());
        if (record.desiredState() == DesiredState.STOPPED) {
            state = PipelineState.STOPPED;
        } else if (pause != null) {
            state = PipelineState.PAUSED;
            lastError = Optional.of("paused: " + pause);
        } else if (job.isEmpty()) {
            state = record.lastError().isPresent() ? PipelineState.FAILED : PipelineState.STARTING;
        } else {
            JobControl.JobStatus s = job.get();
            state = s.state();
            if (state == PipelineState.FAILED) {
                ended(record, liveJob.get(), RunListener.Outcome.FAIL, s.lastError());
            } else if (state == PipelineState.FINISHED) {
                ended(record, liveJob.get(), RunListener.Outcome.COMPLETE, Optional.empty());
            }
            checkpoint = s.lastCheckpoint().or(() -> newestOfRuns);
            restarts = s.restarts();
            lastError = s.lastError().or(record::lastError);
        }
        return new PipelineStatus(
                spec,
                state,
                record.jobId(),
                checkpoint,
                recordsIn,
                recordsOut,
                restarts,
                lastError,
                savepoint,
                deadLetters,
                ruleCounts,
                retentionWatch.warnings(record.name()));
    }
}
