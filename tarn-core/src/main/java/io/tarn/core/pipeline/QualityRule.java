package io.tarn.core.pipeline;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A data quality rule of a pipeline, in the style of expectations: a check on each record of a topic the pipeline reads,
 * and what a record that fails it does. A check fails only when it is false; a null (unknown) passes, as in a SQL
 * CHECK constraint, so that a missing value is the business of a {@code not-null} rule alone.
 *
 * @param topic the topic whose records it checks; empty: the one JSON topic the pipeline reads
 */
public record QualityRule(String name, Optional<String> topic, Check check, Action action) {
    /** The most rules a pipeline can have. */
    public static final int MAX_RULES = 100;

    private static final ObjectMapper JSON = new ObjectMapper();

    public QualityRule {
        requireNonNull(name, "name is null");
        requireNonNull(topic, "topic is null");
        requireNonNull(check, "check is null");
        requireNonNull(action, "action is null");
        if (!name.matches("[a-z0-9][a-z0-9_-]{0,63}")) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST,
                    "rule name '%s' must be 1-64 characters of lower-case letters, digits, '_' and '-', starting with a"
                                    .formatted(name)
                            + " letter or digit");
        }
    }

    /** What a record that fails a rule does. */
    public enum Action {
        /** It is counted as failed and goes on to the pipeline's SQL. */
        WARN,
        /** It goes to the pipeline's dead letters (error class {@code RULE}), which needs {@code onError: dead-letter}. */
        DEAD_LETTER,
        /** It fails the pipeline's job, as a malformed record does with {@code onError: fail}. */
        FAIL;

        /** As the API spells it: {@code warn}, {@code dead-letter}, {@code fail}. */
        public String spelling() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        static Action of(String spelling) {
            return Arrays.stream(values())
                    .filter(v -> v.spelling().equals(spelling))
                    .findFirst()
                    .orElseThrow(() -> new TarnException(
                            ErrorCode.INVALID_REQUEST, "a rule's action must be 'warn', 'dead-letter' or 'fail'"));
        }
    }

    /** What a rule checks. */
    public sealed interface Check permits NotNull, Range, Regex, Sql {
        /** As the API spells it: {@code not-null}, {@code range}, {@code regex}, {@code sql}. */
        String kind();
    }

    /** The column has a value. */
    public record NotNull(String column) implements Check {
        public NotNull {
            requireNonNull(column, "column is null");
        }

        @Override
        public String kind() {
            return "not-null";
        }
    }

    /** The (numeric) column's value is at least {@code min} and at most {@code max}, each where given. */
    public record Range(String column, Optional<BigDecimal> min, Optional<BigDecimal> max) implements Check {
        public Range {
            requireNonNull(column, "column is null");
            if (min.isEmpty() && max.isEmpty()) {
                throw new TarnException(ErrorCode.INVALID_REQUEST, "a range rule needs 'min', 'max' or both");
            }
            if (min.isPresent() && max.isPresent() && min.get().compareTo(max.get()) > 0) {
                throw new TarnException(ErrorCode.INVALID_REQUEST, "a range rule's 'min' is above its 'max'");
            }
        }

        @Override
        public String kind() {
            return "range";
        }
    }

    /** Part of the (text) column's value matches the Java regular expression (anchor it with ^ and $ for all). */
    public record Regex(String column, String pattern) implements Check {
        public Regex {
            requireNonNull(column, "column is null");
            requireNonNull(pattern, "pattern is null");
            try {
                Pattern.compile(pattern);
            } catch (PatternSyntaxException e) {
                throw new TarnException(
                        ErrorCode.INVALID_REQUEST,
                        "a regex rule's pattern is not a Java regular expression: " + e.getDescription());
            }
        }

        @Override
        public String kind() {
            return "regex";
        }
    }

    /** A Flink SQL boolean expression over the topic's columns (Flink's parser decides what it is). */
    public record Sql(String predicate) implements Check {
        public Sql {
            requireNonNull(predicate, "predicate is null");
            if (predicate.isBlank()) {
                throw new TarnException(ErrorCode.INVALID_REQUEST, "a sql rule needs a 'predicate'");
            }
        }

        @Override
        public String kind() {
            return "sql";
        }
    }

    /**
     * Rules as the API gives them: {@code [{"name", "topic"?, "check", "column"?, "min"?, "max"?, "pattern"?,
     * "predicate"?, "action"}]}.
     *
     * @throws TarnException {@link ErrorCode#INVALID_REQUEST} naming what is wrong
     */
    public static List<QualityRule> parse(JsonNode rules) {
        if (rules == null || rules.isMissingNode() || rules.isNull()) {
            return List.of();
        }
        if (!rules.isArray() || rules.size() > MAX_RULES) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST, "rules must be an array of at most %d rules".formatted(MAX_RULES));
        }
        List<QualityRule> parsed = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (JsonNode rule : rules) {
            if (!rule.isObject()) {
                throw new TarnException(ErrorCode.INVALID_REQUEST, "each rule must be a JSON object");
            }
            Set<String> known =
                    Set.of("name", "topic", "check", "column", "min", "max", "pattern", "predicate", "action");
            rule.fieldNames().forEachRemaining(field -> {
                if (!known.contains(field)) {
                    throw new TarnException(ErrorCode.INVALID_REQUEST, "unknown field '%s' in a rule".formatted(field));
                }
            });
            String name = text(rule, "name", "");
            String kind = text(rule, "check", name);
            Check check =
                    switch (kind) {
                        case "not-null" -> new NotNull(text(rule, "column", name));
                        case "range" -> new Range(text(rule, "column", name), number(rule, "min"), number(rule, "max"));
                        case "regex" -> new Regex(text(rule, "column", name), text(rule, "pattern", name));
                        case "sql" -> new Sql(text(rule, "predicate", name));
                        default ->
                            throw new TarnException(
                                    ErrorCode.INVALID_REQUEST,
                                    "rule '%s': check must be 'not-null', 'range', 'regex' or 'sql'".formatted(name));
                    };
            QualityRule parsedRule = new QualityRule(
                    name,
                    rule.has("topic") ? Optional.of(text(rule, "topic", name)) : Optional.empty(),
                    check,
                    Action.of(text(rule, "action", name)));
            if (!names.add(name)) {
                throw new TarnException(ErrorCode.INVALID_REQUEST, "two rules are named '%s'".formatted(name));
            }
            parsed.add(parsedRule);
        }
        return List.copyOf(parsed);
    }

    /** The rule as the API gives and shows it. */
    public ObjectNode toJson() {
        ObjectNode node = JSON.createObjectNode().put("name", name);
        topic.ifPresent(t -> node.put("topic", t));
        node.put("check", check.kind());
        if (check instanceof NotNull n) {
            node.put("column", n.column());
        } else if (check instanceof Range r) {
            node.put("column", r.column());
            r.min().ifPresent(m -> node.put("min", m));
            r.max().ifPresent(m -> node.put("max", m));
        } else if (check instanceof Regex r) {
            node.put("column", r.column()).put("pattern", r.pattern());
        } else if (check instanceof Sql s) {
            node.put("predicate", s.predicate());
        }
        return node.put("action", action.spelling());
    }

    /** Rules as JSON text, as {@link #parse} reads them. */
    public static String toJson(List<QualityRule> rules) {
        ArrayNode array = JSON.createArrayNode();
        rules.forEach(r -> array.add(r.toJson()));
        return array.toString();
    }

    private static String text(JsonNode rule, String field, String name) {
        JsonNode value = rule.path(field);
        if (!value.isTextual() || value.asText().isEmpty()) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST,
                    name.isEmpty()
                            ? "each rule needs a '%s'".formatted(field)
                            : "rule '%s' needs a text '%s'".formatted(name, field));
        }
        return value.asText();
    }

    private static Optional<BigDecimal> number(JsonNode rule, String field) {
        JsonNode value = rule.path(field);
        if (value.isMissingNode() || value.isNull()) {
            return Optional.empty();
        }
        if (!value.isNumber()) {
            throw new TarnException(ErrorCode.INVALID_REQUEST, "a range rule's '%s' must be a number".formatted(field));
        }
        return Optional.of(value.decimalValue());
    }
}
