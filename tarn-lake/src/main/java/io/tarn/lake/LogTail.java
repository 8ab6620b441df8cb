package io.tarn.lake;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.io.IOException;
import java.util.Map;

/** The log's records after the offsets a lake table's snapshot covers: what a fresh read adds to the snapshot. */
public interface LogTail {
    /** No log: a fresh read is refused. */
    LogTail NONE = (topic, from, sink) -> {
        throw new TarnException(ErrorCode.UNSUPPORTED_QUERY, "fresh reads are not available here");
    };

    /**
     * Hands the value of every committed record of a topic from the given offsets up to the topic's end when the read
     * begins, as JSON text, to the sink.
     *
     * @param from per partition, the offset to start at; a partition not in it is read from its first record
     * @return how many records were read
     * @throws IOException what the sink throws
     */
    long read(String topic, Map<Integer, Long> from, LiveTables.RowSink sink) throws IOException;
}
