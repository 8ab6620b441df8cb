package io.tarn.compute;

import io.tarn.compute.json.DeadLetterColumns;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.topic.TopicSpec;
import java.util.Collection;
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

    private DeadLetters() {}

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
                        ("pipeline '%s' cannot dead-letter bad records: Flink cannot compile its plan, which names the"
                                        + " topics it reads; create it with onError 'fail'")
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
     * INSERT of that topic's bad records into it.
     */
    static void addTo(TableEnvironment env, StatementSet set, String pipeline, Set<String> topics) {
        String table = "`%s`.`%s`.%s".formatted(PipelineSqlRules.LAKE_CATALOG, NAMESPACE, StreamTables.quote(pipeline));
        env.executeSql("CREATE DATABASE IF NOT EXISTS `%s`.`%s`".formatted(PipelineSqlRules.LAKE_CATALOG, NAMESPACE));
        env.executeSql(
                """
                CREATE TABLE IF NOT EXISTS %s (
                  `topic` STRING NOT NULL, `kafka_partition` INT NOT NULL, `kafka_offset` BIGINT NOT NULL,
                  `kafka_timestamp` TIMESTAMP_LTZ(3), `error_class` STRING NOT NULL, `error_message` STRING NOT NULL,
                  `raw` BYTES NOT NULL, `dead_lettered_at` TIMESTAMP_LTZ(3) NOT NULL
                ) WITH ('format-version' = '2')"""
                        .formatted(table));
        for (String topic : topics) {
            set.addInsertSql(
                    """
                    INSERT INTO %s
                    SELECT %s, kafka_partition, kafka_offset, kafka_timestamp, `%s`, `%s`, `%s`, CURRENT_TIMESTAMP
                    FROM `%s`.`%s`.%s WHERE `%s` IS NOT NULL"""
                            .formatted(
                                    table,
                                    StreamTables.literal(topic),
                                    DeadLetterColumns.ERROR_CLASS,
                                    DeadLetterColumns.ERROR_MESSAGE,
                                    DeadLetterColumns.RAW,
                                    PipelineSqlRules.DEFAULT_CATALOG,
                                    StreamTables.RAW_DATABASE,
                                    StreamTables.quote(topic),
                                    DeadLetterColumns.ERROR_CLASS));
        }
    }
}
