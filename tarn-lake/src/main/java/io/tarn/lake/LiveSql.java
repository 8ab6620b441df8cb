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
import java.util.stream.Collectors;
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
    /** The columns of a tail table ({@link #createTail}) that say which record of the topic a row is. */
    static final String PARTITION = "tarn$partition";

    static final String OFFSET = "tarn$offset";

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
        append(
                connection,
                appender -> rows.write(json -> {
                    try {
                        appender.beginRow().append(json).endRow();
                        count[0]++;
                    } catch (SQLException e) {
                        throw new IOException(e);
                    }
                }));
        DuckDb.execute(
                connection,
                "CREATE OR REPLACE TABLE %s AS %s".formatted(target, typed(schema, fields, List.of(), jsonRows)));
        DuckDb.execute(connection, "DROP TABLE " + jsonRows);
        return count[0];
    }

    /**
     * Appends the records of a topic's tail to a table made by {@link #createTail}, typed as a schema says, in one
     * statement: when reading them fails, the table is as it was.
     *
     * @return how many records were appended
     */
    static long appendTail(
            Connection connection, String target, Schema schema, Map<String, String> fields, TailRecords records)
            throws SQLException {
        String jsonRows = tailRows(connection);
        long[] count = {0};
        append(
                connection,
                appender -> records.write((partition, offset, value) -> {
                    try {
                        appender.beginRow()
                                .append(value)
                                .append(partition)
                                .append(offset)
                                .endRow();
                        count[0]++;
                    } catch (SQLException e) {
                        throw new IOException(e);
                    }
                }));
        if (count[0] > 0) {
            DuckDb.execute(
                    connection,
                    "INSERT INTO %s %s".formatted(target, typed(schema, fields, List.of(PARTITION, OFFSET), jsonRows)));
        }
        DuckDb.execute(connection, "DROP TABLE " + jsonRows);
        return count[0];
    }

    /** Creates (or empties) a table for a topic's tail: the schema's columns, {@link #PARTITION} and {@link #OFFSET}. */
    static void createTail(Connection connection, String target, Schema schema, Map<String, String> fields)
            throws SQLException {
        String jsonRows = tailRows(connection);
        DuckDb.execute(
                connection,
                "CREATE OR REPLACE TABLE %s AS %s"
                        .formatted(target, typed(schema, fields, List.of(PARTITION, OFFSET), jsonRows)));
        DuckDb.execute(connection, "DROP TABLE " + jsonRows);
    }

    /** Creates (or empties) the JSON rows table of a tail's records, with their partitions and offsets. */
    private static String tailRows(Connection connection) throws SQLException {
        String jsonRows = tableName(JSON_ROWS);
        DuckDb.execute(
                connection,
                "CREATE OR REPLACE TABLE %s (row VARCHAR, %s INTEGER, %s BIGINT)"
                        .formatted(jsonRows, ScanSql.quote(PARTITION), ScanSql.quote(OFFSET)));
        return jsonRows;
    }

    /** A tail's records, handed to a sink. */
    interface TailRecords {
        void write(LogTail.RecordSink sink) throws IOException;
    }

    private interface Appending {
        void write(DuckDBAppender appender) throws IOException;
    }

    /** Appends rows to the JSON rows table. */
    private static void append(Connection connection, Appending rows) throws SQLException {
        try (DuckDBAppender appender =
                connection.unwrap(DuckDBConnection.class).createAppender(CATALOG, "main", JSON_ROWS)) {
            rows.write(appender);
        } catch (IOException e) {
            throw e.getCause() instanceof SQLException sql ? sql : new SQLException("rows could not be read", e);
        }
    }

    /**
     * The query that types the JSON rows table's rows as a schema says, followed by other columns of it as they are.
     *
     * @param fields per column, the JSON field it is read from when that is not the column's own name
     */
    private static String typed(Schema schema, Map<String, String> fields, List<String> others, String jsonRows) {
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
        List<String> passed = new ArrayList<>();
        for (String other : others) {
            columns.add(ScanSql.quote(other));
            passed.add(ScanSql.quote(other));
        }
        return "SELECT %s FROM (SELECT json_transform(row, %s) AS r%s FROM %s)"
                .formatted(
                        String.join(", ", columns),
                        ScanSql.literal(structure.toString()),
                        passed.stream().map(c -> ", " + c).collect(Collectors.joining()),
                        jsonRows);
    }

    private static boolean isBytes(Type type) {
        return type.typeId() == Type.TypeID.BINARY || type.typeId() == Type.TypeID.FIXED;
    }
}
