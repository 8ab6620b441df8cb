package io.tarn.server.topic;

import com.fasterxml.jackson.databind.JsonNode;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;

/**
 * The records of one ingest request, read one at a time: a request is validated as it is read, so that one with too
 * many (or too many bad) records is refused before all of them are held in memory.
 */
public interface RecordStream {
    /**
     * @return the next record, or null after the last one
     * @throws UnreadableRecordException for a record that is not JSON (the stream goes on after it)
     * @throws TarnException {@link ErrorCode#INVALID_REQUEST} when the body as a whole cannot be read on (a broken JSON
     *     array); {@link ErrorCode#REQUEST_TOO_LARGE} past the most records a request may carry
     */
    JsonNode next();

    /** One record of a stream is not JSON; the records after it can still be read. */
    final class UnreadableRecordException extends RuntimeException {
        public UnreadableRecordException(String reason) {
            super(reason, null, false, false);
        }
    }
}
