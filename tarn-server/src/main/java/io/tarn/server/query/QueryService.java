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
            return engine.equals("duckdb")
                    ? lake.query(sql, maxRows)
                    : flink.query(sql, topics.streamTables(), maxRows, flinkLimits);
        } finally {
            turns.release();
        }
    }
}
