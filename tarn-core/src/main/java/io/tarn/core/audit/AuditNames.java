package io.tarn.core.audit;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.topic.ColumnSpec;
import java.util.List;

/**
 * Where Tarn's audit log is: every API call is an event on the topic {@value #TOPIC} (written by Tarn only), which
 * Tarn's own pipeline {@value #PIPELINE} lands in the lake table {@code lake.}{@value #TABLE}.
 */
public final class AuditNames {
    public static final String TOPIC = "tarn.audit";
    /** {@code namespace.table} of the lake table. */
    public static final String TABLE = "tarn.audit";

    public static final String PIPELINE = "tarn-audit";

    /** The columns of an audit event, in the topic and the lake table. */
    public static final List<ColumnSpec> COLUMNS = List.of(
            ColumnSpec.of("called_at", "TIMESTAMP_LTZ(3)"),
            ColumnSpec.of("node", "STRING"),
            ColumnSpec.of("principal", "STRING"),
            ColumnSpec.of("method", "STRING"),
            ColumnSpec.of("route", "STRING"),
            ColumnSpec.of("path", "STRING"),
            ColumnSpec.of("privileges", "STRING"),
            ColumnSpec.of("decision", "STRING"),
            ColumnSpec.of("status", "INT"),
            ColumnSpec.of("error", "STRING"),
            ColumnSpec.of("millis", "BIGINT"));

    private AuditNames() {}

    /**
     * The refusal of a change to the audit log (its topic, lake table or pipeline), whoever asks.
     *
     * @param what what was asked, e.g. {@code "topic 'tarn.audit' is written by Tarn only"}
     */
    public static TarnException refused(String what) {
        return new TarnException(ErrorCode.NOT_PERMITTED, "%s: it is Tarn's audit log".formatted(what));
    }

    /** The SQL of the pipeline that lands the audit topic in the lake table, as it is. */
    public static String pipelineSql() {
        StringBuilder columns = new StringBuilder();
        StringBuilder names = new StringBuilder();
        for (ColumnSpec column : COLUMNS) {
            if (!columns.isEmpty()) {
                columns.append(", ");
                names.append(", ");
            }
            columns.append('`')
                    .append(column.name())
                    .append("` ")
                    .append(column.type().sql());
            names.append('`').append(column.name()).append('`');
        }
        return "CREATE TABLE IF NOT EXISTS lake.tarn.audit (%s); INSERT INTO lake.tarn.audit SELECT %s FROM stream.`%s`;"
                .formatted(columns, names, TOPIC);
    }
}
