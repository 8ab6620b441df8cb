package io.tarn.server;

import static io.tarn.server.Fixtures.await;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.tarn.core.config.ConfigKeys;
import io.tarn.lake.Seams;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Fresh reads: a landing table's committed snapshot plus its topic after the offsets that snapshot covers, exactly
 * once, checked at random moments while events stream in and the landing pipeline commits every second.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FreshReadIT {
    private static final String COUNTS = "SELECT count(*), count(DISTINCT id), coalesce(max(id), -1),"
            + " count(*) FILTER (WHERE id < %d) FROM lake.fresh.events";

    @RegisterExtension
    static final TarnServerExtension tarn =
            new TarnServerExtension(config -> config.with(ConfigKeys.COMPUTE_CHECKPOINT_INTERVAL, "1s"));

    private static Http http;
    private static Path dataDir;

    @BeforeAll
    static void landEvents() {
        http = tarn.http();
        dataDir = tarn.dataDir();
        Fixtures.createIdTopic(http, "events", 2);
        Fixtures.createIdLanding(http, "land-events", "events", "fresh.events");
        Fixtures.awaitPipelineRunning(http, "land-events", "after creation");
    }

    @Test
    @Order(1)
    void freshReadsHoldEveryAcknowledgedEventOnceAtRandomMomentsWhileThePipelineCommits() throws Exception {
        AtomicLong acknowledged = new AtomicLong();
        AtomicBoolean sending = new AtomicBoolean(true);
        Thread sender = new Thread(() -> {
            long next = 0;
            while (sending.get()) {
                List<Map<String, Object>> batch = new ArrayList<>();
                for (int i = 0; i < 50; i++) {
                    batch.add(Map.of("id", next++));
                }
                Http.Reply reply = http.post("/v1/topics/events/records", batch);
                assertThat(reply.status()).as(reply.text()).isEqualTo(200);
                acknowledged.set(next);
            }
        });
        sender.start();
        try {
            await(
                    "the landing pipeline's first commit",
                    Duration.ofMinutes(2),
                    () -> Fixtures.number(http, "SELECT count(*) FROM lake.fresh.events") > 0);
            Random random = new Random(19);
            int aheadOfSnapshot = 0;
            for (int read = 0; read < 40; read++) {
                Thread.sleep(random.nextInt(150));
                long before = acknowledged.get();
                long committed = Fixtures.number(http, "SELECT count(*) FROM lake.fresh.events");
                JsonNode counts = fresh(COUNTS.formatted(before));
                long after = acknowledged.get();
                long rows = counts.get(0).asLong();
                assertThat(counts.get(1).asLong())
                        .as("distinct ids of %d rows", rows)
                        .isEqualTo(rows);
                assertThat(counts.get(3).asLong())
                        .as("acknowledged events before the read")
                        .isEqualTo(before);
                assertThat(rows)
                        .as("rows, acknowledged before %d and after %d", before, after)
                        .isBetween(before, after + 50);
                assertThat(counts.get(2).asLong()).isLessThan(after + 50);
                if (rows > committed) {
                    aheadOfSnapshot++;
                }
            }
            // the tail after the seam made most reads fresher than the committed snapshot at the time
            assertThat(aheadOfSnapshot).isGreaterThan(20);
            try (Stream<Path> seams = Files.walk(dataDir.resolve("warehouse"))) {
                assertThat(seams.anyMatch(p -> p.toString().contains("/" + Seams.DIRECTORY + "/")))
                        .isTrue();
            }
        } finally {
            sending.set(false);
            sender.join();
        }
        // once everything is committed, a fresh read and a committed read agree with the topic
        long sent = acknowledged.get();
        await(
                "the lake to hold every event",
                Duration.ofMinutes(2),
                () -> Fixtures.number(http, "SELECT count(*) FROM lake.fresh.events") == sent);
        JsonNode counts = fresh(COUNTS.formatted(sent));
        assertThat(counts.toString()).isEqualTo("[%d,%d,%d,%d]".formatted(sent, sent, sent - 1, sent));
    }

    @Test
    @Order(2)
    void aFreshReadOfATableNoLandingPipelineKeepsIsRefusedWithTheReason() {
        Http.Reply pipeline = http.post(
                "/v1/pipelines",
                Map.of(
                        "name",
                        "even-events",
                        "sql",
                        "CREATE TABLE IF NOT EXISTS lake.fresh.even (id BIGINT);"
                                + " INSERT INTO lake.fresh.even SELECT id FROM stream.events WHERE MOD(id, 2) = 0;"));
        assertThat(pipeline.status()).as(pipeline.text()).isEqualTo(201);
        Http.Reply reply = http.post("/v1/query", Map.of("sql", "SELECT count(*) FROM lake.fresh.even", "fresh", true));
        assertThat(reply.status()).as(reply.text()).isEqualTo(400);
        assertThat(reply.body().path("error").path("name").asText()).isEqualTo("UNSUPPORTED_QUERY");
        assertThat(reply.errorMessage())
                .startsWith("lake table 'fresh.even' cannot be read fresh: ")
                .endsWith("; a fresh read needs the topic offsets a landing pipeline (one that copies a JSON topic's"
                        + " columns into the table as they are) records with each commit. Query it without \"fresh\"");

        Http.Reply notBoolean =
                http.post("/v1/query", Map.of("sql", "SELECT count(*) FROM lake.fresh.events", "fresh", "yes"));
        assertThat(notBoolean.status()).isEqualTo(400);
        assertThat(notBoolean.errorMessage()).isEqualTo("fresh must be true or false");
        Http.Reply flink = http.post(
                "/v1/query", Map.of("sql", "SELECT count(*) FROM lake.fresh.events", "fresh", true, "engine", "flink"));
        assertThat(flink.status()).isEqualTo(400);
        assertThat(flink.errorMessage()).isEqualTo("fresh reads run on engine \"duckdb\" only");
        assertThat(http.delete("/v1/pipelines/even-events").status()).isEqualTo(204);
    }

    @Test
    @Order(3)
    void aStoppedPipelinesTableReadsFreshWithEverythingSentSinceAndAfterItsRestartToo() throws Exception {
        // a running job keeps the seams of its last 30 checkpoints or so, not one per second for ever
        await("40 checkpoints of the landing job", Duration.ofMinutes(2), () -> seamCheckpoints().stream()
                .anyMatch(id -> id >= 40));
        List<Long> checkpoints = seamCheckpoints();
        long newest = checkpoints.stream().mapToLong(Long::longValue).max().orElseThrow();
        assertThat(checkpoints).allMatch(id -> id >= newest - 32);
        Http.Reply stopped = http.post("/v1/pipelines/land-events/stop", Map.of());
        assertThat(stopped.status()).as(stopped.text()).isEqualTo(200);
        long committed = Fixtures.number(http, "SELECT count(*) FROM lake.fresh.events");
        long first = Fixtures.number(http, "SELECT coalesce(max(id), -1) + 1 FROM lake.fresh.events");
        List<Map<String, Object>> batch = new ArrayList<>();
        for (long id = first; id < first + 1000; id++) {
            batch.add(Map.of("id", id));
        }
        assertThat(http.post("/v1/topics/events/records", batch).status()).isEqualTo(200);
        long total = first + 1000;
        // nothing commits while the pipeline is stopped: the fresh rows are the topic's tail
        assertThat(fresh(COUNTS.formatted(total)).toString())
                .isEqualTo("[%d,%d,%d,%d]".formatted(total, total, total - 1, total));
        assertThat(Fixtures.number(http, "SELECT count(*) FROM lake.fresh.events"))
                .isEqualTo(committed);

        Http.Reply started = http.post("/v1/pipelines/land-events/start", Map.of());
        assertThat(started.status()).as(started.text()).isEqualTo(200);
        Fixtures.awaitPipelineRunning(http, "land-events", "after its start");
        assertThat(http.post("/v1/topics/events/records", List.of(Map.of("id", total)))
                        .status())
                .isEqualTo(200);
        long all = total + 1;
        await(
                "the restarted pipeline to commit everything",
                Duration.ofMinutes(2),
                () -> Fixtures.number(http, "SELECT count(*) FROM lake.fresh.events") == all);
        // the seam of the restarted job's commits
        assertThat(fresh(COUNTS.formatted(all)).toString())
                .isEqualTo("[%d,%d,%d,%d]".formatted(all, all, all - 1, all));
    }

    /** The checkpoints of every seam file of the landing table, once per subtask. */
    private static List<Long> seamCheckpoints() {
        for (int attempt = 1; ; attempt++) {
            try (Stream<Path> files = Files.walk(dataDir.resolve("warehouse"))) {
                return files.filter(p -> p.getParent()
                                        .getParent()
                                        .getFileName()
                                        .toString()
                                        .equals(Seams.DIRECTORY)
                                && p.getFileName().toString().endsWith(".json"))
                        .map(p -> Long.parseLong(p.getFileName().toString().split("-")[0]))
                        .toList();
            } catch (IOException | UncheckedIOException e) {
                if (attempt == 5) { // the job deletes old seams while the walk lists them
                    throw new AssertionError("seams could not be listed", e);
                }
            }
        }
    }

    private static JsonNode fresh(String sql) {
        Http.Reply reply = http.post("/v1/query", Map.of("sql", sql, "fresh", true));
        assertThat(reply.status()).as(reply.text()).isEqualTo(200);
        return reply.body().path("rows").get(0);
    }
}
