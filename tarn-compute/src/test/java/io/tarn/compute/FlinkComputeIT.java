package io.tarn.compute;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.pipeline.PipelineSpec;
import io.tarn.core.pipeline.PipelineState;
import io.tarn.core.pipeline.QualityRule;
import io.tarn.core.pipeline.StartFrom;
import io.tarn.core.query.QueryResult;
import io.tarn.core.topic.ColumnSpec;
import io.tarn.core.topic.TopicSpec;
import io.tarn.core.topic.WatermarkSpec;
import io.tarn.lake.LakeCatalog;
import io.tarn.lake.LakeQuery;
import io.tarn.log.EmbeddedKafka;
import io.tarn.log.KafkaLog;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.stream.LongStream;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FlinkComputeIT {
    @TempDir
    static Path dir;

    static EmbeddedKafka kafka;
    static KafkaLog log;
    static EmbeddedFlink flink;
    static LakeCatalog lake;
    static LakeQuery query;
    static FlinkCompute compute;

    /** A Flink batch query over the given topics and the lake. */
    static QueryResult query(String sql, List<TopicSpec> topics, int maxRows, FlinkQueryEngine.QueryLimits limits) {
        return compute.queryEngine(() -> topics, limits).query(sql, maxRows);
    }

    static final TopicSpec EVENTS = new TopicSpec(
            "events", 2, List.of(ColumnSpec.of("id", "BIGINT"), ColumnSpec.of("name", "STRING")), Optional.empty());

    static ComputeFixture fixture;

    static final FlinkQueryEngine.QueryLimits LIMITS =
            new FlinkQueryEngine.QueryLimits(Duration.ofMinutes(2), 64L << 20);

    @BeforeAll
    static void start() {
        fixture = ComputeFixture.start(dir);
        kafka = fixture.kafka;
        log = fixture.log;
        flink = fixture.flink;
        lake = fixture.lake;
        query = fixture.query;
        compute = compute(true);
        log.createTopic(EVENTS.name(), EVENTS.partitions());
    }

    /** Pipelines with Tarn's defaults, or with the lake writer on the task thread and no object reuse (Flink's). */
    static FlinkCompute compute(boolean tarnDefaults) {
        return compute(tarnDefaults, tarnDefaults);
    }

    static FlinkCompute compute(boolean tarnDefaults, boolean landingJobs) {
        return fixture.compute(tarnDefaults, landingJobs);
    }

    @AfterAll
    static void stop() {
        fixture.close();
    }

    /** A new topic of its own with the columns of {@link #EVENTS}, for {@link #produce(String, int, int)}. */
    static TopicSpec createEventsTopic(String name, int partitions) {
        TopicSpec topic = new TopicSpec(name, partitions, EVENTS.columns(), Optional.empty());
        log.createTopic(topic.name(), topic.partitions());
        return topic;
    }

    static void produce(int from, int to) {
        produce(EVENTS.name(), from, to);
    }

    static void produce(String topic, int from, int to) {
        List<byte[]> keys = new ArrayList<>();
        List<byte[]> values = new ArrayList<>();
        for (int i = from; i < to; i++) {
            keys.add(String.valueOf(i).getBytes(StandardCharsets.UTF_8));
            values.add(("{\"id\":" + i + ",\"name\":\"n" + i % 10 + "\"}").getBytes(StandardCharsets.UTF_8));
        }
        log.append(topic, keys, values);
    }

    static long lakeCount(String table) {
        return count("SELECT count(DISTINCT id) FROM lake." + table);
    }

    /** The one number a lake query answers; -1 while its table does not exist. */
    static long count(String sql) {
        try {
            return ((Number) query.query(sql, 1).rows().get(0).get(0)).longValue();
        } catch (TarnException e) {
            if (e.code() == ErrorCode.TABLE_NOT_FOUND) {
                return -1;
            }
            throw e;
        }
    }

    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(250);
        }
    }

    @Test
    void pipelineLandsEveryRecordAndResumesFromItsSavepoint() throws Exception {
        String sql =
                """
                CREATE DATABASE IF NOT EXISTS lake.web;
                CREATE TABLE lake.web.events (id BIGINT, name STRING, k STRING, p INT);
                INSERT INTO lake.web.events SELECT id, name, kafka_key, kafka_partition FROM stream.events;
                """;
        PipelineSpec spec = new PipelineSpec("land-events", sql);
        produce(0, 500);
        String job = compute.pipelines()
                .submit(spec, List.of(EVENTS), Optional.empty())
                .jobId();
        await("500 rows", () -> lakeCount("web.events") == 500);
        var status = compute.jobs().status(job).orElseThrow();
        assertThat(status.state()).isEqualTo(PipelineState.RUNNING);
        assertThat(status.lastCheckpoint()).isPresent();
        String savepoint = compute.jobs().stopWithSavepoint(spec.name(), job);
        assertThat(compute.jobs().status(job).orElseThrow().state()).isEqualTo(PipelineState.FINISHED);
        produce(500, 800);
        String resumed = compute.pipelines()
                .submit(spec, List.of(EVENTS), Optional.of(savepoint))
                .jobId();
        await("800 rows", () -> lakeCount("web.events") == 800);
        Thread.sleep(3000);
        var counts = query.query("SELECT count(*), count(DISTINCT id), sum(id) FROM lake.web.events", 1)
                .rows()
                .get(0);
        assertThat(counts).containsExactly(800L, 800L, BigInteger.valueOf(799L * 800 / 2));
        await("records in/out metrics", () -> {
            var running = compute.jobs().status(resumed).orElseThrow();
            return running.recordsIn() == 300 && running.recordsOut() == 300;
        });
        compute.jobs().cancel(resumed);
        assertThat(compute.state().latestRetainedCheckpoint(spec.name(), resumed))
                .isPresent();
    }

    /**
     * A pipeline moves between lake writers on the task thread and on their own thread through its savepoints, both
     * ways, and lands every record exactly once.
     */
    @Test
    void lakeWritersOnTheirOwnThreadKeepSavepointsCompatible() throws Exception {
        TopicSpec topic = createEventsTopic("threads", 2);
        String sql =
                """
                CREATE DATABASE IF NOT EXISTS lake.web;
                CREATE TABLE lake.web.threads (id BIGINT, name STRING);
                INSERT INTO lake.web.threads SELECT id, name FROM stream.threads;
                """;
        PipelineSpec spec = new PipelineSpec("land-threads", sql);
        String writerThread = "lake writer lake.web.threads (1/1)";
        FlinkCompute flinkDefaults = compute(false);
        Optional<String> savepoint = Optional.empty();
        int landed = 0;
        for (FlinkCompute next : List.of(flinkDefaults, compute, flinkDefaults)) {
            produce(topic.name(), landed, landed + 3_000);
            landed += 3_000;
            int expected = landed;
            String job =
                    next.pipelines().submit(spec, List.of(topic), savepoint).jobId();
            await(expected + " rows", () -> lakeCount("web.threads") == expected);
            if (next == compute) {
                assertThat(liveThreads()).contains(writerThread);
            } else {
                assertThat(liveThreads()).doesNotContain(writerThread);
            }
            savepoint = Optional.of(next.jobs().stopWithSavepoint(spec.name(), job));
            await("the writer thread to end", () -> !liveThreads().contains(writerThread));
        }
        var rows = query.query(
                        "SELECT count(*), count(DISTINCT id), sum(id), sum(CAST(substr(name, 2) AS INT))"
                                + " FROM lake.web.threads",
                        1)
                .rows()
                .get(0);
        long sumOfNames = 0;
        for (int i = 0; i < landed; i++) {
            sumOfNames += i % 10;
        }
        assertThat(rows)
                .containsExactly(
                        (long) landed,
                        (long) landed,
                        BigInteger.valueOf((long) landed * (landed - 1) / 2),
                        BigInteger.valueOf(sumOfNames));
    }

    /**
     * A pipeline that only copies columns of a topic into a lake table runs as a landing job (no planner operator
     * between source and sink) and writes exactly the rows the job Flink plans for the same SQL writes: columns
     * reordered and renamed, a TIMESTAMP(3) widened to the table's TIMESTAMP(6), nulls, missing fields, sub-millisecond
     * digits, escapes and non-ASCII text.
     */
    @Test
    void landingJobWritesWhatThePlannedJobWrites() throws Exception {
        TopicSpec topic = new TopicSpec(
                "landing",
                2,
                List.of(
                        ColumnSpec.of("id", "BIGINT"),
                        ColumnSpec.of("name", "STRING"),
                        ColumnSpec.of("ts", "TIMESTAMP(3)"),
                        ColumnSpec.of("ok", "BOOLEAN"),
                        ColumnSpec.of("score", "DOUBLE")),
                Optional.empty());
        log.createTopic(topic.name(), topic.partitions());
        int events = 5_000;
        List<byte[]> keys = new ArrayList<>();
        List<byte[]> values = new ArrayList<>();
        for (int i = 0; i < events; i++) {
            String name = i % 7 == 0 ? "null" : i % 13 == 0 ? "\"caf\u00e9 \\\"q\\\" ✓\"" : "\"n" + i + "\"";
            String fraction = i % 5 == 0 ? "" : i % 3 == 0 ? ".123456" : "." + String.format("%03d", i % 1000);
            String ts =
                    i % 11 == 0 ? "" : ",\"ts\":\"2026-11-23T10:%02d:%02d%s\"".formatted(i / 60 % 60, i % 60, fraction);
            keys.add(String.valueOf(i).getBytes(StandardCharsets.UTF_8));
            values.add("{\"id\":%d,\"name\":%s%s,\"ok\":%s,\"score\":%s}"
                    .formatted(i, name, ts, i % 2 == 0, i / 4.0)
                    .getBytes(StandardCharsets.UTF_8));
        }
        log.append(topic.name(), keys, values);
        String sql =
                """
                CREATE DATABASE IF NOT EXISTS lake.land;
                CREATE TABLE lake.land.%1$s (ts TIMESTAMP(6), id BIGINT, label STRING, score DOUBLE, ok BOOLEAN);
                INSERT INTO lake.land.%1$s SELECT ts, id, name, score, ok FROM stream.landing;
                """;
        PipelineJobs.Submission landingJob = compute.pipelines()
                .submit(new PipelineSpec("landing-job", sql.formatted("landed")), List.of(topic), Optional.empty());
        String landing = landingJob.jobId();
        String planned = compute(true, false)
                .pipelines()
                .submit(new PipelineSpec("planned-job", sql.formatted("planned")), List.of(topic), Optional.empty())
                .jobId();
        // the topics and tables a pipeline uses, as its compiled plan names them
        assertThat(landingJob.tables()).contains(Set.of("stream.landing", "lake.land.landed"));
        await(
                events + " rows in both",
                () -> lakeCount("land.landed") == events && lakeCount("land.planned") == events);
        assertThat(vertexNames(landing)).noneMatch(n -> n.contains("Calc"));
        assertThat(vertexNames(planned)).anyMatch(n -> n.contains("Calc"));
        String read = "SELECT ts, id, label, score, ok FROM lake.land.%s ORDER BY id";
        List<List<Object>> rows =
                query.query(read.formatted("landed"), events + 1).rows();
        assertThat(rows)
                .hasSize(events)
                .isEqualTo(query.query(read.formatted("planned"), events + 1).rows());
        assertThat(rows.get(1)).containsExactly("2026-11-23T10:00:01.001", 1L, "n1", 0.25, false);
        assertThat(rows.get(3).get(0)).isEqualTo("2026-11-23T10:00:03.123456");
        assertThat(rows.get(13).get(2)).isEqualTo("café \"q\" ✓");
        assertThat(rows.get(14).get(2)).isNull();
        assertThat(rows.get(22).get(0)).isNull();
        compute.jobs().cancel(landing);
        compute.jobs().cancel(planned);
    }

    /**
     * A pipeline moves between a landing job and a planned job (its SQL gains a filter, then loses it again) through
     * its savepoints, and lands every record exactly once; its topic has a watermark, which only the planned job
     * reads.
     */
    @Test
    void pipelineMovesBetweenLandingAndPlannedJobThroughSavepoints() throws Exception {
        TopicSpec topic = new TopicSpec(
                "moving",
                2,
                List.of(
                        ColumnSpec.of("id", "BIGINT"),
                        ColumnSpec.of("name", "STRING"),
                        ColumnSpec.of("ts", "TIMESTAMP(3)")),
                Optional.of(new WatermarkSpec("ts", 1_000)));
        log.createTopic(topic.name(), topic.partitions());
        String sql =
                """
                CREATE DATABASE IF NOT EXISTS lake.land;
                CREATE TABLE lake.land.moving (id BIGINT, name STRING, ts TIMESTAMP(6));
                INSERT INTO lake.land.moving SELECT id, name, ts FROM stream.moving%s;
                """;
        Optional<String> savepoint = Optional.empty();
        int landed = 0;
        for (String filter : List.of("", " WHERE id >= 0", "")) {
            List<byte[]> keys = new ArrayList<>();
            List<byte[]> values = new ArrayList<>();
            for (int i = landed; i < landed + 3_000; i++) {
                keys.add(String.valueOf(i).getBytes(StandardCharsets.UTF_8));
                values.add("{\"id\":%d,\"name\":\"n%d\",\"ts\":\"%s\"}"
                        .formatted(
                                i,
                                i % 10,
                                LocalDateTime.parse("2026-11-23T00:00").plusSeconds(i))
                        .getBytes(StandardCharsets.UTF_8));
            }
            log.append(topic.name(), keys, values);
            landed += 3_000;
            int expected = landed;
            String job = compute.pipelines()
                    .submit(new PipelineSpec("moving", sql.formatted(filter)), List.of(topic), savepoint)
                    .jobId();
            await(expected + " rows", () -> lakeCount("land.moving") == expected);
            if (filter.isEmpty()) {
                assertThat(vertexNames(job)).noneMatch(n -> n.contains("Calc"));
            } else {
                assertThat(vertexNames(job)).anyMatch(n -> n.contains("Calc"));
            }
            savepoint = Optional.of(compute.jobs().stopWithSavepoint("moving", job));
        }
        var rows = query.query(
                        "SELECT count(*), count(DISTINCT id), sum(id), count(DISTINCT ts), max(ts) FROM lake.land.moving",
                        1)
                .rows()
                .get(0);
        assertThat(rows)
                .containsExactly(
                        (long) landed,
                        (long) landed,
                        BigInteger.valueOf((long) landed * (landed - 1) / 2),
                        (long) landed,
                        "2026-11-23T02:29:59");
    }

    /**
     * A landing pipeline that becomes quiet (as Tarn's audit pipeline did, from every core to one) resumes from its
     * savepoint at parallelism 1, fetching patiently, and lands every record exactly once.
     */
    @Test
    void aLandingPipelineResumesAtParallelismOneWhenItBecomesQuiet() throws Exception {
        TopicSpec topic = new TopicSpec("quieted", 2, List.of(ColumnSpec.of("id", "BIGINT")), Optional.empty());
        log.createTopic(topic.name(), topic.partitions());
        PipelineSpec spec = new PipelineSpec(
                "quieted",
                """
                CREATE DATABASE IF NOT EXISTS lake.land;
                CREATE TABLE lake.land.quieted (id BIGINT);
                INSERT INTO lake.land.quieted SELECT id FROM stream.quieted;
                """);
        appendIds(topic.name(), 0, 3_000);
        FlinkCompute wide = fixture.compute(2, "another");
        String job =
                wide.pipelines().submit(spec, List.of(topic), Optional.empty()).jobId();
        assertThat(parallelisms(job))
                .as("reader and writer on 2, Iceberg's committer on 1")
                .containsExactlyInAnyOrder(2, 2, 1);
        await("3000 rows", () -> lakeCount("land.quieted") == 3_000);
        String savepoint = wide.jobs().stopWithSavepoint(spec.name(), job);

        appendIds(topic.name(), 3_000, 6_000);
        FlinkCompute quiet = fixture.compute(2, spec.name());
        String resumed = quiet.pipelines()
                .submit(spec, List.of(topic), Optional.of(savepoint))
                .jobId();
        assertThat(parallelisms(resumed)).containsOnly(1);
        await("6000 rows", () -> lakeCount("land.quieted") == 6_000);
        assertThat(query.query("SELECT count(DISTINCT id), sum(id) FROM lake.land.quieted", 1)
                        .rows()
                        .get(0))
                .containsExactly(6_000L, BigInteger.valueOf(6_000L * 5_999 / 2));
        quiet.jobs().cancel(resumed);
    }

    private void appendIds(String topic, int from, int to) {
        List<byte[]> keys = new ArrayList<>();
        List<byte[]> values = new ArrayList<>();
        for (int i = from; i < to; i++) {
            keys.add(String.valueOf(i).getBytes(StandardCharsets.UTF_8));
            values.add("{\"id\":%d}".formatted(i).getBytes(StandardCharsets.UTF_8));
        }
        log.append(topic, keys, values);
    }

    /** The parallelism of each of a job's vertices. */
    static List<Integer> parallelisms(String jobId) throws Exception {
        return vertices(jobId).stream().map(v -> v.path("parallelism").asInt()).toList();
    }

    /**
     * A pipeline that dead-letters bad records lands every good record once and keeps every bad one once in its
     * dead-letter table (bytes, position, why), across a stop with a savepoint; its job reads the topic once.
     */
    @Test
    void badRecordsAreDeadLetteredOnceAndThePipelineGoesOn() throws Exception {
        TopicSpec orders = new TopicSpec(
                "orders",
                2,
                List.of(ColumnSpec.of("id", "BIGINT NOT NULL"), ColumnSpec.of("amount", "DECIMAL(10, 2)")),
                Optional.empty());
        log.createTopic(orders.name(), orders.partitions());
        String sql =
                """
                CREATE DATABASE IF NOT EXISTS lake.shop;
                CREATE TABLE lake.shop.orders (id BIGINT, amount DECIMAL(10, 2), p INT);
                INSERT INTO lake.shop.orders SELECT id, amount, kafka_partition FROM stream.orders;
                """;
        PipelineSpec spec = new PipelineSpec("orders-in", sql, PipelineSpec.OnError.DEAD_LETTER);
        Map<String, String> bad = new LinkedHashMap<>();
        bad.put("{oops", "MALFORMED_JSON");
        bad.put("{\"id\":NaN}", "MALFORMED_JSON");
        bad.put("42", "NOT_AN_OBJECT");
        bad.put("{\"id\":\"x\"}", "INVALID_FIELD");
        bad.put("{\"id\":1.5}", "INVALID_FIELD");
        bad.put("{\"amount\":1}", "INVALID_FIELD");
        bad.put("{\"id\":7,\"amount\":99999999.995}", "INVALID_FIELD");
        byte[] notUtf8 = {'{', '"', 'i', 'd', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};
        List<byte[]> keys = new ArrayList<>();
        List<byte[]> values = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            keys.add(String.valueOf(i).getBytes(StandardCharsets.UTF_8));
            values.add(("{\"id\":" + i + ",\"amount\":" + i + ".25}").getBytes(StandardCharsets.UTF_8));
            if (i % 10 == 0 && i / 10 < bad.size()) {
                keys.add(("bad-" + i).getBytes(StandardCharsets.UTF_8));
                values.add(List.copyOf(bad.keySet()).get(i / 10).getBytes(StandardCharsets.UTF_8));
            }
        }
        keys.add(null);
        values.add(notUtf8);
        keys.add(null);
        values.add(null); // a tombstone
        log.append(orders.name(), keys, values);

        String job = compute.pipelines()
                .submit(spec, List.of(orders), Optional.empty())
                .jobId();
        await("100 orders and 9 dead letters", () -> lakeCount("shop.orders") == 100 && deadLetters("orders-in") == 9);
        assertThat(vertexNames(job).stream().filter(n -> n.contains("Source")))
                .as("the topic is read once, by one source")
                .hasSize(1);
        List<List<Object>> letters = query.query(
                        "SELECT error_class, count(*), count(DISTINCT kafka_partition || '/' || kafka_offset)"
                                + " FROM lake.dead_letters.\"orders-in\" GROUP BY error_class ORDER BY error_class",
                        10)
                .rows();
        assertThat(letters.toString())
                .isEqualTo("[[INVALID_FIELD, 4, 4], [MALFORMED_JSON, 3, 3], [NOT_AN_OBJECT, 1, 1], [NO_VALUE, 1, 1]]");
        assertThat(query.query(
                                "SELECT error_message FROM lake.dead_letters.\"orders-in\""
                                        + " WHERE raw = '{\"id\":1.5}'::BLOB",
                                1)
                        .rows()
                        .toString())
                .isEqualTo("[[field 'id' expected BIGINT NOT NULL, got number 1.5]]");
        assertThat(query.query(
                                "SELECT count(kafka_key), min(kafka_key), count(DISTINCT topic)"
                                        + " FROM lake.dead_letters.\"orders-in\"",
                                1)
                        .rows()
                        .toString())
                .as("the keys of the bad records are kept")
                .isEqualTo("[[7, bad-0, 1]]");
        await("records out without dead letters", () -> {
            var running = compute.jobs().status(job).orElseThrow();
            return running.recordsIn() == 109 && running.recordsOut() == 100;
        });

        String savepoint = compute.jobs().stopWithSavepoint(spec.name(), job);
        log.append(
                orders.name(),
                Arrays.asList(null, null),
                List.of(
                        "{\"id\":100,\"amount\":1}".getBytes(StandardCharsets.UTF_8),
                        "[]".getBytes(StandardCharsets.UTF_8)));
        String resumed = compute.pipelines()
                .submit(spec, List.of(orders), Optional.of(savepoint))
                .jobId();
        await(
                "one more order and dead letter",
                () -> lakeCount("shop.orders") == 101 && deadLetters("orders-in") == 10);
        // the resumed job finds the replay topic made after it started, and reads it as the topic
        String replay = DeadLetters.replayTopic(spec.name(), orders.name());
        log.createTopic(replay, 1);
        log.append(
                replay,
                Arrays.asList("k".getBytes(StandardCharsets.UTF_8), null),
                List.of(
                        "{\"id\":101,\"amount\":2}".getBytes(StandardCharsets.UTF_8),
                        "{\"id\":\"still bad\"}".getBytes(StandardCharsets.UTF_8)));
        await(
                "the replayed order and dead letter",
                () -> lakeCount("shop.orders") == 102 && deadLetters("orders-in") == 11);
        Thread.sleep(2_000);
        assertThat(lakeCount("shop.orders")).isEqualTo(102);
        assertThat(deadLetters("orders-in")).isEqualTo(11);
        assertThat(query.query("SELECT sum(amount) FROM lake.shop.orders", 1)
                        .rows()
                        .toString())
                .isEqualTo("[[%s]]".formatted(new java.math.BigDecimal("4978.00")));
        assertThat(query.query(
                                "SELECT topic, kafka_partition, kafka_offset, error_class"
                                        + " FROM lake.dead_letters.\"orders-in\" WHERE topic <> 'orders'",
                                10)
                        .rows()
                        .toString())
                .as("a replayed record that is still bad is dead-lettered at its place in the replay topic")
                .isEqualTo("[[%s, 0, 1, INVALID_FIELD]]".formatted(replay));
        compute.jobs().cancel(resumed);

        // the view of good records keeps the topic's event time: windows plan as over the topic itself
        TopicSpec timed = new TopicSpec(
                "timed-orders",
                1,
                List.of(ColumnSpec.of("id", "BIGINT"), ColumnSpec.of("ts", "TIMESTAMP(3)")),
                Optional.of(new WatermarkSpec("ts", 1_000)));
        compute.pipelines()
                .validate(
                        new PipelineSpec(
                                "windows",
                                """
                                CREATE TABLE IF NOT EXISTS lake.shop.per_minute (w TIMESTAMP(3), n BIGINT);
                                INSERT INTO lake.shop.per_minute SELECT window_start, count(*)
                                FROM TABLE(TUMBLE(TABLE stream.`timed-orders`, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
                                GROUP BY window_start, window_end;
                                """,
                                PipelineSpec.OnError.DEAD_LETTER),
                        List.of(timed));
    }

    /**
     * Quality rules of each action on one topic: counted per rule, records failing a dead-letter rule in the dead-letter
     * table, a warn rule's failures landed, a fail rule's failure failing the job with its reason; rules that name
     * what the topic lacks, or predicates that are not one boolean expression, are refused.
     */
    @Test
    void qualityRulesCountDeadLetterAndFail() throws Exception {
        TopicSpec readings = new TopicSpec(
                "readings",
                1,
                List.of(
                        ColumnSpec.of("id", "BIGINT NOT NULL"),
                        ColumnSpec.of("temp", "DOUBLE"),
                        ColumnSpec.of("unit", "STRING")),
                Optional.empty());
        log.createTopic(readings.name(), 1);
        String sql =
                """
                CREATE DATABASE IF NOT EXISTS lake.plant;
                CREATE TABLE lake.plant.readings (id BIGINT, temp DOUBLE, unit STRING);
                INSERT INTO lake.plant.readings SELECT id, temp, unit FROM stream.readings;
                """;
        List<QualityRule> rules = QualityRule.parse(
                new ObjectMapper()
                        .readTree(
                                """
                        [{"name": "temp-present", "check": "not-null", "column": "temp", "action": "warn"},
                         {"name": "temp-range", "check": "range", "column": "temp", "min": -50, "max": 60,
                          "action": "dead-letter"},
                         {"name": "unit-known", "topic": "readings", "check": "regex", "column": "unit",
                          "pattern": "^(C|F)$", "action": "dead-letter"},
                         {"name": "sane-id", "check": "sql", "predicate": "id < 1000000 -- ids are small",
                          "action": "fail"}]"""));
        PipelineSpec spec = new PipelineSpec("plant-in", sql, PipelineSpec.OnError.DEAD_LETTER, rules);
        List<byte[]> values = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            String temp = i % 5 == 0 ? "null" : i == 7 ? "99.5" : "20.5";
            String unit = i == 8 ? "K" : "C";
            values.add("{\"id\":%d,\"temp\":%s,\"unit\":\"%s\"}"
                    .formatted(i, temp, unit)
                    .getBytes(StandardCharsets.UTF_8));
        }
        log.append(readings.name(), Arrays.asList(new byte[20][]), values);
        String job = compute.pipelines()
                .submit(spec, List.of(readings), Optional.empty())
                .jobId();
        await(
                "18 readings and 2 dead letters",
                () -> lakeCount("plant.readings") == 18 && deadLetters("plant-in") == 2);
        assertThat(query.query(
                                "SELECT kafka_offset, error_class, error_message, decode(raw)"
                                        + " FROM lake.dead_letters.\"plant-in\" ORDER BY kafka_offset",
                                10)
                        .rows()
                        .toString())
                .isEqualTo("[[7, RULE, the record fails rule 'temp-range', {\"id\":7,\"temp\":99.5,\"unit\":\"C\"}],"
                        + " [8, RULE, the record fails rule 'unit-known', {\"id\":8,\"temp\":20.5,\"unit\":\"K\"}]]");
        assertThat(count("SELECT count(*) FROM lake.plant.readings WHERE temp IS NULL"))
                .as("a warn rule's failures go on")
                .isEqualTo(4);
        Map<String, Long> expected = new java.util.TreeMap<>(Map.of(
                "sane-id.passed", 20L,
                "temp-present.failed", 4L,
                "temp-present.passed", 16L,
                "temp-range.failed", 1L,
                "temp-range.passed", 19L,
                "unit-known.failed", 1L,
                "unit-known.passed", 19L));
        await("the rules' counts", () -> compute.jobs().status(job).orElseThrow().ruleCounts().entrySet().stream()
                .filter(e -> e.getValue() > 0)
                .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue))
                .equals(expected));

        log.append(
                readings.name(),
                Arrays.asList(new byte[1][]),
                List.of("{\"id\":5000000,\"temp\":1,\"unit\":\"C\"}".getBytes(StandardCharsets.UTF_8)));
        await("the job to fail on rule sane-id", () -> compute.jobs()
                .status(job)
                .flatMap(JobControl.JobStatus::lastError)
                .orElse("")
                .contains(
                        "the record at partition 0 offset 20 of topic 'readings' fails rule 'sane-id' (action fail)"));
        assertThat(lakeCount("plant.readings")).isEqualTo(18);
        compute.jobs().cancel(job);

        // refusals, decided before anything runs
        Map<String, String> refused = new LinkedHashMap<>();
        refused.put(
                "{\"name\": \"r\", \"check\": \"not-null\", \"column\": \"nope\", \"action\": \"warn\"}",
                "rule 'r': topic 'readings' has no column 'nope'");
        refused.put(
                "{\"name\": \"r\", \"check\": \"regex\", \"column\": \"temp\", \"pattern\": \"x\", \"action\": \"warn\"}",
                "rule 'r': a regex check needs a text column; 'temp' is DOUBLE");
        refused.put(
                "{\"name\": \"r\", \"topic\": \"other\", \"check\": \"not-null\", \"column\": \"id\", \"action\": \"warn\"}",
                "rule 'r' checks topic 'other', which pipeline 'plant-check' does not read (rules check JSON topics"
                        + " with columns that a pipeline reads and does not write)");
        refused.put(
                "{\"name\": \"r\", \"check\": \"sql\", \"predicate\": \"id + 1\", \"action\": \"warn\"}",
                "rule 'r': the predicate must be true or false, not BIGINT NOT NULL");
        for (String injection : List.of(
                "true) FROM x; DROP TABLE lake.plant.readings; --",
                "id > 0 UNION SELECT 1",
                "(SELECT count(*) FROM stream.readings) > 0",
                "nope > 1")) {
            refused.put(
                    "{\"name\": \"r\", \"check\": \"sql\", \"predicate\": %s, \"action\": \"warn\"}"
                            .formatted(new ObjectMapper().writeValueAsString(injection)),
                    "rule 'r': the predicate is not a SQL expression over the topic's columns");
        }
        for (Map.Entry<String, String> rule : refused.entrySet()) {
            PipelineSpec check = new PipelineSpec(
                    "plant-check",
                    sql.replace("CREATE TABLE lake", "CREATE TABLE IF NOT EXISTS lake"),
                    PipelineSpec.OnError.FAIL,
                    QualityRule.parse(new ObjectMapper().readTree("[" + rule.getKey() + "]")));
            assertThatThrownBy(() -> compute.pipelines().validate(check, List.of(readings)))
                    .as(rule.getKey())
                    .isInstanceOf(TarnException.class)
                    .hasMessageStartingWith(rule.getValue());
        }
        assertThat(lakeCount("plant.readings")).isEqualTo(18);
    }

    /** A pipeline started from a time reads the records from then on (not as a landing job, whose seams need all). */
    @Test
    void aPipelineStartsFromATime() throws Exception {
        TopicSpec topic = createEventsTopic("since", 1);
        produce(topic.name(), 0, 30);
        Thread.sleep(100);
        java.time.Instant from = java.time.Instant.now();
        Thread.sleep(100);
        produce(topic.name(), 30, 50);
        PipelineSpec spec = new PipelineSpec(
                "history-since",
                """
                CREATE DATABASE IF NOT EXISTS lake.web;
                CREATE TABLE lake.web.since_then (id BIGINT);
                INSERT INTO lake.web.since_then SELECT id FROM stream.since;
                """,
                PipelineSpec.OnError.FAIL,
                List.of(),
                StartFrom.of(from.toString()));
        String job = compute.pipelines()
                .submit(spec, List.of(topic), Optional.empty())
                .jobId();
        await("the 20 records from then on", () -> lakeCount("web.since_then") == 20);
        Thread.sleep(2_000);
        assertThat(query.query("SELECT count(*), min(id), max(id) FROM lake.web.since_then", 1)
                        .rows()
                        .toString())
                .isEqualTo("[[20, 30, 49]]");
        compute.jobs().cancel(job);
        assertThatThrownBy(() -> new PipelineSpec(
                        "late-letters",
                        "INSERT INTO lake.web.since_then SELECT id FROM stream.since",
                        PipelineSpec.OnError.DEAD_LETTER,
                        List.of(),
                        StartFrom.of("latest")))
                .hasMessageStartingWith("pipeline 'late-letters' dead-letters bad records, so it reads its topics from"
                        + " their first records");
        assertThatThrownBy(() -> StartFrom.of("yesterday"))
                .hasMessage("from must be 'earliest', 'latest' or an ISO-8601 time such as 2026-12-04T10:00:00Z, not"
                        + " 'yesterday'");
    }

    private static long deadLetters(String pipeline) {
        return count("SELECT count(*) FROM lake.dead_letters.\"" + pipeline + "\"");
    }

    /** The names of a job's vertices (chains of operators). */
    static List<String> vertexNames(String jobId) throws Exception {
        return vertices(jobId).stream().map(v -> v.path("name").asText()).toList();
    }

    /** A job's vertices, as Flink's REST API describes them. */
    private static List<JsonNode> vertices(String jobId) throws Exception {
        List<JsonNode> vertices = new ArrayList<>();
        new ObjectMapper()
                .readTree(fixture.get("/jobs/" + jobId))
                .path("vertices")
                .forEach(vertices::add);
        assertThat(vertices).isNotEmpty();
        return vertices;
    }

    /**
     * An upsert pipeline rewrites the same keys many times within and across checkpoints (position and equality
     * deletes); the fast query path (DuckDB) and Flink's batch read return the same rows, the latest per key.
     */
    @Test
    void upsertPipelineReadsTheSameThroughBothEngines() throws Exception {
        TopicSpec topic = createEventsTopic("upserts", 1);
        String sql =
                """
                CREATE DATABASE IF NOT EXISTS lake.web;
                CREATE TABLE lake.web.latest (k BIGINT, name STRING, PRIMARY KEY (k) NOT ENFORCED)
                  WITH ('format-version' = '2', 'write.upsert.enabled' = 'true');
                INSERT INTO lake.web.latest SELECT id % 150, CONCAT('v', CAST(id AS STRING)) FROM stream.upserts;
                """;
        PipelineSpec spec = new PipelineSpec("upsert-latest", sql);
        String job = compute.pipelines()
                .submit(spec, List.of(topic), Optional.empty())
                .jobId();
        int produced = 0;
        for (int round = 0; round < 4; round++) { // several checkpoints, each rewriting every key
            produce(topic.name(), produced, produced + 1_000);
            produced += 1_000;
            long last = produced - 1; // one partition: once its row is committed, every earlier one is
            await("the commit of event " + last, () -> latestNameOf(last % 150).equals("v" + last));
        }
        String read = "SELECT k, name FROM lake.web.latest ORDER BY k";
        List<List<Object>> expected = new ArrayList<>();
        for (long k = 0; k < 150; k++) {
            long last = k + 150 * ((produced - 1 - k) / 150);
            expected.add(List.of(k, "v" + last));
        }
        assertThat(query.query(read, 1_000).rows()).isEqualTo(expected);
        assertThat(query(read, List.of(topic), 1_000, LIMITS).rows()).isEqualTo(expected);
        assertThat(lake.load("web.latest").currentSnapshot().summary())
                .containsKey("total-equality-deletes")
                .containsKey("total-position-deletes");
        assertThat(Long.parseLong(
                        lake.load("web.latest").currentSnapshot().summary().get("total-position-deletes")))
                .isPositive();
        compute.jobs().cancel(job);
    }

    /**
     * A Flink query reads a lake table at a snapshot, tag or branch named by an {@code OPTIONS} hint, as the DuckDB
     * path reads it {@code AT (VERSION => ...)}; every other hinted option, on lake tables and topics, is refused
     * before a job starts.
     */
    @Test
    void queriesReadALakeTableAtASnapshotTagOrBranchAndNoOtherHint() throws Exception {
        compute.pipelines()
                .validate(
                        new PipelineSpec(
                                "history",
                                "CREATE DATABASE IF NOT EXISTS lake.web; CREATE TABLE lake.web.history (id BIGINT, name"
                                        + " STRING); INSERT INTO lake.web.history SELECT id, name FROM stream.events"),
                        List.of(EVENTS));
        long first = fixture.append("web.history", 0, 10, "main");
        lake.load("web.history").manageSnapshots().createTag("first", first).commit();
        lake.load("web.history").manageSnapshots().createBranch("audit", first).commit();
        fixture.append("web.history", 10, 30, "main");
        fixture.append("web.history", 100, 105, "audit");

        String read = "SELECT count(*), sum(id), min(name) FROM lake.web.history";
        record Point(String hint, String version, List<Object> expected) {}
        for (Point point : List.of(
                new Point("", "", List.of(30L, 435L, "n0")),
                new Point("'snapshot-id' = '%d'".formatted(first), String.valueOf(first), List.of(10L, 45L, "n0")),
                new Point("'tag' = 'first'", "'first'", List.of(10L, 45L, "n0")),
                new Point("'branch' = 'audit'", "'audit'", List.of(15L, 555L, "n0")))) {
            String flink = point.hint().isEmpty() ? read : read + " /*+ OPTIONS(" + point.hint() + ") */";
            assertThat(query(flink, List.of(EVENTS), 10, LIMITS).rows())
                    .as(flink)
                    .containsExactly(point.expected());
            String duckdb = point.version().isEmpty() ? read : read + " AT (VERSION => " + point.version() + ")";
            assertThat(wholeNumbersAsLongs(query.query(duckdb, 10).rows()))
                    .as(duckdb + " (its sum is a HUGEINT)")
                    .containsExactly(point.expected());
        }

        String jobs = fixture.jobs();
        String from = "SELECT count(*) FROM lake.web.history /*+ OPTIONS(%s) */";
        for (List<String> refused : List.of(
                List.of(from.formatted("'snapshot-id' = '42'"), "lake table web.history keeps no snapshot 42"),
                List.of(from.formatted("'snapshot-id' = 'latest'"), "'snapshot-id' must be a snapshot id"),
                List.of(from.formatted("'tag' = 'audit'"), "lake table web.history has no tag 'audit'"),
                List.of(from.formatted("'branch' = 'first'"), "lake table web.history has no branch 'first'"),
                List.of(
                        from.formatted("'tag' = 'first', 'snapshot-id' = '%d'".formatted(first)),
                        "a lake table is read at one point: snapshot-id, tag cannot be given together"),
                List.of(
                        from.formatted("'streaming' = 'true', 'monitor-interval' = '1s'"),
                        "OPTIONS hints cannot set 'monitor-interval', 'streaming' on lake tables; they may set only"
                                + " 'as-of-timestamp', 'branch', 'snapshot-id', 'tag'"),
                List.of(
                        "SELECT count(*) FROM stream.events /*+ OPTIONS('properties.bootstrap.servers' = 'x:1') */",
                        "OPTIONS hints cannot set 'properties.bootstrap.servers' on topics or a pipeline's tables"))) {
            assertThatThrownBy(() -> query(refused.get(0), List.of(EVENTS), 10, LIMITS))
                    .as(refused.get(0))
                    .isInstanceOfSatisfying(
                            TarnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_SQL))
                    .hasMessageContaining(refused.get(1))
                    .hasMessageNotContaining(dir.toString()); // not Flink's list of the table's options
        }
        assertThat(fixture.jobs()).as("no query job started").isEqualTo(jobs);
    }

    /**
     * Files written before a column was renamed and another added read as Iceberg's own reader reads them, on Flink
     * and on the DuckDB path (by field id): the old files' names under the new name, the new column null in them.
     */
    @Test
    void anEvolvedTableReadsTheSameOnFlinkDuckDbAndIcebergsReader() throws Exception {
        compute.pipelines()
                .validate(
                        new PipelineSpec(
                                "evolving",
                                "CREATE DATABASE IF NOT EXISTS lake.web; CREATE TABLE lake.web.evolving (id BIGINT, name"
                                        + " STRING); INSERT INTO lake.web.evolving SELECT id, name FROM stream.events"),
                        List.of(EVENTS));
        fixture.append("web.evolving", 0, 5, "main");
        lake.load("web.evolving")
                .updateSchema()
                .renameColumn("name", "title")
                .addColumn("note", Types.StringType.get())
                .commit();
        fixture.append("web.evolving", "main", schema -> LongStream.range(5, 8)
                .mapToObj(id -> {
                    Record row = GenericRecord.create(schema);
                    row.setField("id", id);
                    row.setField("title", "t" + id);
                    row.setField("note", "x" + id);
                    return row;
                })
                .toList());

        List<List<Object>> expected = new ArrayList<>();
        try (CloseableIterable<Record> rows =
                IcebergGenerics.read(lake.load("web.evolving")).build()) {
            rows.forEach(row ->
                    expected.add(Arrays.asList(row.getField("id"), row.getField("title"), row.getField("note"))));
        }
        expected.sort(Comparator.comparing(row -> (Long) row.get(0)));
        assertThat(expected).hasSize(8);
        assertThat(expected.get(0)).containsExactly(0L, "n0", null);
        assertThat(expected.get(7)).containsExactly(7L, "t7", "x7");
        String read = "SELECT id, title, note FROM lake.web.evolving ORDER BY id";
        assertThat(query(read, List.of(EVENTS), 100, LIMITS).rows()).isEqualTo(expected);
        assertThat(query.query(read, 100).rows()).isEqualTo(expected);
    }

    /** Rows with each whole number as a long, whatever type each engine's sum has. */
    static List<List<Object>> wholeNumbersAsLongs(List<List<Object>> rows) {
        return rows.stream()
                .map(row -> row.stream()
                        .map(value -> value instanceof Number number ? (Object) number.longValue() : value)
                        .toList())
                .toList();
    }

    static String latestNameOf(long k) {
        var rows = query.query("SELECT name FROM lake.web.latest WHERE k = " + k, 2)
                .rows();
        return rows.size() == 1 ? (String) rows.get(0).get(0) : "";
    }

    static List<String> liveThreads() {
        return Thread.getAllStackTraces().keySet().stream().map(Thread::getName).toList();
    }

    @Test
    void streamTablesReadTheColumnsAQueryNeedsInItsOrder() {
        TopicSpec topic = new TopicSpec(
                "projected",
                1,
                List.of(ColumnSpec.of("id", "BIGINT"), ColumnSpec.of("name", "STRING"), ColumnSpec.of("n", "INT")),
                Optional.empty());
        log.createTopic(topic.name(), topic.partitions());
        List<byte[]> keys = new ArrayList<>();
        List<byte[]> values = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            keys.add(String.valueOf(i).getBytes(StandardCharsets.UTF_8));
            values.add(("{\"id\":%d,\"name\":\"n%d\",\"n\":%d}".formatted(i, i % 10, 2 * i))
                    .getBytes(StandardCharsets.UTF_8));
        }
        log.append(topic.name(), keys, values);
        TableEnvironment planner = TableEnvironment.create(EnvironmentSettings.inStreamingMode());
        planner.executeSql("CREATE DATABASE `default_catalog`.`stream`");
        planner.executeSql(StreamTables.ddl(topic, kafka.bootstrapServers(), "explain", false));
        assertThat(planner.explainSql("SELECT n, name FROM `stream`.projected"))
                .contains("project=[n, name], metadata=[]")
                .doesNotContain("Calc");
        // two statements that read different columns share one scan that the planner rebuilds from the catalog
        planner.executeSql("CREATE TABLE names (name STRING) WITH ('connector' = 'blackhole')");
        planner.executeSql("CREATE TABLE ids (id BIGINT, kafka_offset BIGINT) WITH ('connector' = 'blackhole')");
        assertThat(planner.createStatementSet()
                        .addInsertSql("INSERT INTO names SELECT name FROM `stream`.projected")
                        .addInsertSql("INSERT INTO ids SELECT id, kafka_offset FROM `stream`.projected WHERE n > 0")
                        .explain())
                .contains(
                        "project=[id, name, n, kafka_offset], metadata=[offset]]], fields=[id, name, n, kafka_offset])"
                                + "(reuse_id=[1])");
        assertThat(query(
                                "SELECT count(*), sum(x) FROM (SELECT id AS x FROM stream.projected"
                                        + " UNION ALL SELECT kafka_offset FROM stream.projected WHERE n > 0)",
                                List.of(topic),
                                10,
                                LIMITS)
                        .rows())
                .containsExactly(List.of(199L, 9900L));
        // value columns only, in another order than the table's (the key is not decoded)
        assertThat(query("SELECT n, name FROM stream.projected WHERE id = 42", List.of(topic), 10, LIMITS)
                        .rows())
                .containsExactly(List.of(84, "n2"));
        assertThat(query(
                                "SELECT count(*), sum(id), count(DISTINCT name), sum(n) FROM stream.projected",
                                List.of(topic),
                                10,
                                LIMITS)
                        .rows())
                .containsExactly(List.of(100L, 4950L, 10L, 9900));
        // no column at all
        assertThat(query("SELECT count(*) FROM stream.projected", List.of(topic), 10, LIMITS)
                        .rows())
                .containsExactly(List.of(100L));
        // key and metadata columns, alone and with value columns
        assertThat(query(
                                "SELECT sum(kafka_offset), count(DISTINCT kafka_partition), min(kafka_key)"
                                        + " FROM stream.projected",
                                List.of(topic),
                                10,
                                LIMITS)
                        .rows())
                .containsExactly(List.of(4950L, 1L, "0"));
        assertThat(query(
                                "SELECT kafka_offset, name, kafka_key, id FROM stream.projected WHERE n = 198",
                                List.of(topic),
                                10,
                                LIMITS)
                        .rows())
                .containsExactly(List.of(99L, "n9", "99", 99L));
        // a raw topic's one value column is read even when no column is asked for
        TopicSpec raw = new TopicSpec("projected-raw", 1, List.of(), Optional.empty());
        log.createTopic(raw.name(), raw.partitions());
        log.append(raw.name(), keys, values);
        assertThat(query(
                                "SELECT count(*), count(DISTINCT kafka_key) FROM stream.`projected-raw`",
                                List.of(raw),
                                10,
                                LIMITS)
                        .rows())
                .containsExactly(List.of(100L, 100L));
    }

    @Test
    void invalidSqlIsRefusedWithFlinksReason() {
        assertThatThrownBy(() -> compute.pipelines()
                        .submit(
                                new PipelineSpec("bad", "INSERT INTO lake.web.nope SELECT id FROM stream.events"),
                                List.of(EVENTS),
                                Optional.empty()))
                .isInstanceOfSatisfying(
                        TarnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_SQL))
                .hasMessageContaining("pipeline 'bad'")
                .hasMessageContaining("nope");
        assertThatThrownBy(() -> compute.pipelines()
                        .submit(
                                new PipelineSpec("bad", "INSERT INTO lake.web.events SELEC id FROM stream.events"),
                                List.of(EVENTS),
                                Optional.empty()))
                .isInstanceOfSatisfying(
                        TarnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_SQL));
        assertThatThrownBy(() -> compute.pipelines()
                        .submit(
                                new PipelineSpec("bad", "CREATE TEMPORARY VIEW v AS SELECT 1 AS a"),
                                List.of(EVENTS),
                                Optional.empty()))
                .hasMessage("pipeline 'bad' has no INSERT INTO statement");
    }
}
