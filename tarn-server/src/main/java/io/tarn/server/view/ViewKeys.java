package io.tarn.server.view;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.topic.ColumnSpec;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Locale;

/**
 * Key values of a view as its store keeps them: one canonical value per key, whether it comes from a row of the
 * view's topic (Flink's JSON) or from a request, so that {@code 2026-12-03 10:00} and {@code 2026-12-03T10:00:00.000}
 * find the same row. Integers and floating-point numbers are numbers (ordered as numbers); timestamps, dates and
 * decimals are canonical text (timestamps and dates order as time; decimals are compared for equality only).
 */
final class ViewKeys {
    private ViewKeys() {}

    /** A key value of a row of the topic. */
    static Object stored(ColumnSpec column, String text) {
        return canonical(column, text);
    }

    /**
     * A key value of a request.
     *
     * @throws TarnException {@link ErrorCode#INVALID_REQUEST} naming the column, its type and the value
     */
    static Object requested(String view, ColumnSpec column, String text) {
        try {
            return canonical(column, text);
        } catch (NumberFormatException | DateTimeParseException e) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST,
                    "key column '%s' of view '%s' is %s; '%s' is not one"
                            .formatted(column.name(), view, column.type().sql(), text));
        }
    }

    private static Object canonical(ColumnSpec column, String text) {
        return switch (column.type().kind()) {
            case INTEGER -> Long.parseLong(text.strip());
            case FLOATING -> Double.parseDouble(text.strip());
            case BOOLEAN -> {
                String lower = text.strip().toLowerCase(Locale.ROOT);
                if (!lower.equals("true") && !lower.equals("false")) {
                    throw new NumberFormatException(text);
                }
                yield lower.equals("true") ? 1 : 0;
            }
            case DECIMAL -> new BigDecimal(text.strip()).stripTrailingZeros().toPlainString();
            case DATE -> LocalDate.parse(text.strip()).toString();
            case TIMESTAMP ->
                DateTimeFormatter.ISO_LOCAL_DATE_TIME.format(
                        LocalDateTime.parse(text.strip().replace(' ', 'T')));
            case TIMESTAMP_LTZ ->
                DateTimeFormatter.ISO_LOCAL_DATE_TIME.format(
                                OffsetDateTime.parse(text.strip().replace(' ', 'T'))
                                        .withOffsetSameInstant(ZoneOffset.UTC)
                                        .toLocalDateTime())
                        + "Z";
            default -> text;
        };
    }
}
