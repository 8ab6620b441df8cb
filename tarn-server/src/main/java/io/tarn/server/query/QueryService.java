package io.tarn.server.query;

import static java.util.Objects.requireNonNull;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.query.QueryEngine;
import io.tarn.core.query.QueryResult;
import io.tarn.lake.LakeQuery;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Chooses the engine of a query: DuckDB over Iceberg's file plan (default) or Flink batch (the reference). At most
 * {@code query.max-concurrent} queries run at once, so that their memory limits add up to a known bound; others wait
 * for a turn up to {@code query.timeout}.
 */
public final class QueryService {
    /** Flink's name of an unnamed expression ({@code EXPR$0}). */
    private static final Pattern FLINK_EXPRESSION = Pattern.compile("EXPR\\$\\d+");

    private final LakeQuery lake;
    private final QueryEngine reference;
    private final int maxRows;
    private final Duration turnTimeout;
    private final int maxConcurrent;
    private final Semaphore turns;

    /**
     * @param lake the fast path, the default engine
     * @param reference the reference engine (Flink), which also reads topics
     * @param turnTimeout how long a query waits for a turn
     */
    public QueryService(LakeQuery lake, QueryEngine reference, int maxRows, Duration turnTimeout, int maxConcurrent) {
        this.lake = requireNonNull(lake, "lake is null");
        this.reference = requireNonNull(reference, "reference is null");
        this.maxRows = maxRows;
        this.turnTimeout = requireNonNull(turnTimeout, "turnTimeout is null");
        this.maxConcurrent = maxConcurrent;
        this.turns = new Semaphore(maxConcurrent, true);
    }

    /**
     * @param engine an engine's {@link QueryEngine#name() name}
     * @throws TarnException {@link ErrorCode#INVALID_REQUEST} for another engine; {@link ErrorCode#QUERY_BUSY} when no
     *     turn came within the timeout
     */
    public QueryResult query(String sql, String engine) {
        long start = System.nanoTime();
        boolean failed = true;
        try {
            QueryResult result;
            if (engine.equals(lake.name())) {
                result = inTurn(() -> lake.query(sql, maxRows));
            } else if (engine.equals(reference.name())) {
                result = inTurn(() -> named(sql, reference.query(sql, maxRows)));
            } else {
                throw unknownEngine(engine);
            }
            failed = false;
            return result;
        } finally {
            if (engine.equals(lake.name()) || engine.equals(reference.name())) {
                timed.queried(engine, System.nanoTime() - start, failed);
            }
        }
    }

    /** Hears how long each query took, and whether it failed. */
    @FunctionalInterface
    public interface Timed {
        Timed NONE = (engine, nanos, failed) -> {};

        void queried(String engine, long nanos, boolean failed);
    }

    private volatile Timed timed = Timed.NONE;

    public void onQuery(Timed listener) {
        this.timed = requireNonNull(listener, "listener is null");
    }

    private TarnException unknownEngine(String engine) {
        return new TarnException(
                ErrorCode.INVALID_REQUEST,
                "unknown engine '%s'; use \"%s\" or \"%s\"".formatted(engine, lake.name(), reference.name()));
    }

    /**
     * Opens the fast path's answer to a query, to be read row by row, in a turn that ends when the answer is closed.
     *
     * @param fresh whether lake tables kept by landing pipelines are read with the records of their topics after the
     *     offsets their snapshots cover ({@link LakeQuery#open(String, int, boolean)})
     *
     * @throws TarnException as {@link LakeQuery#open}, and {@link ErrorCode#QUERY_BUSY} when no turn came within the
     *     timeout
     */
    public LakeQuery.Answer open(String sql, boolean fresh) {
        long start = System.nanoTime();
        acquireTurn();
        try {
            return lake.open(sql, maxRows, fresh)
                    .onClose(turns::release)
                    .onClose(() -> timed.queried(lake.name(), System.nanoTime() - start, false));
        } catch (RuntimeException e) {
            turns.release();
            timed.queried(lake.name(), System.nanoTime() - start, true);
            throw e;
        }
    }

    /**
     * The reference engine's answer with its unnamed expressions named as the fast path names them ({@code
     * count_star()} rather than {@code EXPR$0}), so that both engines answer a query with the same columns. A query
     * over topics, which the fast path does not read, keeps Flink's names.
     */
    private QueryResult named(String sql, QueryResult result) {
        if (result.columns().stream().noneMatch(c -> FLINK_EXPRESSION.matcher(c).matches())) {
            return result;
        }
        List<String> names;
        try {
            names = lake.columnNames(sql);
        } catch (TarnException e) {
            return result;
        }
        if (names.size() != result.columns().size()) {
            return result;
        }
        List<String> columns = new ArrayList<>(result.columns());
        for (int i = 0; i < columns.size(); i++) {
            if (FLINK_EXPRESSION.matcher(columns.get(i)).matches()) {
                columns.set(i, names.get(i));
            }
        }
        return new QueryResult(columns, result.rows(), result.truncated(), result.engine());
    }

    /**
     * The rows a lake table holds now, its delete files applied (a scan, so it takes a turn like a query).
     *
     * @param table {@code namespace.table}
     */
    public long liveRows(String table) {
        return inTurn(() -> lake.liveRows(table));
    }

    private <T> T inTurn(Supplier<T> work) {
        acquireTurn();
        try {
            return work.get();
        } finally {
            turns.release();
        }
    }

    private void acquireTurn() {
        try {
            if (!turns.tryAcquire(turnTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new TarnException(
                        ErrorCode.QUERY_BUSY,
                        "%d queries (query.max-concurrent) kept running for query.timeout while this one waited; retry"
                                .formatted(maxConcurrent));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TarnException(ErrorCode.QUERY_BUSY, "interrupted while waiting for a turn to query", e);
        }
    }
}
