package io.tarn.server;

import static io.tarn.server.Fixtures.await;
import static io.tarn.server.RestartIT.lakeCount;
import static org.assertj.core.api.Assertions.assertThat;

import io.tarn.app.launcher.ServerProcess;
import io.tarn.lake.LakeCatalog;
import io.tarn.lake.TableCleanup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A crash in the middle of a compaction, under steady ingest: the server process halts (as kill -9 ends it) once a
 * rewrite has written its files and before it commits them. After a restart, maintenance compacts again, and the
 * {@link Ledger} requires every acknowledged event in the lake exactly once, every file the table references on disk,
 * and the crashed rewrite's files removed as orphans without changing a row.
 */
class CompactionCrashIT {
    private static final String TABLE = "ledger.events";

    @TempDir
    Path dir;

    private final AtomicReference<Http> current = new AtomicReference<>();
    private Path dataDir;
    private Path log;
    private int kafkaPort;

    @Test
    void aCrashInTheMiddleOfARewriteLosesAndRepeatsNothing() throws Exception {
        dataDir = dir.resolve("data");
        log = Path.of("target", "compaction-crash-it-server.log").toAbsolutePath();
        Files.deleteIfExists(log);
        kafkaPort = ServerProcess.freePort();
        ServerProcess server = start("rewrite-written:1");
        try (Ledger ledger = new Ledger("events")) {
            RestartIT.createTopicAndPipeline(current.get());
            ledger.sendOverHttp(current::get, 200, Duration.ofMillis(50));
            assertThat(server.awaitExit(Duration.ofMinutes(3)))
                    .as("exit code of the server halted in the middle of a rewrite")
                    .isEqualTo(FaultInjectingFileIO.EXIT_CODE);
            assertThat(Files.readString(log)).contains("FAULT INJECTED rewrite-written part-");

            server = start(null);
            Fixtures.awaitPipelineRunning(current.get(), "events-to-lake", "after the crash");
            Http http = current.get();
            await(
                    "a compaction after the crash",
                    Duration.ofMinutes(2),
                    () -> http.get("/v1/tables/" + TABLE)
                                    .body()
                                    .path("lastMaintenance")
                                    .path("compaction")
                                    .path("commits")
                                    .asInt()
                            > 0,
                    () -> http.get("/v1/tables/" + TABLE).text());
            ledger.stop();
            Set<Long> logged = ledger.readLog(server.kafka, 2);
            await(
                    "the lake to catch up with the log",
                    Duration.ofMinutes(2),
                    () -> lakeCount(http) == logged.size(),
                    () -> "lake " + lakeCount(http) + " log " + logged.size());
            Ledger.assertQueryPathAgrees(http, TABLE, Ledger.readLake(dataDir, TABLE));
            assertThat(server.terminate()).isEqualTo(143);

            Ledger.LakeIds lake = Ledger.readLake(dataDir, TABLE);
            Ledger.Report report = ledger.check(logged, lake);
            System.out.println("compaction crash ledger: " + report);
            report.assertExactlyOnce();

            try (LakeCatalog catalog = LakeCatalog.open(
                    dataDir.resolve("catalog.db"), dataDir.resolve("warehouse").toString())) {
                TableCleanup.Orphans orphans = TableCleanup.removeOrphans(
                        TABLE, catalog.load(TABLE), Instant.now().plusSeconds(1));
                assertThat(orphans.filesDeleted())
                        .as("the crashed rewrite's files")
                        .isGreaterThan(0);
            }
            try (Stream<Path> files = Files.walk(dataDir.resolve("warehouse"))) {
                assertThat(files.filter(p -> p.getFileName().toString().startsWith("part-")))
                        .as("compaction files on disk are the table's")
                        .allMatch(p -> referenced(p));
            }
            assertThat(Ledger.readLake(dataDir, TABLE)).isEqualTo(lake);
        } finally {
            server.close();
        }
    }

    private boolean referenced(Path file) {
        try (LakeCatalog catalog = LakeCatalog.open(
                dataDir.resolve("catalog.db"), dataDir.resolve("warehouse").toString())) {
            return TableCleanup.referencedFiles(catalog.load(TABLE)).contains(file);
        }
    }

    private ServerProcess start(String fault) throws Exception {
        return CommitBoundaryIT.startWithFaults(
                dataDir,
                log,
                kafkaPort,
                current,
                fault,
                // the fault kills the first rewrite: that of the ledger's table, not of Tarn's audit table
                Map.of(
                        "TARN_LAKE_MAINTENANCE_INTERVAL",
                        "3s",
                        "TARN_LAKE_COMPACTION_MIN_FILES",
                        "2",
                        "TARN_AUDIT_LAKE",
                        "false"));
    }
}
