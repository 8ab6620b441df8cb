package io.tarn.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A test client of a Server-Sent Events stream: its events one at a time, as the server sends them. */
final class EventStream implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Event END = new Event("", null, null);

    /** One event: its type, id (null if it has none) and JSON data. */
    record Event(String event, String id, JsonNode data) {}

    private final InputStream body;
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final Thread reader;
    private volatile boolean ended;

    private EventStream(InputStream body) {
        this.body = body;
        this.reader = new Thread(this::read, "event-stream-reader");
        this.reader.setDaemon(true);
        this.reader.start();
    }

    /** Opens a stream with the client's token, failing unless the server answers 200 with an event stream. */
    static EventStream open(Http http, String path, Optional<String> lastEventId) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(http.uri(path)).GET();
        lastEventId.ifPresent(id -> request.header("Last-Event-ID", id));
        http.token().ifPresent(t -> request.header("Authorization", "Bearer " + t));
        HttpResponse<InputStream> response =
                HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        if (response.statusCode() != 200
                || !response.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream")) {
            throw new AssertionError("no event stream: " + response.statusCode() + " "
                    + new String(response.body().readAllBytes(), StandardCharsets.UTF_8));
        }
        return new EventStream(response.body());
    }

    private void read() {
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
            String event = null;
            String id = null;
            String data = null;
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                if (line.isEmpty()) {
                    if (event != null) {
                        events.add(new Event(event, id, JSON.readTree(data)));
                    }
                    event = null;
                    id = null;
                    data = null;
                } else if (line.startsWith("event: ")) {
                    event = line.substring(7);
                } else if (line.startsWith("id: ")) {
                    id = line.substring(4);
                } else if (line.startsWith("data: ")) {
                    data = line.substring(6);
                }
            }
        } catch (IOException e) {
            // closed by the test
        } finally {
            ended = true;
            events.add(END);
        }
    }

    /** The next event, waiting up to a minute for it; fails if the stream ended first. */
    Event next() throws InterruptedException {
        Event event = events.poll(1, TimeUnit.MINUTES);
        if (event == null || event == END) {
            throw new AssertionError(event == null ? "no event within a minute" : "the stream ended");
        }
        return event;
    }

    /** Whether the server ended the stream (waiting up to ten seconds for it to). */
    boolean ended() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!ended && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        return ended;
    }

    @Override
    public void close() throws IOException {
        body.close();
    }
}
