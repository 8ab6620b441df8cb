package io.tarn.bench;

import io.tarn.bench.nexmark.NexmarkQueries;
import io.tarn.core.io.Directories;
import io.tarn.core.sql.SqlScript;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.table.api.TableEnvironment;

/**
 * Workload 4, Nexmark: each query over the same generated events (generator inside the job, see {@link
 * io.tarn.bench.nexmark.NexmarkGenerator}), once as a Tarn pipeline ({@code POST /v1/pipelines}: Tarn's checkpointing,
 * restart strategy, catalogs) and once as the same SQL submitted as a plain Flink job to the same MiniCluster, with the
 * same parallelism and checkpoint interval. Time from submission until the job has finished all events; events per
 * second, and events per CPU-second of the process (throughput per core).
 */
final class Nexmark {
    static final String NAME = "nexmark";
    private static final Duration TIMEOUT = Duration.ofMinutes(20);

    private final BenchContext context;
    private final long events;
    private final List<String> only;

    /** @param only queries to run (empty: all) */
    Nexmark(BenchContext context, long events, List<String> only) {
        this.context = context;
        this.events = events;
        this.only = only;
    }

    List<Run> run() throws Exception {
        Path dir = Files.createTempDirectory("tarn-bench-nexmark");
        try {
            Files.writeString(dir.resolve("side_input.csv"), NexmarkQueries.sideInput());
            Map<String, String> queries = new LinkedHashMap<>(NexmarkQueries.queries(dir.toString()));
            if (!only.isEmpty()) {
                queries.keySet().retainAll(only);
            }
            return context.repeat(round -> {
                List<Run> runs = new ArrayList<>();
                for (Map.Entry<String, String> query : queries.entrySet()) {
                    String sql = NexmarkQueries.setup(events) + query.getValue();
                    if (context.settings.runs("tarn")) {
                        runs.add(tarn(query.getKey(), sql, round));
                    }
                    if (context.settings.runs("plain-flink")) {
                        for (int parallelism : BenchContext.plainFlinkParallelisms()) {
                            runs.add(plainFlink(query.getKey(), sql, round, parallelism));
                        }
                    }
                    Directories.deleteRecursively(dir.resolve("q10"));
                }
                return runs;
            });
        } finally {
            Directories.deleteRecursively(dir);
        }
    }

    private Run tarn(String query, String sql, int round) throws Exception {
        String pipeline = "nexmark-" + query + "-" + round;
        long start = System.nanoTime();
        double cpu = Machine.processCpuSeconds();
        context.createPipeline(pipeline, sql);
        BenchContext.awaitAtLeast(
                pipeline + " finished",
                () -> switch (context.request("GET", "/v1/pipelines/" + pipeline, null, 200)
                        .path("state")
                        .asText()) {
                    case "FINISHED" -> 1;
                    case "FAILED", "STOPPED" -> throw new IllegalStateException("pipeline " + pipeline + " failed");
                    default -> 0;
                },
                1,
                TIMEOUT,
                Optional::empty);
        Run run = run(query, "tarn", round, start, cpu);
        context.request("DELETE", "/v1/pipelines/" + pipeline, null, 204);
        return run;
    }

    private Run plainFlink(String query, String sql, int round, int parallelism) throws Exception {
        long start = System.nanoTime();
        double cpu = Machine.processCpuSeconds();
        TableEnvironment env =
                context.plainFlink("bench:nexmark-%s-p%d-%d".formatted(query, parallelism, round), parallelism);
        JobClient job = null;
        for (String statement : SqlScript.split(sql)) {
            var result = env.executeSql(statement);
            if (result.getJobClient().isPresent()) {
                job = result.getJobClient().get();
            }
        }
        if (job == null) {
            throw new IllegalStateException(query + " has no INSERT");
        }
        job.getJobExecutionResult().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        return run(query, Report.plainFlink(parallelism), round, start, cpu);
    }

    private Run run(String query, String variant, int round, long start, double cpu) {
        double seconds = (System.nanoTime() - start) / 1e9;
        double cpuSeconds = Machine.processCpuSeconds() - cpu;
        return new Run(
                NAME + "/" + query,
                variant,
                round,
                events,
                seconds,
                cpuSeconds,
                Map.of("eventsPerCoreSecond", Math.round(events / cpuSeconds)));
    }
}
