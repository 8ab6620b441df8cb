package io.tarn.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.postgresql.PGConnection;

/**
 * Change data capture: a PostgreSQL table (started by the harness, {@code wal_level=logical}) captured by a Tarn source
 * and mirrored into the lake. Reports the snapshot's rows/s into the topic and into the lake table against PostgreSQL's
 * own {@code COPY ... TO STDOUT} of the same table (the database's read ceiling), and, for single-row inserts committed
 * at a fixed rate, the latency from just before each commit to its change being in the topic (a Kafka consumer sees
 * it) and in the lake ({@code POST /v1/query} sees it, polled every 50 ms).
 */
final class Cdc {
    static final String NAME = "cdc";
    private static final Duration TIMEOUT = Duration.ofMinutes(10);

    private final BenchContext context;
    private final int rows;
    private final int changesPerSecond;
    private final Duration changesFor;

    Cdc(BenchContext context, int rows, int changesPerSecond, Duration changesFor) {
        this.context = context;
        this.rows = rows;
        this.changesPerSecond = changesPerSecond;
        this.changesFor = changesFor;
    }

    List<Run> run() throws Exception {
        try (EmbeddedPostgres postgres = EmbeddedPostgres.builder()
                .setServerConfig("wal_level", "logical")
                .setServerConfig("synchronous_commit", "on")
                .setServerConfig("max_replication_slots", "4")
                .setServerConfig("max_wal_senders", "4")
                .start()) {
            try (Connection connection = postgres.getPostgresDatabase().getConnection();
                    Statement statement = connection.createStatement()) {
                statement.execute("CREATE TABLE orders (id BIGINT PRIMARY KEY, customer TEXT NOT NULL,"
                        + " amount NUMERIC(10, 2) NOT NULL, updated_at TIMESTAMP NOT NULL)");
                statement.execute("INSERT INTO orders SELECT g, 'customer-' || (g % 997), (g % 100000) / 100.0,"
                        + " TIMESTAMP '2026-01-01 00:00:00' + g * INTERVAL '1 second' FROM generate_series(1, "
                        + rows + ") g");
                statement.execute("VACUUM ANALYZE orders");
            }
            return context.repeat(i -> round(postgres, i));
        }
    }

    private List<Run> round(EmbeddedPostgres postgres, int repetition) throws Exception {
        List<Run> runs = new ArrayList<>();
        runs.add(copy(postgres, repetition));
        String source = "bench_cdc_" + (repetition + 100); // warm-ups have negative numbers
        String topic = source + ".public.orders";
        String table = source + ".orders";
        double cpu = Machine.processCpuSeconds();
        long start = System.nanoTime();
        context.createSource(context.server.httpAddress(), source, postgres.getPort(), List.of("public.orders"));
        BenchContext.awaitAtLeast(
                "snapshot in the topic",
                () -> context.request("GET", "/v1/sources/" + source, null, 200)
                                .path("snapshot")
                                .path("completed")
                                .asBoolean()
                        ? 1
                        : 0,
                1,
                TIMEOUT,
                () -> failure(source));
        double topicSeconds = (System.nanoTime() - start) / 1e9;
        runs.add(new Run(
                NAME, "tarn-snapshot", repetition, rows, topicSeconds, Machine.processCpuSeconds() - cpu, Map.of()));
        BenchContext.awaitAtLeast("snapshot in the lake", () -> count(table), rows, TIMEOUT, Optional::empty);
        runs.add(new Run(
                NAME,
                "tarn-snapshot-lake",
                repetition,
                rows,
                (System.nanoTime() - start) / 1e9,
                Machine.processCpuSeconds() - cpu,
                Map.of()));
        runs.add(changes(postgres, topic, table, repetition));
        context.request("DELETE", "/v1/sources/" + source, null, 204);
        context.request("DELETE", "/v1/topics/" + topic, null, 204);
        context.server.lake().dropAndPurge(table);
        try (Connection connection = postgres.getPostgresDatabase().getConnection();
                Statement statement = connection.createStatement()) {
            statement.execute("DELETE FROM orders WHERE id > " + rows);
        }
        return runs;
    }

    /** PostgreSQL's own read of the whole table, as text, into nothing. */
    private Run copy(EmbeddedPostgres postgres, int repetition) throws Exception {
        double cpu = Machine.processCpuSeconds();
        long start = System.nanoTime();
        try (Connection connection = postgres.getPostgresDatabase().getConnection()) {
            connection
                    .unwrap(PGConnection.class)
                    .getCopyAPI()
                    .copyOut("COPY orders TO STDOUT", OutputStream.nullOutputStream());
        }
        return new Run(
                NAME,
                "pg-copy",
                repetition,
                rows,
                (System.nanoTime() - start) / 1e9,
                Machine.processCpuSeconds() - cpu,
                Map.of());
    }

    /** Single-row inserts at a fixed rate; when each is in the topic and in the lake. */
    private Run changes(EmbeddedPostgres postgres, String topic, String table, int repetition) throws Exception {
        Map<Long, Long> inTopic = new ConcurrentHashMap<>();
        AtomicBoolean consuming = new AtomicBoolean(true);
        CountDownLatch positioned = new CountDownLatch(1);
        Thread consumer = new Thread(() -> consume(topic, inTopic, consuming, positioned), "bench-cdc-consumer");
        consumer.start();
        // the consumer starts at the topic's end: no change may be committed before it knows where that is
        if (!positioned.await(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            throw new IllegalStateException("the change consumer did not start within " + TIMEOUT);
        }
        List<long[]> committed = new ArrayList<>(); // id, nanos just before commit
        List<long[]> seen = new ArrayList<>(); // max id in the lake, nanos of the answer
        AtomicBoolean polling = new AtomicBoolean(true);
        Thread poller = new Thread(
                () -> {
                    while (polling.get()) {
                        long max = maxId(table);
                        synchronized (seen) {
                            seen.add(new long[] {max, System.nanoTime()});
                        }
                        sleepMillis(50);
                    }
                },
                "bench-cdc-poller");
        poller.start();
        double cpu = Machine.processCpuSeconds();
        long start = System.nanoTime();
        long count = (long) changesPerSecond * changesFor.toSeconds();
        try (Connection connection = postgres.getPostgresDatabase().getConnection();
                PreparedStatement insert = connection.prepareStatement(
                        "INSERT INTO orders VALUES (?, 'new', 1.23, TIMESTAMP '2026-06-01 12:34:56')")) {
            connection.setAutoCommit(false);
            for (long n = 0; n < count; n++) {
                long due = start + n * 1_000_000_000L / changesPerSecond;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    sleepMillis(wait / 1_000_000);
                }
                long id = rows + 1 + n;
                insert.setLong(1, id);
                insert.executeUpdate();
                long before = System.nanoTime();
                connection.commit();
                committed.add(new long[] {id, before});
            }
        }
        long last = rows + count;
        BenchContext.awaitAtLeast(
                "changes in the lake",
                () -> {
                    synchronized (seen) {
                        return seen.isEmpty() ? -1 : seen.get(seen.size() - 1)[0];
                    }
                },
                last,
                TIMEOUT,
                Optional::empty);
        double seconds = (System.nanoTime() - start) / 1e9;
        polling.set(false);
        poller.join();
        // every change once: the largest id may be committed before a smaller one read from another partition
        BenchContext.awaitAtLeast(
                "every change in the lake", () -> count(table), rows + count, TIMEOUT, Optional::empty);
        long landed = count(table);
        if (landed != rows + count) {
            throw new IllegalStateException(
                    "lake table %s holds %d rows, expected %d".formatted(table, landed, rows + count));
        }
        BenchContext.awaitAtLeast("changes in the topic", () -> (long) inTopic.size(), count, TIMEOUT, Optional::empty);
        consuming.set(false);
        consumer.join();
        List<Long> topicLatencies = new ArrayList<>();
        List<Long> lakeLatencies = new ArrayList<>();
        for (long[] change : committed) {
            topicLatencies.add(inTopic.get(change[0]) - change[1]);
            lakeLatencies.add(seen.stream()
                            .filter(s -> s[0] >= change[0] && s[1] >= change[1])
                            .findFirst()
                            .orElseThrow()[1]
                    - change[1]);
        }
        topicLatencies.sort(Long::compare);
        lakeLatencies.sort(Long::compare);
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("p50TopicMs", percentile(topicLatencies, 0.50));
        extra.put("p99TopicMs", percentile(topicLatencies, 0.99));
        extra.put("p50LakeMs", percentile(lakeLatencies, 0.50));
        extra.put("p99LakeMs", percentile(lakeLatencies, 0.99));
        return new Run(NAME, "tarn-changes", repetition, count, seconds, Machine.processCpuSeconds() - cpu, extra);
    }

    /** Notes when each inserted id's change event arrives in the topic. */
    private void consume(String topic, Map<Long, Long> arrivals, AtomicBoolean running, CountDownLatch positioned) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, context.server.bootstrapServers());
        Map<String, Object> config = new HashMap<>();
        props.forEach((k, v) -> config.put((String) k, v));
        try (var consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition()))
                    .toList();
            consumer.assign(partitions);
            consumer.seekToEnd(partitions); // only the changes, not the snapshot
            partitions.forEach(consumer::position);
            positioned.countDown();
            while (running.get()) {
                for (var record : consumer.poll(Duration.ofMillis(10))) {
                    long now = System.nanoTime();
                    if (record.value() == null) {
                        continue;
                    }
                    JsonNode after = BenchContext.JSON.readTree(record.value()).path("after");
                    if (after.has("id")) {
                        arrivals.putIfAbsent(after.get("id").asLong(), now);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The source's last error, if it has one. */
    private Optional<String> failure(String source) {
        JsonNode error =
                context.request("GET", "/v1/sources/" + source, null, 200).path("lastError");
        return error.isTextual() ? Optional.of(error.asText()) : Optional.empty();
    }

    private long count(String table) {
        try {
            return context.request("POST", "/v1/query", "{\"sql\":\"SELECT count(*) FROM lake." + table + "\"}", 200)
                    .path("rows")
                    .path(0)
                    .path(0)
                    .asLong();
        } catch (IllegalStateException e) {
            return -1;
        }
    }

    private long maxId(String table) {
        try {
            JsonNode value = context.request(
                            "POST", "/v1/query", "{\"sql\":\"SELECT max(id) FROM lake." + table + "\"}", 200)
                    .path("rows")
                    .path(0)
                    .path(0);
            return value.isNull() || value.isMissingNode() ? -1 : value.asLong();
        } catch (IllegalStateException e) {
            return -1;
        }
    }

    private static long percentile(List<Long> sortedNanos, double share) {
        int index = Math.max(0, (int) Math.ceil(sortedNanos.size() * share) - 1);
        return sortedNanos.get(index) / 1_000_000;
    }

    private static void sleepMillis(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
