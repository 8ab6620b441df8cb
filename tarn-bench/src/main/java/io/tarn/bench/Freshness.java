package io.tarn.bench;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.iceberg.Snapshot;

/**
 * Workload 3, freshness: events sent over HTTP at a fixed rate into a topic that a pipeline lands in a lake table,
 * while a poller asks {@code POST /v1/query} for {@code max(id)} (of the rows from the highest id it saw before): of
 * the committed snapshot every 50 ms, and in the fresh variant ({@code "fresh": true}: the snapshot plus the topic
 * after the offsets it covers) every 10 ms. An event's latency is the time from just before its request was sent to
 * the first answer that includes it. Reports p50/p99 per rate and variant, and the data files each commit added.
 */
final class Freshness {
    static final String NAME = "freshness";
    private static final String TOPIC = "bench_fresh";
    private static final String TABLE = "bench.fresh";
    private static final Duration TIMEOUT = Duration.ofMinutes(2);

    private final BenchContext context;
    private final List<Integer> rates;
    private final Duration duration;
    private final AtomicLong nextId = new AtomicLong();

    Freshness(BenchContext context, List<Integer> rates, Duration duration) {
        this.context = context;
        this.rates = rates;
        this.duration = duration;
    }

    List<Run> run() throws Exception {
        context.createTopic(TOPIC, 2);
        context.createPipeline("bench-fresh", BenchContext.landingSql(TABLE, TOPIC));
        List<Run> runs = context.repeat(i -> {
            List<Run> round = new ArrayList<>();
            for (int rate : rates) {
                round.add(measure(rate, i, false));
                round.add(measure(rate, i, true));
            }
            return round;
        });
        context.request("DELETE", "/v1/pipelines/bench-fresh", null, 204);
        context.server.lake().dropAndPurge(TABLE);
        return runs;
    }

    /** One batch as sent: its last id and when its request started. */
    private record Sent(long lastId, int size, long nanos) {}

    /** One poll answer: the highest id visible and when the answer arrived. */
    private record Seen(long maxId, long nanos) {}

    private Run measure(int rate, int repetition, boolean fresh) throws Exception {
        int batchesPerSecond = 20;
        int batchSize = Math.max(1, rate / batchesPerSecond);
        long floor = nextId.get() - 1; // the highest id of earlier rounds: polls read only what is newer
        ConcurrentLinkedQueue<Sent> sent = new ConcurrentLinkedQueue<>();
        List<Seen> seen = new ArrayList<>();
        AtomicBoolean polling = new AtomicBoolean(true);
        URI records = URI.create(context.server.httpAddress() + "/v1/topics/" + TOPIC + "/records");
        Thread poller = new Thread(() -> {
            while (polling.get()) {
                long max = maxVisible(fresh, Math.max(seenMax(seen), floor));
                synchronized (seen) {
                    seen.add(new Seen(max, System.nanoTime()));
                }
                sleepMillis(fresh ? 10 : 50);
            }
        });
        long startedAt = System.currentTimeMillis();
        double cpu = Machine.processCpuSeconds();
        long start = System.nanoTime();
        poller.start();
        long end = start + duration.toNanos();
        long events = 0;
        for (long tick = start; tick < end; tick += 1_000_000_000L / batchesPerSecond) {
            long wait = tick - System.nanoTime();
            if (wait > 0) {
                sleepMillis(wait / 1_000_000);
            }
            long first = nextId.getAndAdd(batchSize);
            StringBuilder body = new StringBuilder("[");
            for (long n = first; n < first + batchSize; n++) {
                body.append(n > first ? "," : "").append(Events.json(n));
            }
            body.append(']');
            long sentAt = System.nanoTime();
            HttpResponse<String> response = context.http.send(
                    HttpRequest.newBuilder(records)
                            .header("Content-Type", "application/json")
                            .header("Authorization", context.authorization(context.server.httpAddress()))
                            .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException(
                        "ingest answered %d: %s".formatted(response.statusCode(), response.body()));
            }
            sent.add(new Sent(first + batchSize - 1, batchSize, sentAt));
            events += batchSize;
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long last = nextId.get() - 1;
        BenchContext.awaitAtLeast("freshness rows", () -> seenMax(seen), last, TIMEOUT, Optional::empty);
        polling.set(false);
        poller.join();
        double cpuSeconds = Machine.processCpuSeconds() - cpu;

        List<long[]> latencies = new ArrayList<>();
        List<Seen> answers;
        synchronized (seen) {
            answers = List.copyOf(seen);
        }
        for (Sent batch : sent) {
            Seen visible = answers.stream()
                    .filter(a -> a.maxId() >= batch.lastId() && a.nanos() >= batch.nanos())
                    .findFirst()
                    .orElseThrow();
            latencies.add(new long[] {visible.nanos() - batch.nanos(), batch.size()});
        }
        latencies.sort((a, b) -> Long.compare(a[0], b[0]));
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("p50Ms", percentile(latencies, events, 0.50));
        extra.put("p99Ms", percentile(latencies, events, 0.99));
        extra.put("filesPerCommit", filesPerCommit(startedAt));
        return new Run(
                NAME, (fresh ? "tarn-fresh-" : "tarn-") + rate + "/s", repetition, events, seconds, cpuSeconds, extra);
    }

    private static long seenMax(List<Seen> seen) {
        synchronized (seen) {
            return seen.isEmpty() ? -1 : seen.get(seen.size() - 1).maxId();
        }
    }

    /**
     * The highest id visible, asked only of rows from the highest one seen before: Iceberg's planning leaves out the
     * files that hold none, so a poll costs the same whatever the table has accumulated (the latency measured is
     * freshness, not a scan of the whole table).
     */
    private long maxVisible(boolean fresh, long seen) {
        try {
            var answer = context.request(
                    "POST",
                    "/v1/query",
                    "{\"sql\":\"SELECT max(id) FROM lake." + TABLE + " WHERE id >= " + Math.max(seen, 0)
                            + "\",\"fresh\":" + fresh + "}",
                    200);
            var value = answer.path("rows").path(0).path(0);
            return value.isNull() || value.isMissingNode() ? seen : value.asLong();
        } catch (IllegalStateException e) {
            return seen;
        }
    }

    /** The latency below which the given share of events became visible, in milliseconds. */
    static long percentile(List<long[]> sortedLatencies, long events, double share) {
        long threshold = (long) Math.ceil(events * share);
        long count = 0;
        for (long[] latency : sortedLatencies) {
            count += latency[1];
            if (count >= threshold) {
                return latency[0] / 1_000_000;
            }
        }
        return sortedLatencies.get(sortedLatencies.size() - 1)[0] / 1_000_000;
    }

    /** Average data files added per commit since a time. */
    private double filesPerCommit(long sinceMillis) {
        long commits = 0;
        long files = 0;
        for (Snapshot snapshot : context.server.lake().load(TABLE).snapshots()) {
            if (snapshot.timestampMillis() >= sinceMillis) {
                String added = snapshot.summary().get("added-data-files");
                if (added != null) {
                    commits++;
                    files += Long.parseLong(added);
                }
            }
        }
        return commits == 0 ? 0 : (double) files / commits;
    }

    static void sleepMillis(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
