package io.tarn.compute;

import static java.util.Objects.requireNonNull;

import io.tarn.compute.lake.LakeCatalogFactory;
import io.tarn.core.config.ConfigKeys;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.io.Directories;
import io.tarn.core.pipeline.PipelineSpec;
import io.tarn.core.pipeline.PipelineState;
import io.tarn.core.query.QueryResult;
import io.tarn.core.sql.SqlScript;
import io.tarn.core.topic.TopicSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.checkpoint.Checkpoints;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.SqlParserException;
import org.apache.flink.table.api.StatementSet;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.TableException;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.api.internal.TableEnvironmentInternal;
import org.apache.flink.table.catalog.ObjectIdentifier;
import org.apache.flink.table.catalog.exceptions.DatabaseAlreadyExistException;
import org.apache.flink.table.catalog.exceptions.TableAlreadyExistException;
import org.apache.flink.table.delegation.Parser;
import org.apache.flink.table.operations.Operation;
import org.apache.flink.table.operations.command.SetOperation;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs pipelines and batch queries on a Flink cluster reached through its REST endpoint (the embedded MiniCluster or
 * a session cluster).
 *
 * <p>Each submission builds a fresh {@link TableEnvironment} in which {@code lake} is the Iceberg catalog and every
 * topic is a table {@code stream.<topic>}; the pipeline's DDL runs first, then all its {@code INSERT}s are submitted as
 * one job — or, when the plan of its one INSERT only copies columns of a topic into a lake table, as a
 * {@link LandingJob}: the same operators and state without the planner's row conversion. Jobs retain their checkpoints
 * on cancellation and on crashes, in a directory per pipeline, so a pipeline resumes from its latest checkpoint after
 * a restart of Tarn. The Iceberg v2 sink is always used: the v1 sink lost
 * committed files on bounded Kafka sources (pitfall 1).
 */
public final class FlinkCompute {
    private static final Logger LOG = LoggerFactory.getLogger(FlinkCompute.class);
    private static final Pattern CHECKPOINT_DIR = Pattern.compile("chk-(\\d+)");
    private static final com.fasterxml.jackson.databind.ObjectMapper PLAN_JSON =
            new com.fasterxml.jackson.databind.ObjectMapper();
    /** The name queries go by in messages. */
    private static final String QUERY = "query";
    /** Cancels batch queries that run past their time limit. */
    private static final ScheduledExecutorService TIMEOUTS = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "tarn-query-timeouts");
        thread.setDaemon(true);
        return thread;
    });

    private final FlinkAccess access;
    private final FlinkRest rest;
    private final ComputeSettings settings;
    private final Map<String, String> lakeCatalog;
    private final String bootstrapServers;

    public FlinkCompute(
            FlinkAccess access, ComputeSettings settings, Map<String, String> lakeCatalog, String bootstrapServers) {
        this.access = requireNonNull(access, "access is null");
        this.rest = new FlinkRest(access);
        this.settings = requireNonNull(settings, "settings is null");
        this.lakeCatalog = Map.copyOf(requireNonNull(lakeCatalog, "lakeCatalog is null"));
        this.bootstrapServers = requireNonNull(bootstrapServers, "bootstrapServers is null");
    }

    /**
     * Validates a pipeline's SQL and submits it as one Flink job.
     *
     * @param topics every topic, to be declared as {@code stream.<topic>}
     * @param restorePath checkpoint or savepoint to resume from
     * @return the Flink job and the tables it uses
     * @throws TarnException {@link ErrorCode#INVALID_SQL} with Flink's reason when a statement does not parse, names an
     *     unknown table or column, or is not allowed in a pipeline; {@link ErrorCode#PIPELINE_SUBMISSION_FAILED} when
     *     Flink does not accept the job
     */
    public Submission submit(PipelineSpec spec, Collection<TopicSpec> topics, Optional<String> restorePath) {
        Prepared prepared = prepare(spec, topics, restorePath);
        String jobId;
        try {
            Optional<String> landed = submitLanding(spec, topics, restorePath, prepared);
            if (landed.isPresent()) {
                return new Submission(landed.get(), tablesUsed(spec.name(), prepared.set()));
            }
            TableResult result = sqlCall(spec.name(), 0, prepared.set()::execute);
            jobId = result.getJobClient()
                    .orElseThrow(() -> new TarnException(
                            ErrorCode.PIPELINE_SUBMISSION_FAILED, "Flink returned no job for pipeline " + spec.name()))
                    .getJobID()
                    .toHexString();
        } catch (RuntimeException e) {
            prepared.created().dropAll();
            throw e;
        }
        LOG.info(
                "Pipeline {} submitted as Flink job {}{}",
                spec.name(),
                jobId,
                restorePath.map(p -> " restoring " + p).orElse(""));
        return new Submission(jobId, tablesUsed(spec.name(), prepared.set()));
    }

    /**
     * A pipeline's job in the cluster.
     *
     * @param tables the topics ({@code stream.<topic>}) and lake tables ({@code lake.<namespace>.<table>}) it reads or
     *     writes, as its compiled plan names them; empty when Flink cannot compile its plan
     */
    public record Submission(String jobId, Optional<Set<String>> tables) {
        public Submission {
            requireNonNull(jobId, "jobId is null");
            tables = tables.map(Set::copyOf);
        }
    }

    private static Optional<Set<String>> tablesUsed(String pipeline, StatementSet set) {
        try {
            Set<String> names = new TreeSet<>();
            collectTables(PLAN_JSON.readTree(set.compilePlan().asJsonString()), names);
            return Optional.of(names);
        } catch (IOException | RuntimeException e) {
            LOG.info(
                    "Pipeline {}: Flink cannot compile its plan ({}); the topics and tables it uses are taken from its"
                            + " SQL text",
                    pipeline,
                    TarnException.rootMessage(e).lines().findFirst().orElse(""));
            return Optional.empty();
        }
    }

    private static void collectTables(com.fasterxml.jackson.databind.JsonNode node, Set<String> names) {
        if (node.isObject() && node.path("table").has("identifier")) {
            ObjectIdentifier id = LandingJob.identifier(node.path("table"));
            if (id.getCatalogName().equals(PipelineSqlRules.LAKE_CATALOG)) {
                names.add("lake." + id.getDatabaseName() + "." + id.getObjectName());
            } else if (id.getCatalogName().equals(PipelineSqlRules.DEFAULT_CATALOG)
                    && id.getDatabaseName().equals(StreamTables.DATABASE)) {
                names.add(StreamTables.DATABASE + "." + id.getObjectName());
            }
        }
        node.forEach(child -> collectTables(child, names));
    }

    /**
     * Submits a pipeline that only lands columns of a topic in a lake table as a {@link LandingJob}.
     *
     * @return its job id, or empty if it is not such a pipeline (or landing jobs are off)
     */
    private Optional<String> submitLanding(
            PipelineSpec spec, Collection<TopicSpec> topics, Optional<String> restorePath, Prepared prepared) {
        if (!settings.landingJobs() || !settings.lakeWriterThread()) {
            return Optional.empty();
        }
        LandingJob.Plan plan = prepared.plannerOnly() || prepared.inserts() != 1
                ? LandingJob.Plan.refused("it has SET statements, hints or several INSERTs")
                : LandingJob.plan(prepared.env(), prepared.set(), topics);
        if (plan.job().isEmpty()) {
            LOG.info("Pipeline {} runs as Flink plans its SQL: {}", spec.name(), plan.reason());
            return Optional.empty();
        }
        // submitted to the cluster named by execution.target and rest.address, as the table environment's jobs are
        StreamExecutionEnvironment job = new StreamExecutionEnvironment(Configuration.fromMap(
                jobConfig(RuntimeExecutionMode.STREAMING, pipelineConfig(spec.name(), restorePath))));
        boolean added;
        try {
            added = plan.job().get().addTo(job);
        } catch (RuntimeException e) {
            LOG.warn(
                    "Pipeline {}: its landing job could not be built, so it runs as Flink plans its SQL",
                    spec.name(),
                    e);
            return Optional.empty();
        }
        if (!added) {
            LOG.info("Pipeline {} runs as Flink plans its SQL: its lake table's sink needs the planner", spec.name());
            return Optional.empty();
        }
        String jobId;
        try {
            jobId = job.executeAsync("tarn:" + spec.name()).getJobID().toHexString();
        } catch (Exception e) {
            throw new TarnException(
                    ErrorCode.PIPELINE_SUBMISSION_FAILED,
                    "pipeline '%s' could not be submitted to Flink: %s"
                            .formatted(spec.name(), TarnException.rootMessage(e)),
                    e);
        }
        LOG.info(
                "Pipeline {} submitted as Flink landing job {} ({}){}",
                spec.name(),
                jobId,
                plan.reason(),
                restorePath.map(p -> " restoring " + p).orElse(""));
        return Optional.of(jobId);
    }

    /**
     * Validates a pipeline's SQL as {@link #submit} does, without submitting it. Its DDL does run (pipelines' lake DDL
     * is idempotent), so that its INSERTs can be checked against the tables.
     *
     * @throws TarnException {@link ErrorCode#INVALID_SQL} as {@link #submit}
     */
    public void validate(PipelineSpec spec, Collection<TopicSpec> topics) {
        Prepared prepared = prepare(spec, topics, Optional.empty());
        try {
            sqlCall(spec.name(), 0, prepared.set()::explain);
        } catch (RuntimeException e) {
            prepared.created().dropAll();
            throw e;
        }
    }

    /**
     * A pipeline's SQL made ready for submission in a table environment of its own.
     *
     * @param plannerOnly whether it has SET statements or hints, which only Flink's planner applies
     * @param created lake databases and tables its DDL created, to drop again if the pipeline is refused
     */
    private record Prepared(
            TableEnvironment env, StatementSet set, int inserts, boolean plannerOnly, LakeDdl created) {}

    /**
     * Parses each statement with Flink's parser, lets {@link PipelineSqlRules} decide on what it is, runs the DDL and
     * collects the INSERTs. Lake databases and tables it created are dropped again if a later statement is refused.
     */
    private Prepared prepare(PipelineSpec spec, Collection<TopicSpec> topics, Optional<String> restorePath) {
        List<String> statements = SqlScript.split(spec.sql());
        TableEnvironment env = environment(RuntimeExecutionMode.STREAMING, pipelineConfig(spec.name(), restorePath));
        declareCatalogs(env, topics, spec.name(), false);
        Parser parser = ((TableEnvironmentInternal) env).getParser();
        StatementSet set = env.createStatementSet();
        LakeDdl created = new LakeDdl(env, spec.name());
        int inserts = 0;
        boolean plannerOnly = false;
        try {
            for (int i = 0; i < statements.size(); i++) {
                int number = i + 1;
                String written = statements.get(i);
                String statement = SqlScript.quoteQualifier(written, StreamTables.DATABASE);
                List<Operation> operations = sqlCall(spec.name(), number, () -> parser.parse(statement));
                for (Operation operation : operations) {
                    PipelineSqlRules.Kind kind =
                            settings.sqlRules().check(spec.name(), number, SqlScript.stripComments(written), operation);
                    if (kind != PipelineSqlRules.Kind.INSERT && inserts > 0) {
                        throw new TarnException(
                                ErrorCode.INVALID_SQL,
                                "pipeline '%s': CREATE and SET statements must come before the INSERT statements"
                                        .formatted(spec.name()));
                    }
                    switch (kind) {
                        case SETUP -> created.run(operation, () -> executeSetup(env, spec.name(), number, operation));
                        case SET -> {
                            applyOption(env, spec.name(), (SetOperation) operation);
                            plannerOnly = true;
                        }
                        case INSERT -> {
                            sqlCall(spec.name(), number, () -> set.addInsertSql(statement));
                            plannerOnly |= statement.contains("/*+");
                            inserts++;
                        }
                    }
                }
            }
            if (inserts == 0) {
                throw new TarnException(
                        ErrorCode.INVALID_SQL, "pipeline '%s' has no INSERT INTO statement".formatted(spec.name()));
            }
        } catch (RuntimeException e) {
            created.dropAll();
            throw e;
        }
        return new Prepared(env, set, inserts, plannerOnly, created);
    }

    /** Flink's TableEnvironment runs no SET (that is its SQL client's): the option goes into the table config. */
    private static void applyOption(TableEnvironment env, String pipeline, SetOperation set) {
        try {
            env.getConfig()
                    .getConfiguration()
                    .setString(set.getKey().orElseThrow(), set.getValue().orElseThrow());
        } catch (IllegalArgumentException e) {
            throw new TarnException(ErrorCode.INVALID_SQL, "pipeline '%s': %s".formatted(pipeline, e.getMessage()), e);
        }
    }

    /** Runs an allowed DDL operation (the one checked, not the statement parsed again). */
    private static void executeSetup(TableEnvironment env, String pipeline, int number, Operation operation) {
        try {
            ((TableEnvironmentInternal) env).executeInternal(operation);
        } catch (ValidationException e) {
            if (isAlreadyExists(e)) {
                // Lake DDL is idempotent: a pipeline re-runs its DDL on every start and resume.
                LOG.debug("Pipeline {}: {} already exists, kept", pipeline, TarnException.rootMessage(e));
                return;
            }
            throw invalidSql(pipeline, number, e);
        } catch (SqlParserException | TableException e) {
            throw invalidSql(pipeline, number, e);
        }
    }

    private static boolean isAlreadyExists(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof TableAlreadyExistException || t instanceof DatabaseAlreadyExistException) {
                return true;
            }
        }
        return false;
    }

    /**
     * Calls Flink with a statement of a pipeline (or a query), turning its refusals into Tarn's errors.
     *
     * @param number the statement's number in the pipeline, 0 for a whole submission or a query
     */
    private static <T> T sqlCall(String pipeline, int number, java.util.function.Supplier<T> call) {
        try {
            return call.get();
        } catch (ValidationException | SqlParserException e) {
            throw invalidSql(pipeline, number, e);
        } catch (IllegalArgumentException e) {
            // Flink's parser: "only single statement supported"
            throw new TarnException(
                    ErrorCode.INVALID_SQL,
                    "%s: %s".formatted(where(pipeline, number), abbreviate(TarnException.rootMessage(e))),
                    e);
        } catch (TableException e) {
            if (e.getMessage() != null && e.getMessage().startsWith("Failed to execute sql")) {
                throw new TarnException(
                        ErrorCode.PIPELINE_SUBMISSION_FAILED,
                        "pipeline '%s' could not be submitted to Flink: %s"
                                .formatted(pipeline, TarnException.rootMessage(e)),
                        e);
            }
            throw invalidSql(pipeline, number, e);
        }
    }

    private static TarnException invalidSql(String pipeline, int number, RuntimeException e) {
        String message = e.getMessage() == null ? TarnException.rootMessage(e) : e.getMessage();
        if (e.getCause() != null && message.startsWith("SQL validation failed")) {
            message = TarnException.rootMessage(e);
        }
        return new TarnException(
                ErrorCode.INVALID_SQL, "%s: %s".formatted(where(pipeline, number), abbreviate(message)), e);
    }

    private static String where(String pipeline, int number) {
        if (pipeline.equals(QUERY)) {
            return "query";
        }
        return number == 0
                ? "pipeline '%s'".formatted(pipeline)
                : "pipeline '%s': statement %d".formatted(pipeline, number);
    }

    private Map<String, String> pipelineConfig(String pipeline, Optional<String> restorePath) {
        Map<String, String> config = new HashMap<>();
        config.put("pipeline.name", "tarn:" + pipeline);
        config.put("parallelism.default", String.valueOf(settings.parallelism()));
        config.put(
                "execution.checkpointing.interval",
                settings.checkpointInterval().toMillis() + " ms");
        config.put("execution.checkpointing.mode", "EXACTLY_ONCE");
        config.put(
                "execution.checkpointing.dir",
                settings.checkpoints(pipeline).toUri().toString());
        config.put(
                "execution.checkpointing.savepoint-dir",
                settings.savepoints(pipeline).toUri().toString());
        config.put("execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION");
        config.put("execution.checkpointing.num-retained", String.valueOf(settings.retainedCheckpoints()));
        config.put("restart-strategy.type", "failure-rate");
        config.put(
                "restart-strategy.failure-rate.max-failures-per-interval",
                String.valueOf(settings.restartMaxFailures()));
        config.put(
                "restart-strategy.failure-rate.failure-rate-interval",
                settings.restartFailureInterval().toMillis() + " ms");
        config.put(
                "restart-strategy.failure-rate.delay", settings.restartDelay().toMillis() + " ms");
        config.put("table.exec.iceberg.use-v2-sink", "true");
        config.put("table.exec.source.idle-timeout", "10 s");
        config.put("pipeline.object-reuse", String.valueOf(settings.objectReuse()));
        config.put(LakeCatalogFactory.WRITER_THREAD.key(), String.valueOf(settings.lakeWriterThread()));
        restorePath.ifPresent(path -> config.put("execution.state-recovery.path", path));
        return config;
    }

    private TableEnvironment environment(RuntimeExecutionMode mode, Map<String, String> extra) {
        EnvironmentSettings settings = EnvironmentSettings.newInstance()
                .withConfiguration(Configuration.fromMap(jobConfig(mode, extra)))
                .build();
        return TableEnvironment.create(settings);
    }

    /** The configuration of a job submitted to the cluster. */
    private Map<String, String> jobConfig(RuntimeExecutionMode mode, Map<String, String> extra) {
        Map<String, String> config = new HashMap<>();
        config.put("execution.target", "remote");
        config.put("rest.address", access.restAddress().getHost());
        config.put("rest.port", String.valueOf(access.restAddress().getPort()));
        config.putAll(access.clientConfig());
        config.put("execution.runtime-mode", mode.name());
        // OPTIONS hints would let SQL change a table's connector options (its topic, servers, paths)
        config.put("table.dynamic-table-options.enabled", "false");
        config.putAll(extra);
        return config;
    }

    private void declareCatalogs(TableEnvironment env, Collection<TopicSpec> topics, String pipeline, boolean bounded) {
        String lakeOptions = lakeCatalog.entrySet().stream()
                .sorted(Map.Entry.comparingByKey())
                .map(e -> "'%s' = '%s'".formatted(e.getKey(), e.getValue().replace("'", "''")))
                .collect(Collectors.joining(", "));
        env.executeSql("CREATE CATALOG `%s` WITH ('type' = '%s', %s)"
                .formatted(PipelineSqlRules.LAKE_CATALOG, LakeCatalogFactory.IDENTIFIER, lakeOptions));
        env.executeSql("CREATE DATABASE IF NOT EXISTS `%s`.`%s`"
                .formatted(PipelineSqlRules.DEFAULT_CATALOG, StreamTables.DATABASE));
        for (TopicSpec topic : topics) {
            env.executeSql(StreamTables.ddl(topic, bootstrapServers, pipeline, bounded));
        }
    }

    /** The state of a job, or empty if the cluster does not know it (e.g. after a restart of Tarn). */
    public Optional<JobStatus> status(String jobId) {
        return rest.job(jobId)
                .map(view -> new JobStatus(
                        state(view.state()),
                        view.recordsIn(),
                        view.recordsOut(),
                        view.restarts(),
                        view.lastCheckpoint()
                                .map(c -> new io.tarn.core.pipeline.PipelineStatus.Checkpoint(c.id(), c.completedAt())),
                        view.lastFailure()));
    }

    private static PipelineState state(String flinkState) {
        return switch (flinkState) {
            case "INITIALIZING", "CREATED", "RECONCILING" -> PipelineState.STARTING;
            case "RUNNING" -> PipelineState.RUNNING;
            case "RESTARTING", "FAILING", "SUSPENDED" -> PipelineState.RESTARTING;
            case "FAILED" -> PipelineState.FAILED;
            case "CANCELLING", "CANCELED" -> PipelineState.STOPPED;
            case "FINISHED" -> PipelineState.FINISHED;
            default -> throw new TarnException(ErrorCode.INTERNAL_ERROR, "unknown Flink job state " + flinkState);
        };
    }

    /**
     * Stops a pipeline's job with a savepoint.
     *
     * @return the savepoint's location, to resume from
     */
    public String stopWithSavepoint(String pipeline, String jobId) {
        String location = rest.stopWithSavepoint(
                jobId, settings.savepoints(pipeline).toUri().toString(), Duration.ofMinutes(5));
        awaitTerminal(jobId, Duration.ofMinutes(1));
        LOG.info("Pipeline {} stopped with savepoint {}", pipeline, location);
        return location;
    }

    /** Cancels a job and waits until it is gone; its retained checkpoints stay. */
    public void cancel(String jobId) {
        if (isTerminal(jobId)) {
            return; // finished, failed or already cancelled (e.g. paused): Flink would refuse and log an error
        }
        rest.cancel(jobId);
        awaitTerminal(jobId, Duration.ofMinutes(1));
    }

    private boolean isTerminal(String jobId) {
        Optional<String> state = rest.job(jobId).map(FlinkRest.JobView::state);
        return state.isEmpty() || List.of("FINISHED", "CANCELED", "FAILED").contains(state.get());
    }

    private void awaitTerminal(String jobId, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (isTerminal(jobId)) {
                return;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new TarnException(ErrorCode.COMPUTE_UNAVAILABLE, "interrupted while waiting for job " + jobId, e);
            }
        }
        throw new TarnException(
                ErrorCode.COMPUTE_UNAVAILABLE, "Flink job %s did not end within %s".formatted(jobId, timeout));
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
        Path directory = location.startsWith("file:") ? Path.of(URI.create(location)) : Path.of(location);
        java.util.regex.Matcher chk =
                CHECKPOINT_DIR.matcher(directory.getFileName().toString());
        if (chk.matches()) {
            return Long.parseLong(chk.group(1));
        }
        try (java.io.DataInputStream in = new java.io.DataInputStream(
                new java.io.BufferedInputStream(Files.newInputStream(directory.resolve("_metadata"))))) {
            return Checkpoints.loadCheckpointMetadata(in, FlinkCompute.class.getClassLoader(), location)
                    .getCheckpointId();
        } catch (IOException | RuntimeException e) {
            throw new TarnException(
                    ErrorCode.RESTORE_REFUSED,
                    "savepoint %s cannot be read: %s".formatted(directory.getFileName(), TarnException.rootMessage(e)),
                    e);
        }
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

    /**
     * What one Flink batch query may take.
     *
     * @param timeout how long it may run before its job is cancelled
     * @param maxResultBytes roughly how many bytes of values its answer may hold; later rows are cut off
     */
    public record QueryLimits(Duration timeout, long maxResultBytes) {
        public QueryLimits {
            requireNonNull(timeout, "timeout is null");
        }
    }

    /**
     * Runs a batch query with Flink (the reference engine): lake tables at their current snapshot, topics up to their
     * current end offsets. Flink's parser decides that it is one query; its job is cancelled at the time limit.
     *
     * @throws TarnException {@link ErrorCode#STATEMENT_NOT_ALLOWED} for anything but one SELECT,
     *     {@link ErrorCode#INVALID_SQL} when Flink refuses it, {@link ErrorCode#QUERY_TIMEOUT} past the time limit
     */
    public QueryResult query(String sql, Collection<TopicSpec> topics, int maxRows, QueryLimits limits) {
        String statement = SqlScript.quoteQualifier(sql, StreamTables.DATABASE);
        TableEnvironment env = environment(RuntimeExecutionMode.BATCH, Map.of("pipeline.name", "tarn:query"));
        declareCatalogs(env, topics, QUERY, true);
        List<Operation> operations;
        try {
            operations = sqlCall(
                    QUERY, 0, () -> ((TableEnvironmentInternal) env).getParser().parse(statement));
        } catch (TarnException e) {
            throw notFound(e).orElse(e);
        }
        PipelineSqlRules.checkQuery(operations.get(0));
        TableResult result =
                sqlCall(QUERY, 0, () -> ((TableEnvironmentInternal) env).executeInternal(operations.get(0)));
        List<String> columns = result.getResolvedSchema().getColumnNames();
        List<List<Object>> rows = new ArrayList<>();
        boolean truncated = false;
        AtomicBoolean timedOut = new AtomicBoolean();
        ScheduledFuture<?> watchdog = TIMEOUTS.schedule(
                () -> {
                    timedOut.set(true);
                    result.getJobClient().ifPresent(job -> job.cancel());
                },
                limits.timeout().toMillis(),
                TimeUnit.MILLISECONDS);
        try (CloseableIterator<Row> iterator = result.collect()) {
            long bytes = 0;
            while (iterator.hasNext()) {
                Row row = iterator.next();
                if (rows.size() == maxRows) {
                    truncated = true;
                    break;
                }
                List<Object> values = new ArrayList<>(row.getArity());
                for (int i = 0; i < row.getArity(); i++) {
                    Object value = jsonValue(row.getField(i));
                    bytes += QueryResult.approximateBytes(value);
                    values.add(value);
                }
                if (bytes > limits.maxResultBytes()) {
                    truncated = true;
                    break;
                }
                rows.add(values);
            }
        } catch (Exception e) {
            if (timedOut.get()) {
                throw new TarnException(
                        ErrorCode.QUERY_TIMEOUT,
                        "query ran longer than query.timeout (%s) and was cancelled"
                                .formatted(ConfigKeys.text(limits.timeout())),
                        e);
            }
            throw new TarnException(ErrorCode.QUERY_FAILED, "query failed: " + TarnException.rootMessage(e), e);
        } finally {
            watchdog.cancel(false);
        }
        return new QueryResult(columns, rows, truncated, "flink");
    }

    /** Calcite's message for a table its validator cannot find (SqlValidatorException, objectNotFound[Within]). */
    private static final Pattern OBJECT_NOT_FOUND = Pattern.compile("Object '([^']*)' not found(?: within '([^']*)')?");

    /**
     * A query's missing table as the DuckDB path reports it (404, the same name and message), rather than as invalid
     * SQL.
     */
    private static Optional<TarnException> notFound(TarnException e) {
        java.util.regex.Matcher matcher = OBJECT_NOT_FOUND.matcher(TarnException.rootMessage(e));
        if (!matcher.find()) {
            return Optional.empty();
        }
        String name = matcher.group(1);
        String within = matcher.group(2) == null ? "" : matcher.group(2);
        if (within.startsWith(PipelineSqlRules.LAKE_CATALOG + ".")) {
            return Optional.of(new TarnException(
                    ErrorCode.TABLE_NOT_FOUND,
                    "lake table '%s.%s' does not exist"
                            .formatted(within.substring(PipelineSqlRules.LAKE_CATALOG.length() + 1), name),
                    e));
        }
        if (within.equals(PipelineSqlRules.DEFAULT_CATALOG + "." + StreamTables.DATABASE)) {
            return Optional.of(
                    new TarnException(ErrorCode.TOPIC_NOT_FOUND, "topic '%s' does not exist".formatted(name), e));
        }
        return Optional.of(new TarnException(
                ErrorCode.TABLE_NOT_FOUND,
                "table '%s' does not exist (lake tables are named lake.<namespace>.<table>, topics stream.<topic>)"
                        .formatted(within.isEmpty() ? name : within + "." + name),
                e));
    }

    static Object jsonValue(Object value) {
        if (value == null || value instanceof String || value instanceof Boolean || value instanceof Number) {
            return value;
        }
        if (value instanceof java.time.LocalDateTime local) {
            return local.format(java.time.format.DateTimeFormatter.ISO_LOCAL_DATE_TIME);
        }
        if (value instanceof byte[] bytes) {
            return java.util.Base64.getEncoder().encodeToString(bytes);
        }
        if (value instanceof Object[] array) {
            List<Object> items = new ArrayList<>();
            for (Object item : array) {
                items.add(jsonValue(item));
            }
            return items;
        }
        if (value instanceof Row row) {
            List<Object> items = new ArrayList<>();
            for (int i = 0; i < row.getArity(); i++) {
                items.add(jsonValue(row.getField(i)));
            }
            return items;
        }
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> copy = new java.util.LinkedHashMap<>();
            map.forEach((k, v) -> copy.put(String.valueOf(k), jsonValue(v)));
            return copy;
        }
        return value.toString();
    }

    private static String abbreviate(String text) {
        String oneLine = text.strip();
        int expecting = oneLine.indexOf("\nWas expecting");
        if (expecting > 0) {
            oneLine = oneLine.substring(0, expecting).strip();
        }
        return oneLine.length() <= 600 ? oneLine : oneLine.substring(0, 597) + "...";
    }

    /**
     * A savepoint of a pipeline.
     *
     * @param name its directory's name, which users refer to it by
     */
    public record Savepoint(String name, String location, long checkpointId, java.time.Instant createdAt) {}

    /** What a pipeline's job is doing now. */
    public record JobStatus(
            PipelineState state,
            long recordsIn,
            long recordsOut,
            long restarts,
            Optional<io.tarn.core.pipeline.PipelineStatus.Checkpoint> lastCheckpoint,
            Optional<String> lastError) {}
}
