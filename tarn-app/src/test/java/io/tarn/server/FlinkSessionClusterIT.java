package io.tarn.server;

import static io.tarn.server.Fixtures.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.tarn.app.launcher.FlinkClusterProcesses;
import io.tarn.app.launcher.ServerProcess;
import io.tarn.compute.RestTls;
import io.tarn.lake.LakeCatalog;
import io.tarn.s3proxy.S3Proxy;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tarn scaled out on one machine: its pipelines run on a Flink session cluster of separate JVMs (a JobManager and two
 * TaskManagers started from Flink's entry points, whose class path holds Flink but neither Tarn nor its connectors:
 * Tarn ships them with each job), the lake's catalog is in PostgreSQL, its warehouse in an S3-compatible store
 * (S3Proxy), and so are the pipeline's checkpoints and savepoints. While events stream in over HTTP and the Kafka protocol,
 * one TaskManager is killed with SIGKILL, then Tarn itself: the cluster goes on with the job, the restarted Tarn takes
 * it up instead of submitting a second one, and the {@link Ledger} finds every acknowledged event in the lake exactly
 * once.
 */
class FlinkSessionClusterIT {
    @TempDir
    Path dir;

    @Test
    void aPipelineOnASessionClusterLosesNothingWhenATaskManagerAndThenTarnAreKilled() throws Exception {
        Path log = Path.of("target", "flink-session-cluster-it-server.log").toAbsolutePath();
        Files.deleteIfExists(log);
        try (EmbeddedPostgres postgres = EmbeddedPostgres.start();
                S3Proxy s3 = S3Proxy.start(dir.resolve("s3"), List.of("lake"));
                FlinkClusterProcesses flink = FlinkClusterProcesses.start(
                        clusterDirectory(), 2, 2, Optional.of(RestTls.open(tls())), flinkS3Options(s3));
                Ledger ledger = new Ledger("events")) {
            try (Connection admin = postgres.getPostgresDatabase().getConnection();
                    Statement statement = admin.createStatement()) {
                statement.execute("CREATE DATABASE tarn_lake");
            }
            String catalogUri = "jdbc:postgresql://localhost:%d/tarn_lake".formatted(postgres.getPort());
            Map<String, String> environment = new HashMap<>();
            environment.put("TARN_COMPUTE_CLUSTER", flink.restAddress());
            environment.put(
                    "TARN_COMPUTE_CLUSTER_TLS_STORE",
                    tls().resolve("cluster.p12").toString());
            environment.put(
                    "TARN_COMPUTE_CLUSTER_TLS_STORE_PASSWORD",
                    Files.readString(tls().resolve("cluster.password")).strip());
            environment.put("TARN_COMPUTE_STATE_DIR", "s3://lake/state");
            environment.put("TARN_COMPUTE_PARALLELISM", "2");
            // the cluster's slots are the landing pipeline's: with one TaskManager killed, the audit pipeline's job
            // would
            // hold the slots it needs to go on (a real cluster is sized for every pipeline, Tarn's own included)
            environment.put("TARN_AUDIT_LAKE", "false");
            environment.put("TARN_COMPUTE_CHECKPOINT_INTERVAL", "1s");
            environment.put("TARN_COMPUTE_RESTART_DELAY", "1s");
            environment.put("TARN_LAKE_CATALOG_URI", catalogUri);
            environment.put("TARN_LAKE_CATALOG_USER", "postgres");
            environment.put("TARN_LAKE_CATALOG_PASSWORD", "postgres");
            environment.put("TARN_LAKE_WAREHOUSE", "s3://lake/warehouse");
            environment.putAll(Fixtures.s3Environment(s3));
            Path dataDir = dir.resolve("data");
            int kafkaPort = ServerProcess.freePort();
            ServerProcess tarn = ServerProcess.start(dataDir, log, environment, kafkaPort);
            AtomicReference<Http> current = new AtomicReference<>(new Http(tarn.http, tarn.token));
            try {
                Http http = current.get();
                Fixtures.createIdTopic(http, "events", 2);
                Fixtures.createIdLanding(http, "land-events", "events", "ledger.events");
                Fixtures.awaitPipelineRunning(http, "land-events", "on the session cluster");
                String job = http.get("/v1/pipelines/land-events")
                        .body()
                        .path("jobId")
                        .asText();
                assertThat(activeJobs(flink)).containsExactly(job);

                ledger.sendOverHttp(current::get, 100, Duration.ofMillis(20));
                ledger.sendOverKafka(tarn.kafka, 100, Duration.ofMillis(20));
                awaitCheckpointAfter(http, 0);
                long beforeKill = checkpoint(http);

                flink.killTaskManager(0);
                // Flink's REST metrics are fetched every 10 s by default, so its numRestarts may lag the restart
                await(
                        "the job to restart on the TaskManager left, checkpoint again and count the restart",
                        Duration.ofMinutes(2),
                        () -> !lastError(current.get()).isEmpty()
                                && checkpoint(current.get()) > beforeKill + 2
                                && current.get()
                                                .get("/v1/pipelines/land-events")
                                                .body()
                                                .path("restarts")
                                                .asLong()
                                        >= 1,
                        () -> current.get().get("/v1/pipelines/land-events").text() + "\n"
                                + flink.rest("/jobs/" + job) + "\n"
                                + flink.rest("/jobs/" + job + "/metrics?get=numRestarts"));

                assertThat(current.get()
                                .get("/v1/pipelines/land-events")
                                .body()
                                .path("restarts")
                                .asLong())
                        .as("the job's restarts, as Flink counts them")
                        .isGreaterThanOrEqualTo(1);
                // as an operator would: a new TaskManager in place of the dead one (the job holds the other's slots)
                flink.addTaskManager();
                flink.awaitTaskManagers(2);

                tarn.kill();
                assertThat(activeJobs(flink))
                        .as("the cluster goes on with the job")
                        .containsExactly(job);
                tarn = ServerProcess.start(dataDir, log, environment, kafkaPort);
                current.set(new Http(tarn.http, tarn.token));
                Http restarted = current.get();
                Fixtures.awaitPipelineRunning(restarted, "land-events", "after Tarn was killed");
                assertThat(restarted
                                .get("/v1/pipelines/land-events")
                                .body()
                                .path("jobId")
                                .asText())
                        .as("the restarted Tarn goes on with the job it had")
                        .isEqualTo(job);
                assertThat(activeJobs(flink)).containsExactly(job);
                long afterRestart = checkpoint(restarted);
                awaitCheckpointAfter(restarted, afterRestart + 2);

                assertThat(s3.bucketDirectory("lake")
                                .resolve("state/checkpoints/land-events")
                                .resolve(job))
                        .as("the job's checkpoints, in the bucket")
                        .isDirectory();
                // a stop takes a savepoint into the bucket while events keep coming, and a start resumes from it
                Http.Reply stopped = restarted.post("/v1/pipelines/land-events/stop", Map.of());
                assertThat(stopped.status()).as(stopped.text()).isEqualTo(200);
                String savepoint = stopped.body().path("savepoint").asText();
                assertThat(savepoint).startsWith("savepoint-");
                assertThat(s3.bucketDirectory("lake")
                                .resolve("state/savepoints/land-events")
                                .resolve(savepoint)
                                .resolve("_metadata"))
                        .isRegularFile();
                assertThat(restarted
                                .get("/v1/pipelines/land-events/savepoints")
                                .body()
                                .findValuesAsText("name"))
                        .containsExactly(savepoint);
                assertThat(activeJobs(flink)).isEmpty();
                Http.Reply started = restarted.post("/v1/pipelines/land-events/start", Map.of());
                assertThat(started.status()).as(started.text()).isEqualTo(200);
                Fixtures.awaitPipelineRunning(restarted, "land-events", "from its savepoint in the bucket");
                awaitCheckpointAfter(restarted, checkpoint(restarted) + 2);
                ledger.stop();

                Set<Long> logged = ledger.readLog(tarn.kafka, 2);
                try (LakeCatalog lake = LakeCatalog.open(
                        new LakeCatalog.Database(catalogUri, "postgres", "postgres"),
                        "s3://lake/warehouse",
                        Optional.empty(),
                        List.of(),
                        s3.ioProperties())) {
                    await(
                            "the lake to catch up with the log",
                            Duration.ofMinutes(2),
                            () -> lakeRows(lake) == logged.size(),
                            () -> "lake " + lakeRows(lake) + " log " + logged.size());
                    Ledger.LakeIds ids = Ledger.readLake(lake, "ledger.events");
                    Ledger.Report report = ledger.check(logged, ids);
                    System.out.println("ledger: " + report);
                    report.assertExactlyOnce();
                    Http.Reply query = restarted.post(
                            "/v1/query",
                            Map.of(
                                    "sql",
                                    "SELECT count(*), count(DISTINCT id) FROM lake.ledger.events",
                                    "engine",
                                    "flink"));
                    assertThat(query.status()).as(query.text()).isEqualTo(200);
                    assertThat(query.body().path("rows").get(0).toString())
                            .as("a Flink query on the cluster")
                            .isEqualTo("[%d,%d]".formatted(ids.rows(), ids.ids().size()));
                }
            } finally {
                tarn.terminate();
            }
            assertThat(activeJobs(flink)).as("a stopping Tarn cancels its jobs").isEmpty();
        }
    }

    /** The key store of the cluster's REST endpoint, which Tarn presents and trusts (made by keytool at first use). */
    private Path tls() {
        return dir.resolve("flink-tls");
    }

    /** The cluster's directory and its processes' logs, kept in target/ so that a failed run can be read afterwards. */
    private static Path clusterDirectory() throws IOException {
        Path directory = Path.of("target", "flink-session-cluster-it").toAbsolutePath();
        if (Files.exists(directory)) {
            try (Stream<Path> paths = Files.walk(directory)) {
                for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(path);
                }
            }
        }
        return directory;
    }

    /** The cluster's S3 file system options, for checkpoints and savepoints in the bucket. */
    private static Map<String, String> flinkS3Options(S3Proxy s3) {
        return Map.of(
                "s3.endpoint", s3.endpoint(),
                "s3.endpoint.region", S3Proxy.REGION,
                "s3.path.style.access", "true",
                "s3.access-key", S3Proxy.ACCESS_KEY,
                "s3.secret-key", S3Proxy.SECRET_KEY);
    }

    /** The landing pipeline's jobs that have not ended (the cluster also runs Tarn's audit pipeline). */
    private static List<String> activeJobs(FlinkClusterProcesses flink) throws Exception {
        return flink.jobs().stream()
                .filter(job -> job.path("name").asText().equals("tarn:land-events"))
                .filter(job -> !Set.of("FINISHED", "CANCELED", "FAILED")
                        .contains(job.path("state").asText()))
                .map(job -> job.path("jid").asText())
                .toList();
    }

    private static void awaitCheckpointAfter(Http http, long id) {
        await("a checkpoint after " + id, Duration.ofMinutes(2), () -> checkpoint(http) > id, () -> http.get(
                        "/v1/pipelines/land-events")
                .text());
    }

    private static long checkpoint(Http http) {
        return http.get("/v1/pipelines/land-events")
                .body()
                .path("lastCheckpoint")
                .path("id")
                .asLong();
    }

    private static String lastError(Http http) {
        return http.get("/v1/pipelines/land-events").body().path("lastError").asText("");
    }

    private static long lakeRows(LakeCatalog lake) {
        try {
            return Ledger.readLake(lake, "ledger.events").rows();
        } catch (Exception | AssertionError e) {
            return -1; // not committed yet, or a file of the snapshot not readable yet
        }
    }
}
