package io.tarn.core.pipeline;

import static java.util.Objects.requireNonNull;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * Where a new pipeline starts reading its topics: their earliest records (the default), their ends, or the first
 * records at or after a time (Kafka's record timestamps), e.g. to reprocess history from a point into a new table. A
 * pipeline that resumes from a checkpoint or savepoint goes on from there instead.
 *
 * @param at the time, for {@link Kind#TIMESTAMP}
 */
public record StartFrom(Kind kind, Optional<Instant> at) {
    /** From each topic's first record. */
    public static final StartFrom EARLIEST = new StartFrom(Kind.EARLIEST, Optional.empty());

    /** What a pipeline starts from. */
    public enum Kind {
        EARLIEST,
        LATEST,
        TIMESTAMP
    }

    public StartFrom {
        requireNonNull(kind, "kind is null");
        requireNonNull(at, "at is null");
        if ((kind == Kind.TIMESTAMP) != at.isPresent()) {
            throw new IllegalArgumentException("a time is given exactly for TIMESTAMP");
        }
    }

    /**
     * As the API spells it: {@code earliest}, {@code latest} or an ISO-8601 instant such as {@code 2026-12-04T10:00:00Z}.
     *
     * @throws TarnException {@link ErrorCode#INVALID_REQUEST} for anything else
     */
    public static StartFrom of(String text) {
        switch (text) {
            case "earliest":
                return EARLIEST;
            case "latest":
                return new StartFrom(Kind.LATEST, Optional.empty());
            default:
                try {
                    return new StartFrom(Kind.TIMESTAMP, Optional.of(Instant.parse(text)));
                } catch (DateTimeParseException e) {
                    throw new TarnException(
                            ErrorCode.INVALID_REQUEST,
                            "from must be 'earliest', 'latest' or an ISO-8601 time such as 2026-12-04T10:00:00Z, not '%s'"
                                    .formatted(text));
                }
        }
    }

    /** The API's spelling, which {@link #of} reads. */
    public String spelling() {
        return switch (kind) {
            case EARLIEST -> "earliest";
            case LATEST -> "latest";
            case TIMESTAMP -> at.orElseThrow().toString();
        };
    }
}
