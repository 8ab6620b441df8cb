package io.tarn.core.query;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

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

    /** Roughly how many bytes a JSON-ready value takes in an answer, for the cap on an answer's size. */
    public static long approximateBytes(Object value) {
        if (value == null) {
            return 4;
        }
        if (value instanceof CharSequence text) {
            return text.length() + 2L;
        }
        if (value instanceof java.util.Collection<?> items) {
            long bytes = 2;
            for (Object item : items) {
                bytes += approximateBytes(item) + 1;
            }
            return bytes;
        }
        if (value instanceof java.util.Map<?, ?> map) {
            long bytes = 2;
            for (var entry : map.entrySet()) {
                bytes += approximateBytes(String.valueOf(entry.getKey())) + approximateBytes(entry.getValue()) + 2;
            }
            return bytes;
        }
        return String.valueOf(value).length();
    }
}
