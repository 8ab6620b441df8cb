package io.tarn.server.http;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.ErrorType;
import io.tarn.core.error.TarnException;
import io.tarn.server.topic.InvalidRecordsException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP server: routes requests to handlers and turns every failure into
 * {@code {"error":{"code","name","message"}}} with a status chosen by the error's type. Messages are scrubbed of the
 * data directory's path; unexpected exceptions are logged with an id and answered without any detail.
 */
public final class ApiServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ApiServer.class);

    /**
     * The JDK's server writes a response's headers and body in two writes; with Nagle's algorithm on, the body waits
     * for the client's delayed ACK of the headers (40 ms on Linux) on every keep-alive request, which bounded HTTP
     * ingest by latency, not CPU. The server reads this property once, when its first instance is made, so it is set
     * here unless the operator set it.
     */
    static final String NO_DELAY = "sun.net.httpserver.nodelay";

    static {
        if (System.getProperty(NO_DELAY) == null) {
            System.setProperty(NO_DELAY, "true");
        }
    }

    private final HttpServer server;
    private final ExecutorService executor;
    private final List<Route> routes;
    private final long maxRequestBytes;
    private final String redactedPath;
    private final BooleanSupplier ready;

    private ApiServer(
            HttpServer server,
            ExecutorService executor,
            List<Route> routes,
            long maxRequestBytes,
            String redactedPath,
            BooleanSupplier ready) {
        this.server = server;
        this.executor = executor;
        this.routes = routes;
        this.maxRequestBytes = maxRequestBytes;
        this.redactedPath = redactedPath;
        this.ready = ready;
    }

    /**
     * Binds and starts serving. Until {@code ready} is true only routes marked as always available answer; the others
     * get 503 NOT_READY.
     *
     * @param redactedPath text (the data directory) never to show in a response
     */
    public static ApiServer start(
            String host,
            int port,
            int threads,
            long maxRequestBytes,
            List<Route> routes,
            String redactedPath,
            BooleanSupplier ready)
            throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(host, port), 256);
        AtomicInteger counter = new AtomicInteger();
        ExecutorService executor = Executors.newFixedThreadPool(threads, r -> {
            Thread thread = new Thread(r, "tarn-http-" + counter.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        ApiServer api = new ApiServer(
                server, executor, List.copyOf(routes), maxRequestBytes, requireNonNull(redactedPath), ready);
        server.setExecutor(executor);
        server.createContext("/", api::handle);
        server.start();
        return api;
    }

    public int port() {
        return server.getAddress().getPort();
    }

    List<Route> routes() {
        return routes;
    }

    private void handle(HttpExchange exchange) {
        try (exchange) {
            Response response;
            try {
                response = dispatch(exchange);
            } catch (InvalidRecordsException e) {
                ObjectNode body = errorBody(e.code(), e.getMessage());
                var records = ((ObjectNode) body.get("error")).putArray("records");
                e.problems().stream().limit(100).forEach(p -> records.addObject()
                        .put("index", p.index())
                        .put("reason", p.reason()));
                response = new Response(status(e.code()), body);
            } catch (TarnException e) {
                if (e.code().type() == ErrorType.INTERNAL || e.code().type() == ErrorType.EXTERNAL) {
                    LOG.warn(
                            "{} {} failed: {}",
                            exchange.getRequestMethod(),
                            exchange.getRequestURI().getPath(),
                            e.getMessage(),
                            e);
                }
                response = new Response(status(e.code()), errorBody(e.code(), e.getMessage()));
            } catch (Exception e) {
                String id = UUID.randomUUID().toString().substring(0, 8);
                LOG.error(
                        "{} {} failed unexpectedly (error id {})",
                        exchange.getRequestMethod(),
                        exchange.getRequestURI().getPath(),
                        id,
                        e);
                response = new Response(
                        500,
                        errorBody(
                                ErrorCode.INTERNAL_ERROR,
                                "internal error (error id %s); see the server log".formatted(id)));
            }
            write(exchange, response);
        } catch (IOException e) {
            LOG.debug("client went away: {}", e.getMessage());
        }
    }

    private Response dispatch(HttpExchange exchange) throws Exception {
        String path = exchange.getRequestURI().getRawPath();
        if (path.length() > 1 && path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        boolean pathKnown = false;
        for (Route route : routes) {
            Optional<Map<String, String>> parameters = route.match(path);
            if (parameters.isEmpty()) {
                continue;
            }
            pathKnown = true;
            if (!route.method().equals(exchange.getRequestMethod())) {
                continue;
            }
            if (!ready.getAsBoolean()
                    && !path.equals("/v1/health")
                    && !path.equals("/v1/ready")
                    && !path.equals("/v1/openapi.json")) {
                throw new TarnException(ErrorCode.NOT_READY, "Tarn is starting; retry when GET /v1/ready answers 200");
            }
            byte[] body = readBody(exchange.getRequestBody());
            return route.handler()
                    .handle(new Request(
                            parameters.get(), query(exchange.getRequestURI().getRawQuery()), body));
        }
        if (pathKnown) {
            throw new TarnException(
                    ErrorCode.METHOD_NOT_ALLOWED,
                    "method %s is not allowed on %s".formatted(exchange.getRequestMethod(), path));
        }
        throw new TarnException(
                ErrorCode.ROUTE_NOT_FOUND, "no endpoint at %s; see GET /v1/openapi.json".formatted(path));
    }

    private byte[] readBody(InputStream in) throws IOException {
        byte[] body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxRequestBytes + 1));
        if (body.length > maxRequestBytes) {
            // Read (and drop) what the client is still sending, so it receives the answer instead of a reset.
            long drained = 0;
            byte[] sink = new byte[65536];
            for (int n; drained < 256L * 1024 * 1024 && (n = in.read(sink)) > 0; ) {
                drained += n;
            }
            throw new TarnException(
                    ErrorCode.REQUEST_TOO_LARGE,
                    "request body is larger than the limit of %d bytes (http.max-request-bytes)"
                            .formatted(maxRequestBytes));
        }
        return body;
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> parameters = new HashMap<>();
        if (raw == null || raw.isEmpty()) {
            return parameters;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            parameters.put(key, value);
        }
        return parameters;
    }

    private ObjectNode errorBody(ErrorCode code, String message) {
        ObjectNode body = Request.JSON.createObjectNode();
        body.putObject("error")
                .put("code", code.number())
                .put("name", code.name())
                .put("message", redact(message))
                .put("retriable", code.retriable());
        return body;
    }

    private String redact(String message) {
        String clean = redactedPath.isEmpty() ? message : message.replace(redactedPath, "<data-dir>");
        return clean.replaceAll("file:(/+)?<data-dir>", "<data-dir>");
    }

    static int status(ErrorCode code) {
        return switch (code.type()) {
            case USER_ERROR ->
                code == ErrorCode.REQUEST_TOO_LARGE ? 413 : code == ErrorCode.METHOD_NOT_ALLOWED ? 405 : 400;
            case NOT_FOUND -> 404;
            case CONFLICT -> 409;
            case UNAUTHORIZED -> 401;
            case FORBIDDEN -> 403;
            case EXTERNAL -> code.retriable() ? 503 : 502;
            case INSUFFICIENT_RESOURCES -> 503;
            case INTERNAL -> 500;
        };
    }

    private static void write(HttpExchange exchange, Response response) throws IOException {
        if (response.body() == null) {
            exchange.sendResponseHeaders(response.status(), -1);
            return;
        }
        byte[] bytes = response.body() instanceof byte[] raw ? raw : Request.JSON.writeValueAsBytes(response.body());
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        if (response.status() == 503) {
            exchange.getResponseHeaders().set("Retry-After", "1");
        }
        exchange.sendResponseHeaders(response.status(), bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
