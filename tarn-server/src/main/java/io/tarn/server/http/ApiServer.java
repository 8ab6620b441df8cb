package io.tarn.server.http;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.UriCompliance;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.ConnectionLimit;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.util.thread.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP server (Jetty): checks every request before a route sees it and turns every failure into
 * {@code {"error":{"code","name","message"}}} with a status chosen by the error's type.
 *
 * <p>Order of checks: the {@code Host}, then (but for the open routes: {@code GET /v1/health} and the console's files,
 * which a page of another site may link to) the browser's origin ({@link HttpGuard}) and the token (an unknown path
 * without a token is 401 too, so routes cannot be probed), the route, readiness,
 * the body's media type and size. Bodies are read without a thread (Jetty's demand callbacks) within
 * {@code http.read-timeout}; only a complete request is handed to one of the {@code http.threads} request threads, so
 * slow clients hold a connection (at most {@code http.max-connections}), never a thread. Messages are scrubbed of the
 * data directory's path; unexpected exceptions are logged with an id and answered without any detail.
 */
public final class ApiServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ApiServer.class);

    private final Server server;
    private final ServerConnector connector;
    private final ExecutorService executor;
    /** Threads of long-lived streamed answers (event streams), as many as there are; their services bound them. */
    private final ExecutorService subscriptions = Executors.newCachedThreadPool(r -> {
        Thread thread = new Thread(r, "tarn-http-stream");
        thread.setDaemon(true);
        return thread;
    });

    /** How long a changing call's answer waits for its audit event to be stored. */
    private static final Duration AUDIT_WAIT = Duration.ofSeconds(10);

    private final List<Route> routes;
    private final HttpSettings settings;
    private final Authenticator authenticator;
    private final Authorizer authorizer;
    private final AuditSink audit;
    private final ErrorBodies errors;
    private final HttpGuard guard;

    private ApiServer(
            Server server,
            ServerConnector connector,
            ExecutorService executor,
            List<Route> routes,
            HttpSettings settings,
            Authenticator authenticator,
            Authorizer authorizer,
            AuditSink audit,
            String redactedPath) {
        this.server = server;
        this.connector = connector;
        this.executor = executor;
        this.routes = routes;
        this.settings = settings;
        this.authenticator = authenticator;
        this.authorizer = authorizer;
        this.audit = audit;
        this.errors = new ErrorBodies(redactedPath);
        this.guard = new HttpGuard(settings.scheme(), connector::getLocalPort, settings.allowedHosts());
    }

    /**
     * Binds and starts serving.
     *
     * @param redactedPath text (the data directory) never to show in a response
     * @throws TarnException {@link ErrorCode#INVALID_CONFIG} when the address cannot be bound or the key store read
     */
    public static ApiServer start(
            HttpSettings settings,
            List<Route> routes,
            Authenticator authenticator,
            Authorizer authorizer,
            AuditSink audit,
            String redactedPath) {
        QueuedThreadPool io = new QueuedThreadPool(8, 2);
        io.setName("tarn-http-io");
        io.setDaemon(true);
        Server server = new Server(io);
        HttpConfiguration http = new HttpConfiguration();
        // Iceberg's REST clients join the levels of a namespace with an encoded 0x1F in a path segment; routes decode
        // segments and check names themselves
        http.setUriCompliance(
                UriCompliance.DEFAULT.with("iceberg-namespaces", UriCompliance.Violation.SUSPICIOUS_PATH_CHARACTERS));
        http.setSendServerVersion(false);
        http.setSendXPoweredBy(false);
        HttpConnectionFactory http11 = new HttpConnectionFactory(http);
        ServerConnector connector;
        if (settings.tls().isPresent()) {
            SecureRequestCustomizer secure = new SecureRequestCustomizer();
            secure.setSniHostCheck(false); // the Host rule is HttpGuard's
            http.addCustomizer(secure);
            SslContextFactory.Server ssl = new SslContextFactory.Server();
            ssl.setKeyStorePath(settings.tls().get().keyStore().toString());
            ssl.setKeyStorePassword(settings.tls().get().password());
            connector = new ServerConnector(server, 1, 1, new SslConnectionFactory(ssl, http11.getProtocol()), http11);
        } else {
            connector = new ServerConnector(server, 1, 1, http11);
        }
        connector.setHost(settings.host());
        connector.setPort(settings.port());
        // Jetty's idle timeout cuts slow headers and idle keep-alive connections; it is longer than the read timeout of
        // bodies, so that a slow body gets its 408 answer from Tarn's timer before Jetty closes the connection
        // unanswered
        connector.setIdleTimeout(settings.readTimeout().toMillis() * 2);
        connector.setAcceptQueueSize(256);
        server.addConnector(connector);
        server.addBean(new ConnectionLimit(settings.maxConnections(), server));
        server.setErrorHandler(ApiServer::jettyError);
        AtomicInteger counter = new AtomicInteger();
        ExecutorService executor = Executors.newFixedThreadPool(settings.threads(), r -> {
            Thread thread = new Thread(r, "tarn-http-" + counter.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        ApiServer api = new ApiServer(
                server,
                connector,
                executor,
                List.copyOf(routes),
                settings,
                requireNonNull(authenticator, "authenticator is null"),
                requireNonNull(authorizer, "authorizer is null"),
                requireNonNull(audit, "audit is null"),
                requireNonNull(redactedPath, "redactedPath is null"));
        server.setHandler(api.new Dispatcher());
        try {
            server.start();
        } catch (Exception e) {
            executor.shutdownNow();
            api.subscriptions.shutdownNow();
            stopQuietly(server);
            throw new TarnException(
                    ErrorCode.INVALID_CONFIG,
                    "HTTP API cannot listen on %s:%d: %s"
                            .formatted(settings.host(), settings.port(), TarnException.rootMessage(e)),
                    e);
        }
        return api;
    }

    public int port() {
        return connector.getLocalPort();
    }

    /** The API's base address, e.g. {@code http://127.0.0.1:8080}. */
    public String address() {
        String host = settings.host().contains(":") ? "[" + settings.host() + "]" : settings.host();
        return "%s://%s:%d".formatted(settings.scheme(), host, port());
    }

    /** Hands each request to {@link #exchange} without blocking Jetty's threads. */
    private final class Dispatcher extends Handler.Abstract.NonBlocking {
        @Override
        public boolean handle(
                org.eclipse.jetty.server.Request request,
                org.eclipse.jetty.server.Response response,
                Callback callback) {
            new Exchange(request, response, callback).start();
            return true;
        }
    }

    /** One request from its checks to its answer. */
    private final class Exchange implements Runnable {
        private final org.eclipse.jetty.server.Request request;
        private final org.eclipse.jetty.server.Response response;
        private final Callback callback;
        private final AtomicBoolean answered = new AtomicBoolean();
        private final CompletableFuture<byte[]> body = new CompletableFuture<>();
        private byte[] buffer = new byte[0];
        private int length;
        private Route route;
        private Map<String, String> parameters;
        private String principal = "";
        private final Instant at = Instant.now();
        private final long startNanos = System.nanoTime();
        private List<String> privileges = List.of();
        private Optional<String> error = Optional.empty();
        /** Whether the answer waits until its audit event is stored: a call that reached its handler and changes. */
        private boolean auditBeforeAnswer;

        Exchange(
                org.eclipse.jetty.server.Request request,
                org.eclipse.jetty.server.Response response,
                Callback callback) {
            this.request = request;
            this.response = response;
            this.callback = callback;
        }

        void start() {
            try {
                check();
            } catch (RuntimeException e) {
                // a body that is refused unread may still be arriving: the connection cannot carry another request
                HttpFields headers = request.getHeaders();
                boolean unreadBody = headers.getLongField(HttpHeader.CONTENT_LENGTH) > 0
                        || headers.contains(HttpHeader.TRANSFER_ENCODING);
                answer(failed(e), unreadBody);
                return;
            }
            Scheduler.Task timeout = request.getComponents()
                    .getScheduler()
                    .schedule(
                            () -> body.completeExceptionally(new TarnException(
                                    ErrorCode.REQUEST_TIMEOUT,
                                    "the request body did not arrive within %s (http.read-timeout)"
                                            .formatted(settings.readTimeout()))),
                            settings.readTimeout().toMillis(),
                            TimeUnit.MILLISECONDS);
            body.whenComplete((bytes, failure) -> {
                timeout.cancel();
                try {
                    executor.execute(() -> respond(bytes, failure));
                } catch (RejectedExecutionException e) {
                    answer(
                            errors.of(
                                    request.getMethod(),
                                    path(),
                                    new TarnException(ErrorCode.NOT_READY, "Tarn is stopping")),
                            true);
                }
            });
            run();
        }

        /** Host, origin, token, route, readiness and media type: everything decided before the body is read. */
        private void check() {
            HttpFields headers = request.getHeaders();
            guard.checkHost(Optional.ofNullable(headers.get(HttpHeader.HOST)));
            String path = request.getHttpURI().getPath();
            if (path.length() > 1 && path.endsWith("/")) {
                path = path.substring(0, path.length() - 1);
            }
            boolean pathKnown = false;
            for (Route candidate : routes) {
                Optional<Map<String, String>> matched = candidate.match(path);
                if (matched.isPresent()) {
                    pathKnown = true;
                    if (candidate.method().equals(request.getMethod())) {
                        route = candidate;
                        parameters = matched.get();
                        break;
                    }
                }
            }
            if (route == null || !route.open()) {
                // what needs no token (health, the console's files) shows nothing and changes nothing: a page of
                // another site may link to it
                guard.checkOrigin(
                        Optional.ofNullable(headers.get(HttpHeader.ORIGIN)),
                        Optional.ofNullable(headers.get("Sec-Fetch-Site")));
                principal = authenticator.authenticate(Optional.ofNullable(headers.get(HttpHeader.AUTHORIZATION)));
            }
            if (route == null) {
                if (pathKnown) {
                    throw new TarnException(
                            ErrorCode.METHOD_NOT_ALLOWED,
                            "method %s is not allowed on %s".formatted(request.getMethod(), path));
                }
                throw new TarnException(
                        ErrorCode.ROUTE_NOT_FOUND, "no endpoint at %s; see GET /v1/openapi.json".formatted(path));
            }
            long declared = headers.getLongField(HttpHeader.CONTENT_LENGTH);
            boolean hasBody = declared > 0 || headers.contains(HttpHeader.TRANSFER_ENCODING);
            if (hasBody) {
                HttpGuard.checkMediaType(Optional.ofNullable(headers.get(HttpHeader.CONTENT_TYPE)), route.bodyTypes());
            }
            if (declared > settings.maxRequestBytes()) {
                throw tooLarge();
            }
        }

        /** Reads what has arrived of the body; asks Jetty to call again when more arrives. */
        @Override
        public void run() {
            while (!body.isDone()) {
                Content.Chunk chunk = request.read();
                if (chunk == null) {
                    request.demand(this);
                    return;
                }
                if (Content.Chunk.isFailure(chunk)) {
                    body.completeExceptionally(new TarnException(
                            ErrorCode.REQUEST_TIMEOUT,
                            "the request body could not be read: " + TarnException.rootMessage(chunk.getFailure())));
                    return;
                }
                ByteBuffer bytes = chunk.getByteBuffer();
                int n = bytes.remaining();
                if ((long) length + n > settings.maxRequestBytes()) {
                    chunk.release();
                    body.completeExceptionally(tooLarge());
                    return;
                }
                if (length + n > buffer.length) {
                    buffer = Arrays.copyOf(
                            buffer, Math.max(length + n, Math.min(buffer.length * 2, Integer.MAX_VALUE - 8)));
                }
                bytes.get(buffer, length, n);
                length += n;
                boolean last = chunk.isLast();
                chunk.release();
                if (last) {
                    body.complete(length == buffer.length ? buffer : Arrays.copyOf(buffer, length));
                }
            }
        }

        private void respond(byte[] bytes, Throwable failure) {
            if (failure != null) {
                answer(failed(failure), true); // the rest of the body may still be coming: close the connection
                return;
            }
            Response answer;
            AuditTrail.begin();
            try {
                Request parsed = new Request(
                        principal,
                        parameters,
                        Request.queryParameters(request.getHttpURI().getQuery()),
                        Optional.ofNullable(request.getHeaders().get("Last-Event-ID")),
                        bytes);
                if (!route.open()) {
                    authorizer.require(principal, route.access().needs(parsed));
                }
                answer = route.handler().handle(parsed);
            } catch (Exception e) {
                answer = failed(e);
            } finally {
                privileges = AuditTrail.end();
            }
            auditBeforeAnswer =
                    !request.getMethod().equals("GET") && !request.getMethod().equals("HEAD");
            answer(answer, false);
        }

        private String path() {
            return request.getHttpURI().getPath();
        }

        /** The answer to a failed request, its error kept for the audit event. */
        private Response failed(Throwable e) {
            error = Optional.of(e instanceof TarnException tarn ? tarn.code().name() : ErrorCode.INTERNAL_ERROR.name());
            return errors.of(request.getMethod(), path(), e);
        }

        /**
         * Records the call in the audit log (not the open health route); a call that changes something is answered
         * only once its event is stored, so that no change goes unrecorded.
         */
        private void audit(int status) {
            if (route != null && route.open()) {
                return;
            }
            AuditEvent event = new AuditEvent(
                    at,
                    principal.isEmpty() ? Optional.empty() : Optional.of(principal),
                    request.getMethod(),
                    route == null ? "" : route.method() + " " + route.template(),
                    path(),
                    privileges,
                    status == 401
                            ? "unauthenticated"
                            : error.equals(Optional.of(ErrorCode.NOT_PERMITTED.name())) ? "denied" : "allowed",
                    status,
                    error,
                    (System.nanoTime() - startNanos) / 1_000_000);
            CompletableFuture<Void> stored;
            try {
                stored = audit.record(event);
            } catch (RuntimeException e) {
                stored = CompletableFuture.failedFuture(e);
            }
            if (auditBeforeAnswer) {
                try {
                    stored.get(AUDIT_WAIT.toMillis(), TimeUnit.MILLISECONDS);
                } catch (ExecutionException | TimeoutException e) {
                    LOG.warn(
                            "{} {}: its audit event could not be stored: {}",
                            request.getMethod(),
                            path(),
                            TarnException.rootMessage(e));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        private void answer(Response answer, boolean close) {
            if (!answered.compareAndSet(false, true)) {
                if (answer.body() instanceof Response.Streamed streamed) {
                    streamed.close();
                }
                return;
            }
            audit(answer.status());
            if (answer.body() instanceof Response.Streamed streamed) {
                if (streamed.longLived()) {
                    // an event stream lasts as long as its client listens: not on one of the few request threads
                    int status = answer.status();
                    subscriptions.execute(() -> stream(status, streamed));
                } else {
                    stream(answer.status(), streamed);
                }
                return;
            }
            if (answer.body() instanceof Response.Asset asset) {
                response.setStatus(answer.status());
                HttpFields.Mutable headers = response.getHeaders();
                securityHeaders(headers);
                headers.put("Content-Security-Policy", CONSOLE_POLICY);
                headers.put("Referrer-Policy", "no-referrer");
                headers.put(HttpHeader.CONTENT_TYPE, asset.contentType());
                response.write(true, ByteBuffer.wrap(asset.bytes()), callback);
                return;
            }
            byte[] bytes;
            try {
                bytes = answer.body() == null
                        ? new byte[0]
                        : answer.body() instanceof byte[] raw ? raw : Request.JSON.writeValueAsBytes(answer.body());
            } catch (IOException e) {
                LOG.error("{} {}: answer could not be encoded", request.getMethod(), path(), e);
                answer = new Response(500, null);
                bytes = new byte[0];
            }
            response.setStatus(answer.status());
            HttpFields.Mutable headers = response.getHeaders();
            securityHeaders(headers);
            if (answer.body() != null) {
                headers.put(HttpHeader.CONTENT_TYPE, "application/json");
            }
            if (answer.status() == 401) {
                headers.put(HttpHeader.WWW_AUTHENTICATE, "Bearer realm=\"tarn\"");
            }
            if (answer.status() == 503 && isRetriable(answer)) {
                headers.put(HttpHeader.RETRY_AFTER, "1");
            }
            if (close) {
                headers.put(HttpHeader.CONNECTION, "close");
            }
            response.write(true, ByteBuffer.wrap(bytes), callback);
        }

        /**
         * Writes a streamed body through Jetty's buffer (chunked). A failure after the status was sent can only cut
         * the response off: the client sees an incomplete body, the log one line.
         */
        private void stream(int status, Response.Streamed streamed) {
            response.setStatus(status);
            HttpFields.Mutable headers = response.getHeaders();
            securityHeaders(headers);
            headers.put(HttpHeader.CONTENT_TYPE, streamed.contentType());
            // closed only when complete: a failure must abort the response, not end it as if it were whole
            OutputStream out = org.eclipse.jetty.server.Response.asBufferedOutputStream(request, response);
            try (streamed) {
                streamed.writeTo(out);
                out.close();
            } catch (IOException | RuntimeException e) {
                if (streamed.longLived()) { // an event stream ends when its client goes away: nothing went wrong
                    LOG.debug("{} {}: the client went away: {}", request.getMethod(), path(), e.toString());
                } else {
                    LOG.warn(
                            "{} {}: the answer was cut off after it started: {}",
                            request.getMethod(),
                            path(),
                            TarnException.rootMessage(e));
                }
                callback.failed(e);
                return;
            }
            callback.succeeded();
        }
    }

    private static boolean isRetriable(Response answer) {
        return answer.body() instanceof ObjectNode node
                && node.path("error").path("retriable").asBoolean(false);
    }

    /**
     * What the console's pages may load and run: only Tarn's own files (no inline script, no other origin); an image
     * may be a {@code data:} URL (the CSS library's icons).
     */
    private static final String CONSOLE_POLICY = "default-src 'none'; script-src 'self'; style-src 'self';"
            + " img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none';"
            + " frame-ancestors 'none'";

    private static void securityHeaders(HttpFields.Mutable headers) {
        headers.put(HttpHeader.CACHE_CONTROL, "no-store");
        headers.put("X-Content-Type-Options", "nosniff");
        headers.put("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
    }

    /** Jetty's own refusals (malformed requests, headers too large, …) as Tarn's JSON errors, without detail. */
    private static boolean jettyError(
            org.eclipse.jetty.server.Request request, org.eclipse.jetty.server.Response response, Callback callback) {
        int status = response.getStatus();
        ErrorCode code =
                switch (status) {
                    case 408 -> ErrorCode.REQUEST_TIMEOUT;
                    case 413, 414, 431 -> ErrorCode.REQUEST_TOO_LARGE;
                    case 404 -> ErrorCode.ROUTE_NOT_FOUND;
                    case 500 -> ErrorCode.INTERNAL_ERROR;
                    default -> ErrorCode.INVALID_REQUEST;
                };
        ObjectNode body = ErrorBodies.body(code, "the HTTP request was refused (status %d)".formatted(status));
        HttpFields.Mutable headers = response.getHeaders();
        securityHeaders(headers);
        headers.put(HttpHeader.CONTENT_TYPE, "application/json");
        response.write(true, ByteBuffer.wrap(body.toString().getBytes(StandardCharsets.UTF_8)), callback);
        return true;
    }

    private TarnException tooLarge() {
        return new TarnException(
                ErrorCode.REQUEST_TOO_LARGE,
                "request body is larger than the limit of %d bytes (http.max-request-bytes)"
                        .formatted(settings.maxRequestBytes()));
    }

    private static void stopQuietly(Server server) {
        try {
            server.stop();
        } catch (Exception e) {
            LOG.debug("HTTP server did not stop cleanly: {}", e.getMessage());
        }
    }

    @Override
    public void close() {
        stopQuietly(server);
        executor.shutdownNow();
        subscriptions.shutdown(); // not interrupted: their services end them (a last event says why)
    }
}
