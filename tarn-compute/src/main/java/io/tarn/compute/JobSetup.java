package io.tarn.compute;

import static java.util.Objects.requireNonNull;

import io.tarn.compute.lake.LakeCatalogFactory;
import io.tarn.compute.quality.QualitySql;
import io.tarn.compute.quality.RuleVerdict;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.pipeline.QualityRule;
import io.tarn.core.pipeline.StartFrom;
import io.tarn.core.topic.TopicSpec;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;

/**
 * What every job Tarn submits starts from: its configuration (the cluster it goes to, a pipeline's checkpointing and
 * restarts) and a table environment in which {@code lake} is the Iceberg catalog and every topic is a table
 * {@code stream.<topic>}.
 */
final class JobSetup {
    private final FlinkAccess access;
    private final ComputeSettings settings;
    /** Flink's own in-memory catalog, unused: topics live in {@link TopicCatalog} under Flink's usual name. */
    private static final String BUILT_IN_CATALOG = "flink_builtin";

    private final Map<String, String> lakeCatalog;
    private final String bootstrapServers;

    JobSetup(FlinkAccess access, ComputeSettings settings, Map<String, String> lakeCatalog, String bootstrapServers) {
        this.access = requireNonNull(access, "access is null");
        this.settings = requireNonNull(settings, "settings is null");
        this.lakeCatalog = Map.copyOf(requireNonNull(lakeCatalog, "lakeCatalog is null"));
        this.bootstrapServers = requireNonNull(bootstrapServers, "bootstrapServers is null");
    }

    ComputeSettings settings() {
        return settings;
    }

    /** A table environment for one job, its catalogs declared. */
    TableEnvironment environment(
            RuntimeExecutionMode mode,
            Map<String, String> extra,
            Collection<TopicSpec> topics,
            String pipeline,
            boolean bounded) {
        return environment(mode, extra, topics, pipeline, bounded, Map.of(), StartFrom.EARLIEST);
    }

    /**
     * A table environment for one job of a pipeline that reads some topics through views ({@link TopicSplit}): of
     * the records that decode, when it dead-letters bad ones, and that its quality rules let through.
     *
     * @param splits per topic read through a view, how
     * @param start where the topics are read from when the job does not resume from a checkpoint or savepoint
     * @throws TarnException {@link ErrorCode#INVALID_REQUEST} for a rule whose predicate Flink's parser refuses
     */
    TableEnvironment environment(
            RuntimeExecutionMode mode,
            Map<String, String> extra,
            Collection<TopicSpec> topics,
            String pipeline,
            boolean bounded,
            Map<String, TopicSplit> splits,
            StartFrom start) {
        TableEnvironment env = TableEnvironment.create(EnvironmentSettings.newInstance()
                .withConfiguration(Configuration.fromMap(jobConfig(mode, extra)))
                .withBuiltInCatalogName(BUILT_IN_CATALOG)
                .build());
        env.registerCatalog(PipelineSqlRules.DEFAULT_CATALOG, new TopicCatalog(PipelineSqlRules.DEFAULT_CATALOG));
        env.useCatalog(PipelineSqlRules.DEFAULT_CATALOG);
        String lakeOptions = lakeCatalog.entrySet().stream()
                .sorted(Map.Entry.comparingByKey())
                .map(e -> "'%s' = '%s'".formatted(e.getKey(), e.getValue().replace("'", "''")))
                .collect(Collectors.joining(", "));
        env.executeSql("CREATE CATALOG `%s` WITH ('type' = '%s', %s)"
                .formatted(PipelineSqlRules.LAKE_CATALOG, LakeCatalogFactory.IDENTIFIER, lakeOptions));
        env.executeSql("CREATE DATABASE IF NOT EXISTS `%s`.`%s`"
                .formatted(PipelineSqlRules.DEFAULT_CATALOG, StreamTables.DATABASE));
        if (!splits.isEmpty()) {
            env.executeSql("CREATE DATABASE IF NOT EXISTS `%s`.`%s`"
                    .formatted(PipelineSqlRules.DEFAULT_CATALOG, StreamTables.RAW_DATABASE));
        }
        int functions = 0;
        boolean quiet = settings.quiet(pipeline);
        for (TopicSpec topic : topics) {
            TopicSplit split = splits.get(topic.name());
            if (split == null) {
                env.executeSql(StreamTables.ddl(topic, bootstrapServers, pipeline, bounded, start, quiet));
                continue;
            }
            env.executeSql(StreamTables.rawDdl(topic, bootstrapServers, pipeline, bounded, split, start, quiet));
            Optional<String> verdict = Optional.empty();
            if (!split.rules().isEmpty()) {
                String function = "tarn_rules_" + functions++;
                env.createTemporarySystemFunction(function, new RuleVerdict(topic.name(), split.rules()));
                List<String> arguments = new ArrayList<>(List.of("`kafka_partition`", "`kafka_offset`"));
                for (QualityRule rule : split.rules()) {
                    QualitySql.validate(env, StreamTables.rawTable(topic.name()), rule);
                    arguments.add(QualitySql.predicate(rule));
                }
                verdict = Optional.of(function + "(" + String.join(", ", arguments) + ")");
            }
            env.executeSql(StreamTables.viewDdl(topic, split, verdict));
        }
        return env;
    }

    /** The configuration of a job submitted to the cluster. */
    Map<String, String> jobConfig(RuntimeExecutionMode mode, Map<String, String> extra) {
        Map<String, String> config = new HashMap<>();
        config.put("execution.target", "remote");
        config.put("rest.address", access.restAddress().getHost());
        config.put("rest.port", String.valueOf(access.restAddress().getPort()));
        config.putAll(access.clientConfig());
        config.put("execution.runtime-mode", mode.name());
        // OPTIONS hints would let SQL change a table's connector options (its topic, servers, paths); queries turn
        // them on to read a lake table at a snapshot, and the catalogs' factories refuse every other option
        config.put("table.dynamic-table-options.enabled", "false");
        config.putAll(extra);
        return config;
    }

    /** A pipeline's job options: its name, parallelism, exactly-once checkpoints retained on disk, its restarts. */
    Map<String, String> pipelineConfig(String pipeline, Optional<String> restorePath) {
        Map<String, String> config = new HashMap<>();
        config.put("pipeline.name", PipelineJobs.jobName(pipeline));
        config.put("parallelism.default", String.valueOf(settings.parallelism(pipeline)));
        config.put(
                "execution.checkpointing.interval",
                settings.checkpointInterval(pipeline).toMillis() + " ms");
        config.put("execution.checkpointing.mode", "EXACTLY_ONCE");
        config.put("execution.checkpointing.dir", settings.checkpoints(pipeline).toString());
        config.put(
                "execution.checkpointing.savepoint-dir",
                settings.savepoints(pipeline).toString());
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
}
