package io.tarn.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.tarn.app.launcher.ServerProcess;
import io.tarn.core.io.Directories;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Workload {@code soak}: a Tarn left running. A {@code tarn server} process (as {@code ./tarn server} starts it) takes,
 * for a while, click events at a fixed rate into a landing pipeline and single-row updates of a PostgreSQL table that a
 * CDC mirror keeps in the lake, while a client queries both tables back to back. Every sample period the harness
 * records the queries' p50/p99 latency, each table's data and delete files and the server's resident set size. It runs
 * twice, with lake maintenance off and on (on: every {@code maintenanceInterval}); without it files pile up, with it
 * they must stay flat.
 *
 * <p>After each soak, with the load stopped, both tables must hold exactly what was sent (every event once; the
 * mirror's count and sums equal PostgreSQL's), and then a second landing pipeline drains a backlog of events loaded
 * into its topic beforehand: its rows/s with maintenance on (which runs on its interval during the drain, compacting
 * what the drain commits) against off is the cost of maintenance to ingest ({@code soak/ingest}).
 */
final class Soak {
    static final String NAME = "soak";
    static final String INGEST = NAME + "/ingest";
    private static final String TOPIC = "soak_clicks";
    private static final String DRAIN_TOPIC = "soak_drain";
    private static final String TABLE = "bench.soak_clicks";
    private static final String DRAIN_TABLE = "bench.soak_drain";
    private static final Duration TIMEOUT = Duration.ofMinutes(10);
    private static final double MIB = 1024 * 1024;
    /** How often the soak's client starts a query. */
    private static final Duration QUERY_PERIOD = Duration.ofMillis(200);

    /** What one soak took as settings. */
    record Settings(
            Duration length,
            Duration sampleEvery,
            int eventsPerSecond,
            int accounts,
            int updatesPerSecond,
            long drainEvents,
            Duration maintenanceInterval) {}

    private final BenchContext context;
    private final Settings settings;

    Soak(BenchContext context, Settings settings) {
        this.context = context;
        this.settings = settings;
    }

    List<Run> run() throws Exception {
        List<Run> runs = new ArrayList<>();
        try (EmbeddedPostgres postgres = EmbeddedPostgres.builder()
                .setServerConfig("wal_level", "logical")
                .setServerConfig("max_replication_slots", "4")
                .setServerConfig("max_wal_senders", "4")
                .start()) {
            for (boolean maintained : List.of(false, true)) {
                runs.addAll(phase(postgres, maintained));
            }
        }
        return runs;
    }

    /** One server, soaked and then drained, with maintenance on or off. */
    private List<Run> phase(EmbeddedPostgres postgres, boolean maintained) throws Exception {
        String variant = maintained ? "maintenance-on" : "maintenance-off";
        String source = maintained ? "soak_on" : "soak_off";
        String mirror = source + ".accounts";
        resetAccounts(postgres);
        Path dataDir = Files.createTempDirectory("tarn-bench-soak");
        Path log = Path.of("tarn-bench-soak.log");
        Map<String, String> environment = Map.of(
                "TARN_LAKE_MAINTENANCE_ENABLED",
                String.valueOf(maintained),
                "TARN_LAKE_MAINTENANCE_INTERVAL",
                settings.maintenanceInterval().toSeconds() + "s");
        Report.log("%s %s: the server's log goes to %s".formatted(NAME, variant, log.toAbsolutePath()));
        try (ServerProcess server = ServerProcess.start(dataDir, log, environment, 0)) {
            context.register(server);
            context.createTopic(server.http, TOPIC, 2);
            context.createTopic(server.http, DRAIN_TOPIC, 2);
            produceAll(server.kafka, DRAIN_TOPIC, settings.drainEvents());
            context.createPipeline(server.http, "soak-landing", BenchContext.landingSql(TABLE, TOPIC));
            context.createSource(server.http, source, postgres.getPort(), List.of("public.accounts"));
            BenchContext.awaitAtLeast(
                    mirror + " snapshot",
                    () -> count(server.http, mirror),
                    settings.accounts(),
                    TIMEOUT,
                    Optional::empty);
            Report.log("%s %s: soaking for %s".formatted(NAME, variant, settings.length()));

            Load load = new Load(server, postgres, mirror);
            double cpu = server.cpuSeconds();
            long start = System.nanoTime();
            List<Map<String, Object>> samples = load.soak(start);
            double seconds = (System.nanoTime() - start) / 1e9;
            cpu = server.cpuSeconds() - cpu;
            long sent = load.sent.get();
            BenchContext.awaitAtLeast(
                    TABLE + " rows", () -> Math.min(count(server.http, TABLE), sent), sent, TIMEOUT, Optional::empty);
            long[] landed = context.countAndDistinct(server.http, TABLE);
            if (landed[0] != sent || landed[1] != sent) {
                throw new IllegalStateException("%s: sent %d events, the lake holds %d rows with %d distinct ids"
                        .formatted(variant, sent, landed[0], landed[1]));
            }
            List<Long> expected = accountSums(postgres);
            BenchContext.awaitAtLeast(
                    mirror + " equal to PostgreSQL",
                    () -> mirrorSums(server.http, mirror).equals(expected) ? 1 : 0,
                    1,
                    TIMEOUT,
                    Optional::empty);
            Map<String, Object> extra = new LinkedHashMap<>(samples.get(samples.size() - 1));
            extra.remove("minute");
            extra.put("eventsPerSecond", settings.eventsPerSecond());
            extra.put("updates", load.updates.get());
            extra.put("rssPeakMiB", Math.round(server.peakRssBytes() / MIB));
            extra.put("samples", samples);
            List<Run> runs = new ArrayList<>();
            runs.add(new Run(NAME, variant, 0, sent, seconds, cpu, extra));
            Report.log("%s %s: %d events, %d updates, last sample %s"
                    .formatted(NAME, variant, sent, load.updates.get(), samples.get(samples.size() - 1)));
            runs.add(drain(server, variant));
            context.request(server.http, "DELETE", "/v1/sources/" + source, null, 204);
            return runs;
        } finally {
            Directories.deleteRecursively(dataDir);
        }
    }

    /** The drain of the backlog loaded before the soak: rows/s of a landing pipeline, and what maintenance did. */
    private Run drain(ServerProcess server, String variant) throws Exception {
        long events = settings.drainEvents();
        Set<String> maintenanceRuns = new LinkedHashSet<>();
        long rowsCompacted = 0;
        Instant drainStart = Instant.now();
        context.createPipeline(server.http, "soak-drain", BenchContext.landingSql(DRAIN_TABLE, DRAIN_TOPIC));
        // timed from the job's start: its submission is the same either way and would only dilute the ratio
        BenchContext.awaitAtLeast(
                "soak-drain running",
                () -> context.request(server.http, "GET", "/v1/pipelines/soak-drain", null, 200)
                                .path("state")
                                .asText()
                                .equals("RUNNING")
                        ? 1
                        : 0,
                1,
                TIMEOUT,
                Optional::empty);
        double cpu = server.cpuSeconds();
        long start = System.nanoTime();
        // polled twice a second: what the table shows costs the server the same either way, and little
        long deadline = start + TIMEOUT.toNanos();
        for (long rows = 0; rows < events; ) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(
                        "%s: %d of %d drained events landed within %s".formatted(variant, rows, events, TIMEOUT));
            }
            Thread.sleep(500);
            JsonNode table = tableOrNull(server.http, DRAIN_TABLE);
            if (table == null) {
                continue;
            }
            JsonNode last = table.path("lastMaintenance");
            if (last.isObject()
                    && Instant.parse(last.path("startedAt").asText()).isAfter(drainStart)
                    && maintenanceRuns.add(last.path("startedAt").asText())) {
                rowsCompacted += last.path("compaction").path("rowsWritten").asLong();
            }
            rows = table.path("rowsWritten").asLong();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        cpu = server.cpuSeconds() - cpu;
        long[] landed = context.countAndDistinct(server.http, DRAIN_TABLE);
        if (landed[0] != events || landed[1] != events) {
            throw new IllegalStateException("%s: drained %d events, the lake holds %d rows with %d distinct ids"
                    .formatted(variant, events, landed[0], landed[1]));
        }
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("maintenanceRuns", maintenanceRuns.size());
        extra.put("rowsCompacted", rowsCompacted);
        Run run = new Run(INGEST, variant, 0, events, seconds, cpu, extra);
        Report.log("%s %s: %.0f rows/s %s".formatted(INGEST, variant, run.rowsPerSecond(), extra));
        return run;
    }

    /**
     * The load of one soak (events at a fixed rate, updates at a fixed rate, queries back to back), each on a thread
     * of its own, and the samples taken while it runs.
     */
    private final class Load {
        final ServerProcess server;
        final EmbeddedPostgres postgres;
        final String mirror;
        final AtomicLong sent = new AtomicLong();
        final AtomicLong updates = new AtomicLong();
        final AtomicBoolean running = new AtomicBoolean(true);
        final AtomicReference<Exception> failure = new AtomicReference<>();
        /** Query latencies of the current sample period, in ms, and the same per query. */
        final List<Double> latencies = new ArrayList<>();

        final List<List<Double>> latenciesByQuery = new ArrayList<>();

        Load(ServerProcess server, EmbeddedPostgres postgres, String mirror) {
            this.server = server;
            this.postgres = postgres;
            this.mirror = mirror;
        }

        List<Map<String, Object>> soak(long start) throws Exception {
            List<Thread> threads = List.of(
                    thread("soak-events", () -> produce(start)),
                    thread("soak-updates", () -> update(start)),
                    thread("soak-queries", this::query));
            threads.forEach(Thread::start);
            List<Map<String, Object>> samples = new ArrayList<>();
            try {
                long end = start + settings.length().toNanos();
                for (long due = start + settings.sampleEvery().toNanos();
                        due <= end;
                        due += settings.sampleEvery().toNanos()) {
                    while (System.nanoTime() < due) {
                        if (failure.get() != null) {
                            throw new IllegalStateException("soak load failed", failure.get());
                        }
                        Thread.sleep(Math.max(1, Math.min(1_000, (due - System.nanoTime()) / 1_000_000)));
                    }
                    samples.add(sample((due - start) / 60e9));
                }
            } finally {
                running.set(false);
                for (Thread thread : threads) {
                    thread.join();
                }
            }
            if (failure.get() != null) {
                throw new IllegalStateException("soak load failed", failure.get());
            }
            return samples;
        }

        private Thread thread(String name, Task task) {
            return new Thread(
                    () -> {
                        try {
                            task.run();
                        } catch (Exception e) {
                            failure.compareAndSet(null, e);
                        }
                    },
                    name);
        }

        private Map<String, Object> sample(double minute) {
            List<Double> period;
            List<Double> p99ByQuery = new ArrayList<>();
            synchronized (latencies) {
                period = new ArrayList<>(latencies);
                latencies.clear();
                for (List<Double> query : latenciesByQuery) {
                    query.sort(null);
                    p99ByQuery.add(percentile(query, 0.99));
                    query.clear();
                }
            }
            period.sort(null);
            JsonNode landing = tableOrNull(server.http, TABLE);
            JsonNode accounts = tableOrNull(server.http, mirror);
            Map<String, Object> sample = new LinkedHashMap<>();
            sample.put("minute", Math.round(minute * 100) / 100.0);
            sample.put("queries", period.size());
            sample.put("p50Ms", percentile(period, 0.50));
            sample.put("p99Ms", percentile(period, 0.99));
            sample.put("dataFiles", files(landing, "dataFiles") + files(accounts, "dataFiles"));
            sample.put("deleteFiles", files(landing, "deleteFiles") + files(accounts, "deleteFiles"));
            sample.put("rssMiB", Math.round(server.rssBytes() / MIB));
            sample.put("p99MsByQuery", p99ByQuery);
            Report.log("%s: %s".formatted(NAME, sample));
            return sample;
        }

        /**
         * Click events at {@link Settings#eventsPerSecond}, paced every 10 ms, for the soak's length and no longer
         * (its last sample may take a while).
         */
        private void produce(long start) throws Exception {
            long length = settings.length().toNanos();
            try (KafkaProducer<byte[], byte[]> producer = BenchContext.producer(server.kafka)) {
                while (running.get()) {
                    long due =
                            Math.min(System.nanoTime() - start, length) * settings.eventsPerSecond() / 1_000_000_000L;
                    for (long n = sent.get(); n < due; n = sent.incrementAndGet()) {
                        producer.send(new ProducerRecord<>(TOPIC, Events.bytes(n)), (metadata, e) -> {
                            if (e != null) {
                                failure.compareAndSet(null, e);
                            }
                        });
                    }
                    Thread.sleep(10);
                }
                producer.flush();
            }
        }

        /** Single-row updates of random accounts at {@link Settings#updatesPerSecond}, each its own transaction. */
        private void update(long start) throws Exception {
            Random random = new Random(42);
            try (Connection connection = postgres.getPostgresDatabase().getConnection();
                    PreparedStatement update = connection.prepareStatement(
                            "UPDATE accounts SET balance = balance + ?, version = version + 1, updated_at = now()"
                                    + " WHERE id = ?")) {
                while (running.get()) {
                    long due = (System.nanoTime() - start) * settings.updatesPerSecond() / 1_000_000_000L;
                    for (long n = updates.get(); n < due && running.get(); n = updates.incrementAndGet()) {
                        update.setLong(1, random.nextInt(1_000) - 500);
                        update.setLong(2, 1 + random.nextInt(settings.accounts()));
                        update.executeUpdate();
                    }
                    Thread.sleep(10);
                }
            }
        }

        /**
         * Queries a dashboard would run, round-robin, one every {@link #QUERY_PERIOD} (back to back while they take
         * longer): the size of the click table, a range of ids in
         * it (min/max pruning), the mirror's totals and one account. Their work stays constant except for the files
         * they open; each must answer 200.
         */
        private void query() {
            List<String> queries = List.of(
                    "SELECT count(*) FROM lake." + TABLE,
                    "SELECT count(*), max(event_time) FROM lake.%s WHERE id BETWEEN 1000 AND 2000".formatted(TABLE),
                    "SELECT count(*), sum(balance) FROM lake." + mirror,
                    "SELECT balance, version FROM lake.%s WHERE id = 17".formatted(mirror));
            synchronized (latencies) {
                queries.forEach(q -> latenciesByQuery.add(new ArrayList<>()));
            }
            long next = System.nanoTime();
            for (int i = 0; running.get(); i++) {
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    sleepMillis(wait / 1_000_000);
                }
                next = Math.max(next, System.nanoTime()) + QUERY_PERIOD.toNanos();
                String sql = queries.get(i % queries.size());
                long start = System.nanoTime();
                context.request(
                        server.http,
                        "POST",
                        "/v1/query",
                        BenchContext.JSON.createObjectNode().put("sql", sql).toString(),
                        200);
                double ms = (System.nanoTime() - start) / 1e6;
                synchronized (latencies) {
                    latencies.add(ms);
                    latenciesByQuery.get(i % queries.size()).add(ms);
                }
            }
        }
    }

    private interface Task {
        void run() throws Exception;
    }

    private static void sleepMillis(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static double percentile(List<Double> sorted, double p) {
        if (sorted.isEmpty()) {
            return 0;
        }
        double value = sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p * sorted.size()) - 1));
        return Math.round(value * 10) / 10.0;
    }

    private static long files(JsonNode table, String field) {
        return table == null ? 0 : table.path(field).asLong();
    }

    private JsonNode tableOrNull(String base, String table) {
        try {
            return context.request(base, "GET", "/v1/tables/" + table, null, 200);
        } catch (IllegalStateException e) {
            return null; // not created yet
        }
    }

    private long count(String base, String table) {
        try {
            return context.count(base, table);
        } catch (IllegalStateException e) {
            return 0; // not created yet
        }
    }

    /** {@code accounts} afresh in PostgreSQL: {@link Settings#accounts} rows, balance 1000, version 0. */
    private void resetAccounts(EmbeddedPostgres postgres) throws Exception {
        try (Connection connection = postgres.getPostgresDatabase().getConnection();
                Statement statement = connection.createStatement()) {
            statement.execute("DROP TABLE IF EXISTS accounts");
            statement.execute("CREATE TABLE accounts (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL,"
                    + " version BIGINT NOT NULL, updated_at TIMESTAMP NOT NULL)");
            statement.execute("INSERT INTO accounts SELECT g, 1000, 0, TIMESTAMP '2026-01-01 00:00:00'"
                    + " FROM generate_series(1, " + settings.accounts() + ") g");
        }
    }

    /** Count, sum of balances and sum of versions of PostgreSQL's {@code accounts}. */
    private static List<Long> accountSums(EmbeddedPostgres postgres) throws Exception {
        try (Connection connection = postgres.getPostgresDatabase().getConnection();
                Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery("SELECT count(*), sum(balance), sum(version) FROM accounts")) {
            rs.next();
            return List.of(rs.getLong(1), rs.getLong(2), rs.getLong(3));
        }
    }

    /** The same figures of the mirror, through Tarn's query path. */
    private List<Long> mirrorSums(String base, String mirror) {
        JsonNode row = context.request(
                        base,
                        "POST",
                        "/v1/query",
                        BenchContext.JSON
                                .createObjectNode()
                                .put("sql", "SELECT count(*), sum(balance), sum(version) FROM lake." + mirror)
                                .toString(),
                        200)
                .path("rows")
                .path(0);
        return List.of(row.path(0).asLong(), row.path(1).asLong(), row.path(2).asLong());
    }

    /** Loads {@code events} click events into a topic, as fast as the broker takes them. */
    private static void produceAll(String bootstrap, String topic, long events) {
        AtomicReference<Exception> failure = new AtomicReference<>();
        try (KafkaProducer<byte[], byte[]> producer = BenchContext.producer(bootstrap)) {
            for (long n = 0; n < events; n++) {
                producer.send(new ProducerRecord<>(topic, Events.bytes(n)), (metadata, e) -> {
                    if (e != null) {
                        failure.compareAndSet(null, e);
                    }
                });
            }
            producer.flush();
        }
        if (failure.get() != null) {
            throw new IllegalStateException("loading " + topic + " failed", failure.get());
        }
    }
}
