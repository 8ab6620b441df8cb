package io.tarn.core.query;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * The answer to a query: column names, rows of JSON-ready values (String, Number, Boolean, null, List, Map) and
 * whether rows were cut off at the configured limits (rows, bytes).
 */
public record QueryResult(List<String> columns, List<List<Object>> rows, boolean truncated, String engine) {
    public QueryResult {
        columns = List.copyOf(requireNonNull(columns, "columns is null"));
        // Rows may hold nulls, so List.copyOf cannot be used.
        List<List<Object>> copy =
                new ArrayList<>(requireNonNull(rows, "rows is null").size());
        for (List<Object> row : rows) {
            copy.add(Collections.unmodifiableList(new ArrayList<>(row)));
        }
        rows = Collections.unmodifiableList(copy);
        requireNonNull(engine, "engine is null");
    }

    /**
     * Counts an answer's rows against its limits: the rows of an answer beyond {@code maxRows} rows or roughly {@code
     * maxBytes} bytes of values are cut off, and the answer says so.
     */
    public static final class Budget {
        private final int maxRows;
        private final long maxBytes;
        private int rows;
        private long bytes;
        private boolean exceeded;

        public Budget(int maxRows, long maxBytes) {
            this.maxRows = maxRows;
            this.maxBytes = maxBytes;
        }

        /**
         * Whether a row of JSON-ready values fits; once one does not, no later one does (the answer ends there).
         */
        public boolean admit(List<Object> row) {
            if (exceeded || rows == maxRows) {
                exceeded = true;
                return false;
            }
            long size = 0;
            for (Object value : row) {
                size += approximateBytes(value);
            }
            if (bytes + size > maxBytes) {
                exceeded = true;
                return false;
            }
            rows++;
            bytes += size;
            return true;
        }

        /** Whether a row did not fit: the answer is truncated. */
        public boolean exceeded() {
            return exceeded;
        }
    }

    /** Collects an answer's rows within a {@link Budget}. */
    public static final class Collector {
        private final List<String> columns;
        private final Budget budget;
        private final String engine;
        private final List<List<Object>> rows = new ArrayList<>();

        public Collector(List<String> columns, int maxRows, long maxBytes, String engine) {
            this.columns = List.copyOf(columns);
            this.budget = new Budget(maxRows, maxBytes);
            this.engine = requireNonNull(engine, "engine is null");
        }

        /**
         * Adds a row of JSON-ready values.
         *
         * @return false if it did not fit (the answer is then truncated and takes no more rows)
         */
        public boolean add(List<Object> row) {
            if (!budget.admit(row)) {
                return false;
            }
            rows.add(row);
            return true;
        }

        public QueryResult result() {
            return new QueryResult(columns, rows, budget.exceeded(), engine);
        }
    }

    /** Roughly how many bytes a JSON-ready value takes in an answer, for the cap on an answer's size. */
    public static long approximateBytes(Object value) {
        if (value == null) {
            return 4;
        }
        if (value instanceof CharSequence text) {
            return text.length() + 2L;
        }
        if (value instanceof Collection<?> items) {
            long bytes = 2;
            for (Object item : items) {
                bytes += approximateBytes(item) + 1;
            }
            return bytes;
        }
        if (value instanceof Map<?, ?> map) {
            long bytes = 2;
            for (var entry : map.entrySet()) {
                bytes += approximateBytes(String.valueOf(entry.getKey())) + approximateBytes(entry.getValue()) + 2;
            }
            return bytes;
        }
        return String.valueOf(value).length();
    }
}
