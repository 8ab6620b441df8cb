package io.tarn.compute;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.pipeline.PipelineSpec;
import io.tarn.core.query.QueryResult;
import io.tarn.core.topic.ColumnSpec;
import io.tarn.core.topic.TopicSpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.apache.flink.table.functions.ScalarFunction;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pipeline SQL as an attacker writes it: each attack is refused with the exact rule it breaks, and nothing happened —
 * no Flink job, no lake table or database (not even one an earlier statement of the same pipeline created), no file.
 */
class PipelineSqlSandboxIT {
    private static final String GENERIC = "pipelines may only create lake databases and tables, tables of the"
            + " connectors [blackhole, datagen, print], temporary views and allowed functions, SET planner options and"
            + " INSERT INTO";

    private static final String SET_RULE = " [table.exec.mini-batch.*, table.exec.state.ttl,"
            + " table.exec.source.idle-timeout, table.exec.sink.*, table.exec.resource.default-parallelism,"
            + " table.exec.deduplicate.*, table.exec.window-agg.*, table.exec.async-lookup.*, table.exec.emit.*,"
            + " table.exec.sort.*, table.exec.spill-compression.*, table.optimizer.*, table.local-time-zone, execution.buffer-timeout.interval] (Tarn runs"
            + " the job: checkpoints, restarts, state and connectors are its settings)";

    @TempDir
    static Path dir;

    static ComputeFixture fixture;
    static FlinkCompute compute;

    /** A Flink batch query over the given topics and the lake. */
    static QueryResult query(String sql, List<TopicSpec> topics, int maxRows, FlinkQueryEngine.QueryLimits limits) {
        return compute.queryEngine(() -> topics, limits).query(sql, maxRows);
    }

    static Path outside;

    static final TopicSpec EVENTS = new TopicSpec(
            "events", 1, List.of(ColumnSpec.of("id", "BIGINT"), ColumnSpec.of("name", "STRING")), Optional.empty());

    @BeforeAll
    static void start() throws Exception {
        fixture = ComputeFixture.start(dir.resolve("tarn"));
        compute = fixture.compute(true, true, Shout.class.getName());
        fixture.log.createTopic(EVENTS.name(), EVENTS.partitions());
        outside = Files.createDirectories(dir.resolve("outside"));
        compute.pipelines()
                .validate(
                        new PipelineSpec(
                                "setup",
                                "CREATE DATABASE IF NOT EXISTS lake.web; CREATE TABLE IF NOT EXISTS lake.web.events (id BIGINT,"
                                        + " name STRING); INSERT INTO lake.web.events SELECT id, name FROM stream.events"),
                        List.of(EVENTS));
    }

    @AfterAll
    static void stop() {
        fixture.close();
    }

    @Test
    void aFilesystemTableCannotReadHostFilesIntoTheLake() throws Exception {
        expectRefused(
                """
                CREATE DATABASE IF NOT EXISTS lake.loot;
                CREATE TABLE lake.loot.files (line STRING);
                CREATE TEMPORARY TABLE host_files (line STRING)
                  WITH ('connector' = 'filesystem', 'path' = 'file:///etc/hostname', 'format' = 'raw');
                INSERT INTO lake.loot.files SELECT line FROM host_files;
                """,
                3,
                "connector 'filesystem' is not allowed (allowed: [blackhole, datagen, print]; an operator adds others"
                        + " with compute.sql.allowed-connectors)");
        assertThat(fixture.lake.listTables()).doesNotContain("loot.files");
        assertThat(fixture.lake.listNamespaces()).doesNotContain("loot");
    }

    @Test
    void aFilesystemSinkCannotWriteAnyPath() throws Exception {
        Path target = outside.resolve("written");
        expectRefused(
                """
                CREATE TABLE dump (name STRING) WITH ('connector' = 'filesystem', 'path' = '%s', 'format' = 'csv');
                INSERT INTO dump SELECT name FROM stream.events;
                """
                        .formatted(target.toUri()),
                1,
                "connector 'filesystem' is not allowed (allowed: [blackhole, datagen, print]; an operator adds others"
                        + " with compute.sql.allowed-connectors)");
        assertThat(target).doesNotExist();
    }

    @Test
    void theIcebergConnectorCannotOpenAnotherCatalog() throws Exception {
        Path warehouse = outside.resolve("other-warehouse");
        expectRefused(
                """
                CREATE TABLE other (id BIGINT) WITH ('connector' = 'iceberg', 'catalog-name' = 'other',
                  'catalog-type' = 'hadoop', 'warehouse' = '%s');
                INSERT INTO other SELECT id FROM stream.events;
                """
                        .formatted(warehouse.toUri()),
                1,
                "connector 'iceberg' is not allowed (allowed: [blackhole, datagen, print]; an operator adds others"
                        + " with compute.sql.allowed-connectors)");
        expectRefused(
                """
                CREATE TABLE topic (id BIGINT) WITH ('connector' = 'kafka', 'topic' = 'events',
                  'properties.bootstrap.servers' = 'localhost:1', 'format' = 'json');
                INSERT INTO topic SELECT id FROM stream.events;
                """,
                1,
                "connector 'kafka' is not allowed (allowed: [blackhole, datagen, print]; an operator adds others with"
                        + " compute.sql.allowed-connectors)");
        assertThat(warehouse).doesNotExist();
    }

    @Test
    void functionsComeFromAllowedClassesOnlyAndNeverFromJars() throws Exception {
        Path jar = outside.resolve("payload.jar");
        Files.write(jar, new byte[] {'P', 'K'});
        expectRefused(
                "CREATE TEMPORARY FUNCTION payload AS 'com.example.Payload' USING JAR '%s';%s"
                        .formatted(jar.toUri(), insertNames("payload")),
                1,
                "functions cannot be loaded from jars or files (USING JAR)");
        expectRefused(
                "CREATE TEMPORARY SYSTEM FUNCTION payload AS 'org.apache.flink.table.functions.ScalarFunction';"
                        + insertNames("payload"),
                1,
                "function class 'org.apache.flink.table.functions.ScalarFunction' is not allowed (an operator lists"
                        + " the classes pipelines may use in compute.sql.allowed-functions)");
        expectRefused(
                "CREATE TEMPORARY FUNCTION payload AS 'x.y' LANGUAGE PYTHON;" + insertNames("payload"),
                1,
                "functions must be JVM classes, not PYTHON");
        compute.pipelines()
                .validate(
                        new PipelineSpec(
                                "allowed",
                                "CREATE TEMPORARY FUNCTION shout AS '%s';%s"
                                        .formatted(Shout.class.getName(), insertNames("shout"))),
                        List.of(EVENTS));
    }

    @Test
    void createTableAsSelectCannotStartAnUntrackedJob() throws Exception {
        expectRefused("CREATE TABLE lake.web.copy AS SELECT id, name FROM stream.events", 1, GENERIC);
        expectRefused("CREATE OR REPLACE TABLE lake.web.copy AS SELECT id, name FROM stream.events", 1, GENERIC);
        assertThat(fixture.lake.listTables()).doesNotContain("web.copy");
    }

    @Test
    void optionsHintsCannotChangeATablesConnectorOptions() throws Exception {
        String jobs = fixture.jobs();
        assertThatThrownBy(() -> compute.pipelines()
                        .submit(
                                spec("INSERT INTO lake.web.events SELECT id, name FROM stream.events"
                                        + " /*+ OPTIONS('properties.bootstrap.servers' = 'localhost:1') */"),
                                List.of(EVENTS),
                                Optional.empty()))
                .isInstanceOfSatisfying(
                        TarnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_SQL))
                .hasMessageStartingWith("pipeline 'attack': statement 1: ")
                .hasMessageContaining("table.dynamic-table-options.enabled");
        expectRefused(
                "SET 'table.dynamic-table-options.enabled' = 'true';"
                        + " INSERT INTO lake.web.events SELECT id, name FROM stream.events",
                1,
                "SET 'table.dynamic-table-options.enabled' is not allowed; pipelines may set" + SET_RULE);
        assertThat(fixture.jobs()).isEqualTo(jobs);
    }

    @Test
    void catalogModuleJarPlanAndOtherStatementsAreRefused() throws Exception {
        Path plan = outside.resolve("plan.json");
        String insert = "INSERT INTO lake.web.events SELECT id, name FROM stream.events";
        for (String statement : List.of(
                "CREATE CATALOG other WITH ('type' = 'generic_in_memory')",
                "USE CATALOG lake",
                "LOAD MODULE core",
                "ADD JAR '" + outside.resolve("x.jar").toUri() + "'",
                "COMPILE PLAN '" + plan.toUri() + "' FOR " + insert,
                "DROP TABLE lake.web.events",
                "ALTER TABLE lake.web.events SET ('write.data.path' = '" + outside.toUri() + "')",
                "SHOW TABLES",
                "EXPLAIN " + insert)) {
            expectRefused(statement + ";\n" + insert, 1, GENERIC);
        }
        expectRefused(
                "SELECT id FROM stream.events",
                1,
                "a pipeline writes its results with INSERT INTO; a query alone goes nowhere");
        assertThatThrownBy(() -> compute.pipelines()
                        .validate(
                                spec("  CREATE CATALOG other\n   WITH ('type' = 'generic_in_memory');" + insert),
                                List.of(EVENTS)))
                .hasMessage("pipeline 'attack': statement 1 (CREATE CATALOG other WITH ('type' = 'generic_in_memory'))"
                        + " is not allowed: " + GENERIC);
        assertThat(plan).doesNotExist();
        assertThat(fixture.lake.listTables()).contains("web.events");
    }

    @Test
    void lakeTablesKeepTheirFilesInTheWarehouse() throws Exception {
        String insert = "INSERT INTO lake.web.moved SELECT id FROM stream.events";
        for (String property : List.of(
                "write.data.path",
                "write.metadata.path",
                "write.object-storage.path",
                "write.location-provider.impl")) {
            expectRefused(
                    "CREATE TABLE lake.web.moved (id BIGINT) WITH ('%s' = '%s');%s"
                            .formatted(property, outside.resolve("moved").toUri(), insert),
                    1,
                    "lake table property '%s' is not allowed (lake tables take Iceberg properties starting with"
                                    .formatted(property)
                            + " [format-version, write., commit., history., read.], except those that move their"
                            + " files or load classes)");
        }
        expectRefused(
                "CREATE TABLE lake.web.moved (id BIGINT) WITH ('location' = '%s');%s"
                        .formatted(outside.resolve("moved").toUri(), insert),
                1,
                "lake table property 'location' is not allowed (lake tables take Iceberg properties starting with"
                        + " [format-version, write., commit., history., read.], except those that move their files or"
                        + " load classes)");
        expectRefused(
                "CREATE TEMPORARY TABLE lake.web.moved (id BIGINT) WITH ('connector' = 'filesystem', 'path' = '%s',"
                                .formatted(outside.resolve("moved").toUri())
                        + " 'format' = 'csv');" + insert,
                1,
                "connector 'filesystem' is not allowed (allowed: [blackhole, datagen, print]; an operator adds others"
                        + " with compute.sql.allowed-connectors)");
        expectRefused(
                "CREATE DATABASE lake.moved WITH ('location' = '%s');%s".formatted(outside.toUri(), insert),
                1,
                "lake databases take no properties (got [location])");
        expectRefused(
                "CREATE DATABASE elsewhere;" + insert,
                1,
                "databases can be created in the lake catalog only (lake.<name>)");
        expectRefused(
                "CREATE TABLE stream.fake (id BIGINT) WITH ('connector' = 'datagen');" + insert,
                1,
                "stream.* are the topics Tarn declares; create topics with POST /v1/topics");
        expectRefused(
                "CREATE VIEW names AS SELECT name FROM stream.events;" + insert,
                1,
                "views must be temporary (CREATE TEMPORARY VIEW)");
        assertThat(outside.resolve("moved")).doesNotExist();
        assertThat(fixture.lake.listTables()).doesNotContain("web.moved");
        assertThat(fixture.lake.listNamespaces()).doesNotContain("moved");
    }

    @Test
    void setChangesPlannerOptionsOnly() throws Exception {
        expectRefused(
                "SET 'execution.checkpointing.interval' = '1 h';"
                        + " INSERT INTO lake.web.events SELECT id, name FROM stream.events",
                1,
                "SET 'execution.checkpointing.interval' is not allowed; pipelines may set" + SET_RULE);
        expectRefused(
                "SET 'table.catalog-modification.listeners' = 'com.example.Listener';"
                        + " INSERT INTO lake.web.events SELECT id, name FROM stream.events",
                1,
                "SET 'table.catalog-modification.listeners' is not allowed; pipelines may set" + SET_RULE);
        compute.pipelines()
                .validate(
                        spec(
                                "SET 'table.exec.mini-batch.enabled' = 'true'; SET 'table.exec.mini-batch.allow-latency' = '1 s';"
                                        + " SET 'table.exec.mini-batch.size' = '1000';"
                                        + " INSERT INTO lake.web.events SELECT id, name FROM stream.events"),
                        List.of(EVENTS));
    }

    @Test
    void allowedConnectorsAndTemporaryViewsRun() {
        compute.pipelines()
                .validate(
                        spec(
                                """
                        CREATE TEMPORARY TABLE generated (id BIGINT, name STRING) WITH ('connector' = 'datagen',
                          'number-of-rows' = '10');
                        CREATE TEMPORARY VIEW named AS SELECT id, UPPER(name) AS name FROM generated;
                        CREATE TABLE dropped (id BIGINT, name STRING) WITH ('connector' = 'blackhole');
                        CREATE TEMPORARY TABLE printed (id BIGINT) WITH ('connector' = 'print');
                        INSERT INTO dropped SELECT id, name FROM named;
                        INSERT INTO printed SELECT id FROM stream.events;
                        """),
                        List.of(EVENTS));
    }

    @Test
    void flinkQueriesAreOneSelectAndEndAtTheirTimeout() throws Exception {
        FlinkQueryEngine.QueryLimits limits = new FlinkQueryEngine.QueryLimits(Duration.ofSeconds(3), 1 << 20);
        String jobs = fixture.jobs();
        assertThatThrownBy(() -> query(
                        "INSERT INTO lake.web.events SELECT id, name FROM stream.events", List.of(EVENTS), 10, limits))
                .isInstanceOfSatisfying(
                        TarnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.STATEMENT_NOT_ALLOWED))
                .hasMessage("a query must be one SELECT (or WITH ... SELECT) statement over lake tables and topics");
        assertThatThrownBy(() -> query(
                        "CREATE TABLE t (a INT) WITH ('connector' = 'filesystem', 'path' = '%s', 'format' = 'csv')"
                                .formatted(outside.resolve("query-table").toUri()),
                        List.of(EVENTS),
                        10,
                        limits))
                .isInstanceOfSatisfying(
                        TarnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.STATEMENT_NOT_ALLOWED));
        assertThatThrownBy(() -> query("SELECT 1; SELECT 2", List.of(EVENTS), 10, limits))
                .isInstanceOfSatisfying(
                        TarnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_SQL))
                .hasMessage("query: only single statement supported");
        assertThat(fixture.jobs()).isEqualTo(jobs);

        List<byte[]> values = new ArrayList<>();
        for (int i = 0; i < 2_000; i++) {
            values.add(("{\"id\":" + i + ",\"name\":\"n\"}").getBytes(StandardCharsets.UTF_8));
        }
        fixture.log.append(EVENTS.name(), Collections.nCopies(values.size(), null), values);
        long start = System.nanoTime();
        assertThatThrownBy(() -> query(
                        "SELECT max(a.id * 4000000 + b.id * 2000 + c.id) FROM stream.events a, stream.events b,"
                                + " stream.events c",
                        List.of(EVENTS),
                        10,
                        limits))
                .isInstanceOfSatisfying(
                        TarnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.QUERY_TIMEOUT))
                .hasMessage("query ran longer than query.timeout (3s) and was cancelled");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(60));
        await(() -> !fixture.jobs().contains("\"RUNNING\""));
        assertThat(outside.resolve("query-table")).doesNotExist();
    }

    private static void await(Callable<Boolean> condition) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!condition.call()) {
            assertThat(System.nanoTime()).as("timed out").isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    private static PipelineSpec spec(String sql) {
        return new PipelineSpec("attack", sql);
    }

    private static String insertNames(String function) {
        return " INSERT INTO lake.web.events SELECT id, %s(name) FROM stream.events".formatted(function);
    }

    /**
     * The pipeline is refused at statement {@code number} for breaking {@code rule}, by validation and by
     * submission, and no job was submitted meanwhile.
     */
    private static void expectRefused(String sql, int number, String rule) throws Exception {
        String jobs = fixture.jobs();
        for (boolean submit : List.of(false, true)) {
            assertThatThrownBy(() -> {
                        if (submit) {
                            compute.pipelines().submit(spec(sql), List.of(EVENTS), Optional.empty());
                        } else {
                            compute.pipelines().validate(spec(sql), List.of(EVENTS));
                        }
                    })
                    .isInstanceOfSatisfying(
                            TarnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.STATEMENT_NOT_ALLOWED))
                    .hasMessageStartingWith("pipeline 'attack': statement " + number + " (")
                    .hasMessageEndingWith(") is not allowed: " + rule);
        }
        assertThat(fixture.jobs()).isEqualTo(jobs);
    }

    /** A function a test operator allows. */
    public static final class Shout extends ScalarFunction {
        public String eval(String text) {
            return text == null ? null : text.toUpperCase(Locale.ROOT);
        }
    }
}
