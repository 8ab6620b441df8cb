package io.tarn.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Which runs replace a workload's latest results in the docs, and what the block says. */
class ReportTest {
    private static final Map<String, Object> MACHINE =
            Map.of("host", "vm", "cores", 2, "cpu", "AMD EPYC", "java", "OpenJDK 17");

    @TempDir
    Path dir;

    @Test
    void defaultsOfTheHarnessAreTheFullSizes() {
        BenchMain main = new BenchMain();
        new CommandLine(main).parseArgs();
        Map<String, Object> recorded = main.recordedSettings(BenchMain.WORKLOADS, main.settings());
        for (String workload : BenchMain.WORKLOADS) {
            Report report = new Report(MACHINE, recorded, List.of(run(workload + "/x", "tarn", 0, 10)), at());
            assertThat(report.fullSizeWorkloads()).as(workload).containsExactly(workload);
        }
    }

    @Test
    void aFullSizeRunReplacesOnlyTheBlocksOfItsWorkloads() throws Exception {
        Path docs = dir.resolve("benchmarks.md");
        Files.writeString(
                docs,
                "# Benchmarks\n\n" + Report.blockStart("ingest-lake") + "\nold ingest\n"
                        + Report.blockEnd("ingest-lake")
                        + "\n\ntext between\n\n" + Report.blockStart("cdc") + "\nold cdc\n" + Report.blockEnd("cdc")
                        + "\n");
        Map<String, Object> settings = settings(false, "all", 3);
        settings.put("nexmarkEvents", 2_000_000); // not nexmark's full size
        Report report = new Report(
                MACHINE,
                settings,
                List.of(
                        run("ingest-lake", "tarn", 0, 10),
                        run("ingest-lake", "plain-flink-p1", 0, 40),
                        run("ingest-lake", "plain-flink-p2", 0, 20),
                        run("ingest-lake", "tarn", 1, 20),
                        run("ingest-lake", "plain-flink-p1", 1, 40),
                        run("ingest-lake", "plain-flink-p2", 1, 80),
                        run("ingest-lake", "tarn", 2, 10),
                        run("ingest-lake", "plain-flink-p1", 2, 20),
                        run("ingest-lake", "plain-flink-p2", 2, 40),
                        run("nexmark/q0", "tarn", 0, 10),
                        run("http-ingest", "tarn-http", 0, 10)),
                at());

        assertThat(report.updateDocs(docs, "../results/run.md", List.of()))
                .containsExactly("ingest-lake", "http-ingest");

        String page = Files.readString(docs);
        String ingest = page.substring(page.indexOf(Report.blockStart("ingest-lake")), page.indexOf("text between"));
        // 20,000,000 rows in 10, 20 and 10 s; plain Flink in 40, 40 and 20 s at parallelism 1 and in 20, 80 and 40 s at
        // parallelism 2: against the best of each repetition (20, 40 and 20 s) Tarn's ratios are 2, 2 and 2
        assertThat(ingest)
                .isEqualTo(Report.blockStart("ingest-lake") + "\n### ingest-lake\n\n"
                        + "Run of 2026-11-23 07:22 on `vm` (2 cores, AMD EPYC; OpenJDK 17): 3 repetitions after 1"
                        + " warm-up(s), lakeEvents 20000000, parallelism 1, checkpoint interval 2s; [every figure of the"
                        + " run](../results/run.md).\n\n"
                        + "| workload | variant | rows/s (median) | min – max | CPU-s per M rows | runs | details |\n"
                        + "|---|---|---:|---:|---:|---:|---|\n"
                        + "| ingest-lake | tarn | 2,000,000 | 1,000,000 – 2,000,000 | 0.5 | 3 | {} |\n"
                        + "| ingest-lake | plain-flink-p1 | 500,000 | 500,000 – 1,000,000 | 2.0 | 3 | {} |\n"
                        + "| ingest-lake | plain-flink-p2 | 500,000 | 250,000 – 1,000,000 | 2.0 | 3 | {} |\n\n"
                        + "| ratio (paired per repetition) | median | min – max |\n|---|---:|---:|\n"
                        + "| ingest-lake: tarn / plain-flink-best | 2.00 | 2.00 – 2.00 |\n"
                        + "| ingest-lake: plain-flink-p2 / plain-flink-p1 | 0.50 | 0.50 – 2.00 |\n"
                        + Report.blockEnd("ingest-lake") + "\n\n");
        assertThat(page)
                .as("a block the page did not have yet is added at its end; the others stay")
                .contains("old cdc")
                .doesNotContain("old ingest", "nexmark")
                .endsWith("| http-ingest | tarn-http | 2,000,000 | 2,000,000 – 2,000,000 | 0.5 | 1 | {} |\n"
                        + Report.blockEnd("http-ingest") + "\n");
    }

    @Test
    void quickPartialOrShortRunsLeaveTheDocsAlone() throws Exception {
        List<Run> runs = List.of(run("ingest-lake", "tarn", 0, 10));
        assertThat(new Report(MACHINE, settings(true, "all", 3), runs, at()).fullSizeWorkloads())
                .isEmpty();
        assertThat(new Report(MACHINE, settings(false, List.of("tarn"), 3), runs, at()).fullSizeWorkloads())
                .isEmpty();
        assertThat(new Report(MACHINE, settings(false, "all", 2), runs, at()).fullSizeWorkloads())
                .isEmpty();
        Map<String, Object> small = settings(false, "all", 3);
        small.put("lakeEvents", 8_000_000);
        assertThat(new Report(MACHINE, small, runs, at()).fullSizeWorkloads()).isEmpty();
    }

    @Test
    void aResultsFileWritesTheSameBlocksAsTheRunThatWroteIt() throws Exception {
        Report report = new Report(
                MACHINE,
                settings(false, "all", 3),
                List.of(run("cdc", "pg-copy", 0, 1), run("cdc", "tarn-snapshot", 0, 20)),
                at());
        report.write(dir, "run");
        Path fromRun = dir.resolve("a.md");
        Path fromFile = dir.resolve("b.md");
        Files.writeString(fromRun, "# Benchmarks\n");
        Files.writeString(fromFile, "# Benchmarks\n");
        report.updateDocs(fromRun, "run.md", List.of());
        Report read = Report.read(dir.resolve("run.json"));
        assertThat(read.updateDocs(fromFile, "run.md", List.of("ingest-lake"))).isEmpty();
        assertThat(read.updateDocs(fromFile, "run.md", List.of("cdc"))).containsExactly("cdc");
        assertThat(Files.readString(fromFile))
                .isEqualTo(Files.readString(fromRun))
                .contains("tarn-snapshot / pg-copy");
    }

    private static Map<String, Object> settings(boolean quick, Object variants, int repetitions) {
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("quick", quick);
        settings.put("lakeEvents", 20_000_000L);
        settings.put("httpEvents", 2_000_000L);
        settings.put("repetitions", repetitions);
        settings.put("warmups", 1);
        settings.put("httpClients", 4);
        settings.put("httpBatch", 1_000);
        settings.put("variants", variants);
        settings.put("nexmarkEvents", 10_000_000L);
        settings.put("nexmarkQueries", "all");
        settings.put("cdcRows", 1_000_000);
        settings.put("cdcChangesPerSecond", 200);
        settings.put("cdcChangesSeconds", 60);
        settings.put("parallelism", 1);
        settings.put("checkpointInterval", "2s");
        return settings;
    }

    private static Run run(String workload, String variant, int repetition, double seconds) {
        return new Run(workload, variant, repetition, 20_000_000, seconds, seconds, Map.of());
    }

    private static LocalDateTime at() {
        return LocalDateTime.of(2026, 11, 23, 7, 22, 5);
    }
}
