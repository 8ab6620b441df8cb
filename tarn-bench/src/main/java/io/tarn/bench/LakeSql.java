package io.tarn.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.io.CloseableIterable;

/**
 * Workload 5, lake SQL: ClickBench-style queries over a click table written by a Tarn pipeline, answered by Tarn's
 * fast path ({@code POST /v1/query}, DuckDB over Iceberg's file plan), by DuckDB directly on the same Parquet files
 * (the fast path's ceiling), and by Flink batch ({@code "engine": "flink"}). Every engine must return the same rows.
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

    private final BenchContext context;
    private final long events;

    LakeSql(BenchContext context) {
        this.context = context;
        this.events = context.settings.lakeEvents();
    }

    List<Run> run() throws Exception {
        IngestLake.preloadOnce(context);
        String pipeline = "bench-lake-sql";
        context.createPipeline(pipeline, BenchContext.landingSql(TABLE, IngestLake.TOPIC));
        BenchContext.awaitAtLeast(
                TABLE + " rows", () -> context.committedRows(TABLE), events, Duration.ofMinutes(30), Optional::empty);
        context.request("DELETE", "/v1/pipelines/" + pipeline, null, 204);
        List<Run> runs = new ArrayList<>();
        try (Connection duck = DriverManager.getConnection("jdbc:duckdb:")) {
            String files = files();
            for (int q = 0; q < QUERIES.size(); q++) {
                int number = q + 1;
                String query = QUERIES.get(q);
                List<List<List<Object>>> expected = new ArrayList<>();
                runs.addAll(context.repeat(i -> {
                    List<Run> round = new ArrayList<>();
                    for (String variant : List.of("tarn", "raw-duckdb", "flink-batch")) {
                        if (!context.settings.runs(variant)) {
                            continue;
                        }
                        double cpu = Machine.processCpuSeconds();
                        long start = System.nanoTime();
                        List<List<Object>> rows =
                                switch (variant) {
                                    case "tarn" -> viaTarn(query.formatted("lake." + TABLE), "duckdb");
                                    case "flink-batch" -> viaTarn(query.formatted("lake." + TABLE), "flink");
                                    default -> viaDuckDb(duck, query.formatted(files));
                                };
                        double seconds = (System.nanoTime() - start) / 1e9;
                        if (expected.isEmpty()) {
                            expected.add(rows);
                        } else if (!expected.get(0).equals(rows)) {
                            throw new IllegalStateException("Q%d: %s answered %s, expected %s"
                                    .formatted(number, variant, rows, expected.get(0)));
                        }
                        round.add(new Run(
                                NAME + "/q" + number,
                                variant,
                                i,
                                events,
                                seconds,
                                Machine.processCpuSeconds() - cpu,
                                Map.of("ms", seconds * 1000)));
                    }
                    return round;
                }));
            }
        }
        return runs;
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
