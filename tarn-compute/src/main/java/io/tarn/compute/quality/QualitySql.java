package io.tarn.compute.quality;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.pipeline.QualityRule;
import io.tarn.core.topic.ColumnSpec;
import io.tarn.core.topic.ColumnType;
import io.tarn.core.topic.TopicSpec;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.internal.TableEnvironmentInternal;
import org.apache.flink.table.expressions.ResolvedExpression;
import org.apache.flink.table.types.logical.LogicalTypeRoot;
import org.apache.flink.table.types.logical.RowType;

/**
 * Quality rules as Flink SQL: which topic each checks, and each check as a boolean expression over the topic's table.
 * Column names are quoted, numbers and patterns are literals; a {@code sql} rule's predicate is parsed by Flink's own
 * expression parser against the topic's columns (one boolean expression, nothing else) before it is used, on lines of
 * its own so that a trailing comment cannot reach the SQL around it.
 */
public final class QualitySql {
    private QualitySql() {}

    /**
     * The rules of each topic they check, in their order.
     *
     * @param readable the JSON topics with columns the pipeline reads and does not write
     * @throws TarnException {@link ErrorCode#INVALID_REQUEST} for a rule without a topic when the pipeline reads other
     *     than one such topic, or whose topic is not one of them, or whose column the topic does not have
     */
    public static Map<String, List<QualityRule>> byTopic(
            String pipeline, List<QualityRule> rules, Collection<TopicSpec> readable) {
        Map<String, TopicSpec> topics = new TreeMap<>();
        readable.forEach(t -> topics.put(t.name(), t));
        Map<String, List<QualityRule>> byTopic = new LinkedHashMap<>();
        for (QualityRule rule : rules) {
            String topic = rule.topic().orElseGet(() -> {
                if (topics.size() != 1) {
                    throw new TarnException(
                            ErrorCode.INVALID_REQUEST,
                            "rule '%s' must name its topic: pipeline '%s' reads %s"
                                    .formatted(
                                            rule.name(),
                                            pipeline,
                                            topics.isEmpty() ? "no JSON topic with columns" : topics.keySet()));
                }
                return topics.keySet().iterator().next();
            });
            TopicSpec spec = topics.get(topic);
            if (spec == null) {
                throw new TarnException(
                        ErrorCode.INVALID_REQUEST,
                        ("rule '%s' checks topic '%s', which pipeline '%s' does not read (rules check JSON topics with"
                                        + " columns that a pipeline reads and does not write)")
                                .formatted(rule.name(), topic, pipeline));
            }
            checkColumn(rule, spec);
            byTopic.computeIfAbsent(topic, t -> new ArrayList<>()).add(rule);
        }
        return byTopic;
    }

    private static void checkColumn(QualityRule rule, TopicSpec topic) {
        String column;
        Set<ColumnType.Kind> kinds;
        if (rule.check() instanceof QualityRule.NotNull n) {
            column = n.column();
            kinds = Set.of(ColumnType.Kind.values());
        } else if (rule.check() instanceof QualityRule.Range r) {
            column = r.column();
            kinds = Set.of(ColumnType.Kind.INTEGER, ColumnType.Kind.FLOATING, ColumnType.Kind.DECIMAL);
        } else if (rule.check() instanceof QualityRule.Regex r) {
            column = r.column();
            kinds = Set.of(ColumnType.Kind.STRING);
        } else {
            return;
        }
        ColumnSpec spec = topic.columns().stream()
                .filter(c -> c.name().equals(column))
                .findFirst()
                .orElseThrow(() -> new TarnException(
                        ErrorCode.INVALID_REQUEST,
                        "rule '%s': topic '%s' has no column '%s'".formatted(rule.name(), topic.name(), column)));
        if (!kinds.contains(spec.type().kind())) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST,
                    "rule '%s': a %s check needs a %s column; '%s' is %s"
                            .formatted(
                                    rule.name(),
                                    rule.check().kind(),
                                    rule.check() instanceof QualityRule.Range ? "numeric" : "text",
                                    column,
                                    spec.type().sql()));
        }
    }

    /**
     * Checks a {@code sql} rule's predicate with Flink's expression parser against the columns of a table: one boolean
     * expression over them.
     *
     * @throws TarnException {@link ErrorCode#INVALID_REQUEST} naming the rule and what the parser found
     */
    public static void validate(TableEnvironment env, String table, QualityRule rule) {
        if (!(rule.check() instanceof QualityRule.Sql sql)) {
            return;
        }
        RowType row = (RowType)
                env.from(table).getResolvedSchema().toSourceRowDataType().getLogicalType();
        ResolvedExpression expression;
        try {
            expression = ((TableEnvironmentInternal) env).getParser().parseSqlExpression(sql.predicate(), row, null);
        } catch (RuntimeException e) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST,
                    "rule '%s': the predicate is not a SQL expression over the topic's columns: %s"
                            .formatted(
                                    rule.name(),
                                    TarnException.rootMessage(e)
                                            .lines()
                                            .findFirst()
                                            .orElse("")));
        }
        if (expression.getOutputDataType().getLogicalType().getTypeRoot() != LogicalTypeRoot.BOOLEAN) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST,
                    "rule '%s': the predicate must be true or false, not %s"
                            .formatted(rule.name(), expression.getOutputDataType()));
        }
    }

    /** A rule's check as a boolean SQL expression over its topic's table (validated by {@link #validate}). */
    public static String predicate(QualityRule rule) {
        QualityRule.Check check = rule.check();
        if (check instanceof QualityRule.NotNull n) {
            return quote(n.column()) + " IS NOT NULL";
        }
        if (check instanceof QualityRule.Range r) {
            List<String> bounds = new ArrayList<>();
            r.min().ifPresent(m -> bounds.add("%s >= %s".formatted(quote(r.column()), m.toPlainString())));
            r.max().ifPresent(m -> bounds.add("%s <= %s".formatted(quote(r.column()), m.toPlainString())));
            return String.join(" AND ", bounds);
        }
        if (check instanceof QualityRule.Regex r) {
            return "REGEXP(%s, '%s')".formatted(quote(r.column()), r.pattern().replace("'", "''"));
        }
        return "(\n" + ((QualityRule.Sql) check).predicate() + "\n)";
    }

    private static String quote(String identifier) {
        return "`" + identifier.replace("`", "``") + "`";
    }
}
