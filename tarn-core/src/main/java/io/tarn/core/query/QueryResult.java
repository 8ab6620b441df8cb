package io.tarn.core.query;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The answer to a query: column names, rows of JSON-ready values (String, Number, Boolean, null, List, Map) and
 * whether rows were cut off at the configured limit.
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
}
