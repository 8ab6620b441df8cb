package io.tarn.server;

import static io.tarn.server.Fixtures.await;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tarn.server.auth.Tokens;
import io.tarn.server.http.IcebergRestApi;
import io.tarn.server.http.MetricsApi;
import io.tarn.server.http.Route;
import io.tarn.server.http.SchemaRegistryApi;
import io.tarn.server.http.TarnApi;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Who may do what over HTTP: every route of Tarn's API (and {@code /metrics}) called by the admin token, a reader, a
 * writer, a token without grants and a revoked token, each answer's status exact, and what a refused call would have
 * changed checked unchanged. Pipelines, views and queries are checked against the tables Flink's and DuckDB's planners
 * find in their SQL.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GrantsIT {
    @RegisterExtension
    static final TarnServerExtension tarn = new TarnServerExtension();

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient CLIENT = HttpClient.newHttpClient();
    /** The principals, in the order each call is made: refused ones first, so that what they change would show. */
    private static final List<String> WHO = List.of("revoked", "none", "reader", "writer", "admin");

    private static Http admin;
    private static final Map<String, String> TOKENS = new HashMap<>();

    @BeforeAll
    static void setUp() {
        admin = tarn.http();
        Fixtures.createIdTopic(admin, "orders", 1);
        Fixtures.createIdTopic(admin, "secret", 1);
        Fixtures.createIdLanding(admin, "land-orders", "orders", "shop.orders");
        Fixtures.createIdLanding(admin, "land-gold", "secret", "vault.gold");
        Fixtures.sendIds(admin, "orders", 0, 10);
        Fixtures.sendIds(admin, "secret", 0, 5);
        await(
                "both tables landed",
                Duration.ofMinutes(2),
                () -> Fixtures.number(admin, "SELECT count(*) FROM lake.shop.orders") == 10
                        && Fixtures.number(admin, "SELECT count(*) FROM lake.vault.gold") == 5);
        TOKENS.put("admin", Tokens.readAdminToken(tarn.dataDir()));
        TOKENS.put(
                "reader",
                token(
                        "reader",
                        grant("read", "topic:orders"),
                        grant("read", "table:shop.*"),
                        grant("read", "pipeline:*"),
                        grant("read", "view:*"),
                        grant("read", "source:*"),
                        grant("read", "metrics")));
        TOKENS.put(
                "writer",
                token(
                        "writer",
                        grant("write", "topic:orders"),
                        grant("read", "table:shop.*"),
                        grant("manage", "pipeline:w-*"),
                        grant("write", "table:mine.*"),
                        grant("manage", "view:w-*")));
        TOKENS.put("none", token("none"));
        TOKENS.put("revoked", token("revoked", grant("manage", "*")));
        assertThat(admin.delete("/v1/tokens/revoked").status()).isEqualTo(204);
    }

    private static Map<String, String> grant(String privilege, String resource) {
        return Map.of("privilege", privilege, "resource", resource);
    }

    @SafeVarargs
    private static String token(String name, Map<String, String>... grants) {
        Http.Reply created = admin.post("/v1/tokens", Map.of("name", name, "grants", List.of(grants)));
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        return created.body().path("token").asText();
    }

    /** One call of the matrix: a route, the request, and the status each of {@link #WHO} gets (0: not made). */
    private record Call(String route, String path, Object body, int... statuses) {
        String method() {
            return route.substring(0, route.indexOf(' '));
        }
    }

    private static final String COPY_SQL = "CREATE TABLE IF NOT EXISTS lake.mine.copy (id BIGINT);"
            + " INSERT INTO lake.mine.copy SELECT id FROM stream.orders;";
    private static final Map<String, Object> ID_COLUMNS =
            Map.of("columns", List.of(Map.of("name", "id", "type", "BIGINT")));

    private static final List<Call> MATRIX = List.of(
            new Call("GET /v1/ready", "/v1/ready", null, 401, 200, 200, 200, 200),
            new Call("GET /v1/openapi.json", "/v1/openapi.json", null, 401, 200, 200, 200, 200),
            new Call(
                    "POST /v1/topics",
                    "/v1/topics",
                    Map.of("name", "scratch", "partitions", 1, "columns", ID_COLUMNS.get("columns")),
                    401,
                    403,
                    403,
                    403,
                    201),
            new Call("GET /v1/topics", "/v1/topics", null, 401, 200, 200, 200, 200),
            new Call("GET /v1/topics/{name}", "/v1/topics/orders", null, 401, 403, 200, 200, 200),
            new Call("GET /v1/topics/{name}", "/v1/topics/secret", null, 401, 403, 403, 403, 200),
            new Call(
                    "PUT /v1/topics/{name}/retention",
                    "/v1/topics/scratch/retention",
                    Map.of("ms", 604800000),
                    401,
                    403,
                    403,
                    403,
                    200),
            new Call("GET /v1/topics/{name}/schema", "/v1/topics/orders/schema", null, 401, 403, 200, 200, 200),
            new Call(
                    "PUT /v1/topics/{name}/schema",
                    "/v1/topics/scratch/schema",
                    Map.of(
                            "columns",
                            List.of(Map.of("name", "id", "type", "BIGINT"), Map.of("name", "note", "type", "STRING"))),
                    401,
                    403,
                    403,
                    403,
                    200),
            new Call("DELETE /v1/topics/{name}", "/v1/topics/scratch", null, 401, 403, 403, 403, 204),
            new Call(
                    "POST /v1/topics/{name}/records",
                    "/v1/topics/orders/records",
                    List.of(Map.of("id", 1000)),
                    401,
                    403,
                    403,
                    200,
                    200),
            new Call(
                    "POST /v1/pipelines",
                    "/v1/pipelines",
                    Map.of("name", "w-copy", "sql", COPY_SQL),
                    401,
                    403,
                    403,
                    201,
                    409),
            new Call("GET /v1/pipelines", "/v1/pipelines", null, 401, 200, 200, 200, 200),
            new Call("GET /v1/pipelines/{name}", "/v1/pipelines/land-orders", null, 401, 403, 200, 403, 200),
            new Call(
                    "GET /v1/pipelines/{name}/savepoints",
                    "/v1/pipelines/land-orders/savepoints",
                    null,
                    401,
                    403,
                    200,
                    403,
                    200),
            new Call(
                    "GET /v1/pipelines/{name}/dead-letters",
                    "/v1/pipelines/w-copy/dead-letters",
                    null,
                    401,
                    403,
                    200,
                    200,
                    200),
            new Call(
                    "POST /v1/pipelines/{name}/dead-letters/replay",
                    "/v1/pipelines/w-copy/dead-letters/replay",
                    Map.of("all", true),
                    401,
                    403,
                    403,
                    409,
                    409),
            new Call("POST /v1/pipelines/{name}/stop", "/v1/pipelines/w-copy/stop", Map.of(), 401, 403, 403, 200, 409),
            new Call(
                    "PUT /v1/pipelines/{name}",
                    "/v1/pipelines/w-copy",
                    Map.of("sql", COPY_SQL),
                    401,
                    403,
                    403,
                    200,
                    200),
            new Call(
                    "POST /v1/pipelines/{name}/start", "/v1/pipelines/w-copy/start", Map.of(), 401, 403, 403, 200, 409),
            new Call("POST /v1/sources", "/v1/sources", Map.of("name", "src"), 401, 403, 403, 403, 400),
            new Call("GET /v1/sources", "/v1/sources", null, 401, 200, 200, 200, 200),
            new Call("GET /v1/sources/{name}", "/v1/sources/src", null, 401, 403, 404, 403, 404),
            new Call("DELETE /v1/sources/{name}", "/v1/sources/src", null, 401, 403, 403, 403, 404),
            new Call(
                    "POST /v1/views",
                    "/v1/views",
                    Map.of("name", "w-counts", "sql", "SELECT id, count(*) AS c FROM stream.orders GROUP BY id"),
                    401,
                    403,
                    403,
                    201,
                    409),
            new Call("GET /v1/views", "/v1/views", null, 401, 200, 200, 200, 200),
            new Call("GET /v1/views/{name}", "/v1/views/w-counts?key=3", null, 401, 403, 200, 200, 200),
            new Call("GET /v1/views/{name}/status", "/v1/views/w-counts/status", null, 401, 403, 200, 200, 200),
            // an event stream that stays open: only its refusals are called
            new Call("GET /v1/views/{name}/changes", "/v1/views/w-counts/changes", null, 401, 403, 0, 0, 0),
            new Call("POST /v1/views/{name}/stop", "/v1/views/w-counts/stop", Map.of(), 401, 403, 403, 200, 409),
            new Call("POST /v1/views/{name}/start", "/v1/views/w-counts/start", Map.of(), 401, 403, 403, 200, 409),
            new Call("DELETE /v1/views/{name}", "/v1/views/w-counts", null, 401, 403, 403, 204, 404),
            new Call("GET /v1/tables", "/v1/tables", null, 401, 200, 200, 200, 200),
            new Call("GET /v1/tables/{name}", "/v1/tables/shop.orders", null, 401, 403, 200, 200, 200),
            new Call("GET /v1/tables/{name}", "/v1/tables/vault.gold", null, 401, 403, 403, 403, 200),
            new Call(
                    "GET /v1/tables/{name}/snapshots",
                    "/v1/tables/shop.orders/snapshots",
                    null,
                    401,
                    403,
                    200,
                    200,
                    200),
            new Call(
                    "POST /v1/tables/{name}/maintenance",
                    "/v1/tables/shop.orders/maintenance",
                    Map.of(),
                    401,
                    403,
                    403,
                    403,
                    200),
            new Call(
                    "POST /v1/tables/{name}/swap",
                    "/v1/tables/mine.copy/swap",
                    Map.of("with", "mine.other"),
                    401,
                    403,
                    403,
                    403,
                    404),
            new Call(
                    "POST /v1/query",
                    "/v1/query",
                    Map.of("sql", "SELECT count(*) FROM lake.shop.orders"),
                    401,
                    403,
                    200,
                    200,
                    200),
            new Call(
                    "POST /v1/query",
                    "/v1/query",
                    Map.of("sql", "SELECT count(*) FROM lake.shop.orders o JOIN lake.vault.gold g ON o.id = g.id"),
                    401,
                    403,
                    403,
                    403,
                    200),
            new Call(
                    "POST /v1/query",
                    "/v1/query",
                    Map.of("sql", "SELECT count(*) FROM lake.vault.gold", "engine", "flink"),
                    401,
                    403,
                    403,
                    403,
                    200),
            new Call(
                    "POST /v1/query",
                    "/v1/query",
                    Map.of("sql", "SELECT count(*) FROM stream.orders", "engine", "flink"),
                    401,
                    403,
                    200,
                    200,
                    200),
            new Call("DELETE /v1/pipelines/{name}", "/v1/pipelines/w-copy", null, 401, 403, 403, 204, 404),
            new Call("DELETE /v1/tables/{name}", "/v1/tables/mine.copy", null, 401, 403, 403, 403, 204),
            new Call("GET /v1/lineage", "/v1/lineage?table=shop.orders", null, 401, 403, 200, 200, 200),
            new Call("GET /v1/lineage", "/v1/lineage?table=vault.gold", null, 401, 403, 403, 403, 200),
            new Call("POST /v1/tokens", "/v1/tokens", Map.of("name", "made"), 401, 403, 403, 403, 201),
            new Call("GET /v1/tokens", "/v1/tokens", null, 401, 403, 403, 403, 200),
            new Call("DELETE /v1/tokens/{name}", "/v1/tokens/made", null, 401, 403, 403, 403, 204),
            new Call("GET /v1/grants", "/v1/grants", null, 401, 403, 403, 403, 200),
            new Call(
                    "POST /v1/grants",
                    "/v1/grants",
                    Map.of("role", "auditors", "privilege", "read", "resource", "table:*"),
                    401,
                    403,
                    403,
                    403,
                    201),
            new Call(
                    "POST /v1/grants/revoke",
                    "/v1/grants/revoke",
                    Map.of("role", "auditors", "privilege", "read", "resource", "table:*"),
                    401,
                    403,
                    403,
                    403,
                    200),
            new Call("GET /metrics", "/metrics", null, 401, 403, 200, 403, 200));

    @Test
    @Order(1)
    void everyRouteAnswersEachPrincipalAsItsGrantsSay() throws Exception {
        Set<String> routes = new TreeSet<>();
        new TarnApi(null, null, null, null, null, null, null, null, null, null, null, null, null, null, 1, 1)
                .routes().stream()
                        .filter(route -> !route.open())
                        .map(GrantsIT::name)
                        .forEach(routes::add);
        new MetricsApi(null).routes().stream().map(GrantsIT::name).forEach(routes::add);
        Set<String> called = new TreeSet<>();
        MATRIX.forEach(call -> called.add(call.route()));
        assertThat(called).as("the matrix calls every route").isEqualTo(routes);

        run(MATRIX);

        // what the refused calls would have changed is as the allowed ones left it
        assertThat(admin.get("/v1/topics/orders").body().path("records").asLong())
                .isEqualTo(12);
        assertThat(names(admin.get("/v1/topics").body().path("topics"), "name"))
                .containsExactly("orders", "secret", "tarn.audit");
        assertThat(names(admin.get("/v1/pipelines").body().path("pipelines"), "name"))
                .containsExactly("land-gold", "land-orders");
        assertThat(admin.get("/v1/tables").body().path("tables").toString())
                .isEqualTo("[\"shop.orders\",\"vault.gold\"]");
        assertThat(names(admin.get("/v1/tokens").body().path("tokens"), "name"))
                .containsExactly("admin", "none", "reader", "writer");
        assertThat(admin.get("/v1/grants").body().path("grants").toString()).doesNotContain("auditors");
    }

    /**
     * The schema registry's and the Iceberg REST catalog's routes, each called by every principal: a subject is its
     * topic's, an Iceberg table or view a {@code table:} resource. Bodies name what exists at the moment of the call.
     */
    @Test
    @Order(2)
    void everyRegistryAndCatalogRouteAnswersEachPrincipalAsItsGrantsSay() throws Exception {
        JsonNode latest = admin.get("/schema-registry/subjects/orders-value/versions/latest")
                .body();
        String avro = latest.path("schema").asText();
        int id = latest.path("id").asInt();
        Map<String, Object> schema = Map.of("schema", avro);
        Map<String, Object> icebergSchema = Map.of(
                "type",
                "struct",
                "schema-id",
                0,
                "fields",
                List.of(Map.of("id", 1, "name", "id", "required", false, "type", "long")));
        // a namespace of the writer's tables, and a view there to read
        admin.post("/iceberg/v1/namespaces", Map.of("namespace", List.of("mine")));
        Map<String, Object> viewVersion = Map.of(
                "version-id",
                1,
                "timestamp-ms",
                System.currentTimeMillis(),
                "schema-id",
                0,
                "summary",
                Map.of(),
                "representations",
                List.of(Map.of("type", "sql", "sql", "SELECT 1 AS id", "dialect", "spark")),
                "default-namespace",
                List.of("mine"));
        String ids = "/schema-registry/schemas/ids/" + id;
        String subject = "/schema-registry/subjects/orders-value";
        String ice = "/iceberg/v1/namespaces/mine/tables/ice";
        List<Call> before = List.of(
                new Call(
                        "GET /schema-registry/schemas/types",
                        "/schema-registry/schemas/types",
                        null,
                        401,
                        200,
                        200,
                        200,
                        200),
                new Call("GET /schema-registry/schemas/ids/{id}", ids, null, 401, 403, 200, 200, 200),
                new Call(
                        "GET /schema-registry/schemas/ids/{id}/schema", ids + "/schema", null, 401, 403, 200, 200, 200),
                new Call(
                        "GET /schema-registry/schemas/ids/{id}/versions",
                        ids + "/versions",
                        null,
                        401,
                        403,
                        200,
                        200,
                        200),
                new Call("GET /schema-registry/subjects", "/schema-registry/subjects", null, 401, 200, 200, 200, 200),
                new Call(
                        "GET /schema-registry/subjects/{subject}/versions",
                        subject + "/versions",
                        null,
                        401,
                        403,
                        200,
                        200,
                        200),
                new Call(
                        "POST /schema-registry/subjects/{subject}/versions",
                        subject + "/versions",
                        schema,
                        401,
                        403,
                        403,
                        403,
                        200),
                new Call(
                        "GET /schema-registry/subjects/{subject}/versions/{version}",
                        subject + "/versions/1",
                        null,
                        401,
                        403,
                        200,
                        200,
                        200),
                new Call(
                        "GET /schema-registry/subjects/{subject}/versions/{version}/schema",
                        subject + "/versions/1/schema",
                        null,
                        401,
                        403,
                        200,
                        200,
                        200),
                new Call("POST /schema-registry/subjects/{subject}", subject, schema, 401, 403, 200, 200, 200),
                new Call(
                        "POST /schema-registry/compatibility/subjects/{subject}/versions/{version}",
                        "/schema-registry/compatibility/subjects/orders-value/versions/latest",
                        schema,
                        401,
                        403,
                        200,
                        200,
                        200),
                new Call(
                        "POST /schema-registry/compatibility/subjects/{subject}/versions",
                        "/schema-registry/compatibility/subjects/orders-value/versions",
                        schema,
                        401,
                        403,
                        200,
                        200,
                        200),
                new Call("GET /schema-registry/config", "/schema-registry/config", null, 401, 200, 200, 200, 200),
                new Call(
                        "PUT /schema-registry/config",
                        "/schema-registry/config",
                        Map.of("compatibility", "BACKWARD"),
                        401,
                        403,
                        403,
                        403,
                        200),
                new Call(
                        "GET /schema-registry/config/{subject}",
                        "/schema-registry/config/orders-value",
                        null,
                        401,
                        403,
                        200,
                        200,
                        200),
                new Call(
                        "PUT /schema-registry/config/{subject}",
                        "/schema-registry/config/orders-value",
                        Map.of("compatibility", "BACKWARD"),
                        401,
                        403,
                        403,
                        403,
                        200),
                new Call("GET /iceberg/v1/config", "/iceberg/v1/config", null, 401, 200, 200, 200, 200),
                new Call("GET /iceberg/v1/namespaces", "/iceberg/v1/namespaces", null, 401, 200, 200, 200, 200),
                new Call(
                        "POST /iceberg/v1/namespaces",
                        "/iceberg/v1/namespaces",
                        Map.of("namespace", List.of("made")),
                        401,
                        403,
                        403,
                        403,
                        200),
                new Call(
                        "GET /iceberg/v1/namespaces/{namespace}",
                        "/iceberg/v1/namespaces/shop",
                        null,
                        401,
                        200,
                        200,
                        200,
                        200),
                new Call(
                        "HEAD /iceberg/v1/namespaces/{namespace}",
                        "/iceberg/v1/namespaces/shop",
                        null,
                        401,
                        204,
                        204,
                        204,
                        204),
                new Call(
                        "POST /iceberg/v1/namespaces/{namespace}/properties",
                        "/iceberg/v1/namespaces/made/properties",
                        Map.of("updates", Map.of("a", "b"), "removals", List.of()),
                        401,
                        403,
                        403,
                        403,
                        200),
                new Call(
                        "DELETE /iceberg/v1/namespaces/{namespace}",
                        "/iceberg/v1/namespaces/made",
                        null,
                        401,
                        403,
                        403,
                        403,
                        204),
                new Call(
                        "GET /iceberg/v1/namespaces/{namespace}/tables",
                        "/iceberg/v1/namespaces/shop/tables",
                        null,
                        401,
                        200,
                        200,
                        200,
                        200),
                new Call(
                        "POST /iceberg/v1/namespaces/{namespace}/tables",
                        "/iceberg/v1/namespaces/mine/tables",
                        Map.of("name", "ice", "schema", icebergSchema),
                        401,
                        403,
                        403,
                        200,
                        409),
                new Call("GET /iceberg/v1/namespaces/{namespace}/tables/{table}", ice, null, 401, 403, 403, 200, 200),
                new Call("HEAD /iceberg/v1/namespaces/{namespace}/tables/{table}", ice, null, 401, 403, 403, 204, 204),
                new Call(
                        "POST /iceberg/v1/namespaces/{namespace}/tables/{table}",
                        ice,
                        Map.of(
                                "requirements",
                                List.of(),
                                "updates",
                                List.of(Map.of("action", "set-properties", "updates", Map.of("k", "v")))),
                        401,
                        403,
                        403,
                        200,
                        200),
                new Call(
                        "POST /iceberg/v1/namespaces/{namespace}/tables/{table}/metrics",
                        ice + "/metrics",
                        Map.of(),
                        401,
                        403,
                        403,
                        204,
                        204),
                new Call(
                        "GET /iceberg/v1/namespaces/{namespace}/views",
                        "/iceberg/v1/namespaces/mine/views",
                        null,
                        401,
                        200,
                        200,
                        200,
                        200),
                new Call(
                        "POST /iceberg/v1/namespaces/{namespace}/views",
                        "/iceberg/v1/namespaces/mine/views",
                        Map.of(
                                "name",
                                "v",
                                "schema",
                                icebergSchema,
                                "view-version",
                                viewVersion,
                                "properties",
                                Map.of()),
                        401,
                        403,
                        403,
                        200,
                        409),
                new Call(
                        "GET /iceberg/v1/namespaces/{namespace}/views/{view}",
                        "/iceberg/v1/namespaces/mine/views/v",
                        null,
                        401,
                        403,
                        403,
                        200,
                        200),
                new Call(
                        "HEAD /iceberg/v1/namespaces/{namespace}/views/{view}",
                        "/iceberg/v1/namespaces/mine/views/v",
                        null,
                        401,
                        403,
                        403,
                        204,
                        204));
        run(before);
        String tableMetadata = admin.get(ice).body().path("metadata-location").asText();
        String viewMetadata = admin.get("/iceberg/v1/namespaces/mine/views/v")
                .body()
                .path("metadata-location")
                .asText();
        List<Call> after = List.of(
                new Call(
                        "POST /iceberg/v1/namespaces/{namespace}/views/{view}",
                        "/iceberg/v1/namespaces/mine/views/v",
                        Map.of(
                                "requirements",
                                List.of(),
                                "updates",
                                List.of(Map.of("action", "set-properties", "updates", Map.of("k", "v")))),
                        401,
                        403,
                        403,
                        200,
                        200),
                new Call(
                        "POST /iceberg/v1/namespaces/{namespace}/register",
                        "/iceberg/v1/namespaces/mine/register",
                        Map.of("name", "ice2", "metadata-location", tableMetadata),
                        401,
                        403,
                        403,
                        200,
                        409),
                new Call(
                        "POST /iceberg/v1/namespaces/{namespace}/register-view",
                        "/iceberg/v1/namespaces/mine/register-view",
                        Map.of("name", "v2", "metadata-location", viewMetadata),
                        401,
                        403,
                        403,
                        200,
                        409),
                new Call(
                        "POST /iceberg/v1/tables/rename",
                        "/iceberg/v1/tables/rename",
                        Map.of(
                                "source",
                                Map.of("namespace", List.of("mine"), "name", "ice2"),
                                "destination",
                                Map.of("namespace", List.of("mine"), "name", "ice3")),
                        401,
                        403,
                        403,
                        403,
                        204),
                new Call(
                        "POST /iceberg/v1/views/rename",
                        "/iceberg/v1/views/rename",
                        Map.of(
                                "source",
                                Map.of("namespace", List.of("mine"), "name", "v2"),
                                "destination",
                                Map.of("namespace", List.of("mine"), "name", "v3")),
                        401,
                        403,
                        403,
                        403,
                        204),
                new Call(
                        "DELETE /iceberg/v1/namespaces/{namespace}/views/{view}",
                        "/iceberg/v1/namespaces/mine/views/v3",
                        null,
                        401,
                        403,
                        403,
                        403,
                        204),
                new Call(
                        "DELETE /iceberg/v1/namespaces/{namespace}/tables/{table}",
                        "/iceberg/v1/namespaces/mine/tables/ice3",
                        null,
                        401,
                        403,
                        403,
                        403,
                        204));
        run(after);

        Set<String> routes = new TreeSet<>();
        new SchemaRegistryApi(null, null).routes().stream().map(GrantsIT::name).forEach(routes::add);
        new IcebergRestApi(tarn.server().lake().icebergCatalog(), "/nowhere", "/nowhere", Map.of(), (p, q) -> true)
                .routes().stream().map(GrantsIT::name).forEach(routes::add);
        Set<String> called = new TreeSet<>();
        before.forEach(call -> called.add(call.route()));
        after.forEach(call -> called.add(call.route()));
        assertThat(called).as("the matrix calls every route").isEqualTo(routes);
        // what the refused calls would have changed
        assertThat(admin.get("/iceberg/v1/namespaces/mine/tables")
                        .body()
                        .path("identifiers")
                        .toString())
                .isEqualTo("[{\"namespace\":[\"mine\"],\"name\":\"ice\"}]");
        assertThat(admin.get("/iceberg/v1/namespaces/made").status()).isEqualTo(404);
    }

    /** Calls each principal, refused ones first; a refusal is in the API's, the registry's or Iceberg's shape. */
    private static void run(List<Call> calls) throws Exception {
        List<String> wrong = new ArrayList<>();
        for (Call call : calls) {
            for (int i = 0; i < WHO.size(); i++) {
                if (call.statuses()[i] == 0) {
                    continue;
                }
                HttpResponse<String> answer = send(WHO.get(i), call);
                if (answer.statusCode() != call.statuses()[i]) {
                    wrong.add("%s %s as %s: %d, expected %d: %s"
                            .formatted(
                                    call.method(),
                                    call.path(),
                                    WHO.get(i),
                                    answer.statusCode(),
                                    call.statuses()[i],
                                    answer.body()));
                } else if (answer.statusCode() == 403 && !call.method().equals("HEAD")) {
                    JsonNode body = JSON.readTree(answer.body());
                    String name = call.path().startsWith("/schema-registry")
                            ? body.path("error_code").asText()
                            : call.path().startsWith("/iceberg")
                                    ? body.path("error").path("type").asText()
                                    : body.path("error").path("name").asText();
                    if (!List.of("NOT_PERMITTED", "403").contains(name)) {
                        wrong.add("%s %s as %s: refused as %s".formatted(call.method(), call.path(), WHO.get(i), name));
                    }
                }
            }
        }
        assertThat(wrong).isEmpty();
    }

    @Test
    void listsShowOnlyWhatThePrincipalMayRead() throws Exception {
        assertThat(names(as("reader").get("/v1/topics").body().path("topics"), "name"))
                .containsExactly("orders");
        assertThat(as("none").get("/v1/topics").body().path("topics").toString())
                .isEqualTo("[]");
        assertThat(as("reader").get("/v1/tables").body().path("tables").toString())
                .isEqualTo("[\"shop.orders\"]");
        assertThat(names(as("reader").get("/v1/pipelines").body().path("pipelines"), "name"))
                .containsExactly("land-gold", "land-orders");
        assertThat(as("writer").get("/v1/pipelines").body().path("pipelines").toString())
                .isEqualTo("[]");
        assertThat(as("reader").get("/schema-registry/subjects").text()).isEqualTo("[\"orders-value\"]");
        assertThat(as("none").get("/schema-registry/subjects").text()).isEqualTo("[]");
        Http.Reply iceberg = as("reader").get("/iceberg/v1/namespaces/vault/tables");
        assertThat(iceberg.body().path("identifiers").toString()).isEqualTo("[]");
        assertThat(as("reader").get("/iceberg/v1/namespaces/vault/tables/gold").status())
                .isEqualTo(403);
        assertThat(as("reader").get("/iceberg/v1/namespaces/shop/tables/orders").status())
                .isEqualTo(200);
        assertThat(as("reader")
                        .get("/schema-registry/subjects/secret-value/versions")
                        .status())
                .isEqualTo(403);
    }

    @Test
    void aPipelineOrViewThatReadsOrWritesWhatItsOwnerMayNotIsRefusedAndLeavesNothing() {
        Http writer = as("writer");
        Http.Reply steal = writer.post(
                "/v1/pipelines",
                Map.of(
                        "name",
                        "w-steal",
                        "sql",
                        "CREATE TABLE IF NOT EXISTS lake.mine.steal (id BIGINT);"
                                + " INSERT INTO lake.mine.steal SELECT id FROM stream.secret;"));
        assertThat(steal.status()).as(steal.text()).isEqualTo(403);
        assertThat(steal.errorMessage()).isEqualTo("token 'writer' lacks the privilege read on topic:secret");
        Http.Reply leak = writer.post(
                "/v1/pipelines",
                Map.of(
                        "name",
                        "w-leak",
                        "sql",
                        "CREATE TABLE IF NOT EXISTS lake.shop.leak (id BIGINT);"
                                + " INSERT INTO lake.shop.leak SELECT id FROM stream.orders;"));
        assertThat(leak.status()).as(leak.text()).isEqualTo(403);
        assertThat(leak.errorMessage()).isEqualTo("token 'writer' lacks the privilege write on table:shop.leak");
        Http.Reply lookup = writer.post(
                "/v1/pipelines",
                Map.of(
                        "name",
                        "w-join",
                        "sql",
                        "CREATE TABLE IF NOT EXISTS lake.mine.joined (id BIGINT);"
                                + " INSERT INTO lake.mine.joined SELECT o.id FROM stream.orders o"
                                + " JOIN lake.vault.gold g ON o.id = g.id;"));
        assertThat(lookup.status()).as(lookup.text()).isEqualTo(403);
        assertThat(lookup.errorMessage()).isEqualTo("token 'writer' lacks the privilege read on table:vault.gold");
        Http.Reply view = writer.post(
                "/v1/views",
                Map.of("name", "w-peek", "sql", "SELECT id, count(*) AS c FROM stream.secret GROUP BY id"));
        assertThat(view.status()).as(view.text()).isEqualTo(403);
        assertThat(view.errorMessage()).isEqualTo("token 'writer' lacks the privilege read on topic:secret");

        // a source makes topics and lake tables of its name: it needs them too
        Http sourcer = admin.withToken(Optional.of(token("sourcer", grant("manage", "source:src"))));
        Map<String, Object> source = Map.of(
                "name", "src", "connection", "jdbc:postgresql://localhost:1/db", "user", "u", "tables", List.of("t"));
        Http.Reply noTopics = sourcer.post("/v1/sources", source);
        assertThat(noTopics.status()).as(noTopics.text()).isEqualTo(403);
        assertThat(noTopics.errorMessage()).isEqualTo("token 'sourcer' lacks the privilege manage on topic:src.*");
        assertThat(admin.post(
                                "/v1/grants",
                                Map.of("principal", "sourcer", "privilege", "manage", "resource", "topic:src.*"))
                        .status())
                .isEqualTo(201);
        Http.Reply noTables = sourcer.post("/v1/sources", source);
        assertThat(noTables.errorMessage()).isEqualTo("token 'sourcer' lacks the privilege write on table:src.*");
        assertThat(admin.get("/v1/sources").body().path("sources").toString()).isEqualTo("[]");
        assertThat(admin.delete("/v1/tokens/sourcer").status()).isEqualTo(204);

        assertThat(admin.get("/v1/tables").body().path("tables").toString())
                .doesNotContain("steal")
                .doesNotContain("leak")
                .doesNotContain("joined");
        assertThat(admin.get("/v1/pipelines").text())
                .doesNotContain("w-steal")
                .doesNotContain("w-leak")
                .doesNotContain("w-join");
        assertThat(admin.get("/v1/views").body().path("views").toString()).isEqualTo("[]");
        assertThat(admin.get("/v1/topics").text()).doesNotContain("w-peek");
    }

    @Test
    void aPipelineStartsWithItsOwnersPrivilegesOfNow() {
        Http.Reply owner = admin.post(
                "/v1/tokens",
                Map.of(
                        "name",
                        "owner",
                        "grants",
                        List.of(grant("manage", "pipeline:o-*"), grant("write", "table:own.*")),
                        "roles",
                        List.of("order-readers")));
        assertThat(owner.status()).as(owner.text()).isEqualTo(201);
        assertThat(admin.post(
                                "/v1/grants",
                                Map.of("role", "order-readers", "privilege", "read", "resource", "topic:orders"))
                        .status())
                .isEqualTo(201);
        Http asOwner = admin.withToken(Optional.of(owner.body().path("token").asText()));
        Http.Reply created = asOwner.post(
                "/v1/pipelines",
                Map.of(
                        "name",
                        "o-land",
                        "sql",
                        "CREATE TABLE IF NOT EXISTS lake.own.orders (id BIGINT);"
                                + " INSERT INTO lake.own.orders SELECT id FROM stream.orders;"));
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        Fixtures.awaitPipelineRunning(admin, "o-land", "created by its owner");
        assertThat(asOwner.post("/v1/pipelines/o-land/stop", Map.of()).status()).isEqualTo(200);

        // its owner leaves the role: the pipeline does not start again, and stays stopped
        Http.Reply left = admin.post("/v1/grants/revoke", Map.of("principal", "owner", "role", "order-readers"));
        assertThat(left.status()).as(left.text()).isEqualTo(200);
        Http.Reply refused = asOwner.post("/v1/pipelines/o-land/start", Map.of());
        assertThat(refused.status()).as(refused.text()).isEqualTo(403);
        assertThat(refused.errorMessage()).isEqualTo("token 'owner' lacks the privilege read on topic:orders");
        assertThat(admin.get("/v1/pipelines/o-land").body().path("state").asText())
                .isEqualTo("STOPPED");
        // the admin may start it, but its owner's privileges still decide
        assertThat(admin.post("/v1/pipelines/o-land/start", Map.of()).status()).isEqualTo(403);
        assertThat(admin.post("/v1/grants", Map.of("principal", "owner", "role", "order-readers"))
                        .status())
                .isEqualTo(201);
        Http.Reply started = asOwner.post("/v1/pipelines/o-land/start", Map.of());
        assertThat(started.status()).as(started.text()).isEqualTo(200);
        assertThat(admin.delete("/v1/pipelines/o-land").status()).isEqualTo(204);
    }

    @Test
    void theCliManagesGrants() throws Exception {
        Cli.Result created = Cli.against(
                tarn.server(), "tokens", "create", "cli-user", "--grant", "read:table:shop.*", "--role", "cli-role");
        assertThat(created.code()).as(created.err()).isZero();
        String token = created.out().strip();
        assertThat(token).startsWith("tarn_");
        Cli.Result added = Cli.against(tarn.server(), "grants", "add", "--role", "cli-role", "read:topic:orders");
        assertThat(added.code()).as(added.err()).isZero();
        Cli.Result listed = Cli.against(tarn.server(), "grants", "list");
        assertThat(listed.out())
                .contains("principal | cli-user | read      | table:shop.*")
                .contains("role      | cli-role | read      | topic:orders")
                .contains("principal | cli-user | member of | cli-role");
        Http user = admin.withToken(Optional.of(token));
        assertThat(user.get("/v1/topics/orders").status()).isEqualTo(200);

        Cli.Result left =
                Cli.against(tarn.server(), "grants", "revoke", "--principal", "cli-user", "--member-of", "cli-role");
        assertThat(left.code()).as(left.err()).isZero();
        assertThat(user.get("/v1/topics/orders").status()).isEqualTo(403);
        Cli.Result bad = Cli.against(tarn.server(), "grants", "add", "--principal", "cli-user", "read");
        assertThat(bad.code()).isNotZero();
        assertThat(bad.err()).isEqualTo("error: a grant is PRIVILEGE:RESOURCE, e.g. read:table:shop.* (got 'read')\n");
        Cli.Result unknown = Cli.against(tarn.server(), "grants", "add", "--principal", "cli-user", "read:bucket:x");
        assertThat(unknown.err())
                .startsWith("error: INVALID_REQUEST: resource 'bucket:x' must be <kind>:<name> with a kind of");
        assertThat(admin.delete("/v1/tokens/cli-user").status()).isEqualTo(204);
        assertThat(admin.get("/v1/grants").text()).doesNotContain("cli-user");
        assertThat(admin.post(
                                "/v1/grants/revoke",
                                Map.of("role", "cli-role", "privilege", "read", "resource", "topic:orders"))
                        .status())
                .isEqualTo(200);
    }

    private static String name(Route route) {
        return route.method() + " " + route.template();
    }

    private static List<String> names(JsonNode array, String field) {
        List<String> names = new ArrayList<>();
        array.forEach(item -> names.add(item.path(field).asText()));
        return names;
    }

    private static Http as(String who) {
        return admin.withToken(Optional.of(TOKENS.get(who)));
    }

    private static HttpResponse<String> send(String who, Call call) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(
                        URI.create(tarn.server().httpAddress() + call.path()))
                .timeout(Duration.ofMinutes(2))
                .header("Authorization", "Bearer " + TOKENS.get(who));
        if (call.body() == null) {
            request.method(call.method(), HttpRequest.BodyPublishers.noBody());
        } else {
            request.header("Content-Type", "application/json")
                    .method(call.method(), HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(call.body())));
        }
        return CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
