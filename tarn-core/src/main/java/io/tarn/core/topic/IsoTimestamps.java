package io.tarn.core.topic;

import java.nio.charset.StandardCharsets;
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
        byte[] bytes = text.getBytes(StandardCharsets.ISO_8859_1);
        if (parse(bytes, 0, bytes.length, new long[2]) == bytes.length) {
            return true;
        }
        return parses(() -> LocalDateTime.parse(text));
    }

    /** Whether {@link #FLINK_ISO_LTZ} parses {@code text} (Flink's ISO-8601 {@code TIMESTAMP_LTZ}). */
    static boolean isUtcTimestamp(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.ISO_8859_1);
        int end = parse(bytes, 0, bytes.length, new long[2]);
        if (end > 0 && end == bytes.length - 1 && bytes[end] == 'Z') {
            return true;
        }
        return parses(() -> FLINK_ISO_LTZ.parse(text));
    }

    /**
     * Reads a date-time of the exact shape {@code yyyy-MM-ddTHH:mm:ss[.f{1,9}]} at {@code from} in ASCII {@code bytes}
     * (up to {@code to}) as Flink's {@code TimestampData} holds it: milliseconds since 1970-01-01T00:00 and the
     * nanoseconds within that millisecond, the same values {@code TimestampData.fromLocalDateTime(LocalDateTime.parse(
     * ...))} gives. Characters beyond ISO-8859-1 can be given as any byte that is not an ASCII digit or separator.
     *
     * @param millisAndNanos receives the milliseconds at index 0 and the nanoseconds of the millisecond at index 1
     * @return how many bytes the date-time takes, or -1 when the bytes do not start with one of that shape or its
     *     fields are out of range (the caller then asks {@code java.time}, never gets a wrong answer)
     */
    public static int parse(byte[] bytes, int from, int to, long[] millisAndNanos) {
        if (to - from < 19
                || bytes[from + 4] != '-'
                || bytes[from + 7] != '-'
                || bytes[from + 10] != 'T'
                || bytes[from + 13] != ':'
                || bytes[from + 16] != ':') {
            return -1;
        }
        int year = digits(bytes, from, 4);
        int month = digits(bytes, from + 5, 2);
        int day = digits(bytes, from + 8, 2);
        int hour = digits(bytes, from + 11, 2);
        int minute = digits(bytes, from + 14, 2);
        int second = digits(bytes, from + 17, 2);
        if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) {
            return -1;
        }
        if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) {
            return -1;
        }
        int end = from + 19;
        long nanos = 0;
        if (end < to && bytes[end] == '.') {
            int fraction = 0;
            while (end + 1 + fraction < to && isDigit(bytes[end + 1 + fraction])) {
                nanos = nanos * 10 + (bytes[end + 1 + fraction] - '0');
                fraction++;
            }
            if (fraction < 1 || fraction > 9) {
                return -1;
            }
            for (int i = fraction; i < 9; i++) {
                nanos *= 10;
            }
            end += 1 + fraction;
        }
        long secondOfDay = hour * 3600L + minute * 60L + second;
        millisAndNanos[0] = epochDay(year, month, day) * 86_400_000L + secondOfDay * 1000 + nanos / 1_000_000;
        millisAndNanos[1] = nanos % 1_000_000;
        return end - from;
    }

    /**
     * Days from 1970-01-01 to a valid date of the proleptic Gregorian calendar (years 0-9999), counted in 400-year
     * eras of 146,097 days that start on March 1st, so that February's length only matters at an era's end.
     */
    private static long epochDay(int year, int month, int day) {
        int y = month <= 2 ? year - 1 : year;
        int era = Math.floorDiv(y, 400);
        int yearOfEra = y - era * 400;
        int dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
        int dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear;
        return era * 146_097L + dayOfEra - 719_468;
    }

    private static int daysIn(int year, int month) {
        return switch (month) {
            case 2 -> (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28;
            case 4, 6, 9, 11 -> 30;
            default -> 31;
        };
    }

    /** The non-negative number written by {@code length} ASCII digits at {@code start}, or -1. */
    private static int digits(byte[] bytes, int start, int length) {
        int value = 0;
        for (int i = start; i < start + length; i++) {
            byte c = bytes[i];
            if (!isDigit(c)) {
                return -1;
            }
            value = value * 10 + (c - '0');
        }
        return value;
    }

    private static boolean isDigit(byte c) {
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
