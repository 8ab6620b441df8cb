package io.tarn.compute;

import io.tarn.core.pipeline.QualityRule;
import java.util.List;

/**
 * How a pipeline reads a topic through a view of the records that go on ({@link StreamTables#splitDdl}): those that
 * decode, when it dead-letters bad records, and those its quality rules let through.
 *
 * @param deadLetters whether records that do not decode are dead letters (else they fail the job)
 * @param rules the quality rules on the topic's records, in the pipeline's order
 */
record TopicSplit(boolean deadLetters, List<QualityRule> rules) {
    TopicSplit {
        rules = List.copyOf(rules);
    }

    /** Whether a rule dead-letters the records that fail it: its dead letters need the bytes of good records too. */
    boolean deadLettersGoodRecords() {
        return rules.stream().anyMatch(r -> r.action() == QualityRule.Action.DEAD_LETTER);
    }
}
