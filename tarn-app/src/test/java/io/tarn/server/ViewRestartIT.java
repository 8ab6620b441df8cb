package io.tarn.server;

import static io.tarn.server.Fixtures.await;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.tarn.app.launcher.ServerProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A live view and a follower of its changes across a SIGKILL of the server while clicks stream in: once restarted
 * and caught up, the view equals the aggregate of the clicks topic (computed by Flink from the topic itself, since
 * requests cut by the kill may or may not have been written), and the follower, reconnecting with the last event id
 * it saw, reaches the same rows.
 */
class ViewRestartIT {
    private static final Map<String, String> ENVIRONMENT = Map.of("TARN_COMPUTE_CHECKPOINT_INTERVAL", "1s");
    private static final String AGGREGATE =
            "SELECT uid, count(*) AS clicks, sum(amount) AS total FROM stream.clicks" + " GROUP BY uid";

    @TempDir
    Path dir;

    @Test
    void aViewAndItsFollowerEqualTheAggregateOfTheTopicAfterAKill() throws Exception {
        Path dataDir = dir.resolve("data");
        Path log = Path.of("target", "view-restart-it-server.log").toAbsolutePath();
        Files.deleteIfExists(log);
        ServerProcess server = ServerProcess.start(dataDir, log, ENVIRONMENT, 0);
        AtomicReference<Http> current = new AtomicReference<>(new Http(server.http, server.token));
        AtomicBoolean sending = new AtomicBoolean(true);
        AtomicInteger acknowledged = new AtomicInteger();
        CompletableFuture<Void> sender = null;
        try {
            Http http = current.get();
            assertThat(http.post(
                                    "/v1/topics",
                                    Map.of(
                                            "name",
                                            "clicks",
                                            "columns",
                                            List.of(
                                                    Map.of("name", "uid", "type", "STRING"),
                                                    Map.of("name", "amount", "type", "BIGINT"))))
                            .status())
                    .isEqualTo(201);
            Http.Reply created = http.post("/v1/views", Map.of("name", "per_user", "sql", AGGREGATE));
            assertThat(created.status()).as(created.text()).isEqualTo(201);
            sender = CompletableFuture.runAsync(() -> send(current, sending, acknowledged));

            Map<String, String> followed = new TreeMap<>();
            String lastId;
            try (EventStream events = EventStream.open(http, "/v1/views/per_user/changes", Optional.empty())) {
                EventStream.Event event = events.next();
                while (!event.event().equals("ready")) {
                    followed.put(event.data().path("uid").asText(), row(event.data()));
                    event = events.next();
                }
                lastId = event.id();
                while (acknowledged.get() < 3000) {
                    event = events.next();
                    followed.put(event.data().path("uid").asText(), row(event.data()));
                    lastId = event.id();
                }
                server.kill();
            }
            System.out.printf("killed after %d acknowledged clicks%n", acknowledged.get());
            server = ServerProcess.start(dataDir, log, ENVIRONMENT, 0);
            current.set(new Http(server.http, server.token));
            int before = acknowledged.get();
            await("clicks after the restart", Duration.ofMinutes(2), () -> acknowledged.get() > before + 2000);
            sending.set(false);
            sender.get();

            Http restarted = current.get();
            List<String> expected = aggregate(restarted);
            assertThat(expected).hasSize(50);
            await(
                    "the view to equal the aggregate of the topic",
                    Duration.ofMinutes(3),
                    () -> viewRows(restarted).equals(expected),
                    () -> restarted.get("/v1/views/per_user/status").text());

            try (EventStream events = EventStream.open(restarted, "/v1/views/per_user/changes", Optional.of(lastId))) {
                while (!List.copyOf(followed.values()).equals(expected)) {
                    EventStream.Event event = events.next();
                    assertThat(event.event()).isEqualTo("upsert");
                    followed.put(event.data().path("uid").asText(), row(event.data()));
                }
            }
        } finally {
            sending.set(false);
            if (sender != null) {
                sender.exceptionally(e -> null).get();
            }
            server.close();
        }
    }

    /** Batches of 50 clicks, user {@code u(n % 50)} and amount {@code n % 7}, until told to stop; refused ones skipped. */
    private static void send(AtomicReference<Http> current, AtomicBoolean sending, AtomicInteger acknowledged) {
        int n = 0;
        while (sending.get()) {
            List<Map<String, Object>> batch = new ArrayList<>();
            for (int i = 0; i < 50; i++, n++) {
                batch.add(Map.of("uid", "u" + n % 50, "amount", n % 7));
            }
            try {
                if (current.get().post("/v1/topics/clicks/records", batch).status() == 200) {
                    acknowledged.addAndGet(batch.size());
                }
                Thread.sleep(20);
            } catch (IllegalStateException e) {
                sleepQuietly(); // the server is down: what this batch did is decided by the topic
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static void sleepQuietly() {
        try {
            Thread.sleep(200);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String row(JsonNode row) {
        return row.path("uid").asText() + "|" + row.path("clicks").asLong() + "|"
                + row.path("total").asLong();
    }

    /** The aggregate of everything in the topic, by Flink's batch read of it, ordered by user. */
    private static List<String> aggregate(Http http) {
        Http.Reply reply = http.post("/v1/query", Map.of("sql", AGGREGATE + " ORDER BY uid", "engine", "flink"));
        assertThat(reply.status()).as(reply.text()).isEqualTo(200);
        List<String> rows = new ArrayList<>();
        for (JsonNode row : reply.body().path("rows")) {
            rows.add(row.get(0).asText() + "|" + row.get(1).asLong() + "|"
                    + row.get(2).asLong());
        }
        return rows;
    }

    private static List<String> viewRows(Http http) {
        Http.Reply reply = http.get("/v1/views/per_user?limit=1000");
        List<String> rows = new ArrayList<>();
        for (JsonNode row : reply.body().path("rows")) {
            rows.add(row(row));
        }
        return rows;
    }
}
