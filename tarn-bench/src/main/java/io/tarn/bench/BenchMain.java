package io.tarn.bench;

import io.tarn.bench.nexmark.CountChar;
import io.tarn.bench.nexmark.NexmarkQueries;
import io.tarn.core.config.ConfigKeys;
import io.tarn.core.config.TarnConfig;
import io.tarn.core.io.Directories;
import io.tarn.server.TarnServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ./tarn bench [--quick] [WORKLOAD...]}: runs the workloads against a fresh embedded Tarn and its baselines in
 * one process, writes {@code bench/results/<date>-<host>.json|md|svg} and, for full runs, the latest results section
 * of {@code docs/benchmarks.md}.
 */
@Command(
        name = "tarn bench",
        mixinStandardHelpOptions = true,
        description = "Measure Tarn against plain Flink, raw Kafka and the Kafka producer, in one run.")
public final class BenchMain implements Callable<Integer> {
    static final List<String> WORKLOADS = List.of(
            IngestLake.NAME,
            HttpIngest.NAME,
            Freshness.NAME,
            Nexmark.NAME,
            LakeSql.NAME,
            CompactionBench.NAME,
            StartRecovery.NAME,
            Memory.NAME,
            Cdc.NAME,
            LiveView.NAME,
            Soak.NAME,
            ScaleOut.NAME);

    @Parameters(
            arity = "0..*",
            description = "Workloads to run (default: all): ingest-lake, http-ingest, freshness, nexmark, lake-sql,"
                    + " compaction, start-recovery, memory, cdc, live-view, soak, scale-out")
    List<String> workloads = new ArrayList<>();

    @Option(names = "--quick", description = "Small sizes, one repetition, no warm-up: checks the harness works.")
    boolean quick;

    @Option(
            names = "--lake-events",
            description = "Events of the ingest-lake workload (default 20000000; quick 200000).")
    Long lakeEvents;

    @Option(
            names = "--http-events",
            description = "Events of the http-ingest workload (default 2000000; quick 100000).")
    Long httpEvents;

    @Option(
            names = "--nexmark-events",
            description = "Events each Nexmark query reads (default 10000000; quick 20000).")
    Long nexmarkEvents;

    @Option(names = "--nexmark-queries", split = ",", description = "Run only these Nexmark queries (e.g. q0,q5).")
    List<String> nexmarkQueries = new ArrayList<>();

    @Option(
            names = "--scale-out-events",
            description = "Events of the scale-out workload (default 5000000; quick 200000).")
    Long scaleOutEvents;

    long scaleOutEvents() {
        return scaleOutEvents != null ? scaleOutEvents : quick ? 200_000 : 5_000_000;
    }

    @Option(names = "--memory-rate", description = "Events per second of the memory workload (default 100000).")
    int memoryRate = 100_000;

    @Option(names = "--memory-seconds", description = "How long the memory workload sends (default 600; quick 60).")
    Integer memorySeconds;

    @Option(
            names = "--lake-stream-seconds",
            description = "How long lake-sql streams small commits into its table before it queries again (default 600;"
                    + " quick 20).")
    Integer lakeStreamSeconds;

    @Option(
            names = "--compaction-rows",
            description = "Rows of the compaction workload's table (default 20000000; quick 200000).")
    Long compactionRows;

    @Option(
            names = "--compaction-files",
            description = "Small files the compaction workload's table starts in (default 1000; quick 100).")
    Integer compactionFiles;

    @Option(
            names = "--soak-seconds",
            description = "How long the soak workload runs with maintenance off and then on (default 1800; quick 120).")
    Integer soakSeconds;

    @Option(
            names = "--soak-rate",
            description = "Events per second the soak workload's landing pipeline takes (default 10000).")
    int soakRate = 10_000;

    @Option(
            names = "--soak-drain-events",
            description = "Events the soak workload drains after each soak, with maintenance off and on (default"
                    + " 20000000; quick 2000000).")
    Long soakDrainEvents;

    @Option(names = "--repetitions", description = "Timed repetitions (default 3; quick 1).")
    Integer repetitions;

    @Option(names = "--warmups", description = "Untimed warm-up rounds (default 1; quick 0).")
    Integer warmups;

    @Option(
            names = "--variants",
            split = ",",
            description = "Run only these variants (e.g. tarn,plain-flink), for profiling; default all.")
    List<String> variants = new ArrayList<>();

    @Option(names = "--out", description = "Directory for the results (default bench/results).")
    Path out = Path.of("bench", "results");

    @Option(
            names = "--docs",
            description = "Page whose latest-results block of each workload a run at full size (default sizes, every"
                    + " variant, at least 3 repetitions) replaces.")
    Path docs = Path.of("docs", "benchmarks.md");

    @Option(
            names = "--from-results",
            paramLabel = "JSON",
            description = "Run nothing: write the latest-results blocks of --docs from this results file (only those of"
                    + " the WORKLOADs given, if any).")
    Path fromResults;

    @Option(
            names = "--cdc-rows",
            description = "Rows of the captured PostgreSQL table (default: 1,000,000; --quick: 20,000).")
    Integer cdcRows;

    @Option(
            names = "--work-dir",
            description = "Scratch data directory, deleted afterwards (default: a temporary one).")
    Path workDir;

    private long nexmarkEvents() {
        return nexmarkEvents != null ? nexmarkEvents : quick ? 20_000 : 10_000_000;
    }

    private int cdcRows() {
        return cdcRows != null ? cdcRows : quick ? 20_000 : 1_000_000;
    }

    private int memorySeconds() {
        return memorySeconds != null ? memorySeconds : quick ? 60 : 600;
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new BenchMain()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        if (fromResults != null) {
            Path md = fromResults.resolveSibling(
                    fromResults.getFileName().toString().replaceFirst("\\.json$", ".md"));
            updateDocs(Report.read(fromResults), md, workloads);
            return 0;
        }
        List<String> selected = workloads.isEmpty() ? WORKLOADS : workloads;
        Report.log("the log of Tarn and the engines goes to "
                + Path.of("tarn-bench.log").toAbsolutePath());
        for (String workload : selected) {
            if (!WORKLOADS.contains(workload)) {
                System.err.printf("unknown workload '%s'; known: %s%n", workload, WORKLOADS);
                return 2;
            }
        }
        BenchContext.Settings settings = settings();
        LocalDateTime started = LocalDateTime.now();
        Path dataDir = workDir != null ? workDir : Files.createTempDirectory("tarn-bench");
        Directories.deleteRecursively(dataDir);
        TarnConfig config = TarnConfig.defaults()
                .with(ConfigKeys.DATA_DIR, dataDir.toString())
                .with(ConfigKeys.HTTP_PORT, "0")
                .with(ConfigKeys.LOG_PORT, "0")
                // Nexmark's pipelines read its generator, write q10 to files and declare q14's function: the operator's
                // (here: the harness's) decision, as it would be for any connector beyond Tarn's own
                .with(ConfigKeys.COMPUTE_SQL_ALLOWED_CONNECTORS, String.join(",", NexmarkQueries.CONNECTORS))
                .with(ConfigKeys.COMPUTE_SQL_ALLOWED_FUNCTIONS, CountChar.class.getName())
                // maintenance runs where a workload measures it (lake-sql), not on its own beside other workloads
                .with(ConfigKeys.LAKE_MAINTENANCE_ENABLED, "false");
        List<Run> runs = new ArrayList<>();
        try (TarnServer server = TarnServer.start(config)) {
            BenchContext context = new BenchContext(server, settings);
            for (String workload : selected) {
                Report.log("workload " + workload);
                runs.addAll(
                        switch (workload) {
                            case IngestLake.NAME -> new IngestLake(context).run();
                            case HttpIngest.NAME -> new HttpIngest(context).run();
                            case LakeSql.NAME ->
                                new LakeSql(
                                                context,
                                                Duration.ofSeconds(
                                                        lakeStreamSeconds != null
                                                                ? lakeStreamSeconds
                                                                : quick ? 20 : 600))
                                        .run();
                            case Nexmark.NAME -> new Nexmark(context, nexmarkEvents(), nexmarkQueries).run();
                            case CompactionBench.NAME ->
                                new CompactionBench(context, compactionRows(), compactionFiles()).run();
                            case StartRecovery.NAME ->
                                new StartRecovery(context, Duration.ofSeconds(quick ? 3 : 10)).run();
                            case Memory.NAME ->
                                new Memory(
                                                context,
                                                memoryRate,
                                                Duration.ofSeconds(quick ? 10 : 60),
                                                Duration.ofSeconds(memorySeconds()))
                                        .run();
                            case Soak.NAME -> new Soak(context, soakSettings()).run();
                            case ScaleOut.NAME -> new ScaleOut(context, scaleOutEvents()).run();
                            case Cdc.NAME ->
                                new Cdc(context, cdcRows(), quick ? 50 : 200, Duration.ofSeconds(quick ? 5 : 60)).run();
                            case LiveView.NAME ->
                                new LiveView(
                                                context,
                                                liveRates(),
                                                Duration.ofSeconds(quick ? 5 : 30),
                                                quick ? 50_000 : 1_000_000,
                                                Duration.ofSeconds(quick ? 3 : 15))
                                        .run();
                            default ->
                                new Freshness(
                                                context,
                                                quick ? List.of(2_000) : List.of(10_000, 50_000),
                                                quick ? Duration.ofSeconds(5) : Duration.ofSeconds(60))
                                        .run();
                        });
            }
        } finally {
            Directories.deleteRecursively(dataDir);
        }
        Map<String, Object> recorded = recordedSettings(selected, settings);
        Report report = new Report(Machine.describe(), recorded, runs, started);
        String stem = started.format(DateTimeFormatter.ofPattern("yyyy-MM-dd-HHmm")) + "-" + Machine.host()
                + (quick ? "-quick" : "");
        String markdown = report.write(out, stem);
        System.out.println(markdown);
        System.out.println("results: " + out.resolve(stem + ".json"));
        if (!quick) {
            updateDocs(report, out.resolve(stem + ".md"), List.of());
        }
        return 0;
    }

    /** Event rates of the live-view workload's latency runs. */
    List<Integer> liveRates() {
        return quick ? List.of(2_000) : List.of(10_000, 25_000, 50_000);
    }

    /**
     * The soak's sizes: full, 30 minutes sampled every minute; quick, 2 minutes sampled every 15 s. Maintenance runs
     * every 30 s (quick: 20 s) rather than the default 5 minutes, so that runs overlap the drain and the soak samples.
     */
    Soak.Settings soakSettings() {
        return new Soak.Settings(
                Duration.ofSeconds(soakSeconds()),
                Duration.ofSeconds(quick ? 15 : 60),
                soakRate,
                quick ? 10_000 : 100_000,
                quick ? 100 : 500,
                soakDrainEvents(),
                Duration.ofSeconds(quick ? 20 : 30));
    }

    private int soakSeconds() {
        return soakSeconds != null ? soakSeconds : quick ? 120 : 1_800;
    }

    private long soakDrainEvents() {
        return soakDrainEvents != null ? soakDrainEvents : quick ? 2_000_000 : 20_000_000;
    }

    private long compactionRows() {
        return compactionRows != null ? compactionRows : quick ? 200_000 : 20_000_000;
    }

    private int compactionFiles() {
        return compactionFiles != null ? compactionFiles : quick ? 100 : 1_000;
    }

    private int lakeStreamSeconds() {
        return lakeStreamSeconds != null ? lakeStreamSeconds : quick ? 20 : 600;
    }

    /** Sizes, repetitions and variants of this run, from the options and their defaults. */
    BenchContext.Settings settings() {
        return new BenchContext.Settings(
                lakeEvents != null ? lakeEvents : quick ? 200_000 : 20_000_000,
                httpEvents != null ? httpEvents : quick ? 100_000 : 2_000_000,
                repetitions != null ? repetitions : quick ? 1 : 3,
                warmups != null ? warmups : quick ? 0 : 1,
                4,
                1_000,
                Set.copyOf(variants));
    }

    /** The settings a run records in its results: every size, whether the workload ran or not. */
    Map<String, Object> recordedSettings(List<String> selected, BenchContext.Settings settings) {
        Map<String, Object> recorded = new LinkedHashMap<>();
        recorded.put("quick", quick);
        recorded.put("workloads", selected);
        recorded.put("lakeEvents", settings.lakeEvents());
        recorded.put("lakeStreamSeconds", lakeStreamSeconds());
        recorded.put("httpEvents", settings.httpEvents());
        recorded.put("repetitions", settings.repetitions());
        recorded.put("warmups", settings.warmups());
        recorded.put("httpClients", settings.httpClients());
        recorded.put("httpBatch", settings.httpBatch());
        recorded.put("variants", variants.isEmpty() ? "all" : variants);
        recorded.put("freshnessRates", quick ? List.of(2_000) : List.of(10_000, 50_000));
        recorded.put("freshnessSeconds", quick ? 5 : 60);
        recorded.put("nexmarkEvents", nexmarkEvents());
        recorded.put("nexmarkQueries", nexmarkQueries.isEmpty() ? "all" : nexmarkQueries);
        recorded.put("memoryRate", memoryRate);
        recorded.put("memorySeconds", memorySeconds());
        recorded.put("cdcRows", cdcRows());
        recorded.put("scaleOutEvents", scaleOutEvents());
        recorded.put("compactionRows", compactionRows());
        recorded.put("compactionFiles", compactionFiles());
        recorded.put("cdcChangesPerSecond", quick ? 50 : 200);
        recorded.put("cdcChangesSeconds", quick ? 5 : 60);
        recorded.put("liveRates", liveRates());
        recorded.put("liveKeys", quick ? 50_000 : 1_000_000);
        recorded.put("soakSeconds", soakSeconds());
        recorded.put("soakRate", soakRate);
        recorded.put("soakDrainEvents", soakDrainEvents());
        recorded.put("parallelism", 1);
        recorded.put("checkpointInterval", "2s");
        return recorded;
    }

    private void updateDocs(Report report, Path results, List<String> only) throws IOException {
        if (!Files.isRegularFile(docs)) {
            return;
        }
        String link = docs.toAbsolutePath()
                .getParent()
                .relativize(results.toAbsolutePath())
                .toString();
        List<String> updated = report.updateDocs(docs, link, only);
        System.out.println(
                updated.isEmpty()
                        ? "no workload ran at full size: " + docs + " left as it was"
                        : "updated the latest results of " + String.join(", ", updated) + " in " + docs);
    }
}
