package io.tarn.compute.quality;

import io.tarn.core.pipeline.QualityRule;
import java.util.List;
import org.apache.flink.metrics.Counter;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.functions.ScalarFunction;

/**
 * The verdict of a topic's quality rules on one record, called by the view {@code stream.<topic>} with the record's
 * partition, offset and each rule's check: counts each rule's passes and failures (Flink counters {@code
 * tarn_rule_<name>_passed} and {@code _failed}), fails the task for a failed rule of action {@code fail}, and answers
 * whether the record goes on (no rule of action {@code dead-letter} failed). A check fails only when it is false.
 */
public final class RuleVerdict extends ScalarFunction {
    private static final long serialVersionUID = 1L;

    /** What the metric names of a rule begin with. */
    public static final String METRIC_PREFIX = "tarn_rule_";

    private final String topic;
    private final String[] names;
    private final QualityRule.Action[] actions;
    private transient Counter[] passed;
    private transient Counter[] failed;

    public RuleVerdict(String topic, List<QualityRule> rules) {
        this.topic = topic;
        this.names = rules.stream().map(QualityRule::name).toArray(String[]::new);
        this.actions = rules.stream().map(QualityRule::action).toArray(QualityRule.Action[]::new);
    }

    @Override
    public void open(FunctionContext context) {
        passed = new Counter[names.length];
        failed = new Counter[names.length];
        for (int i = 0; i < names.length; i++) {
            passed[i] = context.getMetricGroup().counter(METRIC_PREFIX + names[i] + "_passed");
            failed[i] = context.getMetricGroup().counter(METRIC_PREFIX + names[i] + "_failed");
        }
    }

    public boolean eval(Integer partition, Long offset, @DataTypeHint("BOOLEAN") Boolean... checks) {
        boolean goesOn = true;
        for (int i = 0; i < names.length; i++) {
            if (Boolean.FALSE.equals(checks[i])) {
                failed[i].inc();
                if (actions[i] == QualityRule.Action.FAIL) {
                    throw new RuleFailedException(
                            "the record at partition %s offset %s of topic '%s' fails rule '%s' (action fail)"
                                    .formatted(partition, offset, topic, names[i]));
                }
                goesOn &= actions[i] != QualityRule.Action.DEAD_LETTER;
            } else {
                passed[i].inc();
            }
        }
        return goesOn;
    }

    @Override
    public boolean isDeterministic() {
        return false; // it counts and may fail: the planner must call it once per record, where it stands
    }

    /** A record failed a rule whose action is {@code fail}. */
    public static final class RuleFailedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        RuleFailedException(String message) {
            super(message);
        }
    }
}
