package io.tarn.bench;

import io.tarn.lake.Compaction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.iceberg.AppendFiles;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.MetricsConfig;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.flink.actions.Actions;
import org.apache.iceberg.io.InputFile;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.parquet.ParquetUtil;
import org.apache.iceberg.types.Types;

/**
 * Workload {@code compaction}: a table of click events in many small files (20 M rows in 1,000 files; quick: 200,000
 * in 100) rewritten to 128 MiB files by Tarn's compaction ({@code tarn}: DuckDB reads and writes, Iceberg commits, on
 * every core) and by Iceberg's own Flink action ({@code iceberg-flink}: {@code Actions.forTable(env,
 * table).rewriteDataFiles()} as a job on Tarn's MiniCluster at parallelism = cores). Each repetition starts from the
 * same small files (the table is rolled back to them); after each rewrite the table must hold exactly the same rows
 * (count and sum of ids through Tarn's query path) in fewer files.
 */
final class CompactionBench {
    static final String NAME = "compaction";
    private static final String NAMESPACE = "bench";
    private static final String TABLE = "compaction_clicks";
    private static final long TARGET = 128L << 20;
    private static final Schema SCHEMA = new Schema(
            Types.NestedField.required(1, "id", Types.LongType.get()),
            Types.NestedField.optional(2, "user_id", Types.StringType.get()),
            Types.NestedField.optional(3, "page", Types.StringType.get()),
            Types.NestedField.optional(4, "country", Types.StringType.get()),
            Types.NestedField.optional(5, "referrer", Types.StringType.get()),
            Types.NestedField.optional(6, "event_time", Types.TimestampType.withoutZone()));

    private final BenchContext context;
    private final long rows;
    private final int files;

    CompactionBench(BenchContext context, long rows, int files) {
        this.context = context;
        this.rows = rows;
        this.files = files;
    }

    List<Run> run() throws Exception {
        Table table = createSmallFiles();
        long original = table.currentSnapshot().snapshotId();
        List<Long> expected = counts();
        int cores = Runtime.getRuntime().availableProcessors();
        return context.repeat(i -> {
            List<Run> round = new ArrayList<>();
            for (String variant : List.of("tarn", "iceberg-flink")) {
                if (!context.settings.runs(variant)) {
                    continue;
                }
                table.manageSnapshots().rollbackTo(original).commit();
                table.refresh();
                double cpu = Machine.processCpuSeconds();
                long start = System.nanoTime();
                if (variant.equals("tarn")) {
                    Compaction.Result result = new Compaction(new Compaction.Settings(
                                    TARGET,
                                    2,
                                    Long.MAX_VALUE,
                                    cores,
                                    2L << 30,
                                    context.server.dataDir().resolve("bench-compaction-spill")))
                            .compact(NAMESPACE + "." + TABLE, table);
                    if (result.dataFilesRewritten() != files) {
                        throw new IllegalStateException("tarn rewrote %d of %d files: %s"
                                .formatted(result.dataFilesRewritten(), files, result));
                    }
                } else {
                    // submitted to Tarn's MiniCluster (execution.target remote), as a user's own job would be
                    StreamExecutionEnvironment env =
                            new StreamExecutionEnvironment(Configuration.fromMap(flinkConfig()));
                    env.setParallelism(cores);
                    Actions.forTable(env, table)
                            .rewriteDataFiles()
                            .targetSizeInBytes(TARGET)
                            .execute();
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                double cpuSeconds = Machine.processCpuSeconds() - cpu;
                table.refresh();
                long after = Long.parseLong(table.currentSnapshot().summary().get("total-data-files"));
                List<Long> answer = counts();
                if (!answer.equals(expected) || after >= files) {
                    throw new IllegalStateException(
                            "%s: %d files holding %s after the rewrite, expected %s in fewer than %d"
                                    .formatted(variant, after, answer, expected, files));
                }
                round.add(new Run(NAME, variant, i, rows, seconds, cpuSeconds, Map.of("filesAfter", after)));
            }
            return round;
        });
    }

    /** The table, its rows written by DuckDB into {@code files} Parquet files and appended in one commit. */
    private Table createSmallFiles() throws Exception {
        JdbcCatalog catalog = new JdbcCatalog();
        catalog.setConf(new org.apache.hadoop.conf.Configuration());
        catalog.initialize("lake", context.server.lake().properties());
        if (!catalog.namespaceExists(Namespace.of(NAMESPACE))) {
            catalog.createNamespace(Namespace.of(NAMESPACE));
        }
        Table table = catalog.createTable(
                TableIdentifier.of(NAMESPACE, TABLE),
                SCHEMA,
                PartitionSpec.unpartitioned(),
                Map.of(TableProperties.FORMAT_VERSION, "2"));
        Path data = Path.of(table.location().replaceFirst("^file:", ""), "data");
        Files.createDirectories(data);
        long start = System.nanoTime();
        AppendFiles append = table.newAppend();
        MetricsConfig metrics = MetricsConfig.forTable(table);
        try (Connection duck = DriverManager.getConnection("jdbc:duckdb:");
                Statement statement = duck.createStatement()) {
            long per = rows / files;
            for (int f = 0; f < files; f++) {
                long from = f * per;
                long to = f == files - 1 ? rows : from + per;
                Path file = data.resolve("small-%05d.parquet".formatted(f));
                statement.execute(("COPY (SELECT i AS id, 'user-' || (i * 7919 %% 100000) AS user_id,"
                                + " ['/', '/pricing', '/docs', '/blog', '/signup'][1 + i %% 5] AS page,"
                                + " ['DE', 'US', 'FR', 'GB', 'JP', 'BR'][1 + (i * 31) %% 6] AS country,"
                                + " ['direct', 'google', 'twitter', 'hn'][1 + (i * 13) %% 4] AS referrer,"
                                + " TIMESTAMP '2026-01-01' + to_milliseconds(i) AS event_time FROM range(%d, %d) t(i))"
                                + " TO '%s' (FORMAT parquet, COMPRESSION zstd, FIELD_IDS {id: 1, user_id: 2, page: 3,"
                                + " country: 4, referrer: 5, event_time: 6})")
                        .formatted(from, to, file));
                InputFile input = table.io().newInputFile(file.toString());
                append.appendFile(DataFiles.builder(table.spec())
                        .withPath(file.toString())
                        .withFormat(FileFormat.PARQUET)
                        .withFileSizeInBytes(input.getLength())
                        .withMetrics(ParquetUtil.fileMetrics(input, metrics))
                        .build());
            }
        }
        append.commit();
        Report.log("%s: %d rows in %d files written in %.1f s"
                .formatted(NAME, rows, files, (System.nanoTime() - start) / 1e9));
        return table;
    }

    /** Rows and the sum of their ids, as Tarn's query path reads the table now. */
    private List<Long> counts() {
        var answer = context.request(
                "POST",
                "/v1/query",
                BenchContext.JSON
                        .createObjectNode()
                        .put("sql", "SELECT count(*), sum(id)::BIGINT FROM lake.%s.%s".formatted(NAMESPACE, TABLE))
                        .toString(),
                200);
        var row = answer.path("rows").get(0);
        return List.of(row.get(0).asLong(), row.get(1).asLong());
    }

    private Map<String, String> flinkConfig() {
        Map<String, String> config = context.flinkClient();
        config.put("execution.runtime-mode", "BATCH");
        config.put("pipeline.name", "bench:iceberg-rewrite");
        return config;
    }
}
