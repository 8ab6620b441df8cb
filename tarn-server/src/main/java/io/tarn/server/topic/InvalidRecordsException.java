package io.tarn.server.topic;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.util.List;

/** A batch of records was refused as a whole; each problem names the record's index in the batch. */
public final class InvalidRecordsException extends TarnException {
    private final List<Problem> problems;

    public InvalidRecordsException(int total, List<Problem> problems) {
        super(
                ErrorCode.INVALID_RECORDS,
                "%d of %d records are invalid; nothing of this request was written (first: record %d: %s)"
                        .formatted(
                                problems.size(),
                                total,
                                problems.get(0).index(),
                                problems.get(0).reason()));
        this.problems = List.copyOf(problems);
    }

    public List<Problem> problems() {
        return problems;
    }

    /** One bad record. */
    public record Problem(int index, String reason) {}
}
