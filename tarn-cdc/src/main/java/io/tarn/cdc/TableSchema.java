package io.tarn.cdc;

import static java.util.Objects.requireNonNull;

import io.tarn.core.topic.ColumnSpec;
import java.util.List;
import java.util.Set;

/**
 * A table to capture as its database describes it.
 *
 * @param name {@code schema.table} ({@code database.table} in MariaDB)
 * @param columns Flink SQL columns in the table's order; primary key columns are NOT NULL, the others nullable
 * @param primaryKey primary key column names in key order
 * @param defaulted the columns that have a default value (which rows written before a column was added read as, in
 *     the database, without a change of theirs in the change stream)
 */
public record TableSchema(String name, List<ColumnSpec> columns, List<String> primaryKey, Set<String> defaulted) {
    public TableSchema {
        requireNonNull(name, "name is null");
        columns = List.copyOf(columns);
        primaryKey = List.copyOf(primaryKey);
        defaulted = Set.copyOf(defaulted);
    }

    /** A table whose columns have no defaults. */
    public TableSchema(String name, List<ColumnSpec> columns, List<String> primaryKey) {
        this(name, columns, primaryKey, Set.of());
    }
}
