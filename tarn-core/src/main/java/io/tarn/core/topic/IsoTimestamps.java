package io.tarn.core.topic;

import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;

/**
 * Validates timestamps exactly as Flink's JSON format reads them with {@code timestamp-format.standard = ISO-8601},
 * without {@code java.time}'s cost in the common case: {@code TIMESTAMP} as {@link DateTimeFormatter#ISO_LOCAL_DATE_TIME},
 * {@code TIMESTAMP_LTZ} as ISO local date, {@code T}, ISO local time and a literal {@code Z} (Flink's
 * {@code TimeFormats.ISO8601_TIMESTAMP_WITH_LOCAL_TIMEZONE_FORMAT}; no other offset). {@code java.time} fills hash maps
 * for every value it parses, which made timestamp checks a fifth of HTTP ingest's CPU (see docs/benchmarks.md). Text
 * of the exact shape {@code yyyy-MM-ddTHH:mm:ss[.f{1,9}]} is checked field by field with the strict ranges, including
 * the days of each month in leap years; anything else falls back to the same formatters Flink uses, so the answer is
 * always Flink's.
 */
public final class IsoTimestamps {
    /** Flink's {@code ISO8601_TIMESTAMP_WITH_LOCAL_TIMEZONE_FORMAT}, built the same way. */
    static final DateTimeFormatter FLINK_ISO_LTZ = new DateTimeFormatterBuilder()
            .append(DateTimeFormatter.ISO_LOCAL_DATE)
            .appendLiteral('T')
            .append(DateTimeFormatter.ISO_LOCAL_TIME)
            .appendPattern("'Z'")
            .toFormatter();

    private IsoTimestamps() {}

    /** Whether {@code LocalDateTime.parse(text)} succeeds (Flink's ISO-8601 {@code TIMESTAMP}). */
    static boolean isLocalDateTime(String text) {
        int end = dateTimeEnd(text);
        if (end == text.length()) {
            return true;
        }
        return parses(() -> LocalDateTime.parse(text));
    }

    /** Whether {@link #FLINK_ISO_LTZ} parses {@code text} (Flink's ISO-8601 {@code TIMESTAMP_LTZ}). */
    static boolean isUtcTimestamp(String text) {
        int end = dateTimeEnd(text);
        if (end > 0 && end == text.length() - 1 && text.charAt(end) == 'Z') {
            return true;
        }
        return parses(() -> FLINK_ISO_LTZ.parse(text));
    }

    /**
     * Reads a date-time of the exact shape {@code yyyy-MM-ddTHH:mm:ss[.f{1,9}]} at the start of {@code text} as
     * Flink's {@code TimestampData} holds it: milliseconds since 1970-01-01T00:00 and the nanoseconds within that
     * millisecond, the same values {@code TimestampData.fromLocalDateTime(LocalDateTime.parse(...))} gives.
     *
     * @param millisAndNanos receives the milliseconds at index 0 and the nanoseconds of the millisecond at index 1
     * @return where the date-time ends in {@code text}, or -1 when it does not start with one of that shape (the
     *     caller then asks {@code java.time}, never gets a wrong answer)
     */
    public static int parse(CharSequence text, long[] millisAndNanos) {
        int end = dateTimeEnd(text);
        if (end < 0) {
            return -1;
        }
        long epochDay = LocalDate.of(digits(text, 0, 4), digits(text, 5, 2), digits(text, 8, 2))
                .toEpochDay();
        long secondOfDay = digits(text, 11, 2) * 3600L + digits(text, 14, 2) * 60L + digits(text, 17, 2);
        long nanos = 0;
        if (end > 19) {
            for (int i = 20; i < 29; i++) {
                nanos = nanos * 10 + (i < end ? text.charAt(i) - '0' : 0);
            }
        }
        millisAndNanos[0] =
                Math.addExact(Math.multiplyExact(epochDay, 86_400_000L), secondOfDay * 1000 + nanos / 1_000_000);
        millisAndNanos[1] = nanos % 1_000_000;
        return end;
    }

    /**
     * If {@code text} starts with a valid {@code yyyy-MM-ddTHH:mm:ss[.f{1,9}]}, where it ends; else -1 (which sends the
     * caller to {@code java.time}, never to a wrong answer).
     */
    private static int dateTimeEnd(CharSequence text) {
        if (text.length() < 19
                || text.charAt(4) != '-'
                || text.charAt(7) != '-'
                || text.charAt(10) != 'T'
                || text.charAt(13) != ':'
                || text.charAt(16) != ':') {
            return -1;
        }
        int year = digits(text, 0, 4);
        int month = digits(text, 5, 2);
        int day = digits(text, 8, 2);
        int hour = digits(text, 11, 2);
        int minute = digits(text, 14, 2);
        int second = digits(text, 17, 2);
        if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) {
            return -1;
        }
        if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) {
            return -1;
        }
        int end = 19;
        if (end < text.length() && text.charAt(end) == '.') {
            int fraction = 0;
            while (end + 1 + fraction < text.length() && isDigit(text.charAt(end + 1 + fraction))) {
                fraction++;
            }
            if (fraction < 1 || fraction > 9) {
                return -1;
            }
            end += 1 + fraction;
        }
        return end;
    }

    private static int daysIn(int year, int month) {
        return switch (month) {
            case 2 -> (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28;
            case 4, 6, 9, 11 -> 30;
            default -> 31;
        };
    }

    /** The non-negative number written by {@code length} ASCII digits at {@code start}, or -1. */
    private static int digits(CharSequence text, int start, int length) {
        int value = 0;
        for (int i = start; i < start + length; i++) {
            char c = text.charAt(i);
            if (!isDigit(c)) {
                return -1;
            }
            value = value * 10 + (c - '0');
        }
        return value;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    /** Whether a {@code java.time} parse succeeds. */
    static boolean parses(Runnable parse) {
        try {
            parse.run();
            return true;
        } catch (DateTimeParseException e) {
            return false;
        }
    }
}
