package io.tarn.core.query;

/** An engine that answers one read-only SQL query over the lake (and, for some engines, topics). */
public interface QueryEngine {
    /** Its name in requests and answers ({@code duckdb}, {@code flink}). */
    String name();

    /**
     * Runs one query.
     *
     * @param maxRows rows beyond this are cut off ({@link QueryResult#truncated()})
     */
    QueryResult query(String sql, int maxRows);
}
