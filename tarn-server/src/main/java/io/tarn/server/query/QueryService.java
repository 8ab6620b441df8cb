package io.tarn.server.query;

import static java.util.Objects.requireNonNull;

import io.tarn.compute.FlinkCompute;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.query.QueryResult;
import io.tarn.lake.LakeQuery;
import io.tarn.server.topic.TopicService;

/** Chooses the engine of a query: DuckDB over Iceberg's file plan (default) or Flink batch (the reference). */
public final class QueryService {
    private final LakeQuery lake;
    private final FlinkCompute flink;
    private final TopicService topics;
    private final int maxRows;

    public QueryService(LakeQuery lake, FlinkCompute flink, TopicService topics, int maxRows) {
        this.lake = requireNonNull(lake, "lake is null");
        this.flink = requireNonNull(flink, "flink is null");
        this.topics = requireNonNull(topics, "topics is null");
        this.maxRows = maxRows;
    }

    /**
     * @param engine {@code duckdb} or {@code flink}
     * @throws TarnException {@link ErrorCode#INVALID_REQUEST} for another engine
     */
    public QueryResult query(String sql, String engine) {
        return switch (engine) {
            case "duckdb" -> lake.query(sql, maxRows);
            case "flink" -> flink.query(sql, topics.streamTables(), maxRows);
            default ->
                throw new TarnException(
                        ErrorCode.INVALID_REQUEST,
                        "unknown engine '%s'; use \"duckdb\" or \"flink\"".formatted(engine));
        };
    }
}
