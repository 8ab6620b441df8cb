package io.tarn.server.http;

import static io.tarn.server.http.Request.requiredText;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tarn.core.audit.AuditNames;
import io.tarn.core.config.ConfigKeys;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.pipeline.PipelineSpec;
import io.tarn.core.pipeline.QualityRule;
import io.tarn.core.pipeline.StartFrom;
import io.tarn.core.query.QueryResult;
import io.tarn.core.sql.TableGuard;
import io.tarn.core.topic.ColumnSpec;
import io.tarn.core.topic.Retention;
import io.tarn.core.topic.SchemaCompatibility;
import io.tarn.core.topic.TopicSpec;
import io.tarn.core.topic.WatermarkSpec;
import io.tarn.lake.LakeCatalog;
import io.tarn.lake.LakeQuery;
import io.tarn.server.auth.Grant;
import io.tarn.server.auth.Grants;
import io.tarn.server.auth.Permission;
import io.tarn.server.auth.Privilege;
import io.tarn.server.auth.Tokens;
import io.tarn.server.lineage.LineageService;
import io.tarn.server.metadata.DeadLetterPosition;
import io.tarn.server.metadata.SchemaVersion;
import io.tarn.server.pipeline.DeadLetterReader;
import io.tarn.server.pipeline.DeadLetterReplay;
import io.tarn.server.pipeline.PipelineService;
import io.tarn.server.query.QueryService;
import io.tarn.server.source.SourceService;
import io.tarn.server.table.TableService;
import io.tarn.server.topic.TopicDeletion;
import io.tarn.server.topic.TopicService;
import io.tarn.server.view.ViewChanges;
import io.tarn.server.view.ViewService;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;

/** Tarn's HTTP API, version 1: every endpoint and how it maps to the services. {@code openapi.json} documents them. */
public final class TarnApi {
    private final Supplier<Map<String, Boolean>> parts;
    private final TopicService topics;
    private final PipelineService pipelines;
    private final LakeCatalog lake;
    private final QueryService queries;
    private final SourceService sources;
    private final Tokens tokens;
    private final Grants grants;
    private final TopicDeletion topicDeletion;
    private final TableService tables;
    private final ViewService views;
    private final DeadLetterReplay replays;
    private final LineageService lineage;
    /** A pipeline's lag per topic and partition; empty when not known. */
    private final Function<String, Optional<Map<String, Map<Integer, Long>>>> lag;

    private final int defaultPartitions;
    private final int maxRecordsPerRequest;

    public TarnApi(
            Supplier<Map<String, Boolean>> parts,
            TopicService topics,
            PipelineService pipelines,
            LakeCatalog lake,
            QueryService queries,
            SourceService sources,
            Tokens tokens,
            Grants grants,
            TopicDeletion topicDeletion,
            TableService tables,
            ViewService views,
            DeadLetterReplay replays,
            LineageService lineage,
            Function<String, Optional<Map<String, Map<Integer, Long>>>> lag,
            int defaultPartitions,
            int maxRecordsPerRequest) {
        this.parts = parts;
        this.topics = topics;
        this.pipelines = pipelines;
        this.lake = lake;
        this.queries = queries;
        this.sources = sources;
        this.tokens = tokens;
        this.grants = grants;
        this.topicDeletion = topicDeletion;
        this.tables = tables;
        this.views = views;
        this.replays = replays;
        this.lineage = lineage;
        this.lag = lag;
        this.defaultPartitions = defaultPartitions;
        this.maxRecordsPerRequest = maxRecordsPerRequest;
    }

    /**
     * The routes; services may be null until ready, only health, ready and openapi are answered before. Every route but
     * health needs a token.
     */
    public List<Route> routes() {
        List<Route> routes = new ArrayList<>();
        routes.add(new Route("GET", "/v1/health", r -> Response.ok(Map.of("status", "UP"))).withoutToken());
        routes.add(new Route("GET", "/v1/ready", r -> ready()));
        routes.add(new Route("GET", "/v1/openapi.json", r -> Response.ok(openApi())));
        routes.add(new Route("POST", "/v1/topics", this::createTopic));
        routes.add(new Route(
                "GET",
                "/v1/topics",
                r -> Response.ok(Map.of(
                        "topics",
                        topics.list().stream()
                                .filter(t -> readable(r, "topic", t.spec().name()))
                                .map(JsonViews::topic)
                                .toList()))));
        routes.add(new Route(
                "GET", "/v1/topics/{name}", r -> Response.ok(JsonViews.topic(topics.describe(r.path("name"))))));
        routes.add(new Route(
                "PUT",
                "/v1/topics/{name}/retention",
                r -> Response.ok(JsonViews.topic(
                        topics.setRetention(r.path("name"), retention(r.object("ms", "bytes", "untilLanded")))))));
        routes.add(new Route("DELETE", "/v1/topics/{name}", r -> {
            topicDeletion.delete(r.path("name"), force(r));
            return Response.noContent();
        }));
        routes.add(new Route("POST", "/v1/topics/{name}/records", r -> {
                    boolean validate = r.queryFlag("validate");
                    boolean partial = r.queryFlag("partial");
                    Set<TopicService.AppendOption> options = EnumSet.noneOf(TopicService.AppendOption.class);
                    if (validate) {
                        options.add(TopicService.AppendOption.VALIDATE_ONLY);
                    }
                    if (partial) {
                        options.add(TopicService.AppendOption.PARTIAL);
                    }
                    TopicService.Appended appended =
                            topics.append(r.path("name"), r.records(maxRecordsPerRequest), r.query("key"), options);
                    ObjectNode answer =
                            Request.JSON.createObjectNode().put(validate ? "valid" : "accepted", appended.records());
                    if (partial) {
                        answer.put("refused", appended.refused());
                        ArrayNode refused = answer.putArray("refusedRecords");
                        appended.refusedRecords().forEach(p -> refused.addObject()
                                .put("index", p.index())
                                .put("reason", p.reason()));
                    }
                    if (!appended.undeclaredFields().isEmpty()) {
                        appended.undeclaredFields().forEach(answer.putArray("undeclaredFields")::add);
                    }
                    return Response.ok(answer);
                })
                .reading(HttpGuard.JSON, HttpGuard.NDJSON));
        routes.add(new Route(
                "GET", "/v1/topics/{name}/schema", r -> Response.ok(schemas(topics.schemas(r.path("name"))))));
        routes.add(new Route("PUT", "/v1/topics/{name}/schema", r -> {
            JsonNode body = r.object("columns", "compatibility");
            if (!body.has("columns")) {
                throw new TarnException(ErrorCode.INVALID_REQUEST, "field 'columns' is required");
            }
            Optional<SchemaCompatibility> compatibility = body.has("compatibility")
                    ? Optional.of(SchemaCompatibility.of(requiredText(body, "compatibility")))
                    : Optional.empty();
            return Response.ok(schemas(topics.evolve(r.path("name"), columns(body.get("columns")), compatibility)));
        }));
        routes.add(new Route("POST", "/v1/pipelines", r -> {
            JsonNode body = r.object("name", "sql", "onError", "rules", "from");
            PipelineSpec.OnError onError = body.has("onError")
                    ? PipelineSpec.OnError.of(requiredText(body, "onError"))
                    : PipelineSpec.OnError.FAIL;
            if (requiredText(body, "name").equals(AuditNames.PIPELINE)) {
                throw AuditNames.refused("pipeline name '%s' is Tarn's own".formatted(AuditNames.PIPELINE));
            }
            PipelineSpec spec = new PipelineSpec(
                    requiredText(body, "name"),
                    requiredText(body, "sql"),
                    onError,
                    QualityRule.parse(body.get("rules")),
                    body.has("from") ? StartFrom.of(requiredText(body, "from")) : StartFrom.EARLIEST);
            return Response.created(JsonViews.pipeline(asPrincipal(r, () -> pipelines.create(spec, r.principal()))));
        }));
        routes.add(new Route(
                "GET",
                "/v1/pipelines",
                r -> Response.ok(Map.of(
                        "pipelines",
                        pipelines.list().stream()
                                .filter(p -> readable(r, "pipeline", p.spec().name()))
                                .map(JsonViews::pipeline)
                                .toList()))));
        routes.add(new Route("GET", "/v1/pipelines/{name}", r -> {
            ObjectNode pipeline = JsonViews.pipeline(pipelines.get(r.path("name")));
            Optional<Map<String, Map<Integer, Long>>> behind = lag.apply(r.path("name"));
            if (behind.isEmpty()) {
                pipeline.putNull("lagRecords").putNull("lagByPartition");
            } else {
                ObjectNode byTopic = pipeline.put(
                                "lagRecords",
                                behind.get().values().stream()
                                        .flatMap(partitions -> partitions.values().stream())
                                        .mapToLong(Long::longValue)
                                        .sum())
                        .putObject("lagByPartition");
                behind.get().forEach((topic, partitions) -> {
                    ObjectNode node = byTopic.putObject(topic);
                    partitions.forEach((partition, records) -> node.put(partition.toString(), records));
                });
            }
            return Response.ok(pipeline);
        }));
        routes.add(new Route(
                "POST",
                "/v1/pipelines/{name}/stop",
                r -> Response.ok(JsonViews.pipeline(pipelines.stop(r.path("name"))))));
        routes.add(new Route("POST", "/v1/pipelines/{name}/start", r -> {
            Optional<String> savepoint = Optional.empty();
            if (r.body().length > 0) {
                JsonNode body = r.object("savepoint");
                if (body.has("savepoint")) {
                    savepoint = Optional.of(requiredText(body, "savepoint"));
                }
            }
            Optional<String> from = savepoint;
            return Response.ok(JsonViews.pipeline(pipelines.start(r.path("name"), from, owner -> tableCheck(owner))));
        }));
        routes.add(new Route("PUT", "/v1/pipelines/{name}", r -> {
            JsonNode body = r.object("sql");
            String sql = requiredText(body, "sql");
            return Response.ok(
                    JsonViews.pipeline(asPrincipal(r, () -> pipelines.update(r.path("name"), sql, r.principal()))));
        }));
        routes.add(new Route(
                "GET",
                "/v1/pipelines/{name}/savepoints",
                r -> Response.ok(Map.of(
                        "savepoints",
                        pipelines.savepoints(r.path("name")).stream()
                                .map(s -> Map.of(
                                        "name",
                                        s.name(),
                                        "checkpointId",
                                        s.checkpointId(),
                                        "createdAt",
                                        s.createdAt().toString()))
                                .toList()))));
        routes.add(new Route("GET", "/v1/pipelines/{name}/dead-letters", r -> {
            DeadLetterReader.Page page = new DeadLetterReader(pipelines, queries, replays)
                    .read(
                            r.path("name"),
                            r.queryNumber("limit").orElse(100),
                            r.queryNumber("offset").orElse(0));
            ObjectNode body = Request.JSON.createObjectNode();
            ArrayNode letters = body.putArray("deadLetters");
            for (DeadLetterReader.DeadLetter letter : page.deadLetters()) {
                ObjectNode node = letters.addObject()
                        .put("topic", letter.topic())
                        .put("partition", letter.partition())
                        .put("offset", letter.offset());
                letter.timestamp().ifPresentOrElse(t -> node.put("timestamp", t), () -> node.putNull("timestamp"));
                letter.key().ifPresentOrElse(k -> node.put("key", k), () -> node.putNull("key"));
                node.put("errorClass", letter.errorClass()).put("errorMessage", letter.errorMessage());
                letter.value().ifPresentOrElse(v -> node.put("value", v), () -> node.putNull("value"));
                node.put("valueBase64", letter.valueBase64())
                        .put("deadLetteredAt", letter.deadLetteredAt())
                        .put("replayed", letter.replayed());
            }
            body.put("total", page.total());
            return Response.ok(body);
        }));
        routes.add(new Route("POST", "/v1/pipelines/{name}/dead-letters/replay", this::replayDeadLetters));
        routes.add(new Route("DELETE", "/v1/pipelines/{name}", r -> {
            pipelines.delete(r.path("name"));
            return Response.noContent();
        }));
        routes.add(new Route("POST", "/v1/sources", this::createSource));
        routes.add(new Route(
                "GET",
                "/v1/sources",
                r -> Response.ok(Map.of(
                        "sources",
                        sources.list().stream()
                                .filter(source ->
                                        readable(r, "source", source.source().name()))
                                .map(JsonViews::source)
                                .toList()))));
        routes.add(new Route(
                "GET", "/v1/sources/{name}", r -> Response.ok(JsonViews.source(sources.get(r.path("name"))))));
        routes.add(new Route("DELETE", "/v1/sources/{name}", r -> {
            sources.delete(r.path("name"));
            return Response.noContent();
        }));
        routes.add(new Route("POST", "/v1/views", r -> {
            JsonNode body = r.object("name", "sql", "key", "history");
            List<String> key = new ArrayList<>();
            if (body.has("key")) {
                JsonNode keyNode = body.get("key");
                if (!keyNode.isArray() || keyNode.isEmpty()) {
                    throw new TarnException(ErrorCode.INVALID_REQUEST, "key must be a non-empty array of column names");
                }
                for (JsonNode column : keyNode) {
                    if (!column.isTextual()) {
                        throw new TarnException(
                                ErrorCode.INVALID_REQUEST, "key must be a non-empty array of column names");
                    }
                    key.add(column.asText());
                }
            }
            JsonNode history = body.path("history");
            if (!history.isMissingNode() && !history.isBoolean()) {
                throw new TarnException(ErrorCode.INVALID_REQUEST, "history must be true or false");
            }
            ViewService.Request asked = new ViewService.Request(
                    requiredText(body, "name"), requiredText(body, "sql"), key, history.asBoolean(false));
            return Response.created(JsonViews.view(asPrincipal(r, () -> views.create(asked))));
        }));
        routes.add(new Route(
                "GET",
                "/v1/views",
                r -> Response.ok(Map.of(
                        "views",
                        views.list().stream()
                                .filter(v -> readable(r, "view", v.view().name()))
                                .map(JsonViews::view)
                                .toList()))));
        routes.add(new Route(
                "GET",
                "/v1/views/{name}",
                r -> Response.ok(JsonViews.viewRows(views.read(r.path("name"), r.queryParameters())))));
        routes.add(new Route(
                "GET", "/v1/views/{name}/status", r -> Response.ok(JsonViews.view(views.get(r.path("name"))))));
        routes.add(new Route("GET", "/v1/views/{name}/changes", r -> {
            ViewChanges changes = views.changes(r.path("name"), r.lastEventId().or(() -> r.query("lastEventId")));
            return Response.events(changes::writeTo, changes::close);
        }));
        routes.add(new Route(
                "POST", "/v1/views/{name}/stop", r -> Response.ok(JsonViews.view(views.stop(r.path("name"))))));
        routes.add(new Route(
                "POST", "/v1/views/{name}/start", r -> Response.ok(JsonViews.view(views.start(r.path("name"))))));
        routes.add(new Route("DELETE", "/v1/views/{name}", r -> {
            views.delete(r.path("name"));
            return Response.noContent();
        }));
        routes.add(new Route(
                "GET",
                "/v1/tables",
                r -> Response.ok(Map.of(
                        "tables",
                        lake.listTables().stream()
                                .filter(t -> readable(r, "table", t))
                                .toList()))));
        routes.add(new Route(
                "GET", "/v1/tables/{name}", r -> Response.ok(JsonViews.table(tables.describe(r.path("name"))))));
        routes.add(new Route("GET", "/v1/tables/{name}/snapshots", r -> {
            TableService.SnapshotPage page = tables.snapshots(
                    r.path("name"),
                    (int) r.queryNumber("limit").orElse(50),
                    r.queryNumber("before").stream().boxed().findFirst());
            ObjectNode body = Request.JSON.createObjectNode();
            JsonViews.snapshots(body.putArray("snapshots"), page.snapshots());
            page.next().ifPresentOrElse(next -> body.put("next", next), () -> body.putNull("next"));
            return Response.ok(body);
        }));
        routes.add(new Route(
                "POST",
                "/v1/tables/{name}/maintenance",
                r -> Response.ok(JsonViews.maintenance(tables.maintain(r.path("name"))))));
        routes.add(new Route("POST", "/v1/tables/{name}/swap", r -> {
            String other = requiredText(r.object("with"), "with");
            PipelineService.Swap swap = pipelines.swapTables(r.path("name"), other);
            ObjectNode body = Request.JSON.createObjectNode();
            body.putArray("swapped").add(r.path("name")).add(other);
            ArrayNode restarted = body.putArray("restarted");
            swap.restarted().forEach(restarted::add);
            ObjectNode stopped = body.putObject("leftStopped");
            swap.leftStopped().forEach(stopped::put);
            return Response.ok(body);
        }));
        routes.add(new Route("DELETE", "/v1/tables/{name}", r -> {
            tables.delete(r.path("name"), force(r));
            return Response.noContent();
        }));
        routes.add(new Route("POST", "/v1/query", this::query));
        routes.add(new Route("POST", "/v1/tokens", r -> {
            JsonNode body = r.object("name", "grants", "roles");
            Tokens.Issued issued = grants.issue(
                    tokens, requiredText(body, "name"), grantList(body.get("grants")), names(body, "roles"));
            return Response.created(Map.of(
                    "name",
                    issued.name(),
                    "token",
                    issued.token(),
                    "createdAt",
                    issued.createdAt().toString()));
        }));
        routes.add(new Route(
                "GET",
                "/v1/tokens",
                r -> Response.ok(Map.of(
                        "tokens",
                        tokens.list().stream()
                                .map(t -> Map.of(
                                        "name",
                                        t.name(),
                                        "createdAt",
                                        t.createdAt().toString()))
                                .toList()))));
        routes.add(new Route("DELETE", "/v1/tokens/{name}", r -> {
            tokens.revoke(r.path("name"));
            grants.revoked(r.path("name"));
            return Response.noContent();
        }));
        routes.add(new Route("GET", "/v1/lineage", r -> {
            Map.Entry<String, String> of = lineageOf(r);
            return Response.ok(JsonViews.lineage(lineage.of(
                    of.getKey(),
                    of.getValue(),
                    resource -> grants.allows(r.principal(), new Permission(Privilege.READ, resource)))));
        }));
        routes.add(new Route("GET", "/v1/grants", r -> Response.ok(JsonViews.grants(grants.list()))));
        routes.add(new Route("POST", "/v1/grants", r -> {
            changeGrant(r.object("principal", "role", "privilege", "resource"), true);
            return Response.created(JsonViews.grants(grants.list()));
        }));
        routes.add(new Route("POST", "/v1/grants/revoke", r -> {
            changeGrant(r.object("principal", "role", "privilege", "resource"), false);
            return Response.ok(JsonViews.grants(grants.list()));
        }));
        return routes.stream()
                .map(route -> route.open() ? route : route.requiring(access(route.method(), route.template())))
                .toList();
    }

    /**
     * What each route needs of its principal (besides what pipelines, views and queries check of their SQL). A route
     * missing here is the admin's only.
     */
    static Access access(String method, String template) {
        return switch (method + " " + template) {
            case "GET /v1/ready", "GET /v1/openapi.json" -> Access.TOKEN;
            // lists show what the principal may read; a query is checked for every table it reads
            case "GET /v1/topics", "GET /v1/pipelines", "GET /v1/sources", "GET /v1/views", "GET /v1/tables" ->
                Access.TOKEN;
            case "POST /v1/query" -> Access.TOKEN;
            case "GET /v1/lineage" ->
                r -> {
                    Map.Entry<String, String> of = lineageOf(r);
                    return List.of(Permission.read(of.getKey(), of.getValue()));
                };
            case "POST /v1/topics" -> Access.body(Privilege.MANAGE, "topic", "name");
            case "GET /v1/topics/{name}", "GET /v1/topics/{name}/schema" -> Access.path(Privilege.READ, "topic");
            case "POST /v1/topics/{name}/records" -> Access.path(Privilege.WRITE, "topic");
            case "PUT /v1/topics/{name}/schema", "PUT /v1/topics/{name}/retention", "DELETE /v1/topics/{name}" ->
                Access.path(Privilege.MANAGE, "topic");
            case "POST /v1/pipelines" -> Access.body(Privilege.MANAGE, "pipeline", "name");
            case "GET /v1/pipelines/{name}",
                    "GET /v1/pipelines/{name}/savepoints",
                    "GET /v1/pipelines/{name}/dead-letters" -> Access.path(Privilege.READ, "pipeline");
            case "POST /v1/pipelines/{name}/stop",
                    "POST /v1/pipelines/{name}/start",
                    "POST /v1/pipelines/{name}/dead-letters/replay" -> Access.path(Privilege.WRITE, "pipeline");
            case "PUT /v1/pipelines/{name}", "DELETE /v1/pipelines/{name}" -> Access.path(Privilege.MANAGE, "pipeline");
            // a source makes its change topics <source>.<table> and, mirrored, lake tables <source>.<table>
            case "POST /v1/sources" ->
                r -> Request.bodyText(r, "name")
                        .map(name -> {
                            List<Permission> needs = new ArrayList<>(List.of(
                                    Permission.manage("source", name), Permission.manage("topic", name + ".*")));
                            if (!Request.bodyFlag(r, "mirror").equals(Optional.of(false))) {
                                needs.add(Permission.write("table", name + ".*"));
                            }
                            return needs;
                        })
                        .orElse(List.of());
            case "GET /v1/sources/{name}" -> Access.path(Privilege.READ, "source");
            case "DELETE /v1/sources/{name}" -> Access.path(Privilege.MANAGE, "source");
            case "POST /v1/views" -> Access.body(Privilege.MANAGE, "view", "name");
            case "GET /v1/views/{name}", "GET /v1/views/{name}/status", "GET /v1/views/{name}/changes" ->
                Access.path(Privilege.READ, "view");
            case "POST /v1/views/{name}/stop", "POST /v1/views/{name}/start" -> Access.path(Privilege.WRITE, "view");
            case "DELETE /v1/views/{name}" -> Access.path(Privilege.MANAGE, "view");
            case "GET /v1/tables/{name}", "GET /v1/tables/{name}/snapshots" -> Access.path(Privilege.READ, "table");
            case "POST /v1/tables/{name}/maintenance", "DELETE /v1/tables/{name}" ->
                Access.path(Privilege.MANAGE, "table");
            case "POST /v1/tables/{name}/swap" ->
                r -> {
                    List<Permission> needs = new ArrayList<>(
                            Access.path(Privilege.MANAGE, "table").needs(r));
                    needs.addAll(Access.body(Privilege.MANAGE, "table", "with").needs(r));
                    return needs;
                };
            default -> Access.ADMIN; // tokens and grants
        };
    }

    /**
     * Runs work that plans SQL with the request's principal's privileges: each table the engines resolve must be
     * readable (or writable, where the SQL writes it) by it.
     */
    private <T> T asPrincipal(Request request, Supplier<T> work) {
        return request.principal().equals(Tokens.ADMIN)
                ? work.get()
                : TableGuard.checking(tableCheck(request.principal()), work);
    }

    /** A principal's privileges on the tables of SQL: topics, lake tables and live views. */
    private TableGuard.Check tableCheck(String principal) {
        return (table, write) -> grants.require(principal, List.of(permission(table, write)));
    }

    /** The privilege on a table of SQL ({@code stream.t}, {@code lake.ns.t}, {@code live.v}) that reading or writing it needs. */
    static Permission permission(String table, boolean write) {
        Privilege privilege = write ? Privilege.WRITE : Privilege.READ;
        int dot = table.indexOf('.');
        String kind =
                switch (table.substring(0, dot)) {
                    case "stream" -> "topic";
                    case "lake" -> "table";
                    case "live" -> "view";
                    default -> throw new IllegalArgumentException("not a table of Tarn's SQL: " + table);
                };
        return new Permission(privilege, kind + ":" + table.substring(dot + 1));
    }

    /** The node a lineage is asked of: exactly one of {@code ?table=}, {@code ?topic=}, … */
    private static Map.Entry<String, String> lineageOf(Request request) {
        List<Map.Entry<String, String>> asked = new ArrayList<>();
        for (String kind : LineageService.KINDS) {
            request.query(kind).ifPresent(name -> asked.add(Map.entry(kind, name)));
        }
        if (asked.size() != 1 || request.queryParameters().size() != 1) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST,
                    "a lineage is of one node: give one of ?%s=".formatted(String.join("=, ?", LineageService.KINDS)));
        }
        return asked.get(0);
    }

    private boolean readable(Request request, String kind, String name) {
        return grants.allows(request.principal(), Permission.read(kind, name));
    }

    /** Grants or revokes a privilege of a principal or role, or a principal's membership of a role. */
    private void changeGrant(JsonNode body, boolean grant) {
        boolean principal = body.has("principal");
        boolean role = body.has("role");
        boolean privilege = body.has("privilege") || body.has("resource");
        if (principal && role && !privilege) {
            String who = requiredText(body, "principal");
            String which = requiredText(body, "role");
            if (grant) {
                grants.addMember(who, which);
            } else {
                grants.removeMember(who, which);
            }
            return;
        }
        if (principal == role) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST,
                    "give \"principal\" or \"role\" with \"privilege\" and \"resource\", or \"principal\" and \"role\""
                            + " for a membership");
        }
        String kind = principal ? Grants.PRINCIPAL : Grants.ROLE;
        String grantee = requiredText(body, kind);
        Grant asked = new Grant(Privilege.parse(requiredText(body, "privilege")), requiredText(body, "resource"));
        if (grant) {
            grants.grant(kind, grantee, asked);
        } else {
            grants.revoke(kind, grantee, asked);
        }
    }

    /** {@code [{"privilege","resource"}]}, each checked. */
    private static List<Grant> grantList(JsonNode node) {
        if (node == null) {
            return List.of();
        }
        if (!node.isArray()) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST, "grants must be an array of {\"privilege\", \"resource\"}");
        }
        List<Grant> list = new ArrayList<>();
        for (JsonNode item : node) {
            if (!item.isObject() || item.size() != 2) {
                throw new TarnException(ErrorCode.INVALID_REQUEST, "each grant must be {\"privilege\", \"resource\"}");
            }
            list.add(new Grant(Privilege.parse(requiredText(item, "privilege")), requiredText(item, "resource")));
        }
        return list;
    }

    /** An optional array of names. */
    private static List<String> names(JsonNode body, String field) {
        JsonNode node = body.get(field);
        if (node == null) {
            return List.of();
        }
        List<String> list = new ArrayList<>();
        if (node.isArray()) {
            node.forEach(item -> list.add(item.isTextual() ? item.asText() : ""));
        }
        if (!node.isArray() || list.contains("")) {
            throw new TarnException(ErrorCode.INVALID_REQUEST, "%s must be an array of names".formatted(field));
        }
        return list;
    }

    private static boolean force(Request request) {
        return request.queryFlag("force");
    }

    private Response ready() {
        Map<String, Boolean> state = parts.get();
        boolean all = state.values().stream().allMatch(Boolean::booleanValue);
        ObjectNode body = Request.JSON.createObjectNode();
        body.put("ready", all);
        ObjectNode partsNode = body.putObject("parts");
        state.forEach(partsNode::put);
        return new Response(all ? 200 : 503, body);
    }

    private Response createTopic(Request request) {
        JsonNode body = request.object("name", "partitions", "columns", "watermark", "retention");
        String name = requiredText(body, "name");
        int partitions = defaultPartitions;
        if (body.has("partitions")) {
            if (!body.get("partitions").canConvertToInt()) {
                throw new TarnException(ErrorCode.INVALID_REQUEST, "field 'partitions' must be an integer");
            }
            partitions = body.get("partitions").asInt();
        }
        List<ColumnSpec> columns = columns(body.path("columns"));
        Optional<WatermarkSpec> watermark = Optional.empty();
        if (body.has("watermark")) {
            JsonNode w = body.get("watermark");
            if (!w.isObject()) {
                throw new TarnException(
                        ErrorCode.INVALID_REQUEST, "field 'watermark' must be an object {\"column\",\"delay\"}");
            }
            String delay = w.path("delay").asText("0s");
            long delayMillis;
            try {
                delayMillis = ConfigKeys.parseDuration(delay).toMillis();
            } catch (RuntimeException e) {
                throw new TarnException(
                        ErrorCode.INVALID_REQUEST,
                        "watermark delay '%s' is not a duration such as 5s or 500ms".formatted(delay));
            }
            watermark = Optional.of(new WatermarkSpec(requiredText(w, "column"), delayMillis));
        }
        TopicSpec spec = new TopicSpec(name, partitions, columns, watermark);
        Optional<Retention> retention =
                body.has("retention") ? Optional.of(retention(body.get("retention"))) : Optional.empty();
        topics.create(spec, retention);
        return Response.created(JsonViews.topic(topics.describe(name)));
    }

    /** {@code [{"name","type"}]}, each type read by Flink's type parser; missing: none. */
    private List<ColumnSpec> columns(JsonNode columnsNode) {
        List<ColumnSpec> columns = new ArrayList<>();
        if (!columnsNode.isMissingNode() && !columnsNode.isArray()) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST, "field 'columns' must be an array of {\"name\",\"type\"}");
        }
        for (JsonNode column : columnsNode) {
            if (!column.isObject()) {
                throw new TarnException(ErrorCode.INVALID_REQUEST, "each column must be an object {\"name\",\"type\"}");
            }
            String type = requiredText(column, "type");
            columns.add(new ColumnSpec(requiredText(column, "name"), topics.columnType(type)));
        }
        return columns;
    }

    private static ObjectNode schemas(TopicService.Schemas schemas) {
        ObjectNode body = Request.JSON.createObjectNode();
        body.put("compatibility", schemas.compatibility().name());
        ArrayNode versions = body.putArray("versions");
        for (SchemaVersion version : schemas.versions()) {
            ObjectNode node = versions.addObject().put("version", version.version());
            ArrayNode columns = node.putArray("columns");
            version.columns().forEach(c -> columns.addObject()
                    .put("name", c.name())
                    .put("type", c.type().sql()));
            if (version.createdAt() > 0) {
                node.put("createdAt", Instant.ofEpochMilli(version.createdAt()).toString());
            } else {
                node.putNull("createdAt"); // the topic's first columns, from before Tarn kept versions
            }
        }
        return body;
    }

    /**
     * {@code {"ms","bytes","untilLanded"}}: each -1 (no limit) or a whole number, a missing one -1 for bytes and 7 days
     * for ms; untilLanded (default false) keeps records also until landed (then bytes must be -1).
     */
    private static Retention retention(JsonNode node) {
        if (node == null || !node.isObject()) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST, "retention must be an object {\"ms\",\"bytes\",\"untilLanded\"}");
        }
        node.fieldNames().forEachRemaining(field -> {
            if (!List.of("ms", "bytes", "untilLanded").contains(field)) {
                throw new TarnException(
                        ErrorCode.INVALID_REQUEST,
                        "unknown retention field '%s'; use ms, bytes and untilLanded".formatted(field));
            }
        });
        long ms = wholeNumber(node, "ms", Duration.ofDays(7).toMillis());
        long bytes = wholeNumber(node, "bytes", -1);
        if (node.has("untilLanded") && !node.get("untilLanded").isBoolean()) {
            throw new TarnException(ErrorCode.INVALID_REQUEST, "retention untilLanded must be true or false");
        }
        return new Retention(ms, bytes, node.path("untilLanded").asBoolean(false));
    }

    private static long wholeNumber(JsonNode node, String field, long otherwise) {
        JsonNode value = node.get(field);
        if (value == null) {
            return otherwise;
        }
        if (!value.isIntegralNumber() || !value.canConvertToLong()) {
            throw new TarnException(ErrorCode.INVALID_REQUEST, "retention %s must be a whole number".formatted(field));
        }
        return value.asLong();
    }

    /**
     * {@code {"all": true}} or {@code {"deadLetters": [{"topic", "partition", "offset", "value"?}, ...]}}, where a
     * value (any JSON) corrects the dead letter's.
     */
    private Response replayDeadLetters(Request request) {
        JsonNode body = request.object("all", "deadLetters");
        JsonNode all = body.path("all");
        JsonNode listed = body.path("deadLetters");
        if (all.isMissingNode() == listed.isMissingNode() || (!all.isMissingNode() && !all.equals(BooleanNode.TRUE))) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST,
                    "give either \"all\": true or \"deadLetters\": [{\"topic\", \"partition\", \"offset\"}, ...]");
        }
        Optional<List<DeadLetterReplay.Choice>> chosen = Optional.empty();
        if (!listed.isMissingNode()) {
            if (!listed.isArray()) {
                throw new TarnException(ErrorCode.INVALID_REQUEST, "field 'deadLetters' must be an array");
            }
            List<DeadLetterReplay.Choice> choices = new ArrayList<>();
            for (JsonNode letter : listed) {
                JsonNode partition = letter.path("partition");
                JsonNode offset = letter.path("offset");
                if (!letter.path("topic").isTextual()
                        || !partition.canConvertToInt()
                        || !partition.isIntegralNumber()
                        || partition.asInt() < 0
                        || !offset.isIntegralNumber()
                        || !offset.canConvertToLong()
                        || offset.asLong() < 0) {
                    throw new TarnException(
                            ErrorCode.INVALID_REQUEST,
                            "each dead letter must be {\"topic\": text, \"partition\": 0 or more, \"offset\": 0 or"
                                    + " more}");
                }
                Optional<byte[]> value = letter.has("value")
                        ? Optional.of(letter.get("value").toString().getBytes(StandardCharsets.UTF_8))
                        : Optional.empty();
                choices.add(new DeadLetterReplay.Choice(
                        new DeadLetterPosition(letter.get("topic").asText(), partition.asInt(), offset.asLong()),
                        value));
            }
            chosen = Optional.of(choices);
        }
        DeadLetterReplay.Result result = replays.replay(request.path("name"), chosen);
        return Response.ok(Request.JSON
                .createObjectNode()
                .put("replayed", result.replayed())
                .put("remaining", result.remaining()));
    }

    private Response createSource(Request request) {
        JsonNode body = request.object("name", "type", "connection", "user", "password", "tables", "mirror");
        JsonNode tablesNode = body.path("tables");
        if (!tablesNode.isArray()) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST, "field 'tables' must be an array of \"schema.table\" names");
        }
        List<String> tables = new ArrayList<>();
        for (JsonNode table : tablesNode) {
            if (!table.isTextual()) {
                throw new TarnException(
                        ErrorCode.INVALID_REQUEST, "field 'tables' must be an array of \"schema.table\" names");
            }
            tables.add(table.asText());
        }
        JsonNode mirror = body.path("mirror");
        if (!mirror.isMissingNode() && !mirror.isBoolean()) {
            throw new TarnException(ErrorCode.INVALID_REQUEST, "field 'mirror' must be true or false");
        }
        return Response.created(JsonViews.source(sources.create(new SourceService.Request(
                requiredText(body, "name"),
                body.hasNonNull("type") ? body.get("type").asText() : null,
                requiredText(body, "connection"),
                requiredText(body, "user"),
                body.path("password").asText(""),
                tables,
                mirror.asBoolean(true)))));
    }

    /**
     * A query's answer: the fast path's is written to the client as DuckDB hands out its rows (the answer is never
     * held whole on the heap), the reference engine's once it is complete. Both have the same shape.
     */
    private Response query(Request request) {
        JsonNode body = request.object("sql", "engine", "fresh");
        String engine = body.path("engine").asText(LakeQuery.ENGINE);
        String sql = requiredText(body, "sql");
        JsonNode freshNode = body.path("fresh");
        if (!freshNode.isMissingNode() && !freshNode.isBoolean()) {
            throw new TarnException(ErrorCode.INVALID_REQUEST, "fresh must be true or false");
        }
        boolean fresh = freshNode.asBoolean(false);
        if (fresh && !engine.equals(LakeQuery.ENGINE)) {
            throw new TarnException(
                    ErrorCode.INVALID_REQUEST, "fresh reads run on engine \"%s\" only".formatted(LakeQuery.ENGINE));
        }
        long start = System.nanoTime();
        if (engine.equals(LakeQuery.ENGINE)) {
            LakeQuery.Answer answer = asPrincipal(request, () -> queries.open(sql, fresh));
            return Response.ok(new Response.Streamed() {
                @Override
                public void writeTo(OutputStream out) throws IOException {
                    // neither closes the stream nor completes the JSON when a row fails: the answer is cut off
                    try (JsonGenerator json = Request.JSON
                            .createGenerator(out)
                            .disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET)
                            .disable(JsonGenerator.Feature.AUTO_CLOSE_JSON_CONTENT)) {
                        json.writeStartObject();
                        writeColumns(json, answer.columns());
                        json.writeArrayFieldStart("rows");
                        for (Optional<List<Object>> row = answer.next(); row.isPresent(); row = answer.next()) {
                            json.writeObject(row.get());
                        }
                        json.writeEndArray();
                        writeEnd(json, answer.truncated(), LakeQuery.ENGINE, start);
                    }
                }

                @Override
                public void close() {
                    answer.close();
                }
            });
        }
        QueryResult result = asPrincipal(request, () -> queries.query(sql, engine));
        ObjectNode answer = Request.JSON.createObjectNode();
        ArrayNode columns = answer.putArray("columns");
        result.columns().forEach(columns::add);
        answer.set("rows", Request.JSON.valueToTree(result.rows()));
        answer.put("truncated", result.truncated());
        answer.put("engine", result.engine());
        answer.put("elapsedMs", (System.nanoTime() - start) / 1_000_000);
        return Response.ok(answer);
    }

    private static void writeColumns(JsonGenerator json, List<String> columns) throws IOException {
        json.writeArrayFieldStart("columns");
        for (String column : columns) {
            json.writeString(column);
        }
        json.writeEndArray();
    }

    private static void writeEnd(JsonGenerator json, boolean truncated, String engine, long start) throws IOException {
        json.writeBooleanField("truncated", truncated);
        json.writeStringField("engine", engine);
        json.writeNumberField("elapsedMs", (System.nanoTime() - start) / 1_000_000);
        json.writeEndObject();
    }

    static byte[] openApi() throws IOException {
        try (InputStream in = TarnApi.class.getResourceAsStream("/openapi.json")) {
            if (in == null) {
                throw new TarnException(ErrorCode.INTERNAL_ERROR, "openapi.json is missing from the build");
            }
            return in.readAllBytes();
        }
    }
}
