package io.tarn.compute;

import io.tarn.compute.json.ChangeEventFormatFactory;
import io.tarn.compute.json.DeadLetterColumns;
import io.tarn.compute.json.TarnJsonFormatFactory;
import io.tarn.core.pipeline.StartFrom;
import io.tarn.core.topic.ColumnSpec;
import io.tarn.core.topic.TopicSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The Flink SQL DDL that makes a topic readable and writable as {@code stream.<topic>}: Flink's Kafka connector (with
 * projection push-down for JSON topics, {@link TarnKafkaTableFactory}), JSON values
 * in Tarn's format (Flink's JSON with ISO-8601 timestamps, decoded faster; see {@link TarnJsonFormatFactory}) or one
 * raw {@code value STRING} column, or the change events of a captured table as an upsert changelog keyed by the
 * table's primary key ({@link ChangeEventFormatFactory}); the record key as {@code kafka_key} and the Kafka metadata
 * columns. The DDL is generated per pipeline because sink options (transactional id) depend on the pipeline.
 */
final class StreamTables {
    static final String DATABASE = "stream";
    /** Where a pipeline that dead-letters bad records reads a topic with them ({@link #deadLetterDdl}). */
    static final String RAW_DATABASE = "stream_raw";

    /**
     * The topic of a record of a topic that a pipeline dead-letters, which reads the topic and the pipeline's replay
     * topic of it ({@link DeadLetters#replayTopic}); reserved, so no column of the topic has its name.
     */
    static final String KAFKA_TOPIC = ColumnSpec.RESERVED_PREFIX + "topic";

    /** How often a pipeline that dead-letters looks for a new replay topic (made at the first replay). */
    private static final String REPLAY_DISCOVERY = "10 s";

    /** How much a quiet pipeline's reader waits for before the broker answers its fetch, or how long at most. */
    private static final int QUIET_FETCH_BYTES = 1 << 20;

    private static final int QUIET_FETCH_WAIT_MS = 1000;

    private StreamTables() {}

    /**
     * @param bounded read up to the offsets at query start (batch queries) instead of following the topic
     */
    static String ddl(TopicSpec topic, String bootstrapServers, String pipeline, boolean bounded) {
        return ddl(topic, bootstrapServers, pipeline, bounded, StartFrom.EARLIEST, false);
    }

    /**
     * @param start where the table's reads start (a view's topic is always read from its start: it is a changelog)
     * @param quiet whether the pipeline carries little (the audit log's): its reader asks the broker for records at
     *     most once a second, or when a megabyte is there, instead of at each record
     */
    static String ddl(
            TopicSpec topic,
            String bootstrapServers,
            String pipeline,
            boolean bounded,
            StartFrom start,
            boolean quiet) {
        if (topic.format() == TopicSpec.Format.UPSERT_JSON) {
            return upsertDdl(topic, bootstrapServers, pipeline, bounded);
        }
        return ddl(topic, bootstrapServers, pipeline, bounded, DATABASE, false, false, start, quiet);
    }

    /**
     * The table {@code stream_raw.<topic>} of a topic a pipeline reads through a view ({@link #viewDdl}). When it
     * dead-letters bad records, its decoder turns them into rows with {@link DeadLetterColumns} set (and good ones into
     * rows with them null), keeping the bytes of good records too when a quality rule may dead-letter them; it then
     * reads the pipeline's replay topic of the topic as well ({@link DeadLetters#replayTopic}).
     */
    static String rawDdl(
            TopicSpec topic,
            String bootstrapServers,
            String pipeline,
            boolean bounded,
            TopicSplit split,
            StartFrom start,
            boolean quiet) {
        return ddl(
                topic,
                bootstrapServers,
                pipeline,
                bounded,
                RAW_DATABASE,
                split.deadLetters(),
                split.deadLetters() && split.deadLettersGoodRecords(),
                start,
                quiet);
    }

    /** The raw table of a topic, quoted ({@link #rawDdl}). */
    static String rawTable(String topic) {
        return "`%s`.`%s`.%s".formatted(PipelineSqlRules.DEFAULT_CATALOG, RAW_DATABASE, quote(topic));
    }

    /**
     * The view {@code stream.<topic>} of the records of {@code stream_raw.<topic>} that go on, with the topic's columns
     * and Kafka's (its watermark carries through): those that decoded, and those for which the verdict of the topic's
     * quality rules is true. The pipeline's SQL reads the view; its dead-letter INSERT reads the table ({@link
     * DeadLetters}).
     *
     * @param verdict the call of the topic's {@link io.tarn.compute.quality.RuleVerdict}, if it has rules
     */
    static String viewDdl(TopicSpec topic, TopicSplit split, Optional<String> verdict) {
        List<String> columns = new ArrayList<>();
        for (ColumnSpec column : topic.columns()) {
            columns.add(quote(column.name()));
        }
        columns.addAll(List.of("`kafka_key`", "`kafka_partition`", "`kafka_offset`", "`kafka_timestamp`"));
        String decoded = quote(DeadLetterColumns.ERROR_CLASS) + " IS NULL";
        String condition = split.deadLetters()
                ? verdict.map(v -> "CASE WHEN %s THEN %s ELSE FALSE END".formatted(decoded, v))
                        .orElse(decoded)
                : verdict.orElse("TRUE");
        return "CREATE VIEW `%s`.`%s`.%s AS SELECT %s FROM %s WHERE %s"
                .formatted(
                        PipelineSqlRules.DEFAULT_CATALOG,
                        DATABASE,
                        quote(topic.name()),
                        String.join(", ", columns),
                        rawTable(topic.name()),
                        condition);
    }

    private static String ddl(
            TopicSpec topic,
            String bootstrapServers,
            String pipeline,
            boolean bounded,
            String database,
            boolean deadLetters,
            boolean keepRaw,
            StartFrom start,
            boolean quiet) {
        List<String> columns = new ArrayList<>();
        if (topic.raw()) {
            columns.add("`value` STRING");
        } else {
            for (ColumnSpec column : topic.columns()) {
                columns.add(quote(column.name()) + " " + column.type().sql());
            }
        }
        if (deadLetters) {
            columns.addAll(DeadLetterColumns.DDL);
            columns.add(quote(KAFKA_TOPIC) + " STRING METADATA FROM 'topic' VIRTUAL");
        }
        columns.add("`kafka_key` STRING");
        boolean changes = topic.format() == TopicSpec.Format.DEBEZIUM_JSON;
        if (!changes) {
            // A change topic has none: with metadata columns Flink keeps a ChangelogNormalize (all the table's rows as
            // state) even in front of an upsert sink with the same key, which needs none.
            columns.add("`kafka_partition` INT METADATA FROM 'partition' VIRTUAL");
            columns.add("`kafka_offset` BIGINT METADATA FROM 'offset' VIRTUAL");
            columns.add("`kafka_timestamp` TIMESTAMP_LTZ(3) METADATA FROM 'timestamp'");
        }
        if (!topic.primaryKey().isEmpty()) {
            columns.add(primaryKey(topic));
        }
        topic.watermark()
                .ifPresent(w -> columns.add("WATERMARK FOR %s AS %s - INTERVAL '%d.%03d' SECOND"
                        .formatted(
                                quote(w.column()), quote(w.column()), w.delayMillis() / 1000, w.delayMillis() % 1000)));
        List<String> options = new ArrayList<>(List.of(
                // a raw value is one column that Flink's raw format cannot do without, so it is read in full; change
                // events are decoded by Flink's Debezium format, which reads the whole envelope anyway
                option("connector", topic.raw() || changes ? "kafka" : TarnKafkaTableFactory.IDENTIFIER),
                deadLetters
                        ? option(
                                "topic-pattern",
                                Pattern.quote(topic.name()) + "|"
                                        + Pattern.quote(DeadLetters.replayTopic(pipeline, topic.name())))
                        : option("topic", topic.name()),
                option("properties.bootstrap.servers", bootstrapServers),
                option("properties.group.id", "tarn-" + pipeline),
                option("properties.isolation.level", "read_committed"),
                option(
                        "scan.startup.mode",
                        switch (start.kind()) {
                            case EARLIEST -> "earliest-offset";
                            case LATEST -> "latest-offset";
                            case TIMESTAMP -> "timestamp";
                        }),
                option("key.format", "raw"),
                option("key.fields", "kafka_key"),
                option("value.fields-include", "EXCEPT_KEY"),
                option("sink.delivery-guarantee", "exactly-once"),
                option("sink.transactional-id-prefix", "tarn-" + pipeline + "-" + topic.name()),
                option("properties.transaction.timeout.ms", "600000")));
        if (quiet) {
            // a fetch that returns at each record costs the broker a request per record: at a trickle that is a
            // request per API call, for the audit log, in the way of the ingest it records
            options.add(option("properties.fetch.min.bytes", String.valueOf(QUIET_FETCH_BYTES)));
            options.add(option("properties.fetch.max.wait.ms", String.valueOf(QUIET_FETCH_WAIT_MS)));
        }
        if (bounded) {
            options.add(option("scan.bounded.mode", "latest-offset"));
        }
        start.at()
                .ifPresent(
                        at -> options.add(option("scan.startup.timestamp-millis", Long.toString(at.toEpochMilli()))));
        if (deadLetters) {
            options.add(option("scan.topic-partition-discovery.interval", REPLAY_DISCOVERY));
        }
        if (topic.raw()) {
            options.add(option("value.format", "raw"));
        } else if (changes) {
            options.add(option("value.format", ChangeEventFormatFactory.IDENTIFIER));
        } else {
            options.add(option("value.format", TarnJsonFormatFactory.IDENTIFIER));
            if (deadLetters) {
                options.add(option(
                        "value." + TarnJsonFormatFactory.IDENTIFIER + "." + TarnJsonFormatFactory.DEAD_LETTERS.key(),
                        "true"));
            }
            if (keepRaw) {
                options.add(option(
                        "value." + TarnJsonFormatFactory.IDENTIFIER + "." + TarnJsonFormatFactory.KEEP_RAW.key(),
                        "true"));
            }
        }
        return "CREATE TABLE `default_catalog`.`%s`.%s (\n  %s\n) WITH (\n  %s\n)"
                .formatted(database, quote(topic.name()), String.join(",\n  ", columns), String.join(",\n  ", options));
    }

    /**
     * A view's topic: Flink's {@code upsert-kafka} connector, the key columns as a JSON object in the record key and
     * the row in the value. Its sink writes at least once — as soon as a row changes, not at checkpoints — since a
     * repeated upsert of a key after a restore leaves the same row.
     */
    private static String upsertDdl(TopicSpec topic, String bootstrapServers, String pipeline, boolean bounded) {
        List<String> columns = new ArrayList<>();
        for (ColumnSpec column : topic.columns()) {
            columns.add(quote(column.name()) + " " + column.type().sql());
        }
        columns.add(primaryKey(topic));
        List<String> options = new ArrayList<>(List.of(
                option("connector", "upsert-kafka"),
                option("topic", topic.name()),
                option("properties.bootstrap.servers", bootstrapServers),
                option("properties.group.id", "tarn-" + pipeline),
                option("key.format", "json"),
                option("key.json.timestamp-format.standard", "ISO-8601"),
                option("value.format", "json"),
                option("value.json.timestamp-format.standard", "ISO-8601"),
                option("value.json.encode.decimal-as-plain-number", "true"),
                option("value.fields-include", "ALL"),
                option("sink.delivery-guarantee", "at-least-once")));
        if (bounded) {
            options.add(option("scan.bounded.mode", "latest-offset"));
        }
        return "CREATE TABLE `default_catalog`.`%s`.%s (\n  %s\n) WITH (\n  %s\n)"
                .formatted(DATABASE, quote(topic.name()), String.join(",\n  ", columns), String.join(",\n  ", options));
    }

    private static String primaryKey(TopicSpec topic) {
        return "PRIMARY KEY (%s) NOT ENFORCED"
                .formatted(String.join(
                        ", ",
                        topic.primaryKey().stream().map(StreamTables::quote).toList()));
    }

    static String quote(String identifier) {
        return "`" + identifier.replace("`", "``") + "`";
    }

    /** A SQL string literal. */
    static String literal(String text) {
        return "'" + text.replace("'", "''") + "'";
    }

    private static String option(String key, String value) {
        return "'" + key + "' = '" + value.replace("'", "''") + "'";
    }
}
