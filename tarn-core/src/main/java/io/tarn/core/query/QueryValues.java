package io.tarn.core.query;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.sql.Array;
import java.sql.Blob;
import java.sql.Date;
import java.sql.SQLException;
import java.sql.Time;
import java.sql.Timestamp;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The one mapping of every engine's values to JSON-ready ones: numbers, booleans and strings stay; timestamps become
 * ISO-8601 text, bytes Base64, arrays lists and maps objects; anything else its text.
 */
public final class QueryValues {
    private QueryValues() {}

    /** A value as a JSON-ready one. */
    public static Object json(Object value) {
        return json(value, UnaryOperator.identity());
    }

    /**
     * A value as a JSON-ready one.
     *
     * @param composite an engine's own composite values (Flink's {@code Row}) as a {@link List} of their fields; other
     *     values unchanged
     */
    public static Object json(Object value, UnaryOperator<Object> composite) {
        value = composite.apply(value);
        if (value == null || value instanceof String || value instanceof Boolean || value instanceof Number) {
            return value;
        }
        if (value instanceof Timestamp timestamp) {
            return timestamp.toLocalDateTime().format(DateTimeFormatter.ISO_LOCAL_DATE_TIME);
        }
        if (value instanceof LocalDateTime local) {
            return local.format(DateTimeFormatter.ISO_LOCAL_DATE_TIME);
        }
        if (value instanceof Date date) {
            return date.toLocalDate().toString();
        }
        if (value instanceof Time time) {
            return time.toLocalTime().toString();
        }
        if (value instanceof byte[] bytes) {
            return Base64.getEncoder().encodeToString(bytes);
        }
        try {
            if (value instanceof Array array) {
                return json(array.getArray(), composite);
            }
            if (value instanceof Blob blob) {
                return Base64.getEncoder().encodeToString(blob.getBytes(1, (int) blob.length()));
            }
        } catch (SQLException e) {
            throw new TarnException(
                    ErrorCode.QUERY_FAILED, "a value of the answer cannot be read: " + e.getMessage(), e);
        }
        if (value instanceof Object[] array) {
            return items(Arrays.asList(array), composite);
        }
        if (value instanceof List<?> list) {
            return items(list, composite);
        }
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> copy = new LinkedHashMap<>();
            map.forEach((k, v) -> copy.put(String.valueOf(k), json(v, composite)));
            return copy;
        }
        return value.toString();
    }

    private static List<Object> items(List<?> items, UnaryOperator<Object> composite) {
        List<Object> copy = new ArrayList<>(items.size());
        for (Object item : items) {
            copy.add(json(item, composite));
        }
        return copy;
    }
}
