package io.tarn.interop;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code ./tarn server} as a user starts it, on a fresh data directory under {@code target/}, with its HTTP API and
 * Kafka listener on free ports: the outside engines of these tests talk to it as they would to any Tarn.
 */
public final class TarnProcess implements AutoCloseable {
    private static final Pattern READY = Pattern.compile("READY http=(\\S+) kafka=(\\S+)");
    /** Decimals as they are in the answer's text ({@code 3.00}, not {@code 3.0}). */
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .setNodeFactory(JsonNodeFactory.withExactBigDecimals(true));

    private final Process process;
    private final HttpClient client = HttpClient.newHttpClient();
    /** Base URL of its HTTP API. */
    public final String http;
    /** Its admin token. */
    public final String token;

    private TarnProcess(Process process, String http, String token) {
        this.process = process;
        this.http = http;
        this.token = token;
    }

    /** Starts {@code ./tarn server} of this checkout (as built) and waits up to 3 minutes for its READY line. */
    public static TarnProcess start(Path dir) throws Exception {
        deleteRecursively(dir);
        Files.createDirectories(dir);
        Path data = dir.resolve("data");
        Path out = dir.resolve("server.out");
        Path launcher = Path.of("..", "tarn").toAbsolutePath().normalize();
        ProcessBuilder builder = new ProcessBuilder(
                        launcher.toString(),
                        "server",
                        "--data-dir",
                        data.toString(),
                        "--http-port",
                        "0",
                        "--kafka-port",
                        "0")
                .redirectOutput(out.toFile())
                .redirectError(dir.resolve("server.log").toFile());
        builder.environment().put("TARN_NO_BUILD", "1"); // the build running these tests built it
        Process process = builder.start();
        try {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
            while (true) {
                Matcher ready = READY.matcher(Files.readString(out));
                if (ready.find()) {
                    String token = Files.readString(data.resolve("admin.token"), StandardCharsets.UTF_8)
                            .strip();
                    return new TarnProcess(process, ready.group(1), token);
                }
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    throw new IllegalStateException("./tarn server did not start; see " + dir.resolve("server.log"));
                }
                Thread.sleep(50);
            }
        } catch (Exception e) {
            process.destroyForcibly();
            throw e;
        }
    }

    /** An answer of its HTTP API. */
    public record Reply(int status, JsonNode body) {}

    public Reply get(String path) {
        return send(HttpRequest.newBuilder(URI.create(http + path)).GET());
    }

    public Reply post(String path, Object body) {
        try {
            return send(HttpRequest.newBuilder(URI.create(http + path))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Reply delete(String path) {
        return send(HttpRequest.newBuilder(URI.create(http + path)).DELETE());
    }

    private Reply send(HttpRequest.Builder request) {
        try {
            HttpResponse<String> response = client.send(
                    request.header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
            String body = response.body();
            return new Reply(response.statusCode(), body.isEmpty() ? JSON.nullNode() : JSON.readTree(body));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The body of an answer that must have the given status. */
    JsonNode expect(int status, Reply reply, String what) {
        if (reply.status() != status) {
            throw new AssertionError(what + " answered " + reply.status() + ": " + reply.body());
        }
        return reply.body();
    }

    /** The rows a lake SQL query answers. */
    public JsonNode rows(String sql) {
        return expect(200, post("/v1/query", Map.of("sql", sql)), sql).path("rows");
    }

    /** The single number a query such as {@code SELECT count(*) ...} answers; -1 while its table does not exist. */
    public long number(String sql) {
        Reply reply = post("/v1/query", Map.of("sql", sql));
        return reply.status() == 404
                ? -1
                : expect(200, reply, sql).path("rows").get(0).get(0).asLong();
    }

    public static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(200);
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy(); // SIGTERM: a clean stop
        if (!process.waitFor(2, TimeUnit.MINUTES)) {
            process.destroyForcibly();
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }
}
