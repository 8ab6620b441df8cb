package io.tarn.bench;

import io.tarn.app.launcher.FlinkClusterProcesses;
import io.tarn.app.launcher.ServerProcess;
import io.tarn.compute.RestTls;
import io.tarn.core.io.Directories;
import io.tarn.s3proxy.S3Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The same Tarn scaled out, one part at a time, each in a server process of its own on the bench server's Kafka with
 * pipelines at parallelism 2 (the topic's partitions, the machine's cores):
 *
 * <ul>
 *   <li>{@code local}: the embedded MiniCluster, the warehouse on local disk (the baseline);
 *   <li>{@code s3}: the warehouse in an S3-compatible store (S3Proxy with its file-system back end, in a process of its
 *       own on the same machine);
 *   <li>{@code session-cluster}: pipelines on a Flink session cluster of a JobManager and two TaskManagers (two slots
 *       each), separate JVMs on the same machine, jobs carrying Tarn's jars.
 * </ul>
 *
 * <p>{@code scale-out/ingest}: the time until a pre-loaded topic's events are committed lake rows. {@code
 * scale-out/qN-first} and {@code qN}: lake SQL's queries on the landed table through the DuckDB path, the first time
 * (on S3: the files are fetched) and then (the median of five). The CPU time is the server's, the cluster's and S3Proxy's
 * processes'. On one machine a cluster measures its cost, not its reach: the same two cores do the work.
 */
final class ScaleOut {
    static final String NAME = "scale-out";
    static final String INGEST = NAME + "/ingest";
    private static final int PARTITIONS = 2;
    private static final int SAMPLES = 5;
    private static final Duration TIMEOUT = Duration.ofMinutes(30);

    private final BenchContext context;
    private final long events;

    ScaleOut(BenchContext context, long events) {
        this.context = context;
        this.events = events;
    }

    List<Run> run() throws Exception {
        List<Run> runs = new ArrayList<>();
        Path work = Files.createTempDirectory("tarn-bench-scale-out");
        try {
            if (context.settings.runs("local")) {
                runs.addAll(variant("local", work, Map.of(), () -> 0));
            }
            if (context.settings.runs("s3")) {
                try (S3Proxy s3 = S3Proxy.start(work.resolve("s3"), List.of("lake"))) {
                    Map<String, String> environment = Map.of(
                            "TARN_LAKE_WAREHOUSE",
                            "s3://lake/warehouse",
                            "TARN_LAKE_S3_ENDPOINT",
                            s3.endpoint(),
                            "TARN_LAKE_S3_REGION",
                            S3Proxy.REGION,
                            "TARN_LAKE_S3_PATH_STYLE_ACCESS",
                            "true",
                            "TARN_LAKE_S3_ACCESS_KEY_ID",
                            S3Proxy.ACCESS_KEY,
                            "TARN_LAKE_S3_SECRET_ACCESS_KEY",
                            S3Proxy.SECRET_KEY);
                    runs.addAll(variant("s3", work, environment, () -> ServerProcess.cpuSeconds(s3.pid())));
                }
            }
            if (context.settings.runs("session-cluster")) {
                Path tls = work.resolve("flink-tls");
                try (FlinkClusterProcesses cluster = FlinkClusterProcesses.start(
                        work.resolve("flink"), 2, 2, Optional.of(RestTls.open(tls)), Map.of())) {
                    Map<String, String> environment = Map.of(
                            "TARN_COMPUTE_CLUSTER", cluster.restAddress(),
                            "TARN_COMPUTE_CLUSTER_TLS_STORE",
                                    tls.resolve("cluster.p12").toString(),
                            "TARN_COMPUTE_CLUSTER_TLS_STORE_PASSWORD",
                                    Files.readString(tls.resolve("cluster.password"))
                                            .strip(),
                            "TARN_COMPUTE_STATE_DIR",
                                    work.resolve("flink-state").toString());
                    runs.addAll(variant("session-cluster", work, environment, cluster::cpuSeconds));
                }
            }
        } finally {
            Directories.deleteRecursively(work);
        }
        return runs;
    }

    /** CPU seconds of a process beside the server's (S3Proxy, the Flink cluster). */
    private interface Cpu {
        double seconds();
    }

    private List<Run> variant(String variant, Path work, Map<String, String> extraEnvironment, Cpu outside)
            throws Exception {
        Map<String, String> environment = new HashMap<>(extraEnvironment);
        environment.put("TARN_LOG_BOOTSTRAP_SERVERS", context.server.bootstrapServers());
        environment.put("TARN_COMPUTE_PARALLELISM", String.valueOf(PARTITIONS));
        environment.put("TARN_LAKE_MAINTENANCE_ENABLED", "false");
        Path log = work.resolve(variant + ".log");
        String topic = "bench_scale_" + variant.replace('-', '_');
        List<Run> runs = new ArrayList<>();
        try (ServerProcess server = ServerProcess.start(work.resolve(variant), log, environment, 0)) {
            context.register(server);
            context.createTopic(server.http, topic, PARTITIONS);
            IngestLake.preload(context, topic, events);
            runs.addAll(context.repeat(round -> {
                String landed = "bench.scale_" + round;
                String pipeline = "bench-scale-" + round;
                double cpu = server.cpuSeconds() + outside.seconds();
                long start = System.nanoTime();
                context.createPipeline(server.http, pipeline, BenchContext.landingSql(landed, topic));
                BenchContext.awaitAtLeast(
                        landed + " rows", () -> rowsWritten(server.http, landed), events, TIMEOUT, () -> {
                            var status = context.request(server.http, "GET", "/v1/pipelines/" + pipeline, null, 200);
                            String state = status.path("state").asText();
                            return state.equals("FAILED") || state.equals("RESTARTING")
                                    ? Optional.of(
                                            "pipeline " + pipeline + " is " + state + ": " + status.path("lastError"))
                                    : Optional.empty();
                        });
                double seconds = (System.nanoTime() - start) / 1e9;
                Run run = new Run(
                        INGEST,
                        variant,
                        round,
                        events,
                        seconds,
                        server.cpuSeconds() + outside.seconds() - cpu,
                        Map.of());
                context.request(server.http, "DELETE", "/v1/pipelines/" + pipeline, null, 204);
                if (round > 0) {
                    context.request(server.http, "DELETE", "/v1/tables/bench.scale_" + (round - 1), null, 204);
                }
                return List.of(run);
            }));
            String table = "bench.scale_" + (context.settings.warmups() + context.settings.repetitions() - 1);
            if (!variant.equals("session-cluster")) {
                runs.addAll(queries(server, variant, table, outside));
            }
            server.terminate();
        }
        return runs;
    }

    /** Each lake-sql query: its first run after the table was landed, and then the median of five. */
    private List<Run> queries(ServerProcess server, String variant, String table, Cpu outside) {
        List<Run> runs = new ArrayList<>();
        for (int q = 0; q < LakeSql.QUERIES.size(); q++) {
            String sql = LakeSql.QUERIES.get(q).formatted("lake." + table);
            double cpu = server.cpuSeconds() + outside.seconds();
            double first = time(server, sql);
            runs.add(new Run(
                    NAME + "/q" + (q + 1) + "-first",
                    variant,
                    0,
                    events,
                    first,
                    server.cpuSeconds() + outside.seconds() - cpu,
                    Map.of("ms", first * 1000)));
            for (int repetition = 0; repetition < context.settings.repetitions(); repetition++) {
                List<Double> times = new ArrayList<>();
                cpu = server.cpuSeconds() + outside.seconds();
                for (int i = 0; i < SAMPLES; i++) {
                    times.add(time(server, sql));
                }
                times.sort(null);
                double median = times.get(SAMPLES / 2);
                runs.add(new Run(
                        NAME + "/q" + (q + 1),
                        variant,
                        repetition,
                        events,
                        median,
                        (server.cpuSeconds() + outside.seconds() - cpu) / SAMPLES,
                        Map.of("ms", median * 1000)));
            }
            Report.log("%s %s q%d: first %.0f ms".formatted(NAME, variant, q + 1, first * 1000));
        }
        return runs;
    }

    private double time(ServerProcess server, String sql) {
        long start = System.nanoTime();
        context.request(
                server.http,
                "POST",
                "/v1/query",
                BenchContext.JSON.createObjectNode().put("sql", sql).toString(),
                200);
        return (System.nanoTime() - start) / 1e9;
    }

    private long rowsWritten(String base, String table) {
        try {
            return context.request(base, "GET", "/v1/tables/" + table, null, 200)
                    .path("rowsWritten")
                    .asLong();
        } catch (IllegalStateException e) {
            return 0; // not created yet
        }
    }
}
