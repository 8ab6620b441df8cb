package io.tarn.server.query;

import static java.util.Objects.requireNonNull;

import io.tarn.compute.FlinkCompute;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.query.QueryResult;
import io.tarn.lake.LakeQuery;
import io.tarn.server.topic.TopicService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Chooses the engine of a query: DuckDB over Iceberg's file plan (default) or Flink batch (the reference). At most
 * {@code query.max-concurrent} queries run at once, so that their memory limits add up to a known bound; others wait
 * for a turn up to {@code query.timeout}.
 */
public final class QueryService {
    private final LakeQuery lake;
    private final FlinkCompute flink;
    private final TopicService topics;
    private final int maxRows;
    private final FlinkCompute.QueryLimits flinkLimits;
    private final int maxConcurrent;
    private final Semaphore turns;

    public QueryService(
            LakeQuery lake,
            FlinkCompute flink,
            TopicService topics,
            int maxRows,
            FlinkCompute.QueryLimits flinkLimits,
            int maxConcurrent) {
        this.lake = requireNonNull(lake, "lake is null");
        this.flink = requireNonNull(flink, "flink is null");
        this.topics = requireNonNull(topics, "topics is null");
        this.maxRows = maxRows;
        this.flinkLimits = requireNonNull(flinkLimits, "flinkLimits is null");
        this.maxConcurrent = maxConcurrent;
        this.turns = new Semaphore(maxConcurrent, true);
    }

    /**
     * @param engine {@code duckdb} or {@code flink}
     * @throws TarnException {@link ErrorCode#INVALID_REQUEST} for another engine; {@link ErrorCode#QUERY_BUSY} when no
     *     turn came within the timeout
     */
    public QueryResult query(String sql, String engine) {
        if (!engine.equals("duckdb") && !engine.equals("flink")) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST, "unknown engine '%s'; use \"duckdb\" or \"flink\"".formatted(engine));
        }
        return inTurn(() -> engine.equals("duckdb")
                ? lake.query(sql, maxRows)
                : named(sql, flink.query(sql, topics.streamTables(), maxRows, flinkLimits)));
    }

    /** Flink's name of an unnamed expression ({@code EXPR$0}). */
    private static final java.util.regex.Pattern FLINK_EXPRESSION = java.util.regex.Pattern.compile("EXPR\\$\\d+");

    /**
     * Flink's answer with its unnamed expressions named as the fast path names them ({@code count_star()} rather than
     * {@code EXPR$0}), so that both engines answer a query with the same columns. A query over topics, which the fast
     * path does not read, keeps Flink's names.
     */
    private QueryResult named(String sql, QueryResult result) {
        if (result.columns().stream().noneMatch(c -> FLINK_EXPRESSION.matcher(c).matches())) {
            return result;
        }
        java.util.List<String> names;
        try {
            names = lake.columnNames(sql);
        } catch (TarnException e) {
            return result;
        }
        if (names.size() != result.columns().size()) {
            return result;
        }
        java.util.List<String> columns = new java.util.ArrayList<>(result.columns());
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

    private <T> T inTurn(java.util.function.Supplier<T> work) {
        try {
            if (!turns.tryAcquire(flinkLimits.timeout().toMillis(), TimeUnit.MILLISECONDS)) {
                throw new TarnException(
                        ErrorCode.QUERY_BUSY,
                        "%d queries (query.max-concurrent) kept running for query.timeout while this one waited; retry"
                                .formatted(maxConcurrent));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TarnException(ErrorCode.QUERY_BUSY, "interrupted while waiting for a turn to query", e);
        }
        try {
            return work.get();
        } finally {
            turns.release();
        }
    }
}
