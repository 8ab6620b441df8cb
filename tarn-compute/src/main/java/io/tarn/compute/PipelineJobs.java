package io.tarn.compute;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tarn.compute.quality.QualitySql;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.pipeline.PipelineSpec;
import io.tarn.core.pipeline.QualityRule;
import io.tarn.core.pipeline.StartFrom;
import io.tarn.core.sql.SqlScript;
import io.tarn.core.sql.TableGuard;
import io.tarn.core.topic.TopicSpec;
import java.io.IOException;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.SqlParserException;
import org.apache.flink.table.api.StatementSet;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.TableException;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.api.internal.TableEnvironmentInternal;
import org.apache.flink.table.catalog.ObjectIdentifier;
import org.apache.flink.table.delegation.Parser;
import org.apache.flink.table.operations.Operation;
import org.apache.flink.table.operations.SinkModifyOperation;
import org.apache.flink.table.operations.command.SetOperation;
import org.apache.flink.table.operations.ddl.CreateDatabaseOperation;
import org.apache.flink.table.operations.ddl.CreateTableOperation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Validates pipelines' SQL and submits them as Flink jobs.
 *
 * <p>Each submission builds a fresh table environment ({@link JobSetup}); the pipeline's DDL runs first, then all its
 * {@code INSERT}s are submitted as one job — or, when the plan of its one INSERT only copies columns of a topic into a
 * lake table, as a {@link LandingJob}: the same operators and state without the planner's row conversion. Jobs retain
 * their checkpoints on cancellation and on crashes, in a directory per pipeline, so a pipeline resumes from its latest
 * checkpoint after a restart of Tarn. The Iceberg v2 sink is always used: the v1 sink lost committed files on bounded
 * Kafka sources (docs/architecture.md, "Lessons").
 */
public final class PipelineJobs {
    private static final Logger LOG = LoggerFactory.getLogger(PipelineJobs.class);
    private static final ObjectMapper PLAN_JSON = new ObjectMapper();
    /**
     * Flink's refusal of a restore whose state has no operator to go to: the JobManager's IllegalStateException, which
     * reaches a client of the REST API only as text in its error (no type to decide by).
     */
    private static final Pattern UNMAPPED_STATE =
            Pattern.compile("Cannot map checkpoint/savepoint state for operator (\\w+)");

    private final JobSetup setup;

    /** The Flink job name of a pipeline's jobs, by which Tarn finds them on a cluster. */
    static String jobName(String pipeline) {
        return "tarn:" + pipeline;
    }

    PipelineJobs(JobSetup setup) {
        this.setup = requireNonNull(setup, "setup is null");
    }

    /**
     * Validates a pipeline's SQL and submits it as one Flink job.
     *
     * @param topics every topic, to be declared as {@code stream.<topic>}
     * @param restorePath checkpoint or savepoint to resume from
     * @return the Flink job and the tables it uses
     * @throws TarnException {@link ErrorCode#INVALID_SQL} with Flink's reason when a statement does not parse, names an
     *     unknown table or column, or is not allowed in a pipeline; {@link ErrorCode#RESTORE_REFUSED} when the state
     *     at {@code restorePath} does not fit the pipeline's SQL; {@link ErrorCode#PIPELINE_SUBMISSION_FAILED} when
     *     Flink does not accept the job
     */
    public Submission submit(PipelineSpec spec, Collection<TopicSpec> topics, Optional<String> restorePath) {
        Prepared prepared = prepare(spec, topics, restorePath);
        String jobId;
        Optional<JsonNode> plan;
        try {
            // compiled before it runs (execute empties the statement set): what it reads and writes, down to columns;
            // planning makes every source and sink, so each table is checked (TableGuard) before a job runs
            plan = compiledPlan(spec.name(), prepared.set());
            if (plan.isEmpty() && TableGuard.active()) {
                SqlErrors.call(spec.name(), 0, prepared.set()::explain);
            }
            Optional<String> landed = submitLanding(spec, topics, restorePath, prepared);
            if (landed.isPresent()) {
                return new Submission(landed.get(), plan, prepared.sinkTopics());
            }
            TableResult result = SqlErrors.call(spec.name(), 0, prepared.set()::execute);
            jobId = result.getJobClient()
                    .orElseThrow(() -> new TarnException(
                            ErrorCode.PIPELINE_SUBMISSION_FAILED, "Flink returned no job for pipeline " + spec.name()))
                    .getJobID()
                    .toHexString();
        } catch (RuntimeException e) {
            prepared.created().dropAll();
            throw restorePath
                    .flatMap(path -> restoreRefused(spec.name(), path, e))
                    .orElseThrow(() -> e);
        }
        LOG.info(
                "Pipeline {} submitted as Flink job {}{}",
                spec.name(),
                jobId,
                restorePath.map(p -> " restoring " + p).orElse(""));
        return new Submission(jobId, plan, prepared.sinkTopics());
    }

    /** A refused submission as {@link ErrorCode#RESTORE_REFUSED} when Flink found no place for the restored state. */
    private static Optional<TarnException> restoreRefused(String pipeline, String restorePath, RuntimeException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            Matcher unmapped = UNMAPPED_STATE.matcher(String.valueOf(t.getMessage()));
            if (unmapped.find()) {
                return Optional.of(new TarnException(
                        ErrorCode.RESTORE_REFUSED,
                        ("pipeline '%s' cannot resume from %s: its state does not fit the pipeline's SQL (the state of"
                                        + " operator %s has no place in the changed job). It stays stopped there; change"
                                        + " the SQL back, or delete and re-create the pipeline to start over.")
                                .formatted(pipeline, PipelineStateFiles.name(restorePath), unmapped.group(1)),
                        e));
            }
        }
        return Optional.empty();
    }

    /**
     * A pipeline's job in the cluster.
     *
     * @param tables the topics ({@code stream.<topic>}) and lake tables ({@code lake.<namespace>.<table>}) it reads or
     *     writes, as its compiled plan names them; empty when Flink cannot compile its plan
     * @param writtenTopics the topics it writes (INSERT INTO {@code stream.<topic>})
     * @param lineage what it reads and writes down to columns, from its compiled plan; empty when Flink cannot compile
     *     it
     */
    public record Submission(
            String jobId, Optional<Set<String>> tables, Set<String> writtenTopics, Optional<PlanLineage> lineage) {
        public Submission {
            requireNonNull(jobId, "jobId is null");
            tables = tables.map(Set::copyOf);
            writtenTopics = Set.copyOf(writtenTopics);
            requireNonNull(lineage, "lineage is null");
        }

        private Submission(String jobId, Optional<JsonNode> plan, Set<String> writtenTopics) {
            this(jobId, plan.map(PipelineJobs::tables), writtenTopics, plan.flatMap(PipelineJobs::lineage));
        }
    }

    static Optional<Set<String>> tablesUsed(String pipeline, StatementSet set) {
        return compiledPlan(pipeline, set).map(PipelineJobs::tables);
    }

    private static Set<String> tables(JsonNode plan) {
        Set<String> names = new TreeSet<>();
        collectTables(plan, names);
        return names;
    }

    private static Optional<PlanLineage> lineage(JsonNode plan) {
        try {
            return Optional.of(PlanLineage.of(plan));
        } catch (RuntimeException e) { // a plan of a shape lineage cannot read: the pipeline runs, its lineage unknown
            LOG.info("A plan's lineage could not be read: {}", TarnException.rootMessage(e));
            return Optional.empty();
        }
    }

    /**
     * The job's compiled plan; empty when Flink cannot compile it (logged).
     *
     * @throws TarnException {@link ErrorCode#NOT_PERMITTED} for a table its principal may not use ({@link TableGuard})
     */
    private static Optional<JsonNode> compiledPlan(String pipeline, StatementSet set) {
        try {
            return Optional.of(PLAN_JSON.readTree(set.compilePlan().asJsonString()));
        } catch (IOException | RuntimeException e) {
            SqlErrors.notPermitted(e).ifPresent(refused -> {
                throw refused;
            });
            LOG.info(
                    "Pipeline {}: Flink cannot compile its plan ({}); the topics and tables it uses are taken from its"
                            + " SQL text",
                    pipeline,
                    TarnException.rootMessage(e).lines().findFirst().orElse(""));
            return Optional.empty();
        }
    }

    private static void collectTables(JsonNode node, Set<String> names) {
        if (node.isObject() && node.path("table").has("identifier")) {
            ObjectIdentifier id = LandingJob.identifier(node.path("table"));
            if (id.getCatalogName().equals(PipelineSqlRules.LAKE_CATALOG)) {
                names.add(PipelineSqlRules.LAKE_CATALOG + "." + id.getDatabaseName() + "." + id.getObjectName());
            } else if (id.getCatalogName().equals(PipelineSqlRules.DEFAULT_CATALOG)
                    && (id.getDatabaseName().equals(StreamTables.DATABASE)
                            || id.getDatabaseName().equals(StreamTables.RAW_DATABASE))) {
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
        ComputeSettings settings = setup.settings();
        if (!settings.landingJobs() || !settings.lakeWriterThread()) {
            return Optional.empty();
        }
        LandingJob.Plan plan = prepared.split()
                ? LandingJob.Plan.refused("it dead-letters bad records or checks quality rules")
                : spec.start().kind() != StartFrom.Kind.EARLIEST
                        // a seam says what a table holds of its topic from the topic's first record
                        ? LandingJob.Plan.refused("it starts after its topics' first records")
                        : prepared.plannerOnly() || prepared.inserts() != 1
                                ? LandingJob.Plan.refused("it has SET statements, hints or several INSERTs")
                                : LandingJob.plan(prepared.env(), prepared.set(), topics);
        if (plan.job().isEmpty()) {
            LOG.info("Pipeline {} runs as Flink plans its SQL: {}", spec.name(), plan.reason());
            return Optional.empty();
        }
        // submitted to the cluster named by execution.target and rest.address, as the table environment's jobs are
        StreamExecutionEnvironment job = new StreamExecutionEnvironment(Configuration.fromMap(
                setup.jobConfig(RuntimeExecutionMode.STREAMING, setup.pipelineConfig(spec.name(), restorePath))));
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
            jobId = job.executeAsync(jobName(spec.name())).getJobID().toHexString();
        } catch (Exception e) {
            throw SqlErrors.submissionFailed(spec.name(), e);
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
            SqlErrors.call(spec.name(), 0, prepared.set()::explain);
        } catch (RuntimeException e) {
            prepared.created().dropAll();
            throw e;
        }
    }

    /**
     * The lake tables ({@code ns.table}) a pipeline's SQL creates or inserts into, as Flink's parser resolves its
     * statements. Its DDL runs as in {@link #validate}.
     *
     * @throws TarnException {@link ErrorCode#INVALID_SQL} as {@link #submit}
     */
    public Set<String> lakeTablesWritten(PipelineSpec spec, Collection<TopicSpec> topics) {
        return Set.copyOf(prepare(spec, topics, Optional.empty(), Map.of()).lakeTables());
    }

    /**
     * A pipeline's SQL made ready for submission in a table environment of its own.
     *
     * @param plannerOnly whether it has SET statements or hints, which only Flink's planner applies
     * @param created lake databases and tables its DDL created, to drop again if the pipeline is refused
     */
    private record Prepared(
            TableEnvironment env,
            StatementSet set,
            int inserts,
            boolean plannerOnly,
            LakeDdl created,
            Set<String> sinkTopics,
            boolean split,
            Set<String> lakeTables) {}

    /**
     * Parses each statement with Flink's parser, lets {@link PipelineSqlRules} decide on what it is, runs the DDL and
     * collects the INSERTs. Lake databases and tables it created are dropped again if a later statement is refused.
     *
     * <p>A pipeline that dead-letters bad records is prepared twice: first as it is, to learn which JSON topics it
     * reads (from its compiled plan) and which it writes; then with each topic it only reads declared as a view of its
     * good records ({@link StreamTables#deadLetterDdl}) and an INSERT of its bad records into the pipeline's dead-letter
     * table ({@link DeadLetters}).
     */
    private Prepared prepare(PipelineSpec spec, Collection<TopicSpec> topics, Optional<String> restorePath) {
        Prepared plain = prepare(spec, topics, restorePath, Map.of());
        boolean deadLetters = spec.onError() == PipelineSpec.OnError.DEAD_LETTER;
        if (!deadLetters && spec.rules().isEmpty()) {
            return plain;
        }
        Map<String, TopicSplit> splits = new TreeMap<>();
        try {
            Set<String> read = DeadLetters.topicsRead(spec.name(), plain.set(), topics, plain.sinkTopics());
            Map<String, List<QualityRule>> rules = QualitySql.byTopic(
                    spec.name(),
                    spec.rules(),
                    topics.stream().filter(t -> read.contains(t.name())).toList());
            for (String topic : read) {
                if (deadLetters || rules.containsKey(topic)) {
                    splits.put(topic, new TopicSplit(deadLetters, rules.getOrDefault(topic, List.of())));
                }
            }
        } catch (RuntimeException e) {
            plain.created().dropAll();
            throw e;
        }
        if (splits.isEmpty()) {
            return plain;
        }
        Prepared split;
        try {
            split = prepare(spec, topics, restorePath, splits);
            if (deadLetters) {
                DeadLetters.addTo(split.env(), split.set(), spec.name(), splits);
            }
        } catch (RuntimeException e) {
            plain.created().dropAll();
            throw e;
        }
        return new Prepared(
                split.env(),
                split.set(),
                split.inserts(),
                split.plannerOnly(),
                plain.created(),
                split.sinkTopics(),
                true,
                plain.lakeTables());
    }

    private Prepared prepare(
            PipelineSpec spec,
            Collection<TopicSpec> topics,
            Optional<String> restorePath,
            Map<String, TopicSplit> splits) {
        List<String> statements = SqlScript.split(spec.sql());
        TableEnvironment env = setup.environment(
                RuntimeExecutionMode.STREAMING,
                setup.pipelineConfig(spec.name(), restorePath),
                topics,
                spec.name(),
                false,
                splits,
                spec.start());
        Set<String> sinkTopics = new HashSet<>();
        Set<String> lakeTables = new HashSet<>();
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
                List<Operation> operations = SqlErrors.call(spec.name(), number, () -> parser.parse(statement));
                for (Operation operation : operations) {
                    PipelineSqlRules.Kind kind = setup.settings()
                            .sqlRules()
                            .check(spec.name(), number, SqlScript.stripComments(written), operation);
                    if (kind != PipelineSqlRules.Kind.INSERT && inserts > 0) {
                        throw new TarnException(
                                ErrorCode.INVALID_SQL,
                                "pipeline '%s': CREATE and SET statements must come before the INSERT statements"
                                        .formatted(spec.name()));
                    }
                    if (operation instanceof CreateTableOperation create
                            && create.getTableIdentifier().getCatalogName().equals(PipelineSqlRules.LAKE_CATALOG)) {
                        TableGuard.writing(PipelineSqlRules.LAKE_CATALOG + "."
                                + create.getTableIdentifier().getDatabaseName() + "."
                                + create.getTableIdentifier().getObjectName());
                        lakeTables.add(create.getTableIdentifier().getDatabaseName() + "."
                                + create.getTableIdentifier().getObjectName());
                    }
                    if (operation instanceof CreateDatabaseOperation database
                            && database.getCatalogName().equals(PipelineSqlRules.LAKE_CATALOG)
                            && !env.getCatalog(PipelineSqlRules.LAKE_CATALOG)
                                    .orElseThrow()
                                    .databaseExists(database.getDatabaseName())) {
                        // a new namespace: as writing every table it will have
                        TableGuard.writing(PipelineSqlRules.LAKE_CATALOG + "." + database.getDatabaseName() + ".*");
                    }
                    switch (kind) {
                        case SETUP -> created.run(operation, () -> executeSetup(env, spec.name(), number, operation));
                        case SET -> {
                            applyOption(env, spec.name(), (SetOperation) operation);
                            plannerOnly = true;
                        }
                        case INSERT -> {
                            ObjectIdentifier target = ((SinkModifyOperation) operation)
                                    .getContextResolvedTable()
                                    .getIdentifier();
                            if (target.getCatalogName().equals(PipelineSqlRules.DEFAULT_CATALOG)
                                    && target.getDatabaseName().equals(StreamTables.DATABASE)) {
                                sinkTopics.add(target.getObjectName());
                            }
                            if (target.getCatalogName().equals(PipelineSqlRules.LAKE_CATALOG)) {
                                lakeTables.add(target.getDatabaseName() + "." + target.getObjectName());
                            }
                            SqlErrors.call(spec.name(), number, () -> set.addInsertSql(statement));
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
        return new Prepared(env, set, inserts, plannerOnly, created, sinkTopics, false, lakeTables);
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
            if (SqlErrors.isAlreadyExists(e)) {
                // Lake DDL is idempotent: a pipeline re-runs its DDL on every start and resume.
                LOG.debug("Pipeline {}: {} already exists, kept", pipeline, TarnException.rootMessage(e));
                return;
            }
            throw SqlErrors.invalidSql(pipeline, number, e);
        } catch (SqlParserException | TableException e) {
            throw SqlErrors.invalidSql(pipeline, number, e);
        }
    }
}
