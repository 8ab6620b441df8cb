package io.tarn.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tarn.compute.FlinkAccess;
import io.tarn.server.auth.Tokens;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;

/** A plain HTTP client for tests: sends JSON with a token, returns status and parsed JSON body. */
final class Http {
    static final ObjectMapper JSON = new ObjectMapper();

    private final String base;
    private final Optional<String> token;
    private final HttpClient client;

    /** @param token sent as {@code Authorization: Bearer}; empty: none */
    Http(String base, Optional<String> token) {
        this(
                base,
                token,
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build());
    }

    private Http(String base, Optional<String> token, HttpClient client) {
        this.base = base;
        this.token = token;
        this.client = client;
    }

    /** A client of the REST API of a server's Flink cluster, with the cluster's key. */
    static Http flink(TarnServer server) {
        FlinkAccess access = server.flinkAccess();
        return new Http(
                access.restAddress().toString().replaceAll("/$", ""),
                Optional.empty(),
                HttpClient.newBuilder()
                        .connectTimeout(Duration.ofSeconds(5))
                        .sslContext(access.sslContext().orElseThrow())
                        .build());
    }

    Http(String base, String token) {
        this(base, Optional.of(token));
    }

    /** A client of a server in this JVM with its admin token. */
    static Http of(TarnServer server) {
        return new Http(server.httpAddress(), Tokens.readAdminToken(server.dataDir()));
    }

    /** The same server, another token (empty: none). */
    Http withToken(Optional<String> other) {
        return new Http(base, other, client);
    }

    Optional<String> token() {
        return token;
    }

    URI uri(String path) {
        return URI.create(base + path);
    }

    Reply get(String path) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).GET());
    }

    Reply delete(String path) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).DELETE());
    }

    Reply post(String path, Object body) {
        return withBody("POST", path, body);
    }

    Reply put(String path, Object body) {
        return withBody("PUT", path, body);
    }

    private Reply withBody(String method, String path, Object body) {
        try {
            byte[] bytes = body instanceof String text
                    ? text.getBytes(StandardCharsets.UTF_8)
                    : body instanceof byte[] raw ? raw : JSON.writeValueAsBytes(body);
            return send(HttpRequest.newBuilder(URI.create(base + path))
                    .header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofByteArray(bytes)));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Sends a request as built by the caller, with this client's token. */
    Reply send(HttpRequest.Builder request) {
        token.ifPresent(t -> request.header("Authorization", "Bearer " + t));
        try {
            HttpResponse<String> response =
                    client.send(request.timeout(Duration.ofMinutes(3)).build(), HttpResponse.BodyHandlers.ofString());
            JsonNode body = response.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(response.body());
            return new Reply(response.statusCode(), body, response.body());
        } catch (IOException e) {
            throw new IllegalStateException("request failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A response: status, JSON body and its raw text. */
    record Reply(int status, JsonNode body, String text) {
        String errorName() {
            return body.path("error").path("name").asText();
        }

        String errorMessage() {
            return body.path("error").path("message").asText();
        }
    }
}
