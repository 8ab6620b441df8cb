package io.tarn.server.source;

import io.tarn.cdc.Capture;
import io.tarn.cdc.TableSchema;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.topic.ColumnSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The pipeline that keeps a source's lake tables in step with its captured tables: per table, an Iceberg format-v2
 * table with the same primary key in upsert mode, and an {@code INSERT} from the table's change topic read as a
 * changelog. Upsert mode makes every insert and update replace the row of its key and every delete remove it, so a
 * change Debezium repeats after a restart (it is at-least-once) leaves one row, not two.
 */
final class MirrorSql {
    private MirrorSql() {}

    /** The mirror pipeline of a source. */
    static String pipelineName(String source) {
        return source + "-mirror";
    }

    /**
     * The lake table a captured table is mirrored into: {@code <source>.<table>} for tables in the connection's
     * default schema (PostgreSQL's {@code public}, MariaDB's database of the URL), {@code <source>.<schema>_<table>}
     * otherwise, in lower case.
     */
    static String lakeTable(String source, String defaultSchema, String table) {
        int dot = table.indexOf('.');
        String schema = table.substring(0, dot);
        String name = table.substring(dot + 1);
        return (source + "." + (schema.equals(defaultSchema) ? name : schema + "_" + name)).toLowerCase(Locale.ROOT);
    }

    /**
     * @throws TarnException {@link ErrorCode#INVALID_REQUEST} when two captured tables would share a lake table name
     */
    static String pipeline(String source, String defaultSchema, List<TableSchema> tables) {
        Map<String, String> seen = new HashMap<>();
        for (TableSchema table : tables) {
            String previous = seen.put(lakeTable(source, defaultSchema, table.name()), table.name());
            if (previous != null) {
                throw new TarnException(
                        ErrorCode.INVALID_REQUEST,
                        "tables '%s' and '%s' would both be mirrored into lake table %s; capture them in separate sources"
                                .formatted(previous, table.name(), lakeTable(source, defaultSchema, table.name())));
            }
        }
        List<String> statements = new ArrayList<>();
        // the topics are keyed by primary key and the lake sink writes by it: no extra materializing state is needed
        statements.add("SET 'table.exec.sink.upsert-materialize' = 'NONE'");
        statements.add("CREATE DATABASE IF NOT EXISTS `lake`." + quote(source.toLowerCase(Locale.ROOT)));
        for (TableSchema table : tables) {
            List<String> columns = new ArrayList<>();
            for (ColumnSpec column : table.columns()) {
                columns.add(quote(column.name()) + " " + column.type().sql());
            }
            columns.add("PRIMARY KEY (%s) NOT ENFORCED"
                    .formatted(String.join(
                            ", ",
                            table.primaryKey().stream().map(MirrorSql::quote).toList())));
            statements.add(
                    """
                    CREATE TABLE IF NOT EXISTS %s (
                      %s
                    ) WITH ('format-version' = '2', 'write.upsert.enabled' = 'true')"""
                            .formatted(lake(source, defaultSchema, table), String.join(",\n  ", columns)));
        }
        for (TableSchema table : tables) {
            String names = String.join(
                    ", ", table.columns().stream().map(c -> quote(c.name())).toList());
            statements.add("INSERT INTO %s SELECT %s FROM `stream`.%s"
                    .formatted(lake(source, defaultSchema, table), names, quote(Capture.topic(source, table.name()))));
        }
        return String.join(";\n", statements) + ";\n";
    }

    private static String lake(String source, String defaultSchema, TableSchema table) {
        String[] parts = lakeTable(source, defaultSchema, table.name()).split("\\.");
        return "`lake`." + quote(parts[0]) + "." + quote(parts[1]);
    }

    private static String quote(String identifier) {
        return "`" + identifier.replace("`", "``") + "`";
    }
}
