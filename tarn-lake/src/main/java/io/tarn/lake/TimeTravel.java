package io.tarn.lake;

import com.fasterxml.jackson.databind.JsonNode;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;
import java.util.Locale;
import java.util.Set;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotRef;
import org.apache.iceberg.Table;
import org.apache.iceberg.util.SnapshotUtil;

/**
 * The snapshot a DuckDB {@code AT (...)} clause names, as DuckDB's parser read it: {@code AT (VERSION => id)} a
 * snapshot id, {@code AT (VERSION => 'name')} an Iceberg tag or branch, {@code AT (TIMESTAMP => TIMESTAMP '…')} the
 * table's snapshot current at that time (a timestamp without a zone is UTC; Iceberg's as-of-time rule: the newest
 * snapshot of the table's history committed at or before it).
 */
final class TimeTravel {
    private static final Set<String> INTEGERS = Set.of("INTEGER", "BIGINT", "HUGEINT", "UBIGINT", "UINTEGER");
    private static final Set<String> TIMESTAMP_TYPES =
            Set.of("TIMESTAMP", "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE", "DATETIME");
    private static final DateTimeFormatter TIMESTAMP = new DateTimeFormatterBuilder()
            .parseCaseInsensitive()
            .append(DateTimeFormatter.ISO_LOCAL_DATE)
            .optionalStart()
            .appendLiteral(' ')
            .optionalEnd()
            .optionalStart()
            .appendLiteral('T')
            .optionalEnd()
            .optionalStart()
            .appendPattern("HH:mm")
            .optionalStart()
            .appendPattern(":ss")
            .optionalEnd()
            .optionalStart()
            .appendFraction(ChronoField.NANO_OF_SECOND, 0, 9, true)
            .optionalEnd()
            .optionalEnd()
            .optionalStart()
            .appendOffset("+HH:MM", "Z")
            .optionalEnd()
            .optionalStart()
            .appendOffset("+HH", "Z")
            .optionalEnd()
            .parseDefaulting(ChronoField.HOUR_OF_DAY, 0)
            .parseDefaulting(ChronoField.OFFSET_SECONDS, 0)
            .toFormatter(Locale.ROOT);

    private TimeTravel() {}

    /**
     * @param name {@code namespace.table}, for messages
     * @param at the {@code at_clause} of the table's node in DuckDB's syntax tree
     * @throws TarnException {@link ErrorCode#INVALID_SQL} for a clause that names no snapshot of the table (an expired
     *     or unknown one, a time before its oldest kept snapshot, an expression that is not a constant)
     */
    static Snapshot snapshot(String name, Table table, JsonNode at) {
        String unit = at.path("unit").asText().toUpperCase(Locale.ROOT);
        JsonNode expression = at.path("expr");
        return switch (unit) {
            case "VERSION" -> version(name, table, expression);
            case "TIMESTAMP" -> asOf(name, table, timestamp(expression));
            default ->
                throw invalid(("AT (%s => ...) is not a kind of time travel; use AT (VERSION => snapshot id,"
                                + " tag or branch) or AT (TIMESTAMP => TIMESTAMP '...')")
                        .formatted(unit));
        };
    }

    private static Snapshot version(String name, Table table, JsonNode expression) {
        JsonNode literal = constant(expression);
        String kind = literal.path("kind").asText().toUpperCase(Locale.ROOT);
        String text = literal.path("text").asText();
        if (INTEGERS.contains(kind)) {
            Snapshot snapshot = table.snapshot(Long.parseLong(text));
            if (snapshot == null) {
                throw invalid(("lake table '%s' has no snapshot %s (expired, or not one of its);"
                                + " GET /v1/tables/%s/snapshots lists those it keeps")
                        .formatted(name, text, name));
            }
            return snapshot;
        }
        if (kind.equals("VARCHAR") || kind.equals("STRING")) {
            SnapshotRef ref = table.refs().get(text);
            if (ref == null) {
                throw invalid("lake table '%s' has no tag or branch '%s'".formatted(name, text));
            }
            return table.snapshot(ref.snapshotId());
        }
        throw invalid("AT (VERSION => ...) takes a snapshot id or the name of a tag or branch");
    }

    private static long timestamp(JsonNode expression) {
        JsonNode value = expression;
        if (value.path("class").asText().equals("CAST")) {
            String type = value.path("type_expr").path("type_name").asText().toUpperCase(Locale.ROOT);
            if (!TIMESTAMP_TYPES.contains(type)) {
                throw invalid("AT (TIMESTAMP => ...) takes a timestamp, not a " + type);
            }
            value = value.path("child");
        }
        JsonNode literal = constant(value);
        String text = literal.path("text").asText().trim();
        try {
            return OffsetDateTime.parse(text, TIMESTAMP).toInstant().toEpochMilli();
        } catch (DateTimeParseException e) {
            throw invalid("AT (TIMESTAMP => ...) takes a timestamp such as TIMESTAMP '2026-12-03 10:15:00', not '%s'"
                    .formatted(text));
        }
    }

    private static Snapshot asOf(String name, Table table, long millis) {
        try {
            return table.snapshot(SnapshotUtil.snapshotIdAsOfTime(table, millis));
        } catch (IllegalArgumentException e) {
            throw invalid(
                    ("lake table '%s' has no snapshot at or before %s (lake.snapshot-retention bounds how far back"
                                    + " its history goes)")
                            .formatted(name, Instant.ofEpochMilli(millis)));
        }
    }

    private static JsonNode constant(JsonNode expression) {
        if (!expression.path("class").asText().equals("CONSTANT")) {
            throw invalid(
                    "a time travel clause takes a constant (a snapshot id, a tag or branch name, or a timestamp)");
        }
        return expression.path("literal");
    }

    private static TarnException invalid(String message) {
        return new TarnException(ErrorCode.INVALID_SQL, message);
    }
}
