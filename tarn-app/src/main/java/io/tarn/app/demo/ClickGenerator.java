package io.tarn.app.demo;

import java.time.LocalDateTime;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Deterministic page-view events for the demo and the tests: event {@code n} is always the same click, so expected
 * aggregates can be computed from the sequence numbers alone.
 */
public final class ClickGenerator {
    static final List<String> PAGES =
            List.of("/", "/pricing", "/docs", "/docs/quickstart", "/blog", "/blog/kappa", "/signup", "/about");
    static final List<String> COUNTRIES = List.of("DE", "FR", "US", "BR", "JP", "IN", "NG", "SE");
    static final List<String> REFERRERS = List.of("direct", "search", "social", "newsletter", "partner");
    private static final int USERS = 500;

    private ClickGenerator() {}

    /** The n-th click, happening at {@code eventTime} (UTC). */
    public static Click click(long n, LocalDateTime eventTime) {
        SplittableRandom random = new SplittableRandom(n * 0x9E3779B97F4A7C15L + 17);
        return new Click(
                "u" + random.nextInt(USERS),
                PAGES.get(random.nextInt(PAGES.size())),
                COUNTRIES.get(random.nextInt(COUNTRIES.size())),
                REFERRERS.get(random.nextInt(REFERRERS.size())),
                eventTime);
    }

    /** One page view. */
    public record Click(String userId, String page, String country, String referrer, LocalDateTime eventTime) {
        /** As the JSON object that topic {@code clicks} expects. */
        public String json() {
            return "{\"user_id\":\"%s\",\"page\":\"%s\",\"country\":\"%s\",\"referrer\":\"%s\",\"event_time\":\"%s\"}"
                    .formatted(userId, page, country, referrer, eventTime);
        }
    }
}
