package io.tarn.lake;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.apache.iceberg.Schema;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;
import org.duckdb.DuckDBAppender;
import org.duckdb.DuckDBConnection;

/**
 * Live tables in lake SQL: a query names one as {@code live.<name>}, and before it runs the table's rows are copied
 * into a table of that name in the DuckDB instance's in-memory catalog {@code live}. The rows come as JSON text
 * (through DuckDB's appender) and DuckDB types them itself with {@code json_transform}, which reads decimals exactly
 * and ISO-8601 times as they are; bytes, base64 in Flink's JSON, are decoded with {@code from_base64}.
 */
final class LiveSql {
    /** The catalog of live tables in a query: {@code live.<name>}. */
    static final String CATALOG = "live";

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Where a live table's JSON rows are put before they are typed; one query at a time uses an instance. */
    private static final String JSON_ROWS = "tarn$json_rows";

    private LiveSql() {}

    /** The live table a node of DuckDB's syntax tree reads, if it is a table {@code live.<name>}, in lower case. */
    static Optional<String> name(JsonNode node) {
        if (node.isObject()
                && node.path("type").asText().equals("BASE_TABLE")
                && node.path("catalog_name").asText().isEmpty()
                && node.path("schema_name").asText().equalsIgnoreCase(CATALOG)) {
            return Optional.of(node.path("table_name").asText().toLowerCase(Locale.ROOT));
        }
        return Optional.empty();
    }

    /** The table that holds a live table's rows during a query. */
    static String tableName(String name) {
        return CATALOG + ".main." + ScanSql.quote(name);
    }

    /**
     * Copies a live table's rows into {@link #tableName}, typed as its schema says.
     *
     * @return how many rows were copied
     */
    static long load(Connection connection, String name, LiveTables.Table table) throws SQLException {
        return load(connection, tableName(name), table.schema(), Map.of(), table::rows);
    }

    /** Rows as JSON objects' text, handed to a sink. */
    interface JsonRows {
        void write(LiveTables.RowSink sink) throws IOException;
    }

    /**
     * Copies rows given as JSON objects into a new table, typed as a schema says.
     *
     * @param target the table to create (or replace), as SQL names it
     * @param fields per column, the JSON field it is read from when that is not the column's own name
     * @return how many rows were copied
     */
    static long load(Connection connection, String target, Schema schema, Map<String, String> fields, JsonRows rows)
            throws SQLException {
        String jsonRows = tableName(JSON_ROWS);
        DuckDb.execute(connection, "CREATE OR REPLACE TABLE " + jsonRows + " (row VARCHAR)");
        long[] count = {0};
        try (DuckDBAppender appender =
                connection.unwrap(DuckDBConnection.class).createAppender(CATALOG, "main", JSON_ROWS)) {
            rows.write(json -> {
                try {
                    appender.beginRow().append(json).endRow();
                    count[0]++;
                } catch (SQLException e) {
                    throw new IOException(e);
                }
            });
        } catch (IOException e) {
            throw e.getCause() instanceof SQLException sql ? sql : new SQLException("rows could not be read", e);
        }
        ObjectNode structure = JSON.createObjectNode();
        List<String> columns = new ArrayList<>();
        for (Types.NestedField field : schema.columns()) {
            String json = fields.getOrDefault(field.name(), field.name());
            String value = "r." + ScanSql.quote(json);
            if (isBytes(field.type())) {
                structure.put(json, "VARCHAR");
                columns.add("from_base64(%s) AS %s".formatted(value, ScanSql.quote(field.name())));
            } else {
                structure.put(json, ScanSql.type(field.type()));
                columns.add("%s AS %s".formatted(value, ScanSql.quote(field.name())));
            }
        }
        DuckDb.execute(
                connection,
                "CREATE OR REPLACE TABLE %s AS SELECT %s FROM (SELECT json_transform(row, %s) AS r FROM %s)"
                        .formatted(
                                target, String.join(", ", columns), ScanSql.literal(structure.toString()), jsonRows));
        DuckDb.execute(connection, "DROP TABLE " + jsonRows);
        return count[0];
    }

    private static boolean isBytes(Type type) {
        return type.typeId() == Type.TypeID.BINARY || type.typeId() == Type.TypeID.FIXED;
    }
}
