package io.tarn.server;

import static io.tarn.server.Fixtures.await;
import static java.net.URLEncoder.encode;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.tarn.core.config.ConfigKeys;
import io.tarn.core.config.TarnConfig;
import io.tarn.core.io.Directories;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Live views over HTTP, on one server in this JVM (restarted by the last test): exact aggregates of generated clicks
 * read by key, several keys, prefix and range, updated as clicks arrive, refusals that leave nothing behind, and the
 * same rows after a restart.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ViewIT {
    private static final int USERS = 37;
    private static final int PAGES = 11;

    private static Path dataDir;
    private static TarnConfig config;
    private static TarnServer server;
    private static Http http;
    /** Clicks sent so far: click n is user {@code u(n % 37)} on page {@code p(n % 11)}, amount {@code n % 100}. */
    private static int sent;

    @BeforeAll
    static void start() throws Exception {
        dataDir = Files.createTempDirectory("tarn-view-it").toRealPath();
        config = Fixtures.localServer(dataDir).with(ConfigKeys.VIEWS_SUBSCRIBER_MAX_LAG, "2000");
        startServer();
        Http.Reply topic = http.post(
                "/v1/topics",
                Map.of(
                        "name",
                        "clicks",
                        "partitions",
                        2,
                        "columns",
                        List.of(
                                Map.of("name", "uid", "type", "STRING"),
                                Map.of("name", "page", "type", "STRING"),
                                Map.of("name", "amount", "type", "BIGINT"))));
        assertThat(topic.status()).as(topic.text()).isEqualTo(201);
        send(3000);
    }

    private static void startServer() {
        server = TarnServer.start(config);
        http = Fixtures.awaitReady(server);
    }

    @AfterAll
    static void stop() {
        try {
            if (server != null) {
                server.close();
            }
        } finally {
            Directories.deleteRecursively(dataDir);
        }
    }

    private static void send(int count) {
        List<Map<String, Object>> clicks = new ArrayList<>();
        for (int n = sent; n < sent + count; n++) {
            clicks.add(Map.of("uid", "u" + n % USERS, "page", "p" + n % PAGES, "amount", n % 100));
        }
        Http.Reply reply = http.post("/v1/topics/clicks/records", clicks);
        assertThat(reply.status()).as(reply.text()).isEqualTo(200);
        sent += count;
    }

    /** Per user: clicks, total amount and distinct pages, as {@code uid|clicks|total|pages}, computed from the clicks. */
    private static Map<String, String> expectedPerUser() {
        Map<String, long[]> sums = new TreeMap<>();
        Map<String, Set<String>> pages = new HashMap<>();
        for (int n = 0; n < sent; n++) {
            String user = "u" + n % USERS;
            long[] s = sums.computeIfAbsent(user, u -> new long[2]);
            s[0]++;
            s[1] += n % 100;
            pages.computeIfAbsent(user, u -> new HashSet<>()).add("p" + n % PAGES);
        }
        Map<String, String> expected = new TreeMap<>();
        sums.forEach((user, s) -> expected.put(
                user, user + "|" + s[0] + "|" + s[1] + "|" + pages.get(user).size()));
        return expected;
    }

    private static List<String> perUser(Http.Reply reply) {
        assertThat(reply.status()).as(reply.text()).isEqualTo(200);
        List<String> rows = new ArrayList<>();
        for (JsonNode row : reply.body().path("rows")) {
            rows.add(row.path("uid").asText() + "|" + row.path("clicks").asLong() + "|"
                    + row.path("total").asLong() + "|" + row.path("pages").asLong());
        }
        return rows;
    }

    private static void awaitView(String view, List<String> expected) {
        await(
                "view " + view + " to equal the aggregate of the clicks",
                Duration.ofMinutes(2),
                () -> perUser(http.get("/v1/views/" + view + "?limit=1000")).equals(expected),
                () -> http.get("/v1/views/" + view + "/status").text());
    }

    @Test
    @Order(1)
    void aGroupedViewAnswersByKeySeveralKeysAndRangeWithTheExactAggregates() {
        Http.Reply created = http.post(
                "/v1/views",
                Map.of(
                        "name",
                        "per_user",
                        "sql",
                        "SELECT uid, count(*) AS clicks, sum(amount) AS total, count(DISTINCT page) AS pages"
                                + " FROM stream.clicks GROUP BY uid"));
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        Instant createdAt = Instant.parse(created.body().path("createdAt").asText());
        assertThat(created.body().path("key").toString()).isEqualTo("[\"uid\"]"); // derived by Flink's planner
        assertThat(created.body().path("topic").asText()).isEqualTo("per_user.view");
        assertThat(created.body().path("pipeline").asText()).isEqualTo("per_user-view");
        assertThat(created.body().path("columns").toString())
                .isEqualTo(
                        "[{\"name\":\"uid\",\"type\":\"STRING\"},{\"name\":\"clicks\",\"type\":\"BIGINT NOT NULL\"},"
                                + "{\"name\":\"total\",\"type\":\"BIGINT\"},{\"name\":\"pages\",\"type\":\"BIGINT NOT NULL\"}]");

        Map<String, String> expected = expectedPerUser();
        awaitView("per_user", List.copyOf(expected.values()));

        assertThat(perUser(http.get("/v1/views/per_user?key=u5"))).containsExactly(expected.get("u5"));
        assertThat(perUser(http.get("/v1/views/per_user?keys=" + encode("[\"u12\",\"u1\",\"nobody\"]", UTF_8))))
                .containsExactly(expected.get("u1"), expected.get("u12"));
        // u1, u10 … u19: keys are text, in text order
        List<String> range = perUser(http.get("/v1/views/per_user?from=u1&to=u2"));
        assertThat(range).hasSize(11).startsWith(expected.get("u1"), expected.get("u10"));
        assertThat(perUser(http.get("/v1/views/per_user?order=desc&limit=3")))
                .containsExactly(expected.get("u9"), expected.get("u8"), expected.get("u7"));
        assertThat(perUser(http.get("/v1/views/per_user?key=nobody"))).isEmpty();

        send(1000); // the view follows
        awaitView("per_user", List.copyOf(expectedPerUser().values()));
        JsonNode status = http.get("/v1/views/per_user/status").body();
        assertThat(status.path("state").asText()).isEqualTo("RUNNING");
        assertThat(status.path("rows").asLong()).isEqualTo(USERS);
        assertThat(status.path("skippedRecords").asLong()).isZero();
        JsonNode freshness = http.get("/v1/views/per_user?key=u1").body().path("freshness");
        assertThat(freshness.path("lagRecords").asLong()).isZero();
        assertThat(Instant.parse(freshness.path("changedAt").asText())).isAfter(createdAt);
        JsonNode views = http.get("/v1/views").body().path("views");
        assertThat(views.size()).isEqualTo(1);
        assertThat(views.get(0).path("name").asText()).isEqualTo("per_user");
        assertThat(views.get(0).path("rows").asLong()).isEqualTo(USERS);
    }

    @Test
    @Order(2)
    void aViewKeyedByTwoColumnsAnswersByPrefix() {
        Http.Reply created = http.post(
                "/v1/views",
                Map.of(
                        "name",
                        "user_pages",
                        "sql",
                        "SELECT uid, page, count(*) AS c FROM stream.clicks GROUP BY uid, page;"));
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        assertThat(created.body().path("key").toString()).isEqualTo("[\"uid\",\"page\"]");
        Map<String, Long> counts = new TreeMap<>();
        for (int n = 0; n < sent; n++) {
            counts.merge("u3|p" + n % PAGES, n % USERS == 3 ? 1L : 0L, Long::sum);
        }
        counts.values().removeIf(c -> c == 0);
        List<String> expected = counts.entrySet().stream()
                .map(e -> e.getKey() + "|" + e.getValue())
                .toList();
        assertThat(expected).hasSize(PAGES); // 37 and 11 share no factor: every user sees every page
        await(
                "the pages of u3",
                Duration.ofMinutes(2),
                () -> pages(http.get("/v1/views/user_pages?prefix=" + encode("[\"u3\"]", UTF_8)))
                        .equals(expected),
                () -> http.get("/v1/views/user_pages/status").text());
        assertThat(pages(http.get("/v1/views/user_pages?key=" + encode("[\"u3\",\"p4\"]", UTF_8))))
                .containsExactly("u3|p4|" + counts.get("u3|p4"));

        // the command line client reads the same rows
        String got = cli("views", "get", "user_pages", "--key", "[\"u3\",\"p4\"]");
        assertThat(got)
                .startsWith("uid | page | c\n")
                .contains("\nu3  | p4   | " + counts.get("u3|p4") + "\n(1 row)\napplied up to ");
        assertThat(cli("views", "get", "user_pages", "--key", "[\"u3\",\"p4\"]", "--json"))
                .contains("\"c\" : " + counts.get("u3|p4"));
        String listed = cli("views", "list");
        assertThat(listed.lines()
                        .filter(l -> l.startsWith("user_pages "))
                        .findFirst()
                        .orElseThrow())
                .contains("RUNNING", "uid,page", String.valueOf(USERS * PAGES));
    }

    private static String cli(String... args) {
        List<String> withUrl =
                new ArrayList<>(List.of("--url", server.httpAddress(), "--data-dir", dataDir.toString()));
        withUrl.addAll(List.of(args));
        Cli.Result result = Cli.run(withUrl.toArray(String[]::new));
        assertThat(result.code()).as(result.err()).isZero();
        return result.out();
    }

    private static List<String> pages(Http.Reply reply) {
        assertThat(reply.status()).as(reply.text()).isEqualTo(200);
        List<String> rows = new ArrayList<>();
        for (JsonNode row : reply.body().path("rows")) {
            rows.add(row.path("uid").asText() + "|" + row.path("page").asText() + "|"
                    + row.path("c").asLong());
        }
        return rows;
    }

    @Test
    @Order(3)
    void aClientFollowsEveryChangeInOrderResumesWithoutGapsAndIsCutOffWhenTooFarBehind() throws Exception {
        Map<String, String> state = new TreeMap<>();
        String lastId;
        try (EventStream events = EventStream.open(http, "/v1/views/per_user/changes", Optional.empty())) {
            // the current rows, then ready with the position they are at
            for (int i = 0; i < USERS; i++) {
                EventStream.Event row = events.next();
                assertThat(row.event()).isEqualTo("upsert");
                assertThat(row.id()).isNull();
                state.put(row.data().path("uid").asText(), perUser(row.data()));
            }
            EventStream.Event ready = events.next();
            assertThat(ready.event()).isEqualTo("ready");
            assertThat(ready.data().path("rows").asInt()).isEqualTo(USERS);
            assertThat(state).isEqualTo(expectedPerUser());
            lastId = ready.id();

            send(200); // every change follows, in order
            lastId = followUntil(events, state, expectedPerUser(), lastId);
        }
        // gone for a while: changes meanwhile arrive after the last id seen, without the rows again
        send(300);
        Map<String, String> expected = expectedPerUser();
        try (EventStream events = EventStream.open(http, "/v1/views/per_user/changes", Optional.of(lastId))) {
            followUntil(events, state, expected, lastId);
        }
        // from the start of the topic, a client is more than views.subscriber-max-lag (2000) changes behind
        int partitions =
                http.get("/v1/topics/per_user.view").body().path("partitions").asInt();
        List<String> start = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            start.add(p + ":0");
        }
        try (EventStream events =
                EventStream.open(http, "/v1/views/per_user/changes", Optional.of(String.join(",", start)))) {
            EventStream.Event event = events.next();
            while (!event.event().equals("cutoff")) {
                event = events.next();
            }
            assertThat(event.data().path("reason").asText())
                    .matches("the client is \\d+ changes behind view 'per_user' \\(views.subscriber-max-lag 2000\\);"
                            + " reconnect with the last event id to go on from there");
            assertThat(events.ended()).isTrue();
        }
        Http.Reply bad = http.get("/v1/views/per_user/changes?lastEventId=" + encode("0:12,7:3", UTF_8));
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.errorMessage())
                .isEqualTo("Last-Event-ID '0:12,7:3' is not a position of view 'per_user': it is partition:offset"
                        + " pairs, as the ids of the view's events");
    }

    /**
     * Applies a follower's changes to its state until it equals the expected rows, each after the one before.
     *
     * @return the id of the last change
     */
    private static String followUntil(
            EventStream events, Map<String, String> state, Map<String, String> expected, String lastId)
            throws InterruptedException {
        while (!state.equals(expected)) {
            EventStream.Event change = events.next();
            assertThat(change.event()).isEqualTo("upsert");
            assertAfter(change.id(), lastId);
            lastId = change.id();
            state.put(change.data().path("uid").asText(), perUser(change.data()));
        }
        return lastId;
    }

    private static String perUser(JsonNode row) {
        return row.path("uid").asText() + "|" + row.path("clicks").asLong() + "|"
                + row.path("total").asLong() + "|" + row.path("pages").asLong();
    }

    /** Each partition's offset in {@code id} is at or after its offset in {@code before}, one of them after. */
    private static void assertAfter(String id, String before) {
        Map<String, Long> now = offsets(id);
        Map<String, Long> then = offsets(before);
        then.forEach((partition, offset) -> assertThat(now.get(partition)).isGreaterThanOrEqualTo(offset));
        assertThat(now).isNotEqualTo(then);
    }

    private static Map<String, Long> offsets(String id) {
        Map<String, Long> offsets = new TreeMap<>();
        for (String pair : id.split(",")) {
            String[] parts = pair.split(":");
            offsets.put(parts[0], Long.parseLong(parts[1]));
        }
        return offsets;
    }

    @Test
    @Order(4)
    void refusedViewsAndReadsSayWhyAndLeaveNothingBehind() {
        assertRefused(
                Map.of(
                        "name",
                        "bad",
                        "sql",
                        "SELECT uid, count(*) AS c FROM stream.clicks GROUP BY uid",
                        "history",
                        "yes"),
                400,
                "INVALID_REQUEST",
                "history must be true or false");
        assertThat(http.get("/v1/tables/views.bad").status()).isEqualTo(404);
        assertRefused(
                Map.of("name", "bad", "sql", "INSERT INTO stream.clicks SELECT * FROM stream.clicks"),
                400,
                "INVALID_SQL",
                "view 'bad' must be a query (SELECT …); it is SinkModifyOperation");
        assertRefused(
                Map.of("name", "bad", "sql", "SELECT 1 AS a; SELECT 2 AS b"),
                400,
                "INVALID_SQL",
                "view 'bad' must be one query (SELECT …), not 2 statements");
        assertRefused(
                Map.of("name", "bad", "sql", "SELECT uid, amount FROM stream.clicks WHERE amount > 3"),
                400,
                "INVALID_REQUEST",
                "view 'bad': Flink derives no key for its rows (its query only appends rows); give \"key\", the"
                        + " columns [uid, amount] that identify a row");
        assertRefused(
                Map.of(
                        "name",
                        "bad",
                        "sql",
                        "SELECT uid, count(*) AS c FROM stream.clicks GROUP BY uid",
                        "key",
                        List.of("nope")),
                400,
                "INVALID_REQUEST",
                "view 'bad': key column 'nope' is not a column of its query [uid, c]");
        assertRefused(
                Map.of("name", "Bad View", "sql", "SELECT 1 AS a"),
                400,
                "INVALID_NAME",
                "view name 'Bad View' must be 1-95 characters of lower-case letters, digits, '_' and '-', starting with"
                        + " a letter or digit");
        assertRefused(
                Map.of("name", "per_user", "sql", "SELECT uid, count(*) AS c FROM stream.clicks GROUP BY uid"),
                409,
                "VIEW_ALREADY_EXISTS",
                "view 'per_user' already exists");
        assertThat(http.get("/v1/topics/bad.view").status()).isEqualTo(404);
        assertThat(http.get("/v1/pipelines/bad-view").status()).isEqualTo(404);
        assertThat(http.get("/v1/views/bad/status").errorName()).isEqualTo("VIEW_NOT_FOUND");

        assertThat(http.get("/v1/views/per_user?color=red").errorMessage())
                .isEqualTo("unknown parameter [color]; a read of a view takes [key, keys, prefix, from, to, limit,"
                        + " order]");
        List<String> tooMany = new ArrayList<>();
        for (int i = 0; i < 1001; i++) {
            tooMany.add(String.valueOf(i)); // numbers, read as the text of a STRING key: short enough for a URL
        }
        assertThat(http.get("/v1/views/per_user?keys=%5B" + String.join(",", tooMany) + "%5D")
                        .errorMessage())
                .isEqualTo("keys lists 1001 keys; a read takes at most 1000");
        assertThat(http.get("/v1/views/per_user?limit=0").errorMessage())
                .isEqualTo("limit must be between 1 and 10000 (query.max-rows), got 0");
        assertThat(http.get("/v1/views/user_pages?key=" + encode("[\"u3\"]", UTF_8))
                        .errorMessage())
                .isEqualTo("view 'user_pages' has a key of 2 columns [uid, page]; a key of 1 values was given");
        // the view's topic is written by its job only
        Http.Reply sneaky = http.post(
                "/v1/pipelines",
                Map.of(
                        "name",
                        "sneaky",
                        "sql",
                        "INSERT INTO stream.`per_user.view` SELECT uid, 1, 1, 1 FROM stream.clicks"));
        assertThat(sneaky.errorName()).isEqualTo("STATEMENT_NOT_ALLOWED");
        assertThat(sneaky.errorMessage())
                .endsWith("topic 'per_user.view' holds the rows of a view; only the view's own pipeline writes it");
        assertThat(http.get("/v1/pipelines/sneaky").status()).isEqualTo(404);
        assertThat(http.post("/v1/topics/per_user.view/records", List.of(Map.of("uid", "x")))
                        .errorMessage())
                .isEqualTo("topic 'per_user.view' holds the rows of a view, written by its job; it does not accept"
                        + " records over HTTP");
        assertThat(http.delete("/v1/topics/per_user.view").errorMessage())
                .isEqualTo("topic 'per_user.view' holds the rows of a view; delete the view (which deletes its topic)");
    }

    private static void assertRefused(Map<String, Object> body, int status, String error, String message) {
        Http.Reply reply = http.post("/v1/views", body);
        assertThat(reply.status()).as(reply.text()).isEqualTo(status);
        assertThat(reply.errorName()).isEqualTo(error);
        assertThat(reply.errorMessage()).isEqualTo(message);
    }

    @Test
    @Order(5)
    void aViewKeepsItsRowsAcrossARestartAndFollowsTheClicksSentMeanwhile() {
        List<String> before = List.copyOf(expectedPerUser().values());
        server.close();
        startServer();
        // the store answers at once with the rows it had, before the pipeline has resumed
        assertThat(perUser(http.get("/v1/views/per_user?limit=1000"))).isEqualTo(before);
        send(500);
        awaitView("per_user", List.copyOf(expectedPerUser().values()));

        assertThat(http.delete("/v1/views/per_user").status()).isEqualTo(204);
        assertThat(http.get("/v1/views/per_user/status").status()).isEqualTo(404);
        assertThat(http.get("/v1/topics/per_user.view").status()).isEqualTo(404);
        assertThat(http.get("/v1/pipelines/per_user-view").status()).isEqualTo(404);
        assertThat(dataDir.resolve("views").resolve("per_user.db")).doesNotExist();
    }

    @Test
    @Order(6)
    void freshnessGivesTheEventTimeWatermarkThatReachedTheView() {
        Http.Reply topic = http.post(
                "/v1/topics",
                Map.of(
                        "name",
                        "timed",
                        "partitions",
                        1,
                        "columns",
                        List.of(Map.of("name", "uid", "type", "STRING"), Map.of("name", "ts", "type", "TIMESTAMP(3)")),
                        "watermark",
                        Map.of("column", "ts", "delay", "2s")));
        assertThat(topic.status()).as(topic.text()).isEqualTo(201);
        Http.Reply created = http.post(
                "/v1/views",
                Map.of("name", "timed", "sql", "SELECT uid, count(*) AS c FROM stream.timed GROUP BY uid"));
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        assertThat(created.body().path("freshness").path("watermark").isNull()).isTrue();
        List<Map<String, Object>> events = new ArrayList<>();
        for (int n = 0; n < 10; n++) {
            events.add(Map.of("uid", "u" + n % 3, "ts", "2026-12-03T10:00:0" + n));
        }
        assertThat(http.post("/v1/topics/timed/records", events).status()).isEqualTo(200);
        // the newest event time, 10:00:09, less the declared delay of 2 s (Flink's watermark may be 1 ms below it)
        await(
                "the view's watermark",
                Duration.ofMinutes(2),
                () -> {
                    String watermark = http.get("/v1/views/timed/status")
                            .body()
                            .path("freshness")
                            .path("watermark")
                            .asText();
                    return watermark.equals("2026-12-03T10:00:07Z") || watermark.equals("2026-12-03T10:00:06.999Z");
                },
                () -> http.get("/v1/views/timed/status").text());
    }

    @Test
    @Order(7)
    void aViewWithHistoryIsUpsertedIntoTheLakeAndLakeSqlReadsItsLiveRowsNextToLakeTables() {
        Http.Reply created = http.post(
                "/v1/views",
                Map.of(
                        "name",
                        "spend",
                        "sql",
                        "SELECT uid, count(*) AS clicks, CAST(sum(amount) AS DECIMAL(20, 2)) AS spent"
                                + " FROM stream.clicks GROUP BY uid",
                        "history",
                        true));
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        assertThat(created.body().path("history").asText()).isEqualTo("lake.views.spend");
        await(
                "the lake's history of view spend to equal the aggregate of the clicks",
                Duration.ofMinutes(2),
                () -> spend("SELECT uid, clicks, spent::VARCHAR FROM lake.views.spend ORDER BY uid")
                        .equals(expectedSpend()),
                () -> http.get("/v1/views/spend/status").text());
        // the live rows, typed as the view declares them, next to the lake's: the same now that both caught up
        assertThat(spend(
                        "SELECT l.uid, l.clicks, l.spent::VARCHAR FROM live.spend l JOIN lake.views.spend h USING (uid)"
                                + " WHERE l.clicks = h.clicks AND l.spent = h.spent ORDER BY uid"))
                .isEqualTo(expectedSpend());
        assertThat(query("SELECT typeof(spent), typeof(clicks) FROM live.spend LIMIT 1")
                        .toString())
                .isEqualTo("[[\"DECIMAL(20,2)\",\"BIGINT\"]]");

        send(370); // a query reads the live rows as the store has them
        await("live.spend in lake SQL to equal the aggregate of the clicks", Duration.ofMinutes(2), () -> spend(
                        "SELECT uid, clicks, spent::VARCHAR FROM live.spend ORDER BY uid")
                .equals(expectedSpend()));
        assertThat(query("SELECT count(*), sum(clicks) FROM live.spend").toString())
                .isEqualTo("[[%d,%d]]".formatted(USERS, sent));

        Http.Reply missing = http.post("/v1/query", Map.of("sql", "SELECT * FROM live.nothing"));
        assertThat(missing.status()).isEqualTo(404);
        assertThat(missing.errorMessage()).isEqualTo("live view 'nothing' does not exist (GET /v1/views lists them)");

        assertThat(http.delete("/v1/views/spend").status()).isEqualTo(204);
        assertThat(http.post("/v1/query", Map.of("sql", "SELECT * FROM live.spend"))
                        .status())
                .isEqualTo(404);
        // the history stays in the lake
        assertThat(http.get("/v1/tables/views.spend").status()).isEqualTo(200);
    }

    @Test
    @Order(8)
    void aViewOverAJoinOfTwoTopicsHasTheExactCountsPerCategory() {
        Http.Reply topic = http.post(
                "/v1/topics",
                Map.of(
                        "name",
                        "pages",
                        "partitions",
                        1,
                        "columns",
                        List.of(
                                Map.of("name", "page", "type", "STRING"),
                                Map.of("name", "category", "type", "STRING"))));
        assertThat(topic.status()).as(topic.text()).isEqualTo(201);
        List<Map<String, Object>> pages = new ArrayList<>();
        for (int p = 0; p < PAGES; p++) {
            pages.add(Map.of("page", "p" + p, "category", "c" + p % 3));
        }
        assertThat(http.post("/v1/topics/pages/records", pages).status()).isEqualTo(200);
        Http.Reply created = http.post(
                "/v1/views",
                Map.of(
                        "name",
                        "per_category",
                        "sql",
                        "SELECT p.category, count(*) AS clicks, count(DISTINCT c.uid) AS users FROM stream.clicks c"
                                + " JOIN stream.pages p ON c.page = p.page GROUP BY p.category"));
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        assertThat(created.body().path("key").toString()).isEqualTo("[\"category\"]");
        send(123);
        await(
                "view per_category to equal the clicks per category",
                Duration.ofMinutes(2),
                () -> perCategory().equals(expectedPerCategory()),
                () -> http.get("/v1/views/per_category/status").text());
    }

    /** Per category, as {@code category|clicks|users}, from the view. */
    private static List<String> perCategory() {
        Http.Reply reply = http.get("/v1/views/per_category");
        assertThat(reply.status()).as(reply.text()).isEqualTo(200);
        List<String> rows = new ArrayList<>();
        for (JsonNode row : reply.body().path("rows")) {
            rows.add(row.path("category").asText() + "|" + row.path("clicks").asLong() + "|"
                    + row.path("users").asLong());
        }
        return rows;
    }

    /** Per category ({@code c<page % 3>}), as {@code category|clicks|users}, computed from the clicks. */
    private static List<String> expectedPerCategory() {
        Map<String, Long> clicks = new TreeMap<>();
        Map<String, Set<String>> users = new HashMap<>();
        for (int n = 0; n < sent; n++) {
            String category = "c" + (n % PAGES) % 3;
            clicks.merge(category, 1L, Long::sum);
            users.computeIfAbsent(category, c -> new HashSet<>()).add("u" + n % USERS);
        }
        List<String> rows = new ArrayList<>();
        clicks.forEach((category, count) ->
                rows.add(category + "|" + count + "|" + users.get(category).size()));
        return rows;
    }

    /** Per user, as {@code uid|clicks|spent}, computed from the clicks. */
    private static List<String> expectedSpend() {
        Map<String, long[]> sums = new TreeMap<>();
        for (int n = 0; n < sent; n++) {
            long[] s = sums.computeIfAbsent("u" + n % USERS, u -> new long[2]);
            s[0]++;
            s[1] += n % 100;
        }
        List<String> rows = new ArrayList<>();
        sums.forEach((user, s) -> rows.add(user + "|" + s[0] + "|" + s[1] + ".00"));
        return rows;
    }

    private static List<String> spend(String sql) {
        List<String> rows = new ArrayList<>();
        for (JsonNode row : query(sql)) {
            rows.add(row.get(0).asText() + "|" + row.get(1).asLong() + "|"
                    + row.get(2).asText());
        }
        return rows;
    }

    private static JsonNode query(String sql) {
        Http.Reply reply = http.post("/v1/query", Map.of("sql", sql));
        assertThat(reply.status()).as(reply.text()).isEqualTo(200);
        return reply.body().path("rows");
    }
}
