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

    /** Receives the records of a topic's tail, in offset order per partition. */
    interface RecordSink {
        /**
         * @param value the record's value, JSON text
         */
        void record(int partition, long offset, String value) throws IOException;
    }

    /**
     * Hands every committed record with a value of a topic, from the given offsets up to the topic's end when the read
     * begins, to the sink.
     *
     * @param from per partition, the offset to start at; a partition not in it is read from its first record
     * @return per partition of the topic, the offset the next read of it continues at: the end it had when this read
     *     began, or where this read started when that was not before the end
     * @throws IOException what the sink throws
     */
    Map<Integer, Long> read(String topic, Map<Integer, Long> from, RecordSink sink) throws IOException;
}
