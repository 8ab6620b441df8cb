package io.tarn.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Lineage from pipelines' compiled plans and views: a topic landed in a lake table, the same topic joined with a lake
 * table into another, and a view over the topic; each node's lineage upstream and downstream, down to columns, and
 * only what the token may read.
 */
class LineageIT {
    @RegisterExtension
    static final TarnServerExtension tarn = new TarnServerExtension();

    private static Http http;

    @BeforeAll
    static void pipelines() {
        http = tarn.http();
        Http.Reply topic = http.post(
                "/v1/topics",
                Map.of(
                        "name",
                        "orders",
                        "columns",
                        List.of(
                                Map.of("name", "id", "type", "BIGINT"),
                                Map.of("name", "customer", "type", "STRING"),
                                Map.of("name", "amount", "type", "DOUBLE"))));
        assertThat(topic.status()).as(topic.text()).isEqualTo(201);
        create(
                "land-orders",
                "CREATE TABLE IF NOT EXISTS lake.shop.orders (id BIGINT, customer STRING, amount DOUBLE);"
                        + " INSERT INTO lake.shop.orders SELECT id, customer, amount FROM stream.orders;");
        create(
                "customers",
                "CREATE TABLE IF NOT EXISTS lake.shop.customers (name STRING, country STRING);"
                        + " INSERT INTO lake.shop.customers SELECT customer, 'NL' FROM stream.orders;");
        create(
                "enrich",
                "CREATE TABLE IF NOT EXISTS lake.shop.enriched (id BIGINT, country STRING, doubled DOUBLE);"
                        + " INSERT INTO lake.shop.enriched SELECT o.id, c.country, o.amount * 2 FROM stream.orders o"
                        + " JOIN lake.shop.customers c ON o.customer = c.name;");
        Http.Reply view = http.post(
                "/v1/views",
                Map.of(
                        "name",
                        "spend",
                        "sql",
                        "SELECT customer, sum(amount) AS total FROM stream.orders GROUP BY customer"));
        assertThat(view.status()).as(view.text()).isEqualTo(201);
    }

    private static void create(String name, String sql) {
        Http.Reply created = http.post("/v1/pipelines", Map.of("name", name, "sql", sql));
        assertThat(created.status()).as(created.text()).isEqualTo(201);
    }

    @Test
    void aTopicsLineageIsEveryPipelineAndViewDownstreamDownToColumns() {
        JsonNode lineage = http.get("/v1/lineage?topic=orders").body();
        assertThat(lineage.path("root").asText()).isEqualTo("topic:orders");
        assertThat(nodes(lineage))
                .containsExactlyInAnyOrder(
                        "topic:orders root",
                        "pipeline:land-orders downstream",
                        "table:shop.orders downstream",
                        "pipeline:customers downstream",
                        "table:shop.customers downstream",
                        "pipeline:enrich downstream",
                        "table:shop.enriched downstream",
                        "pipeline:spend-view downstream",
                        "topic:spend.view downstream",
                        "view:spend downstream");
        assertThat(edges(lineage))
                .containsExactlyInAnyOrder(
                        "topic:orders > pipeline:land-orders",
                        "pipeline:land-orders > table:shop.orders",
                        "topic:orders > pipeline:customers",
                        "pipeline:customers > table:shop.customers",
                        "topic:orders > pipeline:enrich",
                        "table:shop.customers > pipeline:enrich",
                        "pipeline:enrich > table:shop.enriched",
                        "topic:orders > pipeline:spend-view",
                        "pipeline:spend-view > topic:spend.view",
                        "topic:spend.view > view:spend");
        assertThat(columns(lineage))
                .contains(
                        "topic:orders.amount > table:shop.orders.amount via land-orders",
                        "topic:orders.customer > table:shop.customers.name via customers",
                        "topic:orders.amount > table:shop.enriched.doubled via enrich",
                        "topic:orders.amount > topic:spend.view.total via spend-view",
                        "topic:spend.view.total > view:spend.total")
                .doesNotContain("table:shop.customers.country > table:shop.enriched.doubled via enrich");
        assertThat(lineage.path("hidden").asInt()).isZero();
    }

    @Test
    void aTablesLineageIsWhatFeedsItAndWhatItFeeds() {
        JsonNode lineage = http.get("/v1/lineage?table=shop.customers").body();
        assertThat(nodes(lineage))
                .containsExactlyInAnyOrder(
                        "table:shop.customers root",
                        "pipeline:customers upstream",
                        "topic:orders upstream",
                        "pipeline:enrich downstream",
                        "table:shop.enriched downstream");
        assertThat(edges(lineage))
                .containsExactlyInAnyOrder(
                        "topic:orders > pipeline:customers",
                        "pipeline:customers > table:shop.customers",
                        "table:shop.customers > pipeline:enrich",
                        "pipeline:enrich > table:shop.enriched");
        assertThat(columns(lineage))
                .containsExactlyInAnyOrder(
                        "topic:orders.customer > table:shop.customers.name via customers",
                        "table:shop.customers.country > table:shop.enriched.country via enrich");
    }

    @Test
    void aTokenSeesOnlyWhatItMayReadAndNeedsTheRoot() {
        Http.Reply token = http.post(
                "/v1/tokens",
                Map.of(
                        "name",
                        "lineage-reader",
                        "grants",
                        List.of(Map.of("privilege", "read", "resource", "table:shop.*"))));
        Http reader = http.withToken(Optional.of(token.body().path("token").asText()));
        JsonNode lineage = reader.get("/v1/lineage?table=shop.customers").body();
        assertThat(nodes(lineage))
                .containsExactlyInAnyOrder("table:shop.customers root", "table:shop.enriched downstream");
        assertThat(edges(lineage)).isEmpty();
        assertThat(lineage.path("hidden").asInt()).isEqualTo(3);
        assertThat(reader.get("/v1/lineage?topic=orders").status()).isEqualTo(403);

        Http.Reply two = http.get("/v1/lineage?table=shop.orders&topic=orders");
        assertThat(two.status()).isEqualTo(400);
        assertThat(two.errorMessage())
                .isEqualTo("a lineage is of one node: give one of ?topic=, ?table=, ?pipeline=, ?view=, ?source=");
        assertThat(http.get("/v1/lineage?table=shop.nothing").status()).isEqualTo(404);
    }

    static Set<String> nodes(JsonNode lineage) {
        Set<String> nodes = new TreeSet<>();
        lineage.path("nodes")
                .forEach(n -> nodes.add(
                        n.path("id").asText() + " " + n.path("direction").asText()));
        return nodes;
    }

    static Set<String> edges(JsonNode lineage) {
        Set<String> edges = new TreeSet<>();
        lineage.path("edges")
                .forEach(e ->
                        edges.add(e.path("from").asText() + " > " + e.path("to").asText()));
        return edges;
    }

    static Set<String> columns(JsonNode lineage) {
        Set<String> columns = new TreeSet<>();
        lineage.path("columns")
                .forEach(c -> columns.add(
                        c.path("from").asText() + " > " + c.path("to").asText()
                                + (c.path("pipeline").isNull()
                                        ? ""
                                        : " via " + c.path("pipeline").asText())));
        return columns;
    }
}
