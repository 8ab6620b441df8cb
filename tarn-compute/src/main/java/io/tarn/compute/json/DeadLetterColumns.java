package io.tarn.compute.json;

import io.tarn.core.topic.ColumnSpec;
import java.util.List;

/**
 * The columns a stream table read by a pipeline that dead-letters bad records has besides the topic's (see
 * {@link DeadLetterDecoder}), and the classes of error they name. No topic column can be named so
 * ({@link ColumnSpec#RESERVED_PREFIX}).
 */
public final class DeadLetterColumns {
    /** Why a record is a dead letter, as a stable name: one of the classes below or {@code RecordCheck}'s. */
    public static final String ERROR_CLASS = ColumnSpec.RESERVED_PREFIX + "error_class";
    /** What is wrong with it, naming the field. */
    public static final String ERROR_MESSAGE = ColumnSpec.RESERVED_PREFIX + "error_message";
    /** The record's value as it was in the topic. */
    public static final String RAW = ColumnSpec.RESERVED_PREFIX + "raw";

    /** Their declarations, in this order, after a stream table's topic columns. */
    public static final List<String> DDL =
            List.of("`" + ERROR_CLASS + "` STRING", "`" + ERROR_MESSAGE + "` STRING", "`" + RAW + "` BYTES");

    /** The record has no value (a tombstone or an empty value). */
    public static final String NO_VALUE = "NO_VALUE";
    /** The record's value is not JSON (or not UTF-8, or nests deeper than JSON readers allow). */
    public static final String MALFORMED_JSON = "MALFORMED_JSON";

    private DeadLetterColumns() {}
}
