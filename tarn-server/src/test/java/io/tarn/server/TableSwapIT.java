package io.tarn.server;

import static io.tarn.server.Fixtures.await;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Reprocessing: a new version of a pipeline reads its topic from the start into a table of its own while the old one
 * keeps serving, then the two tables are swapped; queries running all along see the old table or the new one, whole,
 * never anything in between, and each pipeline goes on writing the data it wrote before, under the other name.
 */
class TableSwapIT {
    @RegisterExtension
    static final TarnServerExtension tarn = new TarnServerExtension();

    private static final String OLD = "[[200,20100,\"p0\"]]";
    private static final String NEW = "[[100,10100,\"P0\"]]";

    @Test
    void aReprocessedTableIsSwappedInWhileQueriesNeverSeeItPartial() throws Exception {
        Http http = tarn.http();
        Http.Reply topic = http.post(
                "/v1/topics",
                Map.of(
                        "name",
                        "clicks",
                        "partitions",
                        1,
                        "columns",
                        List.of(
                                Map.of("name", "id", "type", "BIGINT NOT NULL"),
                                Map.of("name", "page", "type", "STRING"))));
        assertThat(topic.status()).as(topic.text()).isEqualTo(201);
        ingest(http, 1, 200);
        create(
                http,
                "clicks-v1",
                """
                CREATE DATABASE IF NOT EXISTS lake.web;
                CREATE TABLE lake.web.clicks (id BIGINT, page STRING);
                INSERT INTO lake.web.clicks SELECT id, page FROM stream.clicks;
                """);
        awaitCount(http, "web.clicks", 200);
        // the new version: only even ids, pages in upper case, from the topic's start into a table of its own
        create(
                http,
                "clicks-v2",
                """
                CREATE TABLE lake.web.clicks_next (id BIGINT, page STRING);
                INSERT INTO lake.web.clicks_next SELECT id, UPPER(page) FROM stream.clicks WHERE MOD(id, 2) = 0;
                """);
        awaitCount(http, "web.clicks_next", 100);

        Set<String> seen = ConcurrentHashMap.newKeySet();
        List<String> failures = new ArrayList<>();
        AtomicBoolean reading = new AtomicBoolean(true);
        AtomicInteger queries = new AtomicInteger();
        Thread reader = new Thread(() -> {
            while (reading.get()) {
                Http.Reply reply = http.post(
                        "/v1/query", Map.of("sql", "SELECT count(*), sum(id), min(page) FROM lake.web.clicks"));
                if (reply.status() == 200) {
                    seen.add(reply.body().path("rows").toString());
                } else {
                    synchronized (failures) {
                        failures.add(reply.text());
                    }
                }
                queries.incrementAndGet();
            }
        });
        reader.start();
        await("queries of the old table", Duration.ofMinutes(1), () -> queries.get() >= 5);
        Http.Reply swapped = http.post("/v1/tables/web.clicks/swap", Map.of("with", "web.clicks_next"));
        assertThat(swapped.status()).as(swapped.text()).isEqualTo(200);
        assertThat(swapped.body().toString())
                .isEqualTo(
                        "{\"swapped\":[\"web.clicks\",\"web.clicks_next\"],\"restarted\":[\"clicks-v1\",\"clicks-v2\"],"
                                + "\"leftStopped\":{}}");
        int after = queries.get();
        await("queries of the new table", Duration.ofMinutes(1), () -> queries.get() >= after + 5);
        reading.set(false);
        reader.join();
        assertThat(failures).isEmpty();
        assertThat(seen).as("each query saw one table whole").containsExactlyInAnyOrder(OLD, NEW);

        // each pipeline goes on with its own data, under the other name
        assertThat(http.get("/v1/pipelines/clicks-v2").body().path("sql").asText())
                .contains("INSERT INTO `lake`.`web`.`clicks` SELECT id, UPPER(page)");
        ingest(http, 201, 210);
        awaitCount(http, "web.clicks", 105);
        awaitCount(http, "web.clicks_next", 210);
        assertThat(Fixtures.rows(http, "SELECT count(*), sum(id), min(page) FROM lake.web.clicks")
                        .toString())
                .isEqualTo("[[105,11130,\"P0\"]]");

        // refusals change nothing
        assertThat(http.post("/v1/tables/web.clicks/swap", Map.of("with", "web.clicks"))
                        .status())
                .isEqualTo(400);
        assertThat(http.post("/v1/tables/web.clicks/swap", Map.of("with", "web.nothing"))
                        .status())
                .isEqualTo(404);
        assertThat(Fixtures.number(http, "SELECT count(*) FROM lake.web.clicks"))
                .isEqualTo(105);

        // and back, by the CLI: the old version serves the name again
        Cli.Result back = Cli.against(tarn.server(), "tables", "swap", "lake.web.clicks", "--with", "web.clicks_next");
        assertThat(back.code()).as(back.err()).isZero();
        assertThat(back.out())
                .isEqualTo("swapped lake.web.clicks and lake.web.clicks_next\nrestarted pipeline clicks-v1\n"
                        + "restarted pipeline clicks-v2\n");
        assertThat(Fixtures.rows(http, "SELECT count(*), sum(id), min(page) FROM lake.web.clicks")
                        .toString())
                .isEqualTo("[[210,22155,\"p0\"]]");
        assertThat(http.get("/v1/pipelines/clicks-v2").body().path("sql").asText())
                .contains("INSERT INTO `lake`.`web`.`clicks_next` SELECT id, UPPER(page)");
    }

    private static void create(Http http, String name, String sql) {
        Http.Reply created = http.post("/v1/pipelines", Map.of("name", name, "sql", sql, "from", "earliest"));
        assertThat(created.status()).as(created.text()).isEqualTo(201);
    }

    private static void ingest(Http http, int from, int to) {
        List<Map<String, Object>> records = new ArrayList<>();
        for (int id = from; id <= to; id++) {
            records.add(Map.of("id", id, "page", "p" + (id % 5)));
        }
        Http.Reply reply = http.post("/v1/topics/clicks/records", records);
        assertThat(reply.status()).as(reply.text()).isEqualTo(200);
    }

    private static void awaitCount(Http http, String table, long rows) {
        await(
                rows + " rows in " + table,
                Duration.ofMinutes(2),
                () -> Fixtures.number(http, "SELECT count(*) FROM lake." + table) == rows);
    }
}
