package io.tarn.compute;

import static org.assertj.core.api.Assertions.assertThat;

import io.tarn.compute.lake.LakeCatalogFactory;
import io.tarn.core.topic.ColumnSpec;
import io.tarn.core.topic.TopicSpec;
import io.tarn.core.topic.WatermarkSpec;
import io.tarn.lake.LakeCatalog;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.flink.api.dag.Transformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.transformations.SourceTransformation;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.StatementSet;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.types.logical.BigIntType;
import org.apache.flink.table.types.logical.IntType;
import org.apache.flink.table.types.logical.LocalZonedTimestampType;
import org.apache.flink.table.types.logical.TimestampKind;
import org.apache.flink.table.types.logical.TimestampType;
import org.apache.flink.table.types.logical.VarCharType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which pipelines {@link LandingJob} takes, decided on Flink's plan (no cluster: planning only). */
class LandingJobTest {
    @TempDir
    static Path dir;

    static LakeCatalog lake;
    static TableEnvironment env;

    static final TopicSpec CLICKS = new TopicSpec(
            "clicks",
            2,
            List.of(
                    ColumnSpec.of("id", "BIGINT"),
                    ColumnSpec.of("user_id", "STRING"),
                    ColumnSpec.of("event_time", "TIMESTAMP(3)"),
                    ColumnSpec.of("n", "INT")),
            Optional.empty());
    static final TopicSpec TIMED =
            new TopicSpec("timed", 2, CLICKS.columns(), Optional.of(new WatermarkSpec("event_time", 5_000)));
    static final TopicSpec RAW = new TopicSpec("raw", 1, List.of(), Optional.empty());
    static final List<TopicSpec> TOPICS = List.of(CLICKS, TIMED, RAW);

    @BeforeAll
    static void plan() {
        lake = LakeCatalog.open(
                dir.resolve("catalog.db"), dir.resolve("warehouse").toString());
        env = TableEnvironment.create(EnvironmentSettings.newInstance()
                .inStreamingMode()
                .withConfiguration(Configuration.fromMap(Map.of("table.exec.iceberg.use-v2-sink", "true")))
                .build());
        String options = lake.properties().entrySet().stream()
                .map(e -> "'%s' = '%s'".formatted(e.getKey(), e.getValue()))
                .collect(Collectors.joining(", "));
        env.executeSql(
                "CREATE CATALOG `lake` WITH ('type' = '" + LakeCatalogFactory.IDENTIFIER + "', " + options + ")");
        env.executeSql("CREATE DATABASE `default_catalog`.`stream`");
        for (TopicSpec topic : TOPICS) {
            env.executeSql(StreamTables.ddl(topic, "localhost:9092", "test", false));
        }
        env.executeSql("CREATE DATABASE lake.b");
        env.executeSql("CREATE TABLE lake.b.clicks (id BIGINT, user_id STRING, event_time TIMESTAMP(6), n INT)");
        env.executeSql("CREATE TABLE lake.b.reordered (t TIMESTAMP(6), who STRING, id BIGINT)");
        env.executeSql("CREATE TABLE lake.b.wide (id BIGINT, n BIGINT)");
        env.executeSql("CREATE TABLE lake.b.text (v STRING)");
        env.executeSql("CREATE TABLE lake.b.pairs (id BIGINT, n INT)");
        env.executeSql("CREATE TABLE lake.b.required (id BIGINT NOT NULL)");
        env.executeSql("CREATE TABLE lake.b.keyed (id BIGINT, PRIMARY KEY (id) NOT ENFORCED)"
                + " WITH ('format-version' = '2', 'write.upsert.enabled' = 'true')");
    }

    @AfterAll
    static void close() {
        lake.close();
    }

    static String reason(String insert) {
        StatementSet set = env.createStatementSet();
        set.addInsertSql(insert);
        LandingJob.Plan plan = LandingJob.plan(env, set, TOPICS);
        assertThat(plan.job().isPresent()).isEqualTo(plan.reason().startsWith("it only copies"));
        return plan.reason();
    }

    @Test
    void aLandingJobsSourceRecordsTheSeamOfItsTable() {
        StatementSet set = env.createStatementSet();
        set.addInsertSql("INSERT INTO lake.b.reordered SELECT event_time, user_id AS who, id FROM `stream`.clicks");
        LandingJob landing = LandingJob.plan(env, set, TOPICS).job().orElseThrow();
        StreamExecutionEnvironment job = StreamExecutionEnvironment.getExecutionEnvironment();
        assertThat(landing.addTo(job)).isTrue();
        Set<String> sources = new HashSet<>();
        Deque<Transformation<?>> next = new ArrayDeque<>(job.getTransformations());
        while (!next.isEmpty()) {
            Transformation<?> transformation = next.pop();
            if (transformation instanceof SourceTransformation<?, ?, ?> source) {
                sources.add(source.getSource().getClass().getSimpleName() + " " + source.getName());
            }
            next.addAll(transformation.getInputs());
        }
        assertThat(sources).containsExactly("SeamSource KafkaSource-default_catalog.stream.clicks");
    }

    @Test
    void pipelinesThatOnlyCopyColumnsAreLandings() {
        assertThat(reason("INSERT INTO lake.b.clicks SELECT id, user_id, event_time, n FROM `stream`.clicks"))
                .isEqualTo("it only copies columns of topic clicks into lake table b.clicks");
        assertThat(reason("INSERT INTO lake.b.reordered SELECT event_time, user_id AS who, id FROM `stream`.clicks"))
                .isEqualTo("it only copies columns of topic clicks into lake table b.reordered");
        assertThat(
                        reason(
                                "INSERT INTO lake.b.reordered (id, who, t) SELECT id, user_id, event_time FROM `stream`.clicks"))
                .isEqualTo("it only copies columns of topic clicks into lake table b.reordered");
        // a topic with a watermark: nothing in a landing uses it, with or without its time column
        assertThat(reason("INSERT INTO lake.b.clicks SELECT id, user_id, event_time, n FROM `stream`.timed"))
                .isEqualTo("it only copies columns of topic timed into lake table b.clicks");
        assertThat(reason("INSERT INTO lake.b.pairs SELECT id, n FROM `stream`.timed"))
                .isEqualTo("it only copies columns of topic timed into lake table b.pairs");
    }

    @Test
    void anythingMoreIsPlannedByFlink() {
        assertThat(reason(
                        "INSERT INTO lake.b.clicks SELECT id, user_id, event_time, n FROM `stream`.clicks WHERE n > 1"))
                .isEqualTo("it filters rows");
        assertThat(reason("INSERT INTO lake.b.clicks SELECT id, UPPER(user_id), event_time, n FROM `stream`.clicks"))
                .isEqualTo("it computes values");
        assertThat(reason("INSERT INTO lake.b.wide SELECT id, n FROM `stream`.clicks"))
                .isEqualTo("column n of type INT is written into n BIGINT");
        assertThat(reason("INSERT INTO lake.b.clicks"
                        + " SELECT id, user_id, CAST(event_time AS TIMESTAMP(0)), n FROM `stream`.clicks"))
                .isEqualTo("column event_time of type TIMESTAMP(3) is written into event_time TIMESTAMP(6)"
                        + " through TIMESTAMP(0)");
        assertThat(reason("INSERT INTO lake.b.text SELECT kafka_key FROM `stream`.clicks"))
                .isEqualTo("it reads the record key");
        assertThat(reason("INSERT INTO lake.b.wide SELECT id, kafka_offset FROM `stream`.clicks"))
                .isEqualTo("it reads its topic with ReadingMetadata");
        assertThat(reason("INSERT INTO lake.b.wide SELECT id, id FROM `stream`.clicks"))
                .isEqualTo("it writes a column twice");
        assertThat(reason("INSERT INTO lake.b.text SELECT `value` FROM `stream`.`raw`"))
                .isEqualTo("it does not read a JSON topic's table");
        assertThat(reason("INSERT INTO lake.b.required SELECT id FROM `stream`.clicks"))
                .isEqualTo("lake column id is NOT NULL");
        assertThat(reason("INSERT INTO lake.b.keyed SELECT id FROM `stream`.clicks"))
                .isEqualTo("its lake table has a primary key");
        assertThat(reason("INSERT INTO lake.b.text SELECT user_id FROM `stream`.clicks"
                        + " UNION ALL SELECT `value` FROM `stream`.`raw`"))
                .isEqualTo("its plan has more than one stream-exec-table-source-scan node");
        assertThat(reason("INSERT INTO lake.b.text SELECT v FROM (VALUES ('a'), ('b')) AS t(v)"))
                .isEqualTo("its plan has a stream-exec-values node");
        env.executeSql("CREATE TEMPORARY TABLE generated (v STRING) WITH ('connector' = 'datagen')");
        assertThat(reason("INSERT INTO lake.b.text SELECT v FROM generated"))
                .isEqualTo("it does not read a JSON topic's table");
        assertThat(reason("INSERT INTO lake.b.wide SELECT id, count(*) FROM `stream`.clicks GROUP BY id"))
                .startsWith("its plan has a stream-exec-");
    }

    @Test
    void timestampsWidenWithoutChangingTheirValues() {
        assertThat(LandingJob.sameValues(new TimestampType(3), new TimestampType(6)))
                .isTrue();
        assertThat(LandingJob.sameValues(new TimestampType(6), new TimestampType(3)))
                .isFalse();
        assertThat(LandingJob.sameValues(new TimestampType(true, TimestampKind.ROWTIME, 3), new TimestampType(6)))
                .isTrue();
        assertThat(LandingJob.sameValues(
                        new LocalZonedTimestampType(true, TimestampKind.PROCTIME, 3), new LocalZonedTimestampType(6)))
                .isFalse();
        assertThat(LandingJob.sameValues(new LocalZonedTimestampType(3), new LocalZonedTimestampType(6)))
                .isTrue();
        assertThat(LandingJob.sameValues(new TimestampType(3), new LocalZonedTimestampType(6)))
                .isFalse();
        assertThat(LandingJob.sameValues(new VarCharType(false, VarCharType.MAX_LENGTH), new VarCharType(10)))
                .isFalse();
        assertThat(LandingJob.sameValues(new BigIntType(false), new BigIntType(true)))
                .isTrue();
        assertThat(LandingJob.sameValues(new IntType(), new BigIntType())).isFalse();
    }
}
