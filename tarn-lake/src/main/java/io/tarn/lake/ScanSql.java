package io.tarn.lake;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.iceberg.Schema;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * DuckDB SQL that reads a {@link TablePlan}'s Parquet files as the table's rows, the way Iceberg defines them: columns
 * are found by Iceberg field id, not by name (a file written before a column was renamed, added or dropped reads as the
 * plan's schema says; fields nested in a struct are matched by name), and delete files are applied by anti-joins.
 *
 * <p>Every identifier is quoted and every path and name is a literal: nothing a table or column name holds becomes
 * SQL.
 */
final class ScanSql {
    private ScanSql() {}

    /** A SELECT of the plan's rows, with the plan schema's columns in order. */
    static String rows(TablePlan plan) {
        if (plan.dataFileInfos().isEmpty()) {
            return "SELECT "
                    + plan.schema().columns().stream()
                            .map(f -> "CAST(NULL AS " + type(f.type()) + ") AS " + quote(f.name()))
                            .collect(Collectors.joining(", "))
                    + " WHERE false";
        }
        if (!plan.hasDeletes()) {
            return "SELECT * FROM read_parquet([%s], schema = %s)"
                    .formatted(
                            fileList(plan.dataFiles()),
                            readSchema(plan.schema(), plan.schema().columns()));
        }
        return rowsWithDeletes(plan);
    }

    /**
     * A table's rows with its delete files applied as Iceberg defines them: a position delete removes the row at that
     * position of that data file (if the delete is not older than the file); an equality delete removes the rows of
     * older data files ({@code data sequence number < the delete's}) in the same partition — or in every partition
     * when the delete's spec is unpartitioned — whose equality columns equal the delete's, nulls included.
     */
    private static String rowsWithDeletes(TablePlan plan) {
        String files = plan.dataFileInfos().stream()
                .map(f -> "(%s, %s, %d, %s)"
                        .formatted(literal(f.path()), literal(f.location()), f.sequence(), literal(f.partition())))
                .collect(Collectors.joining(", "));
        String deletes = plan.deleteFileInfos().stream()
                .map(d -> "(%s, %d, %s)"
                        .formatted(
                                literal(d.path()),
                                d.sequence(),
                                d.partition() == null ? "NULL::VARCHAR" : literal(d.partition())))
                .collect(Collectors.joining(", "));
        String deleteFiles = "(VALUES " + deletes + ") AS m(path, seq, part)";
        // every delete is an uncorrelated anti join: rows are hash-matched with the deletes once, where a correlated
        // NOT EXISTS had DuckDB pair every delete file with every data file first (seconds over a few hundred files)
        StringBuilder source = new StringBuilder("SELECT t.* EXCLUDE (\"__tarn_file\", file_row_number) FROM ")
                .append("read_parquet([")
                .append(fileList(plan.dataFiles()))
                .append("], schema = ")
                .append(readSchema(plan.schema(), plan.schema().columns()))
                .append(", filename = '__tarn_file', file_row_number = true) AS t JOIN (VALUES ")
                .append(files)
                .append(") AS f(path, location, seq, part) ON f.path = t.\"__tarn_file\"");
        if (!plan.positionDeletes().isEmpty()) {
            source.append(" ANTI JOIN (SELECT p.file_path, p.pos, m.seq FROM read_parquet([")
                    .append(fileList(plan.positionDeletes()))
                    .append("], filename = '__tarn_file') AS p JOIN ")
                    .append(deleteFiles)
                    .append(" ON m.path = p.\"__tarn_file\") AS pd")
                    .append(" ON pd.file_path = f.location AND pd.pos = t.file_row_number AND pd.seq >= f.seq");
        }
        int group = 0;
        for (Map.Entry<List<Integer>, List<String>> deletesOf :
                plan.equalityDeletes().entrySet()) {
            List<Types.NestedField> columns = deletesOf.getKey().stream()
                    .map(id -> equalityColumn(plan.schema(), id))
                    .toList();
            String alias = "ed" + group++;
            source.append(" ANTI JOIN (SELECT m.seq, m.part");
            for (int c = 0; c < columns.size(); c++) {
                source.append(", d.")
                        .append(quote(columns.get(c).name()))
                        .append(" AS k")
                        .append(c);
            }
            source.append(" FROM read_parquet([")
                    .append(fileList(deletesOf.getValue()))
                    .append("], schema = ")
                    .append(readSchema(plan.schema(), columns))
                    .append(", filename = '__tarn_file') AS d JOIN ")
                    .append(deleteFiles)
                    .append(" ON m.path = d.\"__tarn_file\") AS ")
                    .append(alias)
                    .append(" ON ")
                    .append(alias)
                    .append(".seq > f.seq AND (")
                    .append(alias)
                    .append(".part IS NULL OR ")
                    .append(alias)
                    .append(".part = f.part)");
            for (int c = 0; c < columns.size(); c++) {
                source.append(" AND ")
                        .append(alias)
                        .append(".k")
                        .append(c)
                        .append(" IS NOT DISTINCT FROM t.")
                        .append(quote(columns.get(c).name()));
            }
        }
        return source.toString();
    }

    private static Types.NestedField equalityColumn(Schema schema, int fieldId) {
        Types.NestedField field = schema.asStruct().field(fieldId);
        if (field == null) {
            throw new TarnException(
                    ErrorCode.UNSUPPORTED_QUERY,
                    ("an equality delete compares field %d, which is not a top-level column of the schema read; run"
                                    + " the query with \"engine\": \"flink\"")
                            .formatted(fieldId));
        }
        return field;
    }

    /**
     * The {@code schema} argument of {@code read_parquet}: each column by its field id, with its name and DuckDB type
     * (a column that a file does not have reads as null).
     */
    private static String readSchema(Schema schema, List<Types.NestedField> columns) {
        return columns.stream()
                .map(f -> "%d: {name: %s, type: %s, default_value: NULL}"
                        .formatted(f.fieldId(), literal(f.name()), literal(type(f.type()))))
                .collect(Collectors.joining(", ", "MAP {", "}"));
    }

    /**
     * The {@code FIELD_IDS} option of a Parquet {@code COPY}: every field of the schema, nested ones included, with
     * its Iceberg field id, so that Iceberg reads the written file by id.
     */
    static String fieldIds(Schema schema) {
        return schema.columns().stream()
                .map(f -> literal(f.name()) + ": " + fieldIds(f))
                .collect(Collectors.joining(", ", "{", "}"));
    }

    private static String fieldIds(Types.NestedField field) {
        Type type = field.type();
        if (type.isPrimitiveType()) {
            return Integer.toString(field.fieldId());
        }
        String children =
                switch (type.typeId()) {
                    case STRUCT ->
                        type.asStructType().fields().stream()
                                .map(f -> literal(f.name()) + ": " + fieldIds(f))
                                .collect(Collectors.joining(", "));
                    case LIST ->
                        "element: " + fieldIds(type.asListType().fields().get(0));
                    case MAP ->
                        "key: " + fieldIds(type.asMapType().fields().get(0)) + ", value: "
                                + fieldIds(type.asMapType().fields().get(1));
                    default -> throw new IllegalArgumentException("not a nested type: " + type);
                };
        return "{__duckdb_field_id: %d, %s}".formatted(field.fieldId(), children);
    }

    /**
     * The DuckDB type that holds an Iceberg type's values.
     *
     * @throws TarnException {@link ErrorCode#UNSUPPORTED_QUERY} for types DuckDB has no equivalent of (variant,
     *     geometry)
     */
    static String type(Type type) {
        return switch (type.typeId()) {
            case BOOLEAN -> "BOOLEAN";
            case INTEGER -> "INTEGER";
            case LONG -> "BIGINT";
            case FLOAT -> "FLOAT";
            case DOUBLE -> "DOUBLE";
            case DATE -> "DATE";
            case TIME -> "TIME";
            case TIMESTAMP -> ((Types.TimestampType) type).shouldAdjustToUTC() ? "TIMESTAMPTZ" : "TIMESTAMP";
            case TIMESTAMP_NANO ->
                ((Types.TimestampNanoType) type).shouldAdjustToUTC() ? "TIMESTAMPTZ" : "TIMESTAMP_NS";
            case STRING -> "VARCHAR";
            case UUID -> "UUID";
            case BINARY, FIXED -> "BLOB";
            case DECIMAL ->
                "DECIMAL(%d,%d)".formatted(((Types.DecimalType) type).precision(), ((Types.DecimalType) type).scale());
            case STRUCT ->
                type.asStructType().fields().stream()
                        .map(f -> quote(f.name()) + " " + type(f.type()))
                        .collect(Collectors.joining(", ", "STRUCT(", ")"));
            case LIST -> type(type.asListType().elementType()) + "[]";
            case MAP ->
                "MAP(%s, %s)"
                        .formatted(
                                type(type.asMapType().keyType()),
                                type(type.asMapType().valueType()));
            default ->
                throw new TarnException(
                        ErrorCode.UNSUPPORTED_QUERY,
                        "the fast query path cannot read columns of type %s: run the query with \"engine\": \"flink\""
                                .formatted(type));
        };
    }

    static String fileList(List<String> paths) {
        return paths.stream().map(ScanSql::literal).collect(Collectors.joining(", "));
    }

    /** An identifier as DuckDB reads it, whatever it holds: in double quotes, each double quote doubled. */
    static String quote(String identifier) {
        return "\"" + identifier.replace("\"", "\"\"") + "\"";
    }

    /** A string literal as DuckDB reads it: in single quotes, each single quote doubled. */
    static String literal(String text) {
        return "'" + text.replace("'", "''") + "'";
    }
}
