package io.tarn.server;

import static io.tarn.server.Fixtures.await;
import static io.tarn.server.Fixtures.number;
import static org.assertj.core.api.Assertions.assertThat;

import io.tarn.core.config.ConfigKeys;
import io.tarn.lake.LakeCatalog;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.LongStream;
import java.util.stream.StreamSupport;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Snapshot expiry against the restore window: with a retention of one second, two pipelines write one table, one is
 * stopped while the other keeps committing and expiry keeps running; the stopped one must then resume from its
 * savepoint without writing its last checkpoint's rows twice (Iceberg's committer recognises them only while that
 * commit's snapshot is still reachable).
 */
class SnapshotExpiryIT {
    private static final Duration LANDING = Duration.ofMinutes(2);

    @RegisterExtension
    static final TarnServerExtension tarn =
            new TarnServerExtension(config -> config.with(ConfigKeys.COMPUTE_CHECKPOINT_INTERVAL, "1s")
                    .with(ConfigKeys.LAKE_SNAPSHOT_RETENTION, "1s")
                    .with(ConfigKeys.LAKE_MAINTENANCE_INTERVAL, "1s"));

    static TarnServer server;
    static Http http;

    @BeforeAll
    static void start() {
        server = tarn.server();
        http = tarn.http();
    }

    @Test
    void expiryKeepsWhatAStoppedPipelineNeedsToResumeExactlyOnce() throws Exception {
        Fixtures.createIdTopic(http, "a", 1);
        Fixtures.createIdTopic(http, "b", 1);
        createPipeline(
                "a-to-lake",
                """
                CREATE DATABASE IF NOT EXISTS lake.shared;
                CREATE TABLE IF NOT EXISTS lake.shared.events (id BIGINT, source STRING);
                INSERT INTO lake.shared.events SELECT id, 'a' FROM stream.a;
                """);
        createPipeline("b-to-lake", "INSERT INTO lake.shared.events SELECT id, 'b' FROM stream.b");

        // Stopped while events stream in, so that its savepoint holds files that the stop then commits: Iceberg's
        // committer must recognise that commit when the pipeline resumes, or it commits those files again.
        Set<Long> sentToA = ConcurrentHashMap.newKeySet();
        AtomicBoolean sending = new AtomicBoolean(true);
        Thread sender = new Thread(() -> {
            long next = 0;
            while (sending.get()) {
                if (send("a", next, 50).status() == 200) {
                    for (long id = next; id < next + 50; id++) {
                        sentToA.add(id);
                    }
                }
                next += 50;
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        sender.start();
        await("rows from a", LANDING, () -> number(http, "SELECT count(*) FROM lake.shared.events") > 2_000);
        assertThat(http.post("/v1/pipelines/a-to-lake/stop", Map.of())
                        .body()
                        .path("state")
                        .asText())
                .isEqualTo("STOPPED");
        sending.set(false);
        sender.join();
        Snapshot lastOfA;
        try (LakeCatalog lake = openLake()) {
            Table table = lake.load("shared.events");
            lastOfA = table.snapshot(lake.lastCommits(Set.of(jobOf("a-to-lake")))
                    .get("shared.events")
                    .snapshotId());
        }
        for (int i = 0; i < 10; i++) {
            assertThat(send("b", 1_000_000 + i * 100, 100).status()).isEqualTo(200);
            Thread.sleep(1_000);
        }
        awaitCount("b", 1_000);
        String jobOfA = jobOf("a-to-lake");
        await(
                "expiry to remove everything older than a-to-lake's last commit",
                LANDING,
                () -> {
                    try (LakeCatalog lake = openLake()) {
                        return snapshots(lake.load("shared.events")).get(0).snapshotId() == lastOfA.snapshotId();
                    }
                },
                () -> "last of a-to-lake " + lastOfA.snapshotId());
        try (LakeCatalog lake = openLake()) {
            List<Snapshot> kept = snapshots(lake.load("shared.events"));
            assertThat(Long.parseLong(kept.get(0).summary().get("total-records")))
                    .as("a-to-lake committed in several snapshots; the earlier ones are expired")
                    .isGreaterThan(Long.parseLong(kept.get(0).summary().get("added-records")));
            assertThat(kept.stream().filter(x -> jobOfA.equals(x.summary().get("flink.job-id"))))
                    .as("a-to-lake's snapshots kept: its last commit only")
                    .hasSize(1);
            assertThat(kept.size()).as("b-to-lake's later commits are kept").isGreaterThan(1);
        }

        assertThat(http.post("/v1/pipelines/a-to-lake/start", Map.of()).status())
                .isEqualTo(200);
        awaitCount("a", sentToA.size());
        Thread.sleep(3_000);
        assertThat(number(http, "SELECT count(*) FROM lake.shared.events WHERE source = 'a'"))
                .as("rows from a, after it resumed")
                .isEqualTo(sentToA.size());
        assertThat(number(http, "SELECT count(DISTINCT id) FROM lake.shared.events WHERE source = 'a'"))
                .isEqualTo(sentToA.size());
        assertThat(number(http, "SELECT count(*) FROM lake.shared.events")).isEqualTo(sentToA.size() + 1_000);
        assertThat(number(http, "SELECT sum(id) FROM lake.shared.events"))
                .isEqualTo(sentToA.stream().mapToLong(Long::longValue).sum()
                        + LongStream.range(1_000_000, 1_001_000).sum());

        await("expiry to catch up once a-to-lake commits again", LANDING, () -> {
            try (LakeCatalog lake = openLake()) {
                return snapshots(lake.load("shared.events")).size() <= 5;
            }
        });
    }

    private static String jobOf(String pipeline) {
        return http.get("/v1/pipelines/" + pipeline).body().path("jobId").asText();
    }

    private static LakeCatalog openLake() {
        return LakeCatalog.open(
                tarn.dataDir().resolve("catalog.db"),
                tarn.dataDir().resolve("warehouse").toString());
    }

    private static List<Snapshot> snapshots(Table table) {
        List<Snapshot> snapshots = new ArrayList<>(
                StreamSupport.stream(table.snapshots().spliterator(), false).toList());
        snapshots.sort(Comparator.comparingLong(Snapshot::sequenceNumber));
        return snapshots;
    }

    private static void createPipeline(String name, String sql) {
        Http.Reply reply = http.post("/v1/pipelines", Map.of("name", name, "sql", sql));
        assertThat(reply.status()).as(reply.text()).isEqualTo(201);
    }

    private static Http.Reply send(String topic, long first, int count) {
        List<Map<String, Long>> batch = new ArrayList<>();
        for (long id = first; id < first + count; id++) {
            batch.add(Map.of("id", id));
        }
        return http.post("/v1/topics/" + topic + "/records", batch);
    }

    private static void awaitCount(String source, long expected) {
        // Waits for at least the expected rows; callers then check the exact count after a pause.
        await(
                expected + " rows from " + source,
                LANDING,
                () -> number(http, "SELECT count(*) FROM lake.shared.events WHERE source = '" + source + "'")
                        >= expected);
    }
}
