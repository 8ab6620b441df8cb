package io.tarn.core.topic;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.time.LocalDate;
import java.time.LocalTime;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Flink SQL type declared for a topic column, with the check HTTP ingest applies to a JSON value of that column, so
 * that a record a pipeline could not decode is refused at the door instead of failing the pipeline later. Types a user
 * writes are read by Flink's own type parser first (tarn-compute's {@code ColumnTypes}); {@link #parse} only tells the
 * family of a type already read that way (or written by Tarn itself).
 *
 * @param sql the type as written in Flink SQL, normalised to upper case
 * @param kind the family of the type, which decides what JSON values are accepted
 */
public record ColumnType(String sql, Kind kind) {
    /** Type families; each accepts the JSON values Flink's JSON format (ISO-8601 timestamps) decodes into it. */
    public enum Kind {
        STRING,
        BOOLEAN,
        INTEGER,
        FLOATING,
        DECIMAL,
        DATE,
        TIME,
        TIMESTAMP,
        TIMESTAMP_LTZ,
        BYTES,
        ARRAY,
        MAP,
        ROW
    }

    private static final Pattern SIMPLE =
            Pattern.compile("([A-Z_]+(?: [A-Z_]+)*)\\s*(\\(\\s*\\d+\\s*(,\\s*\\d+\\s*)?\\))?");

    public ColumnType {
        requireNonNull(sql, "sql is null");
        requireNonNull(kind, "kind is null");
    }

    /**
     * The family of a Flink SQL type in Flink's spelling.
     *
     * @throws TarnException {@link ErrorCode#INVALID_REQUEST} naming the type when it is not one Tarn supports
     */
    public static ColumnType parse(String text) {
        requireNonNull(text, "type is null");
        String sql = text.trim().toUpperCase(Locale.ROOT).replaceAll("\\s+", " ");
        String notNull = sql.endsWith(" NOT NULL") ? sql.substring(0, sql.length() - " NOT NULL".length()) : sql;
        Optional<Kind> nested = nestedKind(notNull);
        if (nested.isPresent()) {
            return new ColumnType(text.trim(), nested.get()); // nested field names keep their case
        }
        Matcher matcher = SIMPLE.matcher(notNull);
        if (!matcher.matches()) {
            throw unsupported(text);
        }
        Kind kind =
                switch (matcher.group(1)) {
                    case "STRING", "VARCHAR", "CHAR" -> Kind.STRING;
                    case "BOOLEAN" -> Kind.BOOLEAN;
                    case "TINYINT", "SMALLINT", "INT", "INTEGER", "BIGINT" -> Kind.INTEGER;
                    case "FLOAT", "DOUBLE", "DOUBLE PRECISION" -> Kind.FLOATING;
                    case "DECIMAL", "DEC", "NUMERIC" -> Kind.DECIMAL;
                    case "DATE" -> Kind.DATE;
                    case "TIME" -> Kind.TIME;
                    case "TIMESTAMP", "TIMESTAMP WITHOUT TIME ZONE" -> Kind.TIMESTAMP;
                    case "TIMESTAMP_LTZ", "TIMESTAMP WITH LOCAL TIME ZONE" -> Kind.TIMESTAMP_LTZ;
                    case "BYTES", "BINARY", "VARBINARY" -> Kind.BYTES;
                    default -> throw unsupported(text);
                };
        return new ColumnType(sql, kind);
    }

    private static Optional<Kind> nestedKind(String sql) {
        if (sql.startsWith("ARRAY<") && sql.endsWith(">")) {
            return Optional.of(Kind.ARRAY);
        }
        if (sql.startsWith("MAP<") && sql.endsWith(">")) {
            return Optional.of(Kind.MAP);
        }
        if (sql.startsWith("ROW<") && sql.endsWith(">")) {
            return Optional.of(Kind.ROW);
        }
        return Optional.empty();
    }

    private static TarnException unsupported(String text) {
        return new TarnException(
                ErrorCode.INVALID_REQUEST,
                ("column type '%s' is not supported; use STRING, BOOLEAN, INT, BIGINT, DOUBLE, DECIMAL(p,s), DATE, TIME,"
                                + " TIMESTAMP(p), TIMESTAMP_LTZ(p), BYTES, ARRAY<..>, MAP<..> or ROW<..>")
                        .formatted(text));
    }

    public boolean nullable() {
        return !sql.toUpperCase(Locale.ROOT).endsWith(" NOT NULL");
    }

    /**
     * Checks one JSON value against this type.
     *
     * @return empty when the value is acceptable, else why not
     */
    public Optional<String> check(JsonNode value) {
        if (value == null || value.isNull()) {
            return nullable() ? Optional.empty() : Optional.of("is null but the column is NOT NULL");
        }
        boolean ok =
                switch (kind) {
                    case STRING -> value.isValueNode();
                    case BOOLEAN -> value.isBoolean();
                    case INTEGER -> integer(value).filter(this::inRange).isPresent();
                    case FLOATING ->
                        value.isNumber() || (value.isTextual() && decimal(value).isPresent());
                    case DECIMAL -> decimal(value).filter(this::fits).isPresent();
                    case DATE -> value.isTextual() && IsoTimestamps.parses(() -> LocalDate.parse(value.asText()));
                    case TIME -> value.isTextual() && IsoTimestamps.parses(() -> LocalTime.parse(value.asText()));
                    case TIMESTAMP -> value.isTextual() && IsoTimestamps.isLocalDateTime(value.asText());
                    case TIMESTAMP_LTZ -> value.isTextual() && IsoTimestamps.isUtcTimestamp(value.asText());
                    case BYTES -> value.isTextual();
                    case ARRAY -> value.isArray();
                    case MAP, ROW -> value.isObject();
                };
        if (ok) {
            return Optional.empty();
        }
        return Optional.of("expected %s%s, got %s"
                .formatted(
                        sql,
                        formatHint(),
                        value.getNodeType().name().toLowerCase(Locale.ROOT)
                                + (value.isValueNode() ? " " + abbreviate(value.toString()) : "")));
    }

    private String formatHint() {
        return switch (kind) {
            case TIMESTAMP -> " as ISO-8601 text without zone, e.g. \"2026-11-22T10:15:30.123\"";
            case TIMESTAMP_LTZ -> " as ISO-8601 UTC text ending in Z, e.g. \"2026-11-22T10:15:30.123Z\"";
            case DATE -> " as \"yyyy-MM-dd\"";
            case TIME -> " as \"HH:mm:ss\"";
            default -> "";
        };
    }

    private static String abbreviate(String text) {
        return text.length() <= 40 ? text : text.substring(0, 37) + "...";
    }

    /** An integral number, or text of one (as Flink's JSON format reads it); empty for anything else. */
    private static Optional<BigInteger> integer(JsonNode value) {
        if (value.isIntegralNumber()) {
            return Optional.of(value.bigIntegerValue());
        }
        if (value.isTextual()) {
            try {
                return Optional.of(new BigInteger(value.asText().trim()));
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    /** Whether an integer fits this integer type (Flink's JSON format would fail or wrap it otherwise). */
    private boolean inRange(BigInteger value) {
        String type = sql.toUpperCase(Locale.ROOT);
        long[] range = type.startsWith("TINYINT")
                ? new long[] {Byte.MIN_VALUE, Byte.MAX_VALUE}
                : type.startsWith("SMALLINT")
                        ? new long[] {Short.MIN_VALUE, Short.MAX_VALUE}
                        : type.startsWith("INT")
                                ? new long[] {Integer.MIN_VALUE, Integer.MAX_VALUE}
                                : new long[] {Long.MIN_VALUE, Long.MAX_VALUE};
        return value.compareTo(BigInteger.valueOf(range[0])) >= 0 && value.compareTo(BigInteger.valueOf(range[1])) <= 0;
    }

    /** A number, or text of one; empty for anything else. */
    private static Optional<BigDecimal> decimal(JsonNode value) {
        if (value.isNumber()) {
            return Optional.of(value.decimalValue());
        }
        if (value.isTextual()) {
            try {
                return Optional.of(new BigDecimal(value.asText().trim()));
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    /**
     * Whether a number fits this decimal type once rounded to its scale, as Flink's {@code DecimalData} takes it (a
     * number that does not fit would become null there).
     */
    private boolean fits(BigDecimal value) {
        Matcher matcher = SIMPLE.matcher(sql.toUpperCase(Locale.ROOT).replace(" NOT NULL", ""));
        int precision = 10;
        int scale = 0;
        if (matcher.matches() && matcher.group(2) != null) {
            String[] numbers = matcher.group(2).replaceAll("[()\\s]", "").split(",");
            precision = Integer.parseInt(numbers[0]);
            scale = numbers.length > 1 ? Integer.parseInt(numbers[1]) : 0;
        }
        return value.setScale(scale, RoundingMode.HALF_UP).precision() <= precision;
    }
}
