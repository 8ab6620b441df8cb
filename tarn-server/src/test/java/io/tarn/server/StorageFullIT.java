package io.tarn.server;

import static io.tarn.server.Fixtures.await;
import static io.tarn.server.Fixtures.number;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tarn.core.config.ConfigKeys;
import io.tarn.core.config.TarnConfig;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Storage running low, for real: the server keeps a reserve set to 1 GiB below the free space of its file system, and
 * the test then fills that file system with a 1.5 GiB file. Ingest must answer 503 and write nothing, pipelines must
 * pause, and once the file is deleted both must come back by themselves with every acknowledged event in the lake
 * exactly once. (No separate small file system is needed: the reserve is what Tarn reacts to, long before the disk is
 * actually full.)
 */
class StorageFullIT {
    private static final long GiB = 1024L * 1024 * 1024;
    private static final Duration LANDING = Duration.ofMinutes(2);

    @TempDir
    static Path dataDir;

    static TarnServer server;
    static Http http;

    /** Every id acknowledged with a 200. */
    private final Set<Long> acknowledged = new HashSet<>();

    private long probe = 1_000_000;

    @BeforeAll
    static void start() throws Exception {
        long usable = Files.getFileStore(dataDir).getUsableSpace();
        assumeTrue(usable > 4 * GiB, "needs 4 GiB free to fill the file system past the reserve");
        TarnConfig config = Fixtures.localServer(dataDir.resolve("data"))
                .with(ConfigKeys.COMPUTE_CHECKPOINT_INTERVAL, "1s")
                .with(ConfigKeys.STORAGE_MIN_FREE_BYTES, String.valueOf(usable - GiB));
        server = TarnServer.start(config);
        http = Http.of(server);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void ingestRefusesAndPipelinesPauseWhileStorageIsLowThenBothComeBackExactly() throws Exception {
        Fixtures.createIdTopic(http, "events", 2);
        Http.Reply created = http.post(
                "/v1/pipelines",
                Map.of(
                        "name",
                        "events-to-lake",
                        "sql",
                        """
                        CREATE DATABASE IF NOT EXISTS lake.disk;
                        CREATE TABLE IF NOT EXISTS lake.disk.events (id BIGINT);
                        INSERT INTO lake.disk.events SELECT id FROM stream.events;
                        """));
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        assertThat(send(0, 1_000).status()).isEqualTo(200);
        awaitLake(1_000);

        Path filler = dataDir.resolve("filler");
        fill(filler, GiB + GiB / 2);
        await("ingest to be refused", LANDING, () -> send(probe++, 1).status() == 503);
        long inLog = topicRecords();
        for (int i = 0; i < 5; i++) {
            Http.Reply refused = send(2_000_000 + i * 100, 100);
            assertThat(refused.status()).isEqualTo(503);
            assertThat(refused.errorName()).isEqualTo("STORAGE_FULL");
            assertThat(refused.errorMessage())
                    .contains("the file system of the data directory has")
                    .contains("less than storage.min-free-bytes")
                    .contains("nothing of this request was written")
                    .doesNotContain(dataDir.toString());
            assertThat(refused.body().path("error").path("retriable").asBoolean())
                    .isTrue();
        }
        assertThat(topicRecords()).as("records in the log while storage is low").isEqualTo(inLog);
        await("the pipeline to pause", LANDING, () -> http.get("/v1/pipelines/events-to-lake")
                .body()
                .path("state")
                .asText()
                .equals("PAUSED"));
        assertThat(http.get("/v1/pipelines/events-to-lake")
                        .body()
                        .path("lastError")
                        .asText())
                .startsWith("paused: the file system of the data directory has");
        Http.Reply ready = http.get("/v1/ready");
        assertThat(ready.status()).isEqualTo(503);
        assertThat(ready.body().path("parts").path("storage").asBoolean()).isFalse();

        Files.delete(filler);
        probe = 3_000_000;
        await("ingest to be accepted again", LANDING, () -> send(probe++, 1).status() == 200);
        Fixtures.awaitPipelineRunning(http, "events-to-lake", "after storage came back");
        assertThat(send(1_000, 1_000).status()).isEqualTo(200);
        long expectedRows = acknowledged.size();
        awaitLake(expectedRows);
        assertThat(number(http, "SELECT count(DISTINCT id) FROM lake.disk.events"))
                .isEqualTo(expectedRows);
        assertThat(number(http, "SELECT sum(id) FROM lake.disk.events"))
                .isEqualTo(acknowledged.stream().mapToLong(Long::longValue).sum());
        assertThat(number(http, "SELECT count(*) FROM lake.disk.events WHERE id >= 2000000 AND id < 3000000"))
                .as("records of refused requests")
                .isZero();
        assertThat(http.get("/v1/ready").status()).isEqualTo(200);
    }

    private Http.Reply send(long first, int count) {
        List<Map<String, Long>> batch = new ArrayList<>();
        for (long id = first; id < first + count; id++) {
            batch.add(Map.of("id", id));
        }
        Http.Reply reply = http.post("/v1/topics/events/records", batch);
        if (reply.status() == 200) {
            batch.forEach(r -> acknowledged.add(r.get("id")));
        }
        return reply;
    }

    private static long topicRecords() {
        return http.get("/v1/topics/events").body().path("records").asLong();
    }

    private static void awaitLake(long rows) {
        await(
                rows + " rows in the lake",
                LANDING,
                () -> number(http, "SELECT count(*) FROM lake.disk.events") == rows,
                () -> "lake has " + number(http, "SELECT count(*) FROM lake.disk.events"));
    }

    /** Writes real blocks (not a sparse file), so the space is taken from the file system. */
    private static void fill(Path file, long bytes) throws Exception {
        ByteBuffer block = ByteBuffer.allocate(8 * 1024 * 1024);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (long written = 0; written < bytes; written += block.capacity()) {
                block.clear();
                while (block.hasRemaining()) {
                    channel.write(block);
                }
            }
            channel.force(true);
        }
    }
}
