package io.tarn.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.tarn.bench.nexmark.NexmarkQueries;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** A small run of the whole harness, so that it keeps working; no timing is asserted. */
class BenchIT {
    @TempDir
    Path dir;

    @Test
    void quickRunMeasuresEveryVariantOnExactCounts() throws Exception {
        Path results = dir.resolve("results");
        Path docs = dir.resolve("benchmarks.md");
        Files.writeString(
                docs,
                "# Benchmarks\n" + Report.blockStart("ingest-lake") + "\nold\n" + Report.blockEnd("ingest-lake")
                        + "\n");
        int exit = new CommandLine(new BenchMain())
                .execute(
                        "--quick",
                        "--lake-events",
                        "20000",
                        "--http-events",
                        "20000",
                        "--memory-rate",
                        "20000",
                        "--memory-seconds",
                        "10",
                        "--lake-stream-seconds",
                        "5",
                        "--compaction-rows",
                        "20000",
                        "--compaction-files",
                        "20",
                        "--soak-seconds",
                        "30",
                        "--soak-drain-events",
                        "200000",
                        "--scale-out-events",
                        "20000",
                        "--out",
                        results.toString(),
                        "--docs",
                        docs.toString(),
                        "--work-dir",
                        dir.resolve("work").toString());
        assertThat(exit).isZero();

        Path json;
        try (Stream<Path> files = Files.list(results)) {
            json = files.filter(p -> p.toString().endsWith("-quick.json"))
                    .findFirst()
                    .orElseThrow();
        }
        JsonNode result = BenchContext.JSON.readTree(json.toFile());
        List<String> variants = new ArrayList<>();
        for (JsonNode run : result.path("runs")) {
            variants.add(
                    run.path("workload").asText() + "/" + run.path("variant").asText());
            JsonNode extra = run.path("extra");
            switch (run.path("workload").asText().split("/")[0]) {
                case "freshness" ->
                    assertThat(extra.path("p99Ms").asLong())
                            .isGreaterThanOrEqualTo(extra.path("p50Ms").asLong());
                case "start-recovery" -> {
                    // the workload itself checked that every acknowledged event landed exactly once
                    assertThat(run.path("rows").asLong()).isPositive();
                    assertThat(extra.path("firstRowMs").asLong())
                            .isGreaterThan(extra.path("readyMs").asLong());
                    assertThat(extra.path("pipelineResumedMs").asLong())
                            .isGreaterThan(extra.path("restartReadyMs").asLong());
                }
                // 20,000 events a second for 10 s, all landed
                case "memory" -> {
                    assertThat(run.path("rows").asLong()).isEqualTo(200_000);
                    assertThat(extra.path("rssPeakMiB").asLong())
                            .isGreaterThanOrEqualTo(extra.path("rssSteadyMiB").asLong());
                }
                // the snapshot of 20,000 rows, then 50 inserts a second for 5 s, in the topic and the lake
                case "cdc" -> {
                    if (run.path("variant").asText().equals("tarn-changes")) {
                        assertThat(run.path("rows").asLong()).isEqualTo(250);
                        assertThat(extra.path("p99LakeMs").asLong())
                                .isGreaterThanOrEqualTo(extra.path("p50LakeMs").asLong());
                        assertThat(extra.path("p50LakeMs").asLong())
                                .isGreaterThanOrEqualTo(extra.path("p50TopicMs").asLong());
                    } else {
                        assertThat(run.path("rows").asLong()).isEqualTo(20_000);
                    }
                }
                // live views: 2,000 events a second for 5 s, each batch seen by a pull and a follower; lookups on
                // 50,000 keys
                case "live-view" -> {
                    if (run.path("variant").asText().startsWith("lookup-")) {
                        assertThat(run.path("rows").asLong()).isPositive();
                        assertThat(extra.path("keys").asInt()).isEqualTo(50_000);
                        assertThat(extra.path("p99Us").asLong())
                                .isGreaterThanOrEqualTo(extra.path("p50Us").asLong());
                    } else {
                        assertThat(run.path("rows").asLong()).isEqualTo(10_000);
                        assertThat(extra.path("p99Ms").asLong())
                                .isGreaterThanOrEqualTo(extra.path("p50Ms").asLong());
                    }
                }
                // lake SQL's later rounds count the rows streamed in after the first: 2,000 a second for 5 s
                case "lake-sql" -> {
                    if (run.path("workload").asText().endsWith("small-files")
                            || run.path("workload").asText().endsWith("maintained")) {
                        assertThat(run.path("rows").asLong()).isBetween(25_000L, 31_000L);
                    } else {
                        assertThat(run.path("rows").asLong()).isEqualTo(20_000);
                    }
                }
                // the soak lands 10,000 events a second for 30 s (paced, so a few short at most), with samples every 15
                // s;
                // its drain counts from the drain's first commit
                case "soak" -> {
                    if (run.path("workload").asText().equals("soak/ingest")) {
                        assertThat(run.path("rows").asLong()).isBetween(1L, 200_000L);
                    } else {
                        assertThat(run.path("rows").asLong()).isBetween(295_000L, 305_000L);
                        assertThat(extra.path("samples")).hasSize(2);
                        assertThat(extra.path("p99Ms").asDouble())
                                .isGreaterThanOrEqualTo(extra.path("p50Ms").asDouble());
                    }
                }
                // ingest variants count events, compaction the table's rows
                default -> assertThat(run.path("rows").asLong()).isEqualTo(20_000);
            }
            assertThat(run.path("seconds").asDouble()).isPositive();
        }
        // the plain-Flink baseline runs at parallelism 1 and on every core
        List<String> plainFlink = BenchContext.plainFlinkParallelisms().stream()
                .map(Report::plainFlink)
                .toList();
        List<String> ingest = new ArrayList<>(List.of("ingest-lake/tarn"));
        plainFlink.forEach(variant -> ingest.add("ingest-lake/" + variant));
        ingest.addAll(List.of(
                "ingest-lake/raw-kafka",
                "ingest-lake/direct-writer",
                "http-ingest/tarn-http",
                "http-ingest/tarn-http-fsync",
                "http-ingest/kafka-producer",
                "freshness/tarn-2000/s",
                "freshness/tarn-fresh-2000/s"));
        assertThat(variants.subList(0, ingest.size())).containsExactlyElementsOf(ingest);
        int perQuery = 1 + plainFlink.size();
        int nexmarkEnd = ingest.size() + NexmarkQueries.queries("/tmp").size() * perQuery;
        List<String> q22 = new ArrayList<>(List.of("nexmark/q22/tarn"));
        plainFlink.forEach(variant -> q22.add("nexmark/q22/" + variant));
        assertThat(variants.subList(ingest.size(), nexmarkEnd))
                .as("each Nexmark query through Tarn and as a plain Flink job at each parallelism")
                .startsWith("nexmark/q0/tarn", "nexmark/q0/" + plainFlink.get(0))
                .endsWith(q22.toArray(String[]::new));
        int lakeSqlEnd = nexmarkEnd + LakeSql.QUERIES.size() * 3 * 3;
        assertThat(variants.subList(nexmarkEnd, lakeSqlEnd))
                .as("each lake SQL query on each engine, over the landed, the streamed-into and the maintained table")
                .contains(
                        "lake-sql/q1/tarn",
                        "lake-sql/q1/raw-duckdb",
                        "lake-sql/q1/flink-batch",
                        "lake-sql/q7-small-files/tarn",
                        "lake-sql/q7-maintained/raw-duckdb");
        List<String> scaleOut = new ArrayList<>();
        for (String variant : List.of("local", "s3")) {
            scaleOut.add("scale-out/ingest/" + variant);
            for (int q = 1; q <= LakeSql.QUERIES.size(); q++) {
                scaleOut.add("scale-out/q%d-first/%s".formatted(q, variant));
                scaleOut.add("scale-out/q%d/%s".formatted(q, variant));
            }
        }
        scaleOut.add("scale-out/ingest/session-cluster");
        assertThat(variants.subList(variants.size() - scaleOut.size(), variants.size()))
                .as("landing and lake SQL on a local and an S3 warehouse, landing on a Flink session cluster")
                .containsExactlyElementsOf(scaleOut);
        assertThat(variants.subList(lakeSqlEnd, variants.size() - scaleOut.size()))
                .containsExactly(
                        "compaction/tarn",
                        "compaction/iceberg-flink",
                        "start-recovery/tarn",
                        "memory/tarn-20000/s",
                        "cdc/pg-copy",
                        "cdc/tarn-snapshot",
                        "cdc/tarn-snapshot-lake",
                        "cdc/tarn-changes",
                        "live-view/pull-2000/s",
                        "live-view/sse-2000/s",
                        "live-view/lookup-http",
                        "live-view/lookup-sqlite-store",
                        "soak/maintenance-off",
                        "soak/ingest/maintenance-off",
                        "soak/maintenance-on",
                        "soak/ingest/maintenance-on");
        // ingest-lake: against the best plain Flink, plain Flink on every core against one, raw Kafka, the direct
        // writer, and the direct writer against plain Flink
        int ingestRatios = plainFlink.size() > 1 ? 5 : 4;
        assertThat(result.path("ratios"))
                .hasSize(ingestRatios
                        + 4
                        + 2 * LakeSql.QUERIES.size() * 3
                        + 1
                        + NexmarkQueries.queries("/tmp").size()
                        + 1
                        + 1
                        // scale-out: s3 / local for landing and each query (first and then), the cluster / local
                        + 1
                        + 2 * LakeSql.QUERIES.size()
                        + 1);
        assertThat(result.path("machine").path("cores").asInt())
                .isEqualTo(Runtime.getRuntime().availableProcessors());
        String stem = json.getFileName().toString().replace(".json", "");
        assertThat(Files.readString(results.resolve(stem + ".md"))).contains("| ingest-lake | tarn |");
        assertThat(Files.readString(results.resolve(stem + ".svg"))).startsWith("<svg");
        assertThat(Files.readString(results.resolve(stem + "-soak.svg")))
                .startsWith("<svg")
                .contains("maintenance-off", "maintenance-on", "data files");
        assertThat(Files.readString(docs))
                .as("a quick run leaves the docs alone")
                .isEqualTo("# Benchmarks\n" + Report.blockStart("ingest-lake") + "\nold\n"
                        + Report.blockEnd("ingest-lake") + "\n");
    }
}
