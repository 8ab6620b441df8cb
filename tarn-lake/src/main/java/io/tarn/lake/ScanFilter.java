package io.tarn.lake;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.apache.iceberg.Schema;
import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * The filters of a query that Iceberg can prune a table's files with (by partition and by column min/max), read from
 * DuckDB's syntax tree of the query: for a lake table read exactly once, in a SELECT whose FROM is that table alone,
 * the conjuncts of its WHERE that compare one of the table's columns with a constant ({@code =}, {@code <>}, {@code <},
 * {@code <=}, {@code >}, {@code >=}, {@code BETWEEN}, {@code IN}, {@code IS [NOT] NULL}).
 *
 * <p>Pruning only leaves out files that hold no row the WHERE can keep, and DuckDB still applies the whole WHERE to the
 * files left, so a conjunct is taken only when its meaning is certain: the constant has the column's own type (an
 * integer for an integer column, text for a string, {@code DATE '…'} or ISO text for a date, {@code TIMESTAMP '…'} or
 * ISO text for a timestamp without time zone, {@code true}/{@code false} for a boolean). Anything else — another
 * type, an expression, a function, OR, NOT, a table read twice or sampled — is left to DuckDB alone.
 */
final class ScanFilter {
    private ScanFilter() {}

    /**
     * Filters per lake table ({@code namespace.table}, lower case) of a query's syntax tree; a table without one is
     * absent.
     *
     * @param schemas the current schema of a lake table by name; null for one that does not exist
     */
    static Map<String, Expression> of(JsonNode tree, Function<String, Schema> schemas) {
        Map<String, Integer> reads = new HashMap<>();
        List<JsonNode> selects = new ArrayList<>();
        collect(tree, reads, selects);
        Map<String, Expression> filters = new HashMap<>();
        for (JsonNode select : selects) {
            JsonNode from = select.path("from_table");
            String name = tableName(from);
            if (reads.get(name) != 1
                    || !from.path("sample").isNull()
                    || !select.path("sample").isNull()) {
                continue;
            }
            Schema schema = schemas.apply(name);
            if (schema == null) {
                continue;
            }
            String qualifier = from.path("alias").asText("").isEmpty()
                    ? from.path("table_name").asText()
                    : from.path("alias").asText();
            Column columns = new Column(schema, qualifier);
            Expression filter = Expressions.alwaysTrue();
            for (JsonNode conjunct : conjuncts(select.path("where_clause"))) {
                Optional<Expression> pushed = predicate(conjunct, columns);
                if (pushed.isPresent()) {
                    filter = Expressions.and(filter, pushed.get());
                }
            }
            if (filter != Expressions.alwaysTrue()) {
                filters.put(name, filter);
            }
        }
        return filters;
    }

    /** Counts the reads of each lake table (time travel ones apart) and finds the SELECTs from one lake table. */
    private static void collect(JsonNode node, Map<String, Integer> reads, List<JsonNode> selects) {
        if (isLakeTable(node)) {
            reads.merge(tableName(node), node.path("at_clause").isObject() ? 2 : 1, Integer::sum);
        }
        if (node.path("type").asText().equals("SELECT_NODE")
                && isLakeTable(node.path("from_table"))
                && !node.path("from_table").path("at_clause").isObject()) {
            selects.add(node);
        }
        node.forEach(child -> collect(child, reads, selects));
    }

    private static boolean isLakeTable(JsonNode node) {
        return node.path("type").asText().equals("BASE_TABLE")
                && node.path("catalog_name").asText().equalsIgnoreCase(LakeCatalog.NAME);
    }

    private static String tableName(JsonNode table) {
        return table.path("schema_name").asText().toLowerCase(Locale.ROOT) + "."
                + table.path("table_name").asText().toLowerCase(Locale.ROOT);
    }

    private static List<JsonNode> conjuncts(JsonNode where) {
        if (where.path("type").asText().equals("CONJUNCTION_AND")) {
            List<JsonNode> all = new ArrayList<>();
            where.path("children").forEach(child -> all.addAll(conjuncts(child)));
            return all;
        }
        return where.isObject() ? List.of(where) : List.of();
    }

    private static Optional<Expression> predicate(JsonNode node, Column columns) {
        return switch (node.path("type").asText()) {
            case "COMPARE_EQUAL",
                    "COMPARE_NOTEQUAL",
                    "COMPARE_LESSTHAN",
                    "COMPARE_GREATERTHAN",
                    "COMPARE_LESSTHANOREQUALTO",
                    "COMPARE_GREATERTHANOREQUALTO" -> comparison(node, columns);
            case "COMPARE_BETWEEN" -> {
                Optional<Types.NestedField> column = columns.of(node.path("input"));
                if (column.isEmpty()) {
                    yield Optional.empty();
                }
                Optional<Object> lower =
                        constant(node.path("lower"), column.get().type());
                Optional<Object> upper =
                        constant(node.path("upper"), column.get().type());
                String name = column.get().name();
                yield lower.isPresent() && upper.isPresent()
                        ? Optional.of(Expressions.and(
                                Expressions.greaterThanOrEqual(name, lower.get()),
                                Expressions.lessThanOrEqual(name, upper.get())))
                        : Optional.empty();
            }
            case "COMPARE_IN" -> {
                JsonNode children = node.path("children");
                Optional<Types.NestedField> column = columns.of(children.path(0));
                if (column.isEmpty() || children.size() < 2) {
                    yield Optional.empty();
                }
                List<Object> values = new ArrayList<>();
                for (int i = 1; i < children.size(); i++) {
                    Optional<Object> value =
                            constant(children.get(i), column.get().type());
                    if (value.isEmpty()) {
                        yield Optional.empty();
                    }
                    values.add(value.get());
                }
                yield Optional.of(Expressions.in(column.get().name(), values));
            }
            case "OPERATOR_IS_NULL" -> columns.of(node.path("children").path(0)).map(c -> Expressions.isNull(c.name()));
            case "OPERATOR_IS_NOT_NULL" ->
                columns.of(node.path("children").path(0)).map(c -> Expressions.notNull(c.name()));
            default -> Optional.empty();
        };
    }

    /** {@code column op constant} or {@code constant op column}. */
    private static Optional<Expression> comparison(JsonNode node, Column columns) {
        String type = node.path("type").asText();
        JsonNode left = node.path("left");
        JsonNode right = node.path("right");
        Optional<Types.NestedField> column = columns.of(left);
        JsonNode value = right;
        if (column.isEmpty()) {
            column = columns.of(right);
            value = left;
            type = flipped(type);
        }
        if (column.isEmpty()) {
            return Optional.empty();
        }
        Optional<Object> constant = constant(value, column.get().type());
        if (constant.isEmpty()) {
            return Optional.empty();
        }
        String name = column.get().name();
        Object v = constant.get();
        return Optional.of(
                switch (type) {
                    case "COMPARE_EQUAL" -> Expressions.equal(name, v);
                    case "COMPARE_NOTEQUAL" -> Expressions.notEqual(name, v);
                    case "COMPARE_LESSTHAN" -> Expressions.lessThan(name, v);
                    case "COMPARE_GREATERTHAN" -> Expressions.greaterThan(name, v);
                    case "COMPARE_LESSTHANOREQUALTO" -> Expressions.lessThanOrEqual(name, v);
                    default -> Expressions.greaterThanOrEqual(name, v);
                });
    }

    private static String flipped(String comparison) {
        return switch (comparison) {
            case "COMPARE_LESSTHAN" -> "COMPARE_GREATERTHAN";
            case "COMPARE_GREATERTHAN" -> "COMPARE_LESSTHAN";
            case "COMPARE_LESSTHANOREQUALTO" -> "COMPARE_GREATERTHANOREQUALTO";
            case "COMPARE_GREATERTHANOREQUALTO" -> "COMPARE_LESSTHANOREQUALTO";
            default -> comparison;
        };
    }

    /**
     * The value of a constant as Iceberg holds values of {@code type}, when DuckDB compares it with the column
     * unchanged: an integer with an integer column, text with a string column, a {@code DATE}/{@code TIMESTAMP}
     * literal or ISO text with a date/timestamp column, {@code true}/{@code false} with a boolean one.
     */
    private static Optional<Object> constant(JsonNode node, Type type) {
        String cast = null;
        JsonNode value = node;
        if (node.path("type").asText().equals("OPERATOR_CAST")
                && !node.path("try_cast").asBoolean()) {
            JsonNode target = node.path("type_expr");
            if (target.path("children").size() != 0
                    || !target.path("schema").asText().isEmpty()) {
                return Optional.empty();
            }
            cast = target.path("type_name").asText().toUpperCase(Locale.ROOT);
            value = node.path("child");
        }
        if (!value.path("type").asText().equals("VALUE_CONSTANT")) {
            return Optional.empty();
        }
        String kind = value.path("literal").path("kind").asText();
        String text = value.path("literal").path("text").asText();
        try {
            return switch (type.typeId()) {
                case INTEGER ->
                    cast == null && kind.equals("INTEGER")
                            ? Optional.of(Math.toIntExact(Long.parseLong(text)))
                            : none();
                case LONG -> cast == null && kind.equals("INTEGER") ? Optional.of(Long.parseLong(text)) : none();
                case STRING -> cast == null && kind.equals("STRING") ? Optional.of(text) : none();
                case BOOLEAN ->
                    cast == null && kind.equals("BOOLEAN") ? Optional.of(Boolean.parseBoolean(text)) : none();
                case DATE ->
                    kind.equals("STRING") && (cast == null || cast.equals("DATE"))
                            ? Optional.of((int) LocalDate.parse(text).toEpochDay())
                            : none();
                case TIMESTAMP ->
                    kind.equals("STRING")
                                    && !((Types.TimestampType) type).shouldAdjustToUTC()
                                    && (cast == null || cast.equals("TIMESTAMP"))
                            ? Optional.of(micros(text))
                            : none();
                default -> none();
            };
        } catch (NumberFormatException | ArithmeticException | DateTimeParseException e) {
            return none();
        }
    }

    /** Microseconds since the epoch of a timestamp DuckDB reads as {@code yyyy-MM-dd[( |T)HH:mm[:ss[.f]]]}. */
    private static long micros(String text) {
        int dot = text.indexOf('.');
        if (dot >= 0 && text.length() - dot - 1 > 6) {
            // finer than DuckDB's microseconds, which it might round where this would truncate
            throw new DateTimeParseException("more than 6 fractional digits", text, dot);
        }
        LocalDateTime time = text.length() == 10
                ? LocalDate.parse(text).atStartOfDay()
                : LocalDateTime.parse(text.replace(' ', 'T'));
        return ChronoUnit.MICROS.between(LocalDateTime.of(1970, 1, 1, 0, 0), time);
    }

    private static Optional<Object> none() {
        return Optional.empty();
    }

    /** The table's top-level columns as a query names them: {@code column} or {@code qualifier.column}. */
    private record Column(Schema schema, String qualifier) {
        Optional<Types.NestedField> of(JsonNode node) {
            if (!node.path("type").asText().equals("COLUMN_REF")) {
                return Optional.empty();
            }
            JsonNode names = node.path("column_names");
            String name;
            if (names.size() == 1) {
                name = names.get(0).asText();
            } else if (names.size() == 2 && names.get(0).asText().equalsIgnoreCase(qualifier)) {
                name = names.get(1).asText();
            } else {
                return Optional.empty();
            }
            Types.NestedField field = schema.caseInsensitiveFindField(name);
            return field != null && schema.asStruct().field(field.fieldId()) != null
                    ? Optional.of(field)
                    : Optional.empty();
        }
    }
}
