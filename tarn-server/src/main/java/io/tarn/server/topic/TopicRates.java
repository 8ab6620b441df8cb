package io.tarn.server.topic;

import static java.util.Objects.requireNonNull;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Records per second appended to each topic, from its end offsets sampled every {@link #INTERVAL}: the rate of an
 * interval is what the topic's end moved in it divided by its length. The last {@link #KEPT} intervals (10 minutes)
 * are kept per topic, in memory; a topic's history starts again when Tarn does.
 */
public final class TopicRates {
    /** How often the ends are read; the console and {@code GET /v1/topics/{name}/rates} show the same intervals. */
    public static final Duration INTERVAL = Duration.ofSeconds(5);

    static final int KEPT = 120;

    private final Supplier<Map<String, Long>> ends;
    private final Map<String, Deque<Rate>> rates = new ConcurrentHashMap<>();
    private Map<String, Long> lastEnds = Map.of();
    private Instant lastAt;

    /** One interval: it ended {@code at}, lasted {@code seconds}, and {@code records} were appended in it. */
    public record Rate(Instant at, double seconds, long records) {
        public double recordsPerSecond() {
            return records / seconds;
        }
    }

    /** @param ends every topic's end offset (summed over its partitions), read once per sample */
    public TopicRates(Supplier<Map<String, Long>> ends) {
        this.ends = requireNonNull(ends, "ends is null");
    }

    /** Reads the ends now and adds an interval to every topic that was there at the last sample too. */
    public synchronized void sample() {
        Map<String, Long> now;
        try {
            now = ends.get();
        } catch (TarnException e) {
            if (e.code() == ErrorCode.TOPIC_NOT_FOUND) {
                return; // deleted between listing and reading: the next sample has it right
            }
            throw e;
        }
        Instant at = Instant.now();
        if (lastAt != null) {
            double seconds = Duration.between(lastAt, at).toNanos() / 1e9;
            now.forEach((topic, end) -> {
                Long before = lastEnds.get(topic);
                if (before != null && seconds > 0) {
                    Deque<Rate> kept = rates.computeIfAbsent(topic, t -> new ArrayDeque<>());
                    synchronized (kept) {
                        kept.addLast(new Rate(at, seconds, Math.max(0, end - before)));
                        while (kept.size() > KEPT) {
                            kept.removeFirst();
                        }
                    }
                }
            });
        }
        rates.keySet().retainAll(now.keySet());
        lastEnds = Map.copyOf(now);
        lastAt = at;
    }

    /** A topic's intervals, oldest first. */
    public List<Rate> history(String topic) {
        Deque<Rate> kept = rates.get(topic);
        if (kept == null) {
            return List.of();
        }
        synchronized (kept) {
            return new ArrayList<>(kept);
        }
    }

    /** A topic's newest interval's rate; empty until two samples saw it. */
    public Optional<Double> current(String topic) {
        Deque<Rate> kept = rates.get(topic);
        if (kept == null) {
            return Optional.empty();
        }
        synchronized (kept) {
            return kept.isEmpty()
                    ? Optional.empty()
                    : Optional.of(kept.getLast().recordsPerSecond());
        }
    }
}
