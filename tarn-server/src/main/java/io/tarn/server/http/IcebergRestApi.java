package io.tarn.server.http;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import com.fasterxml.jackson.annotation.PropertyAccessor;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import io.tarn.core.audit.AuditNames;
import io.tarn.core.error.TarnException;
import io.tarn.lake.LakeCatalog;
import io.tarn.server.auth.Permission;
import io.tarn.server.auth.Privilege;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.SupportsNamespaces;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.catalog.ViewCatalog;
import org.apache.iceberg.exceptions.AlreadyExistsException;
import org.apache.iceberg.exceptions.BadRequestException;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.CommitStateUnknownException;
import org.apache.iceberg.exceptions.ForbiddenException;
import org.apache.iceberg.exceptions.NamespaceNotEmptyException;
import org.apache.iceberg.exceptions.NoSuchNamespaceException;
import org.apache.iceberg.exceptions.NoSuchTableException;
import org.apache.iceberg.exceptions.NoSuchViewException;
import org.apache.iceberg.exceptions.NotAuthorizedException;
import org.apache.iceberg.exceptions.NotFoundException;
import org.apache.iceberg.exceptions.ValidationException;
import org.apache.iceberg.rest.CatalogHandlers;
import org.apache.iceberg.rest.Endpoint;
import org.apache.iceberg.rest.RESTCatalogProperties;
import org.apache.iceberg.rest.RESTSerializers;
import org.apache.iceberg.rest.requests.CreateNamespaceRequest;
import org.apache.iceberg.rest.requests.CreateTableRequest;
import org.apache.iceberg.rest.requests.CreateViewRequest;
import org.apache.iceberg.rest.requests.RegisterTableRequest;
import org.apache.iceberg.rest.requests.RegisterViewRequest;
import org.apache.iceberg.rest.requests.RenameTableRequest;
import org.apache.iceberg.rest.requests.UpdateNamespacePropertiesRequest;
import org.apache.iceberg.rest.requests.UpdateTableRequest;
import org.apache.iceberg.rest.responses.ConfigResponse;
import org.apache.iceberg.rest.responses.ListTablesResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tarn's lake as an Iceberg REST catalog, under {@code /iceberg}: a client configured with {@code type=rest} and
 * {@code uri=http(s)://<tarn>/iceberg} and a Tarn token reads and writes the same tables Tarn's pipelines do. Each route
 * is one of the REST spec's, and does what Iceberg's own {@link CatalogHandlers} do on Tarn's catalog; what this class
 * adds is the routing, the spec's error bodies and statuses, and Tarn's rules: every request needs a token (the API
 * server checks it), and the catalog's FileIO reads, writes and deletes files in the warehouse only
 * ({@code WarehouseFileIO}), whatever a client's metadata names.
 *
 * <p>Errors follow the spec's contract: 409 only when a commit certainly did not apply ({@link CommitFailedException}),
 * 5xx when whether it applied is unknown ({@link CommitStateUnknownException}: 500), so that a client retries only
 * what is safe to retry.
 */
public final class IcebergRestApi {
    private static final Logger LOG = LoggerFactory.getLogger(IcebergRestApi.class);
    /** Iceberg's REST serializers, configured as its own REST client and server configure them. */
    private static final ObjectMapper MAPPER = mapper();

    private static final String BASE = "/iceberg/v1";
    private static final String NAMESPACE = BASE + "/namespaces/{namespace}";
    private static final String TABLE = NAMESPACE + "/tables/{table}";
    private static final String VIEW = NAMESPACE + "/views/{view}";

    private final Catalog catalog;
    private final SupportsNamespaces namespaces;
    private final Optional<ViewCatalog> views;
    private final ErrorBodies errors;
    private final Map<String, String> clientDefaults;
    private final Authorizer authorizer;

    /**
     * @param catalog the lake's Iceberg catalog, with namespaces (and views, if it keeps them)
     * @param warehouse where tables are: locations in it are shown in error messages as in every answer
     * @param redactedPath text (the data directory) never to show in an error message
     * @param clientDefaults the properties a client gets as defaults from {@code /config} (its own settings win): the
     *     warehouse and how to reach its files, never a credential
     */
    public IcebergRestApi(
            Catalog catalog,
            String warehouse,
            String redactedPath,
            Map<String, String> clientDefaults,
            Authorizer authorizer) {
        this.catalog = requireNonNull(catalog, "catalog is null");
        if (!(catalog instanceof SupportsNamespaces supports)) {
            throw new IllegalArgumentException("the lake's catalog keeps no namespaces: " + catalog.name());
        }
        this.namespaces = supports;
        this.views = catalog instanceof ViewCatalog viewCatalog ? Optional.of(viewCatalog) : Optional.empty();
        this.errors = new ErrorBodies(
                requireNonNull(redactedPath, "redactedPath is null"), requireNonNull(warehouse, "warehouse is null"));
        this.clientDefaults = Map.copyOf(clientDefaults);
        this.authorizer = requireNonNull(authorizer, "authorizer is null");
    }

    private static ObjectMapper mapper() {
        ObjectMapper mapper = new ObjectMapper();
        mapper.setVisibility(PropertyAccessor.FIELD, JsonAutoDetect.Visibility.ANY);
        mapper.configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
        mapper.setPropertyNamingStrategy(new PropertyNamingStrategies.KebabCaseStrategy());
        RESTSerializers.registerAll(mapper);
        return mapper;
    }

    /** The routes of the REST catalog. */
    public List<Route> routes() {
        List<Route> routes = new ArrayList<>();
        routes.add(route("GET", BASE + "/config", r -> config()));
        routes.add(route("GET", BASE + "/namespaces", r -> {
            Namespace parent = r.query("parent").map(IcebergRestApi::namespace).orElse(Namespace.empty());
            return r.query("pageSize").isEmpty()
                    ? CatalogHandlers.listNamespaces(namespaces, parent)
                    : CatalogHandlers.listNamespaces(namespaces, parent, pageToken(r), pageSize(r));
        }));
        routes.add(route(
                "POST",
                BASE + "/namespaces",
                r -> CatalogHandlers.createNamespace(namespaces, body(r, CreateNamespaceRequest.class))));
        routes.add(route("GET", NAMESPACE, r -> CatalogHandlers.loadNamespace(namespaces, namespace(r))));
        routes.add(empty("HEAD", NAMESPACE, r -> CatalogHandlers.namespaceExists(namespaces, namespace(r))));
        routes.add(empty("DELETE", NAMESPACE, r -> CatalogHandlers.dropNamespace(namespaces, namespace(r))));
        routes.add(route(
                "POST",
                NAMESPACE + "/properties",
                r -> CatalogHandlers.updateNamespaceProperties(
                        namespaces, namespace(r), body(r, UpdateNamespacePropertiesRequest.class))));
        routes.add(route(
                "GET",
                NAMESPACE + "/tables",
                r -> readable(
                        r,
                        r.query("pageSize").isEmpty()
                                ? CatalogHandlers.listTables(catalog, namespace(r))
                                : CatalogHandlers.listTables(catalog, namespace(r), pageToken(r), pageSize(r)))));
        routes.add(route("POST", NAMESPACE + "/tables", r -> {
            CreateTableRequest request = body(r, CreateTableRequest.class);
            Namespace namespace = existing(namespace(r));
            return request.stageCreate()
                    ? CatalogHandlers.stageTableCreate(catalog, namespace, request)
                    : CatalogHandlers.createTable(catalog, namespace, request);
        }));
        routes.add(route(
                "GET",
                TABLE,
                r -> CatalogHandlers.loadTable(
                        catalog,
                        table(r),
                        RESTCatalogProperties.SnapshotMode.valueOf(
                                r.query("snapshots").orElse("all").toUpperCase(Locale.ROOT)))));
        routes.add(empty("HEAD", TABLE, r -> CatalogHandlers.tableExists(catalog, table(r))));
        routes.add(route("POST", TABLE, r -> {
            return CatalogHandlers.updateTable(catalog, table(r), body(r, UpdateTableRequest.class));
        }));
        routes.add(empty("DELETE", TABLE, r -> {
            if (r.query("purgeRequested").map(Boolean::parseBoolean).orElse(false)) {
                Table table = catalog.loadTable(table(r)); // 404 if there is none
                CatalogHandlers.purgeTable(catalog, table(r)); // the catalog's FileIO deletes in the warehouse only
                LakeCatalog.deleteSeams(table);
            } else {
                CatalogHandlers.dropTable(catalog, table(r));
            }
        }));
        routes.add(empty("POST", TABLE + "/metrics", r -> {})); // reports are accepted; Tarn keeps its own figures
        routes.add(route("POST", NAMESPACE + "/register", r -> {
            return CatalogHandlers.registerTable(catalog, existing(namespace(r)), body(r, RegisterTableRequest.class));
        }));
        routes.add(empty(
                "POST",
                BASE + "/tables/rename",
                r -> CatalogHandlers.renameTable(catalog, body(r, RenameTableRequest.class))));
        views.ifPresent(viewCatalog -> {
            routes.add(route(
                    "GET",
                    NAMESPACE + "/views",
                    r -> readable(
                            r,
                            r.query("pageSize").isEmpty()
                                    ? CatalogHandlers.listViews(viewCatalog, namespace(r))
                                    : CatalogHandlers.listViews(
                                            viewCatalog, namespace(r), pageToken(r), pageSize(r)))));
            routes.add(route("POST", NAMESPACE + "/views", r -> {
                return CatalogHandlers.createView(
                        viewCatalog, existing(namespace(r)), body(r, CreateViewRequest.class));
            }));
            routes.add(route(
                    "POST",
                    NAMESPACE + "/register-view",
                    r -> CatalogHandlers.registerView(
                            viewCatalog, existing(namespace(r)), body(r, RegisterViewRequest.class))));
            routes.add(route("GET", VIEW, r -> CatalogHandlers.loadView(viewCatalog, view(r))));
            routes.add(empty("HEAD", VIEW, r -> CatalogHandlers.viewExists(viewCatalog, view(r))));
            routes.add(route("POST", VIEW, r -> {
                return CatalogHandlers.updateView(viewCatalog, view(r), body(r, UpdateTableRequest.class));
            }));
            routes.add(empty("DELETE", VIEW, r -> CatalogHandlers.dropView(viewCatalog, view(r))));
            routes.add(empty(
                    "POST",
                    BASE + "/views/rename",
                    r -> CatalogHandlers.renameView(viewCatalog, body(r, RenameTableRequest.class))));
        });
        return routes.stream()
                .map(route -> route.requiring(access(route.method(), route.template())))
                .toList();
    }

    /**
     * What each route needs: tables and views are {@code table:<namespace>.<name>} resources (a namespace's levels
     * joined by dots); a namespace is managed with {@code manage} on all its tables ({@code table:<namespace>.*}).
     * Creating or registering a table needs {@code write} on it, as a pipeline's {@code CREATE TABLE} does.
     */
    static Access access(String method, String template) {
        String tables = NAMESPACE + "/tables";
        String views = NAMESPACE + "/views";
        if (template.equals(BASE + "/config")
                || template.equals(BASE + "/namespaces") && method.equals("GET")
                || template.equals(NAMESPACE) && !method.equals("DELETE")
                || (template.equals(tables) || template.equals(views)) && method.equals("GET")) {
            return Access.TOKEN; // lists of tables and views show only what the principal may read
        }
        if (template.equals(BASE + "/namespaces")) {
            return r -> namespaceOfBody(r)
                    .map(ns -> List.of(Permission.manage("table", ns + ".*")))
                    .orElse(List.of());
        }
        if (template.equals(NAMESPACE) || template.equals(NAMESPACE + "/properties")) {
            return r -> List.of(Permission.manage("table", dotted(namespace(r)) + ".*"));
        }
        if (template.equals(tables)
                || template.equals(views)
                || template.equals(NAMESPACE + "/register")
                || template.equals(NAMESPACE + "/register-view")) {
            return r -> Request.bodyText(r, "name")
                    .map(name -> List.of(Permission.write("table", dotted(namespace(r)) + "." + name)))
                    .orElse(List.of());
        }
        if (template.equals(TABLE) || template.equals(VIEW) || template.equals(TABLE + "/metrics")) {
            Privilege privilege =
                    switch (method) {
                        case "GET", "HEAD" -> Privilege.READ;
                        case "DELETE" -> Privilege.MANAGE;
                        default -> template.endsWith("/metrics") ? Privilege.READ : Privilege.WRITE;
                    };
            String name = template.equals(VIEW) ? "view" : "table";
            return r -> {
                String table = dotted(namespace(r)) + "." + r.path(name);
                if (table.equals(AuditNames.TABLE) && privilege != Privilege.READ) {
                    throw AuditNames.refused("lake table %s is read only through the catalog".formatted(table));
                }
                return List.of(new Permission(privilege, "table:" + table));
            };
        }
        if (template.equals(BASE + "/tables/rename") || template.equals(BASE + "/views/rename")) {
            return r -> {
                List<Permission> needs = new ArrayList<>();
                renamed(r, "source").ifPresent(t -> needs.add(Permission.manage("table", t)));
                renamed(r, "destination").ifPresent(t -> needs.add(Permission.manage("table", t)));
                return needs;
            };
        }
        return Access.ADMIN;
    }

    /** Only the tables or views of a listing that the principal may read. */
    private ListTablesResponse readable(Request request, ListTablesResponse listed) {
        return ListTablesResponse.builder()
                .addAll(listed.identifiers().stream()
                        .filter(id -> authorizer.allows(
                                request.principal(),
                                Permission.read("table", dotted(id.namespace()) + "." + id.name())))
                        .toList())
                .nextPageToken(listed.nextPageToken())
                .build();
    }

    private static String dotted(Namespace namespace) {
        return String.join(".", namespace.levels());
    }

    /** The namespace of a create-namespace body, its levels joined by dots. */
    private static Optional<String> namespaceOfBody(Request request) {
        try {
            JsonNode levels = MAPPER.readTree(request.body()).path("namespace");
            if (!levels.isArray() || levels.isEmpty()) {
                return Optional.empty();
            }
            List<String> names = new ArrayList<>();
            levels.forEach(level -> names.add(level.asText()));
            return Optional.of(String.join(".", names));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The {@code source} or {@code destination} table of a rename body, as {@code namespace.name}. */
    private static Optional<String> renamed(Request request, String field) {
        try {
            JsonNode table = MAPPER.readTree(request.body()).path(field);
            JsonNode levels = table.path("namespace");
            if (!levels.isArray() || !table.path("name").isTextual()) {
                return Optional.empty();
            }
            List<String> names = new ArrayList<>();
            levels.forEach(level -> names.add(level.asText()));
            names.add(table.path("name").asText());
            return Optional.of(String.join(".", names));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private ConfigResponse config() {
        List<Endpoint> endpoints = new ArrayList<>(List.of(
                Endpoint.V1_LIST_NAMESPACES,
                Endpoint.V1_LOAD_NAMESPACE,
                Endpoint.V1_NAMESPACE_EXISTS,
                Endpoint.V1_CREATE_NAMESPACE,
                Endpoint.V1_UPDATE_NAMESPACE,
                Endpoint.V1_DELETE_NAMESPACE,
                Endpoint.V1_LIST_TABLES,
                Endpoint.V1_LOAD_TABLE,
                Endpoint.V1_TABLE_EXISTS,
                Endpoint.V1_CREATE_TABLE,
                Endpoint.V1_UPDATE_TABLE,
                Endpoint.V1_DELETE_TABLE,
                Endpoint.V1_RENAME_TABLE,
                Endpoint.V1_REGISTER_TABLE,
                Endpoint.V1_REPORT_METRICS));
        if (views.isPresent()) {
            endpoints.addAll(List.of(
                    Endpoint.V1_LIST_VIEWS,
                    Endpoint.V1_LOAD_VIEW,
                    Endpoint.V1_VIEW_EXISTS,
                    Endpoint.V1_CREATE_VIEW,
                    Endpoint.V1_UPDATE_VIEW,
                    Endpoint.V1_DELETE_VIEW,
                    Endpoint.V1_RENAME_VIEW,
                    Endpoint.V1_REGISTER_VIEW));
        }
        return ConfigResponse.builder()
                .withDefaults(new HashMap<>(clientDefaults)) // Iceberg's builder asks it containsKey(null)
                .withEndpoints(endpoints)
                .build();
    }

    /** Work that answers a value, written with Iceberg's own JSON serializers. */
    private interface Work {
        Object run(Request request) throws Exception;
    }

    /** Work that answers nothing (204). */
    private interface EmptyWork {
        void run(Request request) throws Exception;
    }

    private Route route(String method, String template, Work work) {
        return new Route(
                method,
                template,
                r -> answer(method, template, () -> {
                    Object value = work.run(r);
                    return new Response(200, MAPPER.writeValueAsBytes(value));
                }));
    }

    private Route empty(String method, String template, EmptyWork work) {
        return new Route(
                method,
                template,
                r -> answer(method, template, () -> {
                    work.run(r);
                    return Response.noContent();
                }));
    }

    private interface Answer {
        Response get() throws Exception;
    }

    /** The answer, or the REST spec's error body with the status its contract gives the failure. */
    private Response answer(String method, String template, Answer answer) {
        try {
            return answer.get();
        } catch (TarnException e) {
            return error(ErrorBodies.status(e.code()), e.code().name(), e.getMessage());
        } catch (CommitFailedException e) { // certainly not applied: the client may retry
            return error(409, "CommitFailedException", e.getMessage());
        } catch (CommitStateUnknownException e) { // maybe applied: the client must not retry blindly
            LOG.warn("{} {}: a commit's outcome is unknown: {}", method, template, e.getMessage());
            return error(500, "CommitStateUnknownException", e.getMessage());
        } catch (NoSuchNamespaceException | NoSuchTableException | NoSuchViewException | NotFoundException e) {
            return error(404, e.getClass().getSimpleName(), e.getMessage());
        } catch (AlreadyExistsException | NamespaceNotEmptyException e) {
            return error(409, e.getClass().getSimpleName(), e.getMessage());
        } catch (NotAuthorizedException e) {
            return error(401, "NotAuthorizedException", e.getMessage());
        } catch (ForbiddenException e) {
            return error(403, "ForbiddenException", e.getMessage());
        } catch (UnsupportedOperationException e) {
            return error(406, "UnsupportedOperationException", String.valueOf(e.getMessage()));
        } catch (IllegalArgumentException
                | IllegalStateException
                | ValidationException
                | BadRequestException
                | IOException e) {
            // the type names the exception: Iceberg's clients raise an IllegalArgumentException as one
            return error(400, e.getClass().getSimpleName(), e.getMessage());
        } catch (Exception e) {
            String id = UUID.randomUUID().toString().substring(0, 8);
            LOG.error("{} {} failed unexpectedly (error id {})", method, template, id, e);
            return error(500, "InternalServerError", "internal error (error id %s); see the server log".formatted(id));
        }
    }

    private Response error(int status, String type, String message) {
        return errors.iceberg(status, type, String.valueOf(message));
    }

    private static <T> T body(Request request, Class<T> type) throws IOException {
        if (request.body() == null || request.body().length == 0) {
            throw new BadRequestException("a request body (%s) is required", type.getSimpleName());
        }
        T value = MAPPER.readValue(request.body(), type);
        if (value instanceof org.apache.iceberg.rest.RESTRequest rest) {
            rest.validate();
        }
        return value;
    }

    /**
     * The namespace, which must exist: Tarn's catalog would create a table in a namespace no one created, where the
     * REST spec answers 404.
     */
    private Namespace existing(Namespace namespace) {
        if (!namespaces.namespaceExists(namespace)) {
            throw new NoSuchNamespaceException("Namespace does not exist: %s", namespace);
        }
        return namespace;
    }

    /** Where a page of a listing starts: the token of the previous page's end, empty for the first page. */
    private static String pageToken(Request request) {
        return request.query("pageToken").orElse("");
    }

    private static String pageSize(Request request) {
        return request.query("pageSize").orElseThrow();
    }

    /** A namespace as a path or query parameter names it: its levels joined by the unit separator (0x1F). */
    private static Namespace namespace(String text) {
        return Namespace.of(text.split("\u001f", -1));
    }

    private static Namespace namespace(Request request) {
        return namespace(request.path("namespace"));
    }

    private static TableIdentifier table(Request request) {
        return TableIdentifier.of(namespace(request), request.path("table"));
    }

    private static TableIdentifier view(Request request) {
        return TableIdentifier.of(namespace(request), request.path("view"));
    }
}
