package io.tarn.bench;

import io.tarn.app.demo.ClickGenerator;
import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;

/** The benchmark's click events: event {@code n} is always the same JSON object of about 125 bytes. */
final class Events {
    static final String COLUMNS_DDL =
            "id BIGINT, user_id STRING, page STRING, country STRING, referrer STRING, event_time TIMESTAMP(3)";
    static final String COLUMNS = "id, user_id, page, country, referrer, event_time";
    private static final LocalDateTime START = LocalDateTime.of(2026, 1, 1, 0, 0);

    private Events() {}

    static String json(long n) {
        String click = ClickGenerator.click(n, START.plusNanos(n * 1_000_000L)).json();
        return "{\"id\":" + n + "," + click.substring(1);
    }

    static byte[] bytes(long n) {
        return json(n).getBytes(StandardCharsets.UTF_8);
    }
}
