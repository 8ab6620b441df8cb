package io.tarn.app.demo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.tarn.core.config.ConfigKeys;
import io.tarn.core.config.TarnConfig;
import io.tarn.core.error.TarnException;
import io.tarn.core.query.QueryResult;
import io.tarn.server.TarnServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo's own topic, pipelines and generator: the lake tables hold exactly what the generated clicks imply. */
class DemoIT {
    @TempDir
    Path dataDir;

    @Test
    void demoPipelinesComputeExactPageViewsAndUniqueUsers() throws Exception {
        TarnConfig config = TarnConfig.defaults()
                .with(ConfigKeys.DATA_DIR, dataDir.toString())
                .with(ConfigKeys.HTTP_PORT, "0")
                .with(ConfigKeys.LOG_PORT, "0")
                .with(ConfigKeys.COMPUTE_CHECKPOINT_INTERVAL, "1s");
        try (TarnServer server = TarnServer.start(config)) {
            Demo.install(server);
            Demo.install(server);
            assertThat(server.pipelines().list())
                    .extracting(p -> p.spec().name())
                    .containsExactly(
                            "clicks-to-lake", "pageviews-per-minute", "pv_uv-view", "rapid_users-view", "tarn-audit");

            int total = 3_000;
            LocalDateTime base = LocalDateTime.of(2026, 3, 1, 12, 0);
            Map<String, Long> views = new TreeMap<>();
            Map<String, Set<String>> users = new HashMap<>();
            List<ClickGenerator.Click> all = new ArrayList<>();
            Properties props = new Properties();
            props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrapServers());
            try (var producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
                for (int n = 0; n < total; n++) {
                    ClickGenerator.Click click =
                            ClickGenerator.click(n, base.plus(n * 180_000L / total, ChronoUnit.MILLIS));
                    producer.send(new ProducerRecord<>("clicks", bytes(click.userId()), bytes(click.json())));
                    all.add(click);
                    String key = click.eventTime().truncatedTo(ChronoUnit.MINUTES) + " " + click.page();
                    views.merge(key, 1L, Long::sum);
                    users.computeIfAbsent(key, k -> new HashSet<>()).add(click.userId());
                }
                // One late click per partition moves every partition's watermark past the windows above.
                for (int partition = 0; partition < Demo.CLICKS.partitions(); partition++) {
                    ClickGenerator.Click closer = ClickGenerator.click(total + partition, base.plusMinutes(30));
                    producer.send(new ProducerRecord<>("clicks", partition, null, bytes(closer.json())));
                    all.add(closer);
                }
            }
            long landed = total + Demo.CLICKS.partitions();
            await(() -> count(server, "SELECT count(*) FROM lake.web.clicks") == landed);
            await(() -> count(server, "SELECT count(*) FROM lake.web.pageviews_per_minute") == views.size());

            Map<String, Long> actualViews = new TreeMap<>();
            Map<String, Long> actualUsers = new TreeMap<>();
            String pvuv = "SELECT window_start, page, page_views, unique_users FROM lake.web.pageviews_per_minute";
            for (var row : query(server, pvuv).rows()) {
                String key = LocalDateTime.parse((String) row.get(0)) + " " + row.get(1);
                actualViews.put(key, ((Number) row.get(2)).longValue());
                actualUsers.put(key, ((Number) row.get(3)).longValue());
            }
            assertThat(actualViews).isEqualTo(views);
            Map<String, Long> expectedUsers = new TreeMap<>();
            users.forEach((key, set) -> expectedUsers.put(key, (long) set.size()));
            assertThat(actualUsers).isEqualTo(expectedUsers);
            assertThat(count(
                            server,
                            "SELECT count(DISTINCT kafka_partition || '/' || kafka_offset) FROM lake.web.clicks"))
                    .isEqualTo(landed);

            // the live views: PV/UV per page over every click, and users with more than 3 clicks in a sliding minute
            Map<String, String> pvUv = expectedPvUv(all);
            await(() -> viewRows(
                            server,
                            "pv_uv",
                            r -> r.path("page").asText(),
                            r -> r.path("page_views").asLong() + "/"
                                    + r.path("unique_users").asLong())
                    .equals(pvUv));
            Map<String, String> rapid = expectedRapidUsers(all);
            assertThat(rapid).hasSizeGreaterThan(10);
            await(() -> viewRows(
                            server,
                            "rapid_users",
                            r -> r.path("user_id").asText() + " "
                                    + r.path("window_end").asText(),
                            r -> r.path("clicks").asText())
                    .equals(rapid));

            AtomicBoolean running = new AtomicBoolean(true);
            Thread generator = new Thread(() -> DemoCommand.generate(server.bootstrapServers(), 500, running));
            generator.start();
            Thread.sleep(2_000);
            running.set(false);
            generator.join();
            long produced = server.topics().describe("clicks").records();
            assertThat(produced).isGreaterThan(landed + 500);
            await(() -> count(server, "SELECT count(*) FROM lake.web.clicks") == produced);
        }
    }

    private static Map<String, String> expectedPvUv(List<ClickGenerator.Click> clicks) {
        Map<String, Long> views = new TreeMap<>();
        Map<String, Set<String>> users = new HashMap<>();
        for (ClickGenerator.Click click : clicks) {
            views.merge(click.page(), 1L, Long::sum);
            users.computeIfAbsent(click.page(), p -> new HashSet<>()).add(click.userId());
        }
        Map<String, String> expected = new TreeMap<>();
        views.forEach((page, count) ->
                expected.put(page, count + "/" + users.get(page).size()));
        return expected;
    }

    /** Per user and one-minute window ending every 10 s (those the watermark closed): more than 3 clicks. */
    private static Map<String, String> expectedRapidUsers(List<ClickGenerator.Click> clicks) {
        LocalDateTime closed = clicks.stream()
                .map(ClickGenerator.Click::eventTime)
                .max(LocalDateTime::compareTo)
                .orElseThrow()
                .minusSeconds(5);
        Map<String, Long> counts = new TreeMap<>();
        for (ClickGenerator.Click click : clicks) {
            LocalDateTime firstEnd = click.eventTime()
                    .truncatedTo(ChronoUnit.SECONDS)
                    .withSecond(click.eventTime().getSecond() / 10 * 10)
                    .plusSeconds(10);
            for (int k = 0; k < 6; k++) {
                LocalDateTime end = firstEnd.plusSeconds(10L * k);
                if (!end.isAfter(closed)) {
                    counts.merge(
                            click.userId() + " " + DateTimeFormatter.ISO_LOCAL_DATE_TIME.format(end), 1L, Long::sum);
                }
            }
        }
        Map<String, String> expected = new TreeMap<>();
        counts.forEach((key, count) -> {
            if (count > Demo.RAPID_CLICKS) {
                expected.put(key, String.valueOf(count));
            }
        });
        return expected;
    }

    /** A view's rows (up to 10,000) by a key made from each row, with a value made from it. */
    private static Map<String, String> viewRows(
            TarnServer server, String view, Function<JsonNode, String> key, Function<JsonNode, String> value) {
        Map<String, String> rows = new TreeMap<>();
        for (JsonNode row : server.views().read(view, Map.of("limit", "10000")).rows()) {
            rows.put(key.apply(row), value.apply(row));
        }
        return rows;
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static QueryResult query(TarnServer server, String sql) {
        return server.queries().query(sql, "duckdb");
    }

    private static long count(TarnServer server, String sql) {
        try {
            return ((Number) query(server, sql).rows().get(0).get(0)).longValue();
        } catch (TarnException e) {
            return -1;
        }
    }

    private static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out");
            }
            Thread.sleep(250);
        }
    }
}
