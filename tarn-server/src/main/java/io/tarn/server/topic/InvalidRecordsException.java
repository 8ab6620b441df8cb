package io.tarn.server.topic;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A batch of records was refused as a whole; each problem (the first 100) names the record's index in the batch. */
public final class InvalidRecordsException extends TarnException {
    /** Problems listed at most; the others are only counted. */
    public static final int LISTED = 100;

    private final List<Problem> problems;
    private final long invalid;

    /**
     * @param invalid how many records are invalid
     * @param problems the first of them, at most {@link #LISTED}
     */
    public InvalidRecordsException(long invalid, long total, List<Problem> problems) {
        super(
                ErrorCode.INVALID_RECORDS,
                "%d of %d records are invalid; nothing of this request was written (first: record %d: %s)"
                        .formatted(
                                invalid,
                                total,
                                problems.get(0).index(),
                                problems.get(0).reason()));
        this.problems = List.copyOf(problems);
        this.invalid = invalid;
    }

    /** {@code invalid}: how many records are invalid; {@code records}: the listed ones' index and reason. */
    @Override
    public Map<String, Object> details() {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("invalid", invalid);
        details.put(
                "records",
                problems.stream()
                        .map(p -> Map.of("index", p.index(), "reason", p.reason()))
                        .toList());
        return details;
    }

    /** How many records are invalid, listed or not. */
    public long invalid() {
        return invalid;
    }

    public List<Problem> problems() {
        return problems;
    }

    /** One bad record. */
    public record Problem(long index, String reason) {}
}
