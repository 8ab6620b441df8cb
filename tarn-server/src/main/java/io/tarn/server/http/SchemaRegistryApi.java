package io.tarn.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.server.auth.Permission;
import io.tarn.server.topic.SchemaRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The part of Confluent Schema Registry's REST API that Confluent's serializers and registry clients use, under
 * {@code /schema-registry}: a producer configured with {@code schema.registry.url=http(s)://<tarn>/schema-registry}
 * and a Tarn token ({@code bearer.auth.credentials.source=STATIC_TOKEN}) registers and looks up Avro schemas of
 * Tarn's topics ({@link SchemaRegistry}). Bodies and errors are Confluent's ({@code {"error_code", "message"}}).
 */
public final class SchemaRegistryApi {
    /** Where the API is. */
    public static final String BASE = "/schema-registry";

    private static final String SUBJECT = BASE + "/subjects/{subject}";
    private static final String VERSION = SUBJECT + "/versions/{version}";
    private static final String ID = BASE + "/schemas/ids/{id}";

    /** Media types Confluent's clients send bodies as. */
    private static final String[] BODY_TYPES = {
        "application/vnd.schemaregistry.v1+json", "application/vnd.schemaregistry+json", HttpGuard.JSON
    };

    private final SchemaRegistry registry;
    private final Authorizer authorizer;

    /** @param registry null only to list the routes (and then the authorizer too) */
    public SchemaRegistryApi(SchemaRegistry registry, Authorizer authorizer) {
        this.registry = registry;
        this.authorizer = authorizer;
    }

    public List<Route> routes() {
        List<Route> routes = new ArrayList<>();
        routes.add(route("GET", BASE + "/schemas/types", r -> array(List.of("AVRO"))));
        routes.add(route("GET", ID, r -> {
            ObjectNode answer = Request.JSON.createObjectNode();
            answer.put("schema", registry.byId(id(r)).schema());
            return answer;
        }));
        routes.add(route("GET", ID + "/schema", r -> raw(registry.byId(id(r)).schema())));
        routes.add(route("GET", ID + "/versions", r -> {
            SchemaRegistry.Registered found = registry.byId(id(r));
            ArrayNode answer = Request.JSON.createArrayNode();
            answer.addObject().put("subject", found.subject()).put("version", found.version());
            return answer;
        }));
        routes.add(route(
                "GET",
                BASE + "/subjects",
                r -> array(registry.subjects().stream()
                        .filter(subject -> authorizer.allows(r.principal(), Permission.read("topic", topicOf(subject))))
                        .toList())));
        routes.add(route("GET", SUBJECT + "/versions", r -> {
            ArrayNode answer = Request.JSON.createArrayNode();
            registry.versions(r.path("subject")).forEach(answer::add);
            return answer;
        }));
        routes.add(route("GET", VERSION, r -> version(registry.version(r.path("subject"), r.path("version")))));
        routes.add(route(
                "GET",
                VERSION + "/schema",
                r -> raw(registry.version(r.path("subject"), r.path("version")).schema())));
        routes.add(route("POST", SUBJECT + "/versions", r -> {
            ObjectNode answer = Request.JSON.createObjectNode();
            answer.put("id", registry.register(r.path("subject"), schema(r)).id());
            return answer;
        }));
        routes.add(route("POST", SUBJECT, r -> version(registry.lookup(r.path("subject"), schema(r)))));
        routes.add(route(
                "POST",
                BASE + "/compatibility" + VERSION.substring(BASE.length()),
                r -> compatibility(r, Optional.of(r.path("version")))));
        routes.add(route(
                "POST",
                BASE + "/compatibility" + SUBJECT.substring(BASE.length()) + "/versions",
                r -> compatibility(r, Optional.empty())));
        routes.add(route("GET", BASE + "/config", r -> config(Optional.empty())));
        routes.add(route("PUT", BASE + "/config", r -> setConfig(r, Optional.empty())));
        routes.add(route("GET", BASE + "/config/{subject}", r -> config(Optional.of(r.path("subject")))));
        routes.add(route("PUT", BASE + "/config/{subject}", r -> setConfig(r, Optional.of(r.path("subject")))));
        return routes.stream()
                .map(route -> route.requiring(access(route.method(), route.template())))
                .toList();
    }

    private interface Work {
        Object run(Request request) throws IOException;
    }

    /**
     * What each route needs: a subject is its topic's ({@code read} to look, {@code manage} to register a version or
     * set its compatibility); a schema id is its subject's; the global compatibility is Tarn's.
     */
    private Access access(String method, String template) {
        if (template.equals(BASE + "/schemas/types")
                || template.equals(BASE + "/subjects")
                || template.equals(BASE + "/config") && method.equals("GET")) {
            return Access.TOKEN;
        }
        if (template.startsWith(ID)) {
            return r -> {
                try {
                    return List.of(Permission.read(
                            "topic", topicOf(registry.byId(id(r)).subject())));
                } catch (RuntimeException e) { // no such id: the handler answers it
                    return List.of();
                }
            };
        }
        if (template.equals(SUBJECT + "/versions") && method.equals("POST")
                || template.equals(BASE + "/config/{subject}") && method.equals("PUT")) {
            return r -> List.of(Permission.manage("topic", topicOf(r.path("subject"))));
        }
        if (template.startsWith(SUBJECT)
                || template.startsWith(BASE + "/compatibility/")
                || template.equals(BASE + "/config/{subject}")) {
            return r -> List.of(Permission.read("topic", topicOf(r.path("subject"))));
        }
        return Access.ADMIN;
    }

    /** The topic of a subject {@code <topic>-value}; another subject as it is (the registry refuses it). */
    private static String topicOf(String subject) {
        return subject.endsWith(SchemaRegistry.VALUE)
                ? subject.substring(0, subject.length() - SchemaRegistry.VALUE.length())
                : subject;
    }

    private static Route route(String method, String template, Work work) {
        return new Route(method, template, r -> answer(work, r)).reading(BODY_TYPES);
    }

    private static Response answer(Work work, Request request) throws IOException {
        try {
            return Response.ok(work.run(request));
        } catch (SchemaRegistry.Failure e) {
            return error(e.errorCode(), e.getMessage());
        } catch (TarnException e) {
            if (e.code() == ErrorCode.SCHEMA_INCOMPATIBLE) {
                return error(409, "Schema being registered is incompatible with an earlier schema: " + e.getMessage());
            }
            throw e; // Tarn's own errors (Kafka or the store unavailable…), in Confluent's shape (ErrorBodies)
        }
    }

    /** An error body as Confluent's clients read it; the status is the code's first three digits. */
    static Response error(int errorCode, String message) {
        ObjectNode body = Request.JSON.createObjectNode();
        body.put("error_code", errorCode).put("message", message);
        return new Response(errorCode >= 10_000 ? errorCode / 100 : errorCode, body);
    }

    private static ArrayNode array(List<String> values) {
        ArrayNode answer = Request.JSON.createArrayNode();
        values.forEach(answer::add);
        return answer;
    }

    private static byte[] raw(String schema) {
        return schema.getBytes(StandardCharsets.UTF_8);
    }

    private static ObjectNode version(SchemaRegistry.Registered registered) {
        ObjectNode answer = Request.JSON.createObjectNode();
        answer.put("subject", registered.subject())
                .put("version", registered.version())
                .put("id", registered.id())
                .put("schema", registered.schema());
        return answer;
    }

    private ObjectNode compatibility(Request request, Optional<String> version) {
        List<String> problems = registry.compatibilityProblems(request.path("subject"), version, schema(request));
        ObjectNode answer = Request.JSON.createObjectNode();
        answer.put("is_compatible", problems.isEmpty());
        if (request.query("verbose").map(Boolean::parseBoolean).orElse(false)) {
            ArrayNode messages = answer.putArray("messages");
            problems.forEach(messages::add);
        }
        return answer;
    }

    private ObjectNode config(Optional<String> subject) {
        ObjectNode answer = Request.JSON.createObjectNode();
        answer.put("compatibilityLevel", registry.compatibility(subject).name());
        return answer;
    }

    private ObjectNode setConfig(Request request, Optional<String> subject) {
        JsonNode body = request.object("compatibility");
        String level = Request.requiredText(body, "compatibility");
        registry.setCompatibility(subject, level);
        ObjectNode answer = Request.JSON.createObjectNode();
        answer.put("compatibility", registry.compatibility(subject).name());
        return answer;
    }

    /** The Avro schema of a request body {@code {"schema", "schemaType"?, "references"?}}. */
    private static String schema(Request request) {
        JsonNode body = request.object("schema", "schemaType", "references", "metadata", "ruleSet");
        String type = body.path("schemaType").asText("AVRO");
        if (!type.equals("AVRO")) {
            throw new SchemaRegistry.Failure(
                    ErrorCode.INVALID_REQUEST,
                    SchemaRegistry.INVALID_SCHEMA,
                    ("schemaType '%s' is not kept here: the registry keeps Avro schemas (JSON topics declare columns with"
                                    + " PUT /v1/topics/{name}/schema)")
                            .formatted(type.length() > 50 ? type.substring(0, 50) + "..." : type));
        }
        if (body.path("references").size() > 0) {
            throw new SchemaRegistry.Failure(
                    ErrorCode.INVALID_REQUEST,
                    SchemaRegistry.INVALID_SCHEMA,
                    "schema references are not supported: register one self-contained record schema");
        }
        return Request.requiredText(body, "schema");
    }

    private static int id(Request request) {
        try {
            return Integer.parseInt(request.path("id"));
        } catch (NumberFormatException e) {
            throw new SchemaRegistry.Failure(
                    ErrorCode.SCHEMA_NOT_FOUND, SchemaRegistry.SCHEMA_NOT_FOUND, "a schema id is a number");
        }
    }
}
