package io.tarn.cli;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;

/** The CLI's only way to Tarn: its HTTP API. Error answers become {@link ApiException}s carrying Tarn's error. */
public final class ApiClient {
    /** Numbers keep their digits ({@code 10.00} stays 10.00, not 10.0). */
    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
            .build();

    private final URI base;
    private final Credentials credentials;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public ApiClient(URI base, Credentials credentials) {
        this.base = requireNonNull(base, "base is null");
        this.credentials = requireNonNull(credentials, "credentials is null");
    }

    /**
     * The token the CLI sends, and where it comes from (for the message when Tarn refuses it).
     *
     * @param source {@code $TARN_TOKEN}, the token file, or why there is no token
     */
    public record Credentials(Optional<String> token, String source) {
        public Credentials {
            requireNonNull(token, "token is null");
            requireNonNull(source, "source is null");
        }

        @Override
        public String toString() {
            return "Credentials[source=" + source + "]";
        }
    }

    public JsonNode get(String path) {
        return send(HttpRequest.newBuilder(uri(path)).GET());
    }

    public JsonNode delete(String path) {
        return send(HttpRequest.newBuilder(uri(path)).DELETE());
    }

    public JsonNode post(String path, Object body) {
        return withBody("POST", path, body);
    }

    public JsonNode put(String path, Object body) {
        return withBody("PUT", path, body);
    }

    private JsonNode withBody(String method, String path, Object body) {
        try {
            byte[] bytes = body instanceof byte[] raw ? raw : JSON.writeValueAsBytes(body);
            return send(HttpRequest.newBuilder(uri(path))
                    .header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofByteArray(bytes)));
        } catch (IOException e) {
            throw new ApiException(1, "INTERNAL_ERROR", "could not encode the request: " + e.getMessage());
        }
    }

    static String segment(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private URI uri(String path) {
        return base.resolve(path);
    }

    private JsonNode send(HttpRequest.Builder request) {
        credentials.token().ifPresent(token -> request.header("Authorization", "Bearer " + token));
        HttpResponse<String> response;
        try {
            response = http.send(request.timeout(Duration.ofMinutes(10)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (ConnectException e) {
            throw new ApiException(
                    0,
                    "UNREACHABLE",
                    "cannot reach Tarn at %s (is `tarn server` running? set --url or TARN_URL)".formatted(base));
        } catch (IOException e) {
            throw new ApiException(
                    0, "UNREACHABLE", "request to Tarn at %s failed: %s".formatted(base, e.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(0, "UNREACHABLE", "interrupted");
        }
        JsonNode body;
        try {
            body = response.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(response.body());
        } catch (IOException e) {
            throw new ApiException(
                    response.statusCode(),
                    "INTERNAL_ERROR",
                    "Tarn answered HTTP %d with unreadable JSON".formatted(response.statusCode()));
        }
        if (response.statusCode() >= 400) {
            JsonNode error = body.path("error");
            String message = error.path("message").asText("HTTP " + response.statusCode());
            if (response.statusCode() == 401) {
                message += " (token from " + credentials.source() + "; set $TARN_TOKEN or --data-dir)";
            }
            throw new ApiException(
                    response.statusCode(), error.path("name").asText("HTTP_" + response.statusCode()), message, error);
        }
        return body;
    }
}
