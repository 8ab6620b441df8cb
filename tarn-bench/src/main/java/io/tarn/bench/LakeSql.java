package io.tarn.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Workload 5, lake SQL: ClickBench-style queries over a click table written by a Tarn pipeline, answered by Tarn's
 * fast path ({@code POST /v1/query}, DuckDB over Iceberg's file plan), by DuckDB directly on the same Parquet files
 * (the fast path's ceiling; its Parquet footer cache on, as Tarn's) and by Flink batch ({@code "engine": "flink"}).
 * Every engine must return the same rows. The queries run three times over the table: as the landing pipeline left it
 * ({@code qN}); after a pipeline streamed small commits into it for a while with maintenance off ({@code
 * qN-small-files}); and after one maintenance run compacted it ({@code qN-maintained}).
 */
final class LakeSql {
    static final String NAME = "lake-sql";
    private static final String TABLE = "bench.clicks";
    static final List<String> QUERIES = List.of(
            "SELECT count(*) FROM %s",
            "SELECT count(DISTINCT user_id) FROM %s",
            "SELECT page, count(*) AS c FROM %s GROUP BY page ORDER BY c DESC, page LIMIT 10",
            "SELECT country, referrer, count(*) AS c FROM %s GROUP BY country, referrer ORDER BY c DESC, country, referrer LIMIT 10",
            "SELECT count(*) FROM %s WHERE page = '/pricing' AND country = 'DE'",
            "SELECT user_id, count(*) AS c FROM %s GROUP BY user_id ORDER BY c DESC, user_id LIMIT 10",
            "SELECT max(id) - min(id) FROM %s WHERE referrer <> 'direct'");

    private static final String STREAM_TOPIC = "bench_clicks_stream";
    /** Times a DuckDB round runs each query per engine; the median counts. */
    private static final int SAMPLES = 5;

    private static final int STREAM_RATE = 2_000;

    private final BenchContext context;
    private final Duration streaming;
    private long rows;

    /** @param streaming how long small commits stream into the table before the second round of queries */
    LakeSql(BenchContext context, Duration streaming) {
        this.context = context;
        this.streaming = streaming;
        this.rows = context.settings.lakeEvents();
    }

    List<Run> run() throws Exception {
        IngestLake.preloadOnce(context);
        String pipeline = "bench-lake-sql";
        context.createPipeline(pipeline, BenchContext.landingSql(TABLE, IngestLake.TOPIC));
        BenchContext.awaitAtLeast(
                TABLE + " rows", () -> context.committedRows(TABLE), rows, Duration.ofMinutes(30), Optional::empty);
        context.request("DELETE", "/v1/pipelines/" + pipeline, null, 204);
        List<Run> runs = new ArrayList<>();
        try (Connection duck = DriverManager.getConnection("jdbc:duckdb:")) {
            try (Statement statement = duck.createStatement()) {
                statement.execute("SET parquet_metadata_cache = true");
            }
            runs.addAll(queries(duck, ""));
            streamSmallCommits();
            runs.addAll(queries(duck, "-small-files"));
            var maintenance = context.request("POST", "/v1/tables/" + TABLE + "/maintenance", "{}", 200);
            Report.log("%s: maintenance %s".formatted(NAME, maintenance.path("compaction")));
            runs.addAll(queries(duck, "-maintained"));
        }
        return runs;
    }

    /** Every query, repeated, by each engine over the table's current files; {@code phase} names the table's state. */
    private List<Run> queries(Connection duck, String phase) throws Exception {
        List<Run> runs = new ArrayList<>();
        String files = files();
        Report.log("%s%s: %d rows in %d data files".formatted(NAME, phase, rows, files.split("', '").length));
        for (int q = 0; q < QUERIES.size(); q++) {
            int number = q + 1;
            String query = QUERIES.get(q);
            List<List<List<Object>>> expected = new ArrayList<>();
            // Flink's rounds after DuckDB's: a batch job's end (its threads, its garbage) must not overlap the next
            // query of the server's DuckDB. A DuckDB round times each query SAMPLES times, alternating the engines,
            // and counts the median: a query of some milliseconds is otherwise at the mercy of one pause
            for (List<String> variants : List.of(List.of("tarn", "raw-duckdb"), List.of("flink-batch"))) {
                int samples = variants.contains("flink-batch") ? 1 : SAMPLES;
                runs.addAll(context.repeat(i -> {
                    Map<String, List<Double>> seconds = new LinkedHashMap<>();
                    Map<String, Double> cpu = new HashMap<>();
                    for (int sample = 0; sample < samples; sample++) {
                        for (String variant : variants) {
                            if (!context.settings.runs(variant)) {
                                continue;
                            }
                            double cpuBefore = Machine.processCpuSeconds();
                            long start = System.nanoTime();
                            List<List<Object>> answer =
                                    switch (variant) {
                                        case "tarn" -> viaTarn(query.formatted("lake." + TABLE), "duckdb");
                                        case "flink-batch" -> viaTarn(query.formatted("lake." + TABLE), "flink");
                                        default -> viaDuckDb(duck, query.formatted(files));
                                    };
                            seconds.computeIfAbsent(variant, v -> new ArrayList<>())
                                    .add((System.nanoTime() - start) / 1e9);
                            cpu.merge(variant, Machine.processCpuSeconds() - cpuBefore, Double::sum);
                            if (expected.isEmpty()) {
                                expected.add(answer);
                            } else if (!expected.get(0).equals(answer)) {
                                throw new IllegalStateException("Q%d%s: %s answered %s, expected %s"
                                        .formatted(number, phase, variant, answer, expected.get(0)));
                            }
                        }
                    }
                    List<Run> round = new ArrayList<>();
                    seconds.forEach((variant, times) -> {
                        double median = times.stream().sorted().toList().get(times.size() / 2);
                        round.add(new Run(
                                NAME + "/q" + number + phase,
                                variant,
                                i,
                                rows,
                                median,
                                cpu.get(variant) / times.size(),
                                Map.of("ms", median * 1000)));
                    });
                    return round;
                }));
            }
        }
        return runs;
    }

    /**
     * A landing pipeline commits small files into the table every checkpoint while events arrive at a steady rate, as
     * a table written all day looks before maintenance.
     */
    private void streamSmallCommits() throws Exception {
        context.createTopic(STREAM_TOPIC, 2);
        String pipeline = "bench-lake-sql-stream";
        context.createPipeline(pipeline, BenchContext.landingSql(TABLE, STREAM_TOPIC));
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, context.server.bootstrapServers());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        long first = rows;
        long sent = 0;
        long start = System.nanoTime();
        try (var producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            while (System.nanoTime() - start < streaming.toNanos()) {
                long due = (System.nanoTime() - start) * STREAM_RATE / 1_000_000_000L;
                for (; sent < due; sent++) {
                    long n = first + sent;
                    producer.send(new ProducerRecord<>(STREAM_TOPIC, (int) (n % 2), null, Events.bytes(n)));
                }
                Thread.sleep(10);
            }
            producer.flush();
        }
        rows = first + sent;
        BenchContext.awaitAtLeast(
                TABLE + " rows", () -> context.committedRows(TABLE), rows, Duration.ofMinutes(5), Optional::empty);
        context.request("DELETE", "/v1/pipelines/" + pipeline, null, 204);
    }

    /** {@code read_parquet([...])} of the table's current data files. */
    private String files() throws Exception {
        List<String> paths = new ArrayList<>();
        try (CloseableIterable<FileScanTask> tasks =
                context.server.lake().load(TABLE).newScan().planFiles()) {
            for (FileScanTask task : tasks) {
                paths.add("'" + task.file().location().replaceFirst("^file:", "") + "'");
            }
        }
        return "read_parquet([" + String.join(", ", paths) + "])";
    }

    private List<List<Object>> viaTarn(String sql, String engine) {
        var answer = context.request(
                "POST",
                "/v1/query",
                BenchContext.JSON
                        .createObjectNode()
                        .put("sql", sql)
                        .put("engine", engine)
                        .toString(),
                200);
        List<List<Object>> rows = new ArrayList<>();
        for (var row : answer.path("rows")) {
            List<Object> values = new ArrayList<>();
            row.forEach(v -> values.add(v.isNumber() ? (Object) v.asLong() : v.asText()));
            rows.add(values);
        }
        return rows;
    }

    private static List<List<Object>> viaDuckDb(Connection duck, String sql) throws Exception {
        List<List<Object>> rows = new ArrayList<>();
        try (Statement statement = duck.createStatement();
                ResultSet rs = statement.executeQuery(sql)) {
            int columns = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                List<Object> values = new ArrayList<>();
                for (int c = 1; c <= columns; c++) {
                    Object value = rs.getObject(c);
                    values.add(value instanceof Number n ? (Object) n.longValue() : String.valueOf(value));
                }
                rows.add(values);
            }
        }
        return rows;
    }
}
