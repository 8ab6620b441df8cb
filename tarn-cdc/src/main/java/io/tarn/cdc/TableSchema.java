package io.tarn.cdc;

import static java.util.Objects.requireNonNull;

import io.tarn.core.topic.ColumnSpec;
import java.util.List;

/**
 * A table to capture as its database describes it.
 *
 * @param name {@code schema.table} ({@code database.table} in MariaDB)
 * @param columns Flink SQL columns in the table's order; primary key columns are NOT NULL, the others nullable
 * @param primaryKey primary key column names in key order
 */
public record TableSchema(String name, List<ColumnSpec> columns, List<String> primaryKey) {
    public TableSchema {
        requireNonNull(name, "name is null");
        columns = List.copyOf(columns);
        primaryKey = List.copyOf(primaryKey);
    }
}
