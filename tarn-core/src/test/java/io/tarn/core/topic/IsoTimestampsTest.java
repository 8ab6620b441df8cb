package io.tarn.core.topic;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The fast timestamp checks must answer exactly as the formatters of Flink's JSON format do, for every text. */
class IsoTimestampsTest {
    private static final String CHARS = "0123456789-:T.Z+ tz";

    @Test
    void timestampLtzIsUtcWithALiteralZAsFlinkReadsIt() {
        assertThat(IsoTimestamps.isUtcTimestamp("2026-11-22T10:15:30.123Z")).isTrue();
        assertThat(IsoTimestamps.isUtcTimestamp("2026-11-22T10:15:30+01:00"))
                .as("an offset other than Z fails in Flink's JSON format, so ingest refuses it")
                .isFalse();
    }

    @Test
    void agreesWithJavaTimeOnEdgeCases() {
        List<String> texts = List.of(
                "2026-11-22T10:15:30",
                "2026-11-22T10:15:30.123",
                "2026-11-22T10:15:30.123456789",
                "2026-11-22T10:15:30.1234567890",
                "2026-11-22T10:15:30.",
                "2026-11-22T10:15",
                "2026-11-22t10:15:30",
                "2024-02-29T00:00:00",
                "2023-02-29T00:00:00",
                "1900-02-29T00:00:00",
                "2000-02-29T00:00:00",
                "0000-02-29T00:00:00",
                "2026-04-31T00:00:00",
                "2026-13-01T00:00:00",
                "2026-00-01T00:00:00",
                "2026-01-00T00:00:00",
                "2026-01-01T24:00:00",
                "2026-01-01T23:60:00",
                "2026-01-01T23:59:60",
                "+12026-01-01T00:00:00",
                "2026-01-01T00:00:00Z",
                "2026-01-01T00:00:00z",
                "2026-01-01T00:00:00+01:00",
                "2026-01-01T00:00:00-00:00",
                "2026-01-01T00:00:00+18:00",
                "2026-01-01T00:00:00+18:01",
                "2026-01-01T00:00:00+19:00",
                "2026-01-01T00:00:00+01:60",
                "2026-01-01T00:00:00+01:00:30",
                "2026-01-01T00:00:00+0100",
                "2026-01-01T00:00:00.5+05:30",
                " 2026-01-01T00:00:00",
                "2026-01-01T00:00:00 ",
                "2026-1-01T00:00:00",
                "２０２６-01-01T00:00:00",
                "");
        for (String text : texts) {
            assertAgrees(text);
        }
    }

    @Test
    void readsTheSameInstantAsJavaTimeFromYear0To9999() {
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 100_000; i++) {
            LocalDateTime time = LocalDateTime.of(0, 1, 1, 0, 0)
                    .plusSeconds(random.nextLong(10_000L * 366 * 86_400))
                    .withNano(random.nextInt(1_000_000_000));
            if (time.getYear() > 9999) {
                continue;
            }
            String text = time.toString();
            assertAgrees(text);
            assertThat(IsoTimestamps.parse(text.getBytes(StandardCharsets.ISO_8859_1), 0, text.length(), new long[2]))
                    .as("'%s' read to its end", text)
                    .isEqualTo(text.length());
        }
    }

    @Test
    void agreesWithJavaTimeOnRandomMutationsOfValidTimestamps() {
        SplittableRandom random = new SplittableRandom(20261122);
        List<String> bases = List.of(
                "2026-11-22T10:15:30",
                "2024-02-29T23:59:59.999",
                "1999-12-31T00:00:00.123456789Z",
                "2026-06-30T12:00:00+05:30",
                "2026-01-31T01:02:03-18:00");
        for (int i = 0; i < 50_000; i++) {
            StringBuilder text = new StringBuilder(bases.get(random.nextInt(bases.size())));
            int mutations = 1 + random.nextInt(3);
            for (int m = 0; m < mutations; m++) {
                int at = random.nextInt(text.length() + 1);
                char c = CHARS.charAt(random.nextInt(CHARS.length()));
                switch (random.nextInt(3)) {
                    case 0 -> text.insert(at, c);
                    case 1 -> {
                        if (at < text.length()) {
                            text.deleteCharAt(at);
                        }
                    }
                    default -> {
                        if (at < text.length()) {
                            text.setCharAt(at, c);
                        }
                    }
                }
            }
            assertAgrees(text.toString());
        }
    }

    private static void assertAgrees(String text) {
        assertThat(IsoTimestamps.isLocalDateTime(text))
                .as("LocalDateTime of '%s'", text)
                .isEqualTo(javaTime(() -> LocalDateTime.parse(text)));
        byte[] bytes = text.getBytes(StandardCharsets.ISO_8859_1);
        long[] read = new long[2];
        if (IsoTimestamps.parse(bytes, 0, bytes.length, read) == bytes.length) {
            LocalDateTime expected = LocalDateTime.parse(text);
            long seconds = expected.toEpochSecond(ZoneOffset.UTC);
            assertThat(read)
                    .as("value of '%s'", text)
                    .containsExactly(seconds * 1000 + expected.getNano() / 1_000_000, expected.getNano() % 1_000_000);
        }
        assertThat(IsoTimestamps.isUtcTimestamp(text))
                .as("TIMESTAMP_LTZ of '%s'", text)
                .isEqualTo(javaTime(() -> IsoTimestamps.FLINK_ISO_LTZ.parse(text)));
    }

    private static boolean javaTime(Runnable parse) {
        try {
            parse.run();
            return true;
        } catch (DateTimeParseException e) {
            return false;
        }
    }
}
