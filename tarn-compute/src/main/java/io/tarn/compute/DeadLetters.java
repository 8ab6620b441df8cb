package io.tarn.compute;

import io.tarn.compute.json.DeadLetterColumns;
import io.tarn.compute.quality.QualitySql;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.pipeline.QualityRule;
import io.tarn.core.topic.TopicSpec;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.flink.table.api.StatementSet;
import org.apache.flink.table.api.TableEnvironment;

/**
 * A pipeline's dead letters: the records of the JSON topics it reads that are not JSON objects of the topics' columns
 * ({@link io.tarn.compute.json.DeadLetterDecoder}), kept in the lake table {@code lake.dead_letters.<pipeline>} by an
 * INSERT of the pipeline's own job, so that each lands there exactly once, at the checkpoint that also commits the
 * pipeline's good rows.
 */
public final class DeadLetters {
    /** The lake namespace of every pipeline's dead-letter table. */
    public static final String NAMESPACE = "dead_letters";

    /**
     * How the replay topics of dead letters begin ({@link #replayTopic}); {@code __} marks a topic as internal, one
     * that users cannot declare and Tarn does not list.
     */
    public static final String REPLAY_PREFIX = "__tarn_replay.";

    private DeadLetters() {}

    /**
     * The topic into which a pipeline's dead letters of a topic are replayed: {@code __tarn_replay.<pipeline>.<topic>},
     * or, where that is longer than Kafka allows, the topic's SHA-256 in its place. The pipeline reads it with the topic
     * ({@link StreamTables#deadLetterDdl}); no other pipeline does.
     */
    public static String replayTopic(String pipeline, String topic) {
        String name = replayTopicPrefix(pipeline) + topic;
        if (name.length() <= TopicSpec.MAX_NAME_LENGTH) {
            return name;
        }
        try {
            return replayTopicPrefix(pipeline)
                    + HexFormat.of()
                            .formatHex(MessageDigest.getInstance("SHA-256")
                                    .digest(topic.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java has SHA-256", e);
        }
    }

    /** What the names of a pipeline's replay topics begin with (a pipeline's name has no '.'). */
    public static String replayTopicPrefix(String pipeline) {
        return REPLAY_PREFIX + pipeline + ".";
    }

    /** The lake table of a pipeline's dead letters, {@code dead_letters.<pipeline>}. */
    public static String table(String pipeline) {
        return NAMESPACE + "." + pipeline;
    }

    /**
     * The JSON topics (with columns, without a primary key) that a pipeline reads and does not write, as its compiled
     * plan names them.
     *
     * @throws TarnException {@link ErrorCode#INVALID_SQL} if Flink cannot compile the pipeline's plan
     */
    static Set<String> topicsRead(
            String pipeline, StatementSet set, Collection<TopicSpec> topics, Set<String> written) {
        Set<String> used = PipelineJobs.tablesUsed(pipeline, set)
                .orElseThrow(() -> new TarnException(
                        ErrorCode.INVALID_SQL,
                        ("pipeline '%s' cannot dead-letter bad records or check quality rules: Flink cannot compile its"
                                        + " plan, which names the topics it reads; create it with onError 'fail' and no"
                                        + " rules")
                                .formatted(pipeline)));
        Set<String> read = new TreeSet<>();
        for (TopicSpec topic : topics) {
            if (topic.format() == TopicSpec.Format.JSON
                    && !topic.raw()
                    && topic.primaryKey().isEmpty()
                    && used.contains(StreamTables.DATABASE + "." + topic.name())
                    && !written.contains(topic.name())) {
                read.add(topic.name());
            }
        }
        return read;
    }

    /**
     * Creates the pipeline's dead-letter table if it does not exist, and adds to its statement set, per topic read, the
     * INSERT of that topic's bad records into it: those that do not decode, and those that fail a quality rule of
     * action {@code dead-letter} (error class {@code RULE}, the message naming the first such rule they fail).
     */
    static void addTo(TableEnvironment env, StatementSet set, String pipeline, Map<String, TopicSplit> splits) {
        String table = "`%s`.`%s`.%s".formatted(PipelineSqlRules.LAKE_CATALOG, NAMESPACE, StreamTables.quote(pipeline));
        env.executeSql("CREATE DATABASE IF NOT EXISTS `%s`.`%s`".formatted(PipelineSqlRules.LAKE_CATALOG, NAMESPACE));
        env.executeSql(
                """
                CREATE TABLE IF NOT EXISTS %s (
                  `topic` STRING NOT NULL, `kafka_partition` INT NOT NULL, `kafka_offset` BIGINT NOT NULL,
                  `kafka_timestamp` TIMESTAMP_LTZ(3), `error_class` STRING NOT NULL, `error_message` STRING NOT NULL,
                  `raw` BYTES NOT NULL, `dead_lettered_at` TIMESTAMP_LTZ(3) NOT NULL, `kafka_key` STRING
                ) WITH ('format-version' = '2')"""
                        .formatted(table));
        if (env.from(table).getResolvedSchema().getColumn("kafka_key").isEmpty()) {
            // a table of Tarn 0.1 before keys were kept (Iceberg adds the column; older rows have none)
            env.executeSql("ALTER TABLE %s ADD `kafka_key` STRING".formatted(table));
        }
        for (Map.Entry<String, TopicSplit> topic : splits.entrySet()) {
            if (!topic.getValue().deadLetters()) {
                continue;
            }
            String errorClass = StreamTables.quote(DeadLetterColumns.ERROR_CLASS);
            String errorMessage = StreamTables.quote(DeadLetterColumns.ERROR_MESSAGE);
            String where = errorClass + " IS NOT NULL";
            List<String> whens = new ArrayList<>();
            for (QualityRule rule : topic.getValue().rules()) {
                if (rule.action() == QualityRule.Action.DEAD_LETTER) {
                    String failed = "(" + QualitySql.predicate(rule) + ") IS FALSE";
                    where += " OR " + failed;
                    whens.add("WHEN %s THEN %s"
                            .formatted(failed, StreamTables.literal("the record fails rule '" + rule.name() + "'")));
                }
            }
            String classSql = whens.isEmpty() ? errorClass : "COALESCE(%s, 'RULE')".formatted(errorClass);
            String messageSql = whens.isEmpty()
                    ? errorMessage
                    : "COALESCE(%s, CASE %s END)".formatted(errorMessage, String.join(" ", whens));
            set.addInsertSql(
                    """
                    INSERT INTO %s (`topic`, `kafka_partition`, `kafka_offset`, `kafka_timestamp`, `error_class`,
                      `error_message`, `raw`, `dead_lettered_at`, `kafka_key`)
                    SELECT `%s`, kafka_partition, kafka_offset, kafka_timestamp, %s, %s, `%s`, CURRENT_TIMESTAMP,
                      kafka_key
                    FROM %s WHERE %s"""
                            .formatted(
                                    table,
                                    StreamTables.KAFKA_TOPIC,
                                    classSql,
                                    messageSql,
                                    DeadLetterColumns.RAW,
                                    StreamTables.rawTable(topic.getKey()),
                                    where));
        }
    }
}
