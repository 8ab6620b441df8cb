package io.tarn.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Workload live-view. Part one, latency: events sent over HTTP at a fixed rate into a topic that a view aggregates by
 * key ({@code max(seq)} of 1,000 keys); an event's latency is the time from its acknowledgement to the first pull
 * ({@code GET /v1/views/{name}?key=}) that shows it, and to its delivery to a client following the view's changes
 * (Server-Sent Events). Part two, pulls: random point lookups on a view of N keys (1 M; quick 50 K) from as many
 * client threads as cores, against the same lookups straight on the view's SQLite file (the store alone, no HTTP) as
 * the baseline.
 */
final class LiveView {
    static final String NAME = "live-view";
    private static final int KEYS = 1000;
    private static final Duration TIMEOUT = Duration.ofMinutes(2);

    private final BenchContext context;
    private final List<Integer> rates;
    private final Duration duration;
    private final int lookupKeys;
    private final Duration lookupDuration;
    private final AtomicLong nextSeq = new AtomicLong();

    LiveView(BenchContext context, List<Integer> rates, Duration duration, int lookupKeys, Duration lookupDuration) {
        this.context = context;
        this.rates = rates;
        this.duration = duration;
        this.lookupKeys = lookupKeys;
        this.lookupDuration = lookupDuration;
    }

    List<Run> run() throws Exception {
        createTopic("bench_live");
        createView("bench_live", "SELECT k, max(seq) AS last_seq FROM stream.bench_live GROUP BY k");
        // measured once the view's job runs: one event through it first
        context.request("POST", "/v1/topics/bench_live/records", "[{\"k\":\"probe\",\"seq\":0}]", 200);
        BenchContext.awaitAtLeast(
                "the probe in the view",
                () -> context.request("GET", "/v1/views/bench_live?key=probe", null, 200)
                        .path("rows")
                        .size(),
                1,
                TIMEOUT,
                Optional::empty);
        List<Run> runs = context.repeat(i -> {
            List<Run> round = new ArrayList<>();
            for (int rate : rates) {
                round.addAll(latency(rate, i));
            }
            return round;
        });
        context.request("DELETE", "/v1/views/bench_live", null, 204);
        runs.addAll(lookups());
        return runs;
    }

    private void createTopic(String name) {
        context.request(
                "POST",
                "/v1/topics",
                "{\"name\":\"%s\",\"partitions\":2,\"columns\":[{\"name\":\"k\",\"type\":\"STRING\"},{\"name\":\"seq\",\"type\":\"BIGINT\"}]}"
                        .formatted(name),
                201);
    }

    private void createView(String name, String sql) {
        context.request(
                "POST",
                "/v1/views",
                BenchContext.JSON
                        .createObjectNode()
                        .put("name", name)
                        .put("sql", sql)
                        .toString(),
                201);
    }

    /** A batch as acknowledged: its last event and when the acknowledgement arrived. */
    private record Sent(long seq, int size, long ackedNanos) {
        String key() {
            return "k" + seq % KEYS;
        }
    }

    private List<Run> latency(int rate, int repetition) throws Exception {
        int batchesPerSecond = 20;
        int batchSize = Math.max(1, rate / batchesPerSecond);
        Queue<Sent> pulls = new ConcurrentLinkedQueue<>();
        Map<String, Queue<Sent>> deliveries = new ConcurrentHashMap<>();
        List<long[]> pullLatencies = new ArrayList<>();
        List<long[]> deliveryLatencies = new ArrayList<>();
        AtomicBoolean running = new AtomicBoolean(true);
        String base = context.server.httpAddress();

        HttpResponse<InputStream> stream = context.http.send(
                HttpRequest.newBuilder(URI.create(base + "/v1/views/bench_live/changes"))
                        .header("Authorization", context.authorization(base))
                        .build(),
                HttpResponse.BodyHandlers.ofInputStream());
        Thread follower = new Thread(() -> follow(stream.body(), deliveries, deliveryLatencies), "live-follower");
        follower.start();
        Thread poller = new Thread(() -> poll(base, pulls, pullLatencies, running), "live-poller");
        poller.start();

        double cpu = Machine.processCpuSeconds();
        long start = System.nanoTime();
        long end = start + duration.toNanos();
        long events = 0;
        URI records = URI.create(base + "/v1/topics/bench_live/records");
        for (long tick = start; tick < end; tick += 1_000_000_000L / batchesPerSecond) {
            long wait = tick - System.nanoTime();
            if (wait > 0) {
                Thread.sleep(wait / 1_000_000);
            }
            long first = nextSeq.getAndAdd(batchSize);
            StringBuilder body = new StringBuilder("[");
            for (long n = first; n < first + batchSize; n++) {
                body.append(n > first ? "," : "")
                        .append("{\"k\":\"k")
                        .append(n % KEYS)
                        .append("\",\"seq\":")
                        .append(n)
                        .append('}');
            }
            body.append(']');
            HttpResponse<String> response = context.http.send(
                    HttpRequest.newBuilder(records)
                            .header("Content-Type", "application/json")
                            .header("Authorization", context.authorization(base))
                            .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException(
                        "ingest answered %d: %s".formatted(response.statusCode(), response.body()));
            }
            Sent sent = new Sent(first + batchSize - 1, batchSize, System.nanoTime());
            pulls.add(sent);
            deliveries
                    .computeIfAbsent(sent.key(), k -> new ConcurrentLinkedQueue<>())
                    .add(sent);
            events += batchSize;
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long expected = 2L * (events / batchSize);
        BenchContext.awaitAtLeast(
                "live view latencies",
                () -> {
                    synchronized (pullLatencies) {
                        synchronized (deliveryLatencies) {
                            return pullLatencies.size() + deliveryLatencies.size();
                        }
                    }
                },
                expected,
                TIMEOUT,
                Optional::empty);
        running.set(false);
        poller.join();
        stream.body().close();
        follower.join(10_000);
        double cpuSeconds = Machine.processCpuSeconds() - cpu;
        return List.of(
                latencyRun("pull-" + rate + "/s", repetition, pullLatencies, events, seconds, cpuSeconds),
                latencyRun("sse-" + rate + "/s", repetition, deliveryLatencies, events, seconds, cpuSeconds));
    }

    private static Run latencyRun(
            String variant, int repetition, List<long[]> latencies, long events, double seconds, double cpuSeconds) {
        List<long[]> sorted;
        synchronized (latencies) {
            sorted = new ArrayList<>(latencies);
        }
        sorted.sort((a, b) -> Long.compare(a[0], b[0]));
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("p50Ms", Freshness.percentile(sorted, events, 0.50));
        extra.put("p99Ms", Freshness.percentile(sorted, events, 0.99));
        return new Run(NAME, variant, repetition, events, seconds, cpuSeconds, extra);
    }

    /** Pulls the key of the oldest batch not seen yet until it shows that batch, then the next. */
    private void poll(String base, Queue<Sent> pulls, List<long[]> latencies, AtomicBoolean running) {
        while (running.get()) {
            Sent next = pulls.peek();
            if (next == null) {
                Freshness.sleepMillis(1);
                continue;
            }
            JsonNode rows = context.request("GET", "/v1/views/bench_live?key=" + next.key(), null, 200)
                    .path("rows");
            long now = System.nanoTime();
            if (!rows.isEmpty() && rows.get(0).path("last_seq").asLong() >= next.seq()) {
                pulls.poll();
                synchronized (latencies) {
                    latencies.add(new long[] {now - next.ackedNanos(), next.size()});
                }
            }
        }
    }

    /** Reads the follower's events; an upsert of a key delivers the batches of that key up to its last_seq. */
    private static void follow(InputStream body, Map<String, Queue<Sent>> deliveries, List<long[]> latencies) {
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                if (!line.startsWith("data: ")) {
                    continue;
                }
                long now = System.nanoTime();
                JsonNode data = BenchContext.JSON.readTree(line.substring(6));
                Queue<Sent> waiting = deliveries.get(data.path("k").asText());
                long seq = data.path("last_seq").asLong(-1);
                while (waiting != null && !waiting.isEmpty() && waiting.peek().seq() <= seq) {
                    Sent sent = waiting.poll();
                    synchronized (latencies) {
                        latencies.add(new long[] {now - sent.ackedNanos(), sent.size()});
                    }
                }
            }
        } catch (java.io.IOException e) {
            // closed at the end of the run
        }
    }

    /** Point lookups on a view of {@code lookupKeys} keys, over HTTP and straight on its store. */
    private List<Run> lookups() throws Exception {
        createTopic("bench_keys");
        try (KafkaProducer<byte[], byte[]> producer = BenchContext.producer(context.server.bootstrapServers())) {
            for (long n = 0; n < lookupKeys; n++) {
                producer.send(new ProducerRecord<>(
                        "bench_keys",
                        ("{\"k\":\"key-" + n + "\",\"seq\":" + n + "}").getBytes(StandardCharsets.UTF_8)));
            }
        }
        createView("bench_keys", "SELECT k, count(*) AS c, sum(seq) AS total FROM stream.bench_keys GROUP BY k");
        BenchContext.awaitAtLeast(
                "rows of the lookup view",
                () -> context.request("GET", "/v1/views/bench_keys/status", null, 200)
                        .path("rows")
                        .asLong(),
                lookupKeys,
                Duration.ofMinutes(15),
                Optional::empty);
        int threads = Runtime.getRuntime().availableProcessors();
        String base = context.server.httpAddress();
        Run http = measureLookups("http", threads, random -> {
            String key = "key-" + random.nextInt(lookupKeys);
            JsonNode rows = context.request("GET", "/v1/views/bench_keys?key=" + key, null, 200)
                    .path("rows");
            if (rows.size() != 1) {
                throw new IllegalStateException("no row for " + key + " at " + base);
            }
        });
        Path store = context.server.dataDir().resolve("views").resolve("bench_keys.db");
        ThreadLocal<PreparedStatement> statements = ThreadLocal.withInitial(() -> {
            try {
                Connection connection = DriverManager.getConnection("jdbc:sqlite:" + store);
                return connection.prepareStatement("SELECT row FROM view_rows WHERE k0 = ?");
            } catch (java.sql.SQLException e) {
                throw new IllegalStateException(e);
            }
        });
        Run direct = measureLookups("sqlite-store", threads, random -> {
            PreparedStatement statement = statements.get();
            statement.setString(1, "key-" + random.nextInt(lookupKeys));
            try (ResultSet rs = statement.executeQuery()) {
                if (!rs.next()) {
                    throw new IllegalStateException("no row");
                }
                BenchContext.JSON.readTree(rs.getString(1));
            }
        });
        context.request("DELETE", "/v1/views/bench_keys", null, 204);
        return List.of(http, direct);
    }

    /** One lookup, with the thread's own random numbers. */
    private interface Lookup {
        void run(Random random) throws Exception;
    }

    private Run measureLookups(String variant, int threads, Lookup lookup) throws Exception {
        List<long[]> latencies = new ArrayList<>();
        AtomicLong done = new AtomicLong();
        long end = System.nanoTime() + lookupDuration.toNanos();
        List<Thread> workers = new ArrayList<>();
        List<Throwable> failures = new ArrayList<>();
        double cpu = Machine.processCpuSeconds();
        long start = System.nanoTime();
        for (int t = 0; t < threads; t++) {
            Random random = new Random(t);
            Thread worker = new Thread(() -> {
                List<long[]> own = new ArrayList<>();
                try {
                    while (System.nanoTime() < end) {
                        long before = System.nanoTime();
                        lookup.run(random);
                        own.add(new long[] {System.nanoTime() - before, 1});
                    }
                } catch (Exception e) {
                    synchronized (failures) {
                        failures.add(e);
                    }
                }
                done.addAndGet(own.size());
                synchronized (latencies) {
                    latencies.addAll(own);
                }
            });
            workers.add(worker);
            worker.start();
        }
        for (Thread worker : workers) {
            worker.join();
        }
        if (!failures.isEmpty()) {
            throw new IllegalStateException("lookups failed: " + failures.get(0), failures.get(0));
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        latencies.sort((a, b) -> Long.compare(a[0], b[0]));
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("keys", lookupKeys);
        extra.put("threads", threads);
        extra.put("p50Us", latencies.get(latencies.size() / 2)[0] / 1000);
        extra.put("p99Us", latencies.get((int) (latencies.size() * 0.99))[0] / 1000);
        return new Run(NAME, "lookup-" + variant, 0, done.get(), seconds, Machine.processCpuSeconds() - cpu, extra);
    }
}
