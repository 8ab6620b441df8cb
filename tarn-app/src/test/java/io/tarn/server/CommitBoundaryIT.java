package io.tarn.server;

import static io.tarn.server.Fixtures.await;
import static io.tarn.server.RestartIT.lakeCount;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.tarn.app.launcher.ServerProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crashes at Iceberg's commit boundary, injected by {@link FaultInjectingFileIO} in a server process under steady load
 * over HTTP and the Kafka protocol: right after a writer flushed a data file, after a checkpoint completed but before
 * its commit, and after the catalog persisted a commit whose outcome never reached Flink. Between them the pipeline's
 * SQL is changed (resumed from its savepoint), an older savepoint is refused, and a change whose state does not fit is
 * refused. The {@link Ledger} then requires every acknowledged event in the lake exactly once.
 */
class CommitBoundaryIT {
    private static final String PIPELINE = "/v1/pipelines/events-to-lake";
    private static final String SQL =
            """
            CREATE DATABASE IF NOT EXISTS lake.ledger;
            CREATE TABLE IF NOT EXISTS lake.ledger.events (id BIGINT, kafka_partition INT, kafka_offset BIGINT);
            INSERT INTO lake.ledger.events SELECT id, kafka_partition, kafka_offset FROM stream.events""";
    /** Same operators, different filter: Flink maps the savepoint's state onto it. */
    private static final String CHANGED_SQL = SQL + " WHERE id >= 0";
    /** A second sink changes the job's operators: the savepoint's source state no longer maps. */
    private static final String INCOMPATIBLE_SQL =
            """
            CREATE DATABASE IF NOT EXISTS lake.ledger;
            CREATE TABLE IF NOT EXISTS lake.ledger.events (id BIGINT, kafka_partition INT, kafka_offset BIGINT);
            CREATE TABLE IF NOT EXISTS lake.ledger.copy (id BIGINT);
            INSERT INTO lake.ledger.events SELECT id, kafka_partition, kafka_offset FROM stream.events WHERE id >= 0;
            INSERT INTO lake.ledger.copy SELECT id FROM stream.events""";

    @TempDir
    Path dir;

    private final AtomicReference<Http> current = new AtomicReference<>();
    private Path dataDir;
    private Path log;
    private int kafkaPort;

    @Test
    void noLossNoDuplicatesAcrossCrashesAtTheCommitBoundaryAndPipelineChanges() throws Exception {
        dataDir = dir.resolve("data");
        log = Path.of("target", "commit-boundary-it-server.log").toAbsolutePath();
        Files.deleteIfExists(log);
        kafkaPort = ServerProcess.freePort();
        ServerProcess server = start(null);
        try (Ledger ledger = new Ledger("events")) {
            RestartIT.createTopicAndPipeline(current.get());
            ledger.sendOverHttp(current::get, 200, Duration.ofMillis(50));
            ledger.sendOverKafka(server.kafka, 100, Duration.ofMillis(50));
            awaitRowsLanding("before the first fault");
            assertThat(server.terminate()).isEqualTo(143);

            crashAt("data-file-written:3");
            crashAt("before-commit:2");

            server = start(null);
            awaitRunning("after two crashes");
            awaitRowsLanding("after two crashes");
            String first = stop();
            assertThat(current.get().post(PIPELINE + "/start", Map.of()).status())
                    .isEqualTo(200);
            awaitRunning("after a start from its savepoint");
            awaitRowsLanding("after a start from its savepoint");
            String second = stop();

            Http.Reply older = current.get().post(PIPELINE + "/start", Map.of("savepoint", first));
            assertThat(older.status()).isEqualTo(409);
            assertThat(older.errorName()).isEqualTo("RESTORE_REFUSED");
            assertThat(older.errorMessage())
                    .contains("cannot resume from " + first)
                    .contains("lake table ledger.events already holds its commits up to checkpoint")
                    .contains("written twice");
            assertThat(current.get().get(PIPELINE).body().path("state").asText())
                    .isEqualTo("STOPPED");

            Http.Reply changed = current.get().put(PIPELINE, Map.of("sql", CHANGED_SQL));
            assertThat(changed.status()).as(changed.text()).isEqualTo(200);
            assertThat(current.get().post(PIPELINE + "/start", Map.of()).status())
                    .isEqualTo(200);
            awaitRunning("with its changed SQL");
            awaitRowsLanding("with its changed SQL");
            String third = stop();
            assertThat(third).isNotIn(first, second);

            Http.Reply replaced = current.get().put(PIPELINE, Map.of("sql", INCOMPATIBLE_SQL));
            assertThat(replaced.status()).as(replaced.text()).isEqualTo(200);
            Http.Reply incompatible = current.get().post(PIPELINE + "/start", Map.of());
            assertThat(incompatible.status()).as(incompatible.text()).isEqualTo(409);
            assertThat(incompatible.errorName()).isEqualTo("RESTORE_REFUSED");
            assertThat(incompatible.errorMessage())
                    .contains("cannot resume from " + third)
                    .contains("its state does not fit the pipeline's SQL");
            assertThat(current.get().get(PIPELINE).body().path("state").asText())
                    .isEqualTo("STOPPED");
            assertThat(current.get().put(PIPELINE, Map.of("sql", CHANGED_SQL)).status())
                    .isEqualTo(200);
            assertThat(current.get().post(PIPELINE + "/start", Map.of()).status())
                    .isEqualTo(200);
            awaitRunning("after the refused change was reverted");
            awaitRowsLanding("after the refused change was reverted");
            assertThat(server.terminate()).isEqualTo(143);

            crashAt("after-commit:2");

            server = start(null);
            awaitRunning("after the last crash");
            awaitRowsLanding("after the last crash");
            ledger.stop();
            Set<Long> logged = ledger.readLog(server.kafka, 2);
            Http last = current.get();
            await(
                    "the lake to catch up with the log",
                    Duration.ofMinutes(2),
                    () -> lakeCount(last) == logged.size(),
                    () -> "lake " + lakeCount(last) + " log " + logged.size());
            Ledger.LakeIds lake = Ledger.readLake(dataDir, "ledger.events");
            Ledger.assertQueryPathAgrees(last, "ledger.events", lake);
            Ledger.Report report = ledger.check(logged, lake);
            System.out.println("commit boundary ledger: " + report);
            report.assertExactlyOnce();
            assertThat(last.get(PIPELINE).body().path("sql").asText()).isEqualTo(CHANGED_SQL);
        } finally {
            server.close();
        }
    }

    /** Starts the server with a fault armed and waits for the fault hook to halt it at that point. */
    private void crashAt(String fault) throws Exception {
        ServerProcess server = start(fault);
        assertThat(server.awaitExit(Duration.ofMinutes(3)))
                .as("exit code of the server halted by fault " + fault)
                .isEqualTo(FaultInjectingFileIO.EXIT_CODE);
        String point = fault.substring(0, fault.indexOf(':'));
        assertThat(Files.readString(log)).contains("FAULT INJECTED " + point);
    }

    private ServerProcess start(String fault) throws Exception {
        return startWithFaults(dataDir, log, kafkaPort, current, fault, Map.of());
    }

    /**
     * Starts a server process whose lake writes go through {@link FaultInjectingFileIO}, checkpointing every second.
     *
     * @param fault the fault to arm ({@code point:n}), or null for none
     * @param environment more of the process's environment
     * @param current receives the client of the started server
     */
    static ServerProcess startWithFaults(
            Path dataDir,
            Path log,
            int kafkaPort,
            AtomicReference<Http> current,
            String fault,
            Map<String, String> environment)
            throws Exception {
        Map<String, String> all = new HashMap<>(environment);
        all.put("TARN_COMPUTE_CHECKPOINT_INTERVAL", "1s");
        all.put("TARN_LAKE_FILE_IO", FaultInjectingFileIO.class.getName());
        if (fault != null) {
            all.put(FaultInjectingFileIO.ENVIRONMENT, fault);
        }
        ServerProcess server = ServerProcess.start(dataDir, log, all, kafkaPort);
        current.set(new Http(server.http, server.token));
        return server;
    }

    /** Stops the pipeline and returns the name of the savepoint it stopped at. */
    private String stop() {
        JsonNode stopped = current.get().post(PIPELINE + "/stop", Map.of()).body();
        assertThat(stopped.path("state").asText()).as(stopped.toString()).isEqualTo("STOPPED");
        JsonNode savepoints = current.get().get(PIPELINE + "/savepoints").body().path("savepoints");
        String name = stopped.path("savepoint").asText();
        assertThat(savepoints.get(savepoints.size() - 1).path("name").asText())
                .as("the newest savepoint is the one it stopped at")
                .isEqualTo(name);
        return name;
    }

    private void awaitRunning(String when) {
        Fixtures.awaitPipelineRunning(current.get(), "events-to-lake", when);
    }

    private void awaitRowsLanding(String when) {
        Http http = current.get();
        long before = lakeCount(http);
        await(
                "rows landing " + when,
                Duration.ofMinutes(2),
                () -> lakeCount(http) > before + 500,
                () -> "lake " + lakeCount(http));
    }
}
