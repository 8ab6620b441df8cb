package io.tarn.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.tarn.core.config.ConfigKeys;
import io.tarn.core.config.TarnConfig;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP layer against a real Jetty on a random port, spoken to over raw sockets so that every header (Host,
 * Origin) is exactly what an attacker would send: each refusal is asserted together with the fact that the route did
 * not run.
 */
class ApiServerTest {
    private static final String TOKEN = "tarn_test-token";
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(2);
    private static final int THREADS = 4;
    private static final int MAX_CONNECTIONS = 12;

    /** Bodies the {@code POST /v1/things} route received, i.e. what "happened". */
    private static final List<String> received = new CopyOnWriteArrayList<>();

    private static ApiServer server;

    @BeforeAll
    static void start() {
        server = ApiServer.start(
                settings("127.0.0.1", Set.of("tarn.example"), Optional.empty()),
                routes(),
                ApiServerTest::authenticate,
                (principal, permission) -> true, // authorization is GrantsIT's
                AuditSink.NONE,
                "/secret/data-dir");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static HttpSettings settings(String host, Set<String> names, Optional<HttpSettings.Tls> tls) {
        return new HttpSettings(host, 0, THREADS, 1_000, MAX_CONNECTIONS, READ_TIMEOUT, names, tls);
    }

    private static List<Route> routes() {
        return List.of(
                new Route("GET", "/v1/health", r -> Response.ok(Map.of("status", "UP"))).withoutToken(),
                new Route("POST", "/v1/things", r -> {
                    received.add(new String(r.body(), StandardCharsets.UTF_8));
                    return Response.created(Map.of("by", r.principal()));
                }),
                new Route("POST", "/v1/lines", r -> Response.ok(Map.of("bytes", r.body().length)))
                        .reading(HttpGuard.JSON, HttpGuard.NDJSON),
                new Route("GET", "/v1/fail", r -> {
                    throw new IllegalStateException("boom at /secret/data-dir/file");
                }),
                new Route("GET", "/v1/slow", r -> {
                    Thread.sleep(READ_TIMEOUT.toMillis() * 2);
                    return Response.ok(Map.of("slow", true));
                }),
                new Route(
                        "GET",
                        "/v1/numbers",
                        r -> Response.ok(numbers(
                                Integer.parseInt(r.query("count").orElseThrow()),
                                r.query("failAt").map(Integer::parseInt).orElse(-1)))));
    }

    /** Streamed answers closed so far. */
    private static final List<String> streamedClosed = new CopyOnWriteArrayList<>();

    /** {@code {"numbers":[0,1,…]}}, written as it is produced; it fails instead of writing number {@code failAt}. */
    private static Response.Streamed numbers(int count, int failAt) {
        return new Response.Streamed() {
            @Override
            public void writeTo(OutputStream out) throws IOException {
                out.write("{\"numbers\":[".getBytes(StandardCharsets.UTF_8));
                for (int i = 0; i < count; i++) {
                    if (i == failAt) {
                        throw new IllegalStateException("number " + i + " could not be read");
                    }
                    out.write(((i == 0 ? "" : ",") + i).getBytes(StandardCharsets.UTF_8));
                }
                out.write("]}".getBytes(StandardCharsets.UTF_8));
            }

            @Override
            public void close() {
                streamedClosed.add(count + "/" + failAt);
            }
        };
    }

    private static String authenticate(Optional<String> authorization) {
        if (authorization.isPresent() && authorization.get().equals("Bearer " + TOKEN)) {
            return "tester";
        }
        throw new TarnException(ErrorCode.UNAUTHENTICATED, "no valid token");
    }

    @Test
    void streamedAnswersAreChunkedAndCutOffWhenTheyFail() throws IOException {
        String request = "GET /v1/numbers?count=%d&failAt=%d HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                + TOKEN + "\r\n\r\n";
        StringBuilder expected = new StringBuilder("{\"numbers\":[");
        for (int i = 0; i < 100_000; i++) {
            expected.append(i == 0 ? "" : ",").append(i);
        }
        expected.append("]}");
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout(30_000);
            write(socket, request.formatted(100_000, -1));
            String headers = readHead(socket.getInputStream());
            assertThat(headers).startsWith("HTTP/1.1 200").containsIgnoringCase("transfer-encoding: chunked");
            assertThat(headers.toLowerCase(Locale.ROOT)).doesNotContain("content-length");
            Chunked body = readChunked(socket.getInputStream());
            assertThat(body.complete()).isTrue();
            assertThat(body.text()).isEqualTo(expected.toString());
        }
        // a failure after the first bytes went out cuts the response off: the client cannot take it for whole
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout(30_000);
            write(socket, request.formatted(100_000, 90_000));
            assertThat(readHead(socket.getInputStream())).startsWith("HTTP/1.1 200");
            Chunked body = readChunked(socket.getInputStream());
            assertThat(body.complete()).isFalse();
            assertThat(body.text()).startsWith("{\"numbers\":[0,1,2,").doesNotEndWith("]}");
        }
        assertThat(streamedClosed).containsExactly("100000/-1", "100000/90000");
    }

    @Test
    void onlyHealthAnswersWithoutAToken() throws IOException {
        assertThat(send("GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").status())
                .isEqualTo(200);
        for (String request : List.of(
                "POST /v1/things HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
                "POST /v1/things HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer wrong\r\n"
                        + "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
                "GET /v1/unknown HTTP/1.1\r\nHost: localhost\r\n\r\n")) {
            Reply reply = send(request);
            assertThat(reply.status()).as(reply.text()).isEqualTo(401);
            assertThat(reply.errorName()).isEqualTo("UNAUTHENTICATED");
            assertThat(reply.headers()).containsIgnoringCase("WWW-Authenticate: Bearer realm=\"tarn\"");
            // a body refused unread ends the connection, which a client must not reuse
            assertThat(reply.headers().toLowerCase(Locale.ROOT).contains("connection: close"))
                    .isEqualTo(request.startsWith("POST"));
        }
        assertThat(received).isEmpty();
        Reply ok = send(post("/v1/things", "localhost", "application/json", "{\"a\":1}", ""));
        assertThat(ok.status()).as(ok.text()).isEqualTo(201);
        assertThat(ok.json().path("by").asText()).isEqualTo("tester");
        assertThat(received).containsExactly("{\"a\":1}");
        received.clear();
    }

    @Test
    void requestsForAnotherHostAreRefusedBeforeAnythingRuns() throws IOException {
        for (String host : List.of("evil.example", "evil.example:8080", "127.0.0.1.evil.example", "localhost.evil")) {
            Reply reply = send(post("/v1/things", host, "application/json", "{}", ""));
            assertThat(reply.status()).as(host).isEqualTo(403);
            assertThat(reply.errorName()).isEqualTo("HOST_NOT_ALLOWED");
            assertThat(reply.errorMessage())
                    .startsWith("requests for host '" + host.replace(":8080", "") + "' are refused");
        }
        assertThat(received).isEmpty();
        for (String host :
                List.of("localhost:1234", "127.0.0.1", "[::1]:80", "tarn.example", "TARN.example.", "10.1.2.3")) {
            assertThat(send(post("/v1/things", host, "application/json", "{}", ""))
                            .status())
                    .as(host)
                    .isEqualTo(201);
        }
        received.clear();
    }

    @Test
    void crossOriginBrowserRequestsAreRefused() throws IOException {
        String self = "http://127.0.0.1:" + server.port();
        for (String headers : List.of(
                "Origin: http://evil.example\r\n",
                "Origin: null\r\n",
                "Origin: http://127.0.0.1:1\r\n",
                "Origin: https://127.0.0.1:" + server.port() + "\r\n",
                "Sec-Fetch-Site: cross-site\r\n",
                "Sec-Fetch-Site: same-site\r\n")) {
            Reply reply = send(post("/v1/things", "localhost", "application/json", "{}", headers));
            assertThat(reply.status()).as(headers).isEqualTo(403);
            assertThat(reply.errorName()).isEqualTo("ORIGIN_NOT_ALLOWED");
        }
        assertThat(received).isEmpty();
        Reply sameOrigin = send(post(
                "/v1/things",
                "localhost",
                "application/json",
                "{}",
                "Origin: " + self + "\r\nSec-Fetch-Site: same-origin\r\n"));
        assertThat(sameOrigin.status()).isEqualTo(201);
        assertThat(sameOrigin.headers()).doesNotContainIgnoringCase("Access-Control-Allow-Origin");
        received.clear();
    }

    @Test
    void bodiesMustBeOfAMediaTypeTheRouteReads() throws IOException {
        for (String type :
                List.of("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x")) {
            Reply reply = send(post("/v1/things", "localhost", type, "{}", ""));
            assertThat(reply.status()).as(type).isEqualTo(415);
            assertThat(reply.errorName()).isEqualTo("UNSUPPORTED_MEDIA_TYPE");
            assertThat(reply.errorMessage()).endsWith("send Content-Type: application/json");
        }
        Reply none = send("POST /v1/things HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + TOKEN
                + "\r\nContent-Length: 2\r\n\r\n{}");
        assertThat(none.status()).isEqualTo(415);
        assertThat(none.errorMessage())
                .isEqualTo("request body of type '(none)' is not accepted here; send Content-Type: application/json");
        assertThat(received).isEmpty();
        assertThat(send(post("/v1/things", "localhost", "application/json; charset=UTF-8", "{}", ""))
                        .status())
                .isEqualTo(201);
        assertThat(send(post("/v1/lines", "localhost", "application/x-ndjson", "{}\n{}\n", ""))
                        .status())
                .isEqualTo(200);
        received.clear();
    }

    @Test
    void tooLargeBodiesAreRefused() throws IOException {
        String big = "x".repeat(1_001);
        Reply declared = send(post("/v1/things", "localhost", "application/json", big, ""));
        assertThat(declared.status()).isEqualTo(413);
        assertThat(declared.errorMessage())
                .isEqualTo("request body is larger than the limit of 1000 bytes (http.max-request-bytes)");
        Reply chunked = send("POST /v1/things HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + TOKEN
                + "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                + Integer.toHexString(big.length()) + "\r\n" + big + "\r\n0\r\n\r\n");
        assertThat(chunked.status()).isEqualTo(413);
        assertThat(received).isEmpty();
    }

    @Test
    void unexpectedFailuresShowNoDetail() throws IOException {
        Reply reply = send("GET /v1/fail HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + TOKEN + "\r\n\r\n");
        assertThat(reply.status()).isEqualTo(500);
        assertThat(reply.errorMessage()).matches("internal error \\(error id [0-9a-f]{8}\\); see the server log");
        assertThat(reply.text()).doesNotContain("boom").doesNotContain("secret").doesNotContain("Exception");
        Reply malformed = send("GET /v1/%2e%2e/%2fetc HTTP/1.1\r\nHost: localhost\r\n\r\n");
        assertThat(malformed.status()).isEqualTo(400);
        assertThat(malformed.errorName()).isEqualTo("INVALID_REQUEST");
        assertThat(malformed.headers()).containsIgnoringCase("Content-Type: application/json");
    }

    @Test
    void slowBodiesHoldNoThreadAndAreCutOffAfterTheReadTimeout() throws Exception {
        List<Socket> slow = new ArrayList<>();
        try {
            // more slow clients than request threads: each declares a body and sends only part of it
            for (int i = 0; i < THREADS * 2; i++) {
                Socket socket = new Socket("127.0.0.1", server.port());
                socket.getOutputStream()
                        .write(("POST /v1/things HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + TOKEN
                                        + "\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"part")
                                .getBytes(StandardCharsets.US_ASCII));
                socket.getOutputStream().flush();
                slow.add(socket);
            }
            long start = System.nanoTime();
            Reply meanwhile = send(post("/v1/things", "localhost", "application/json", "{}", ""));
            assertThat(meanwhile.status()).isEqualTo(201);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(READ_TIMEOUT);
            for (Socket socket : slow) {
                socket.setSoTimeout((int) READ_TIMEOUT.toMillis() * 5);
                Reply cut = read(socket);
                assertThat(cut.status()).as(cut.text()).isEqualTo(408);
                assertThat(cut.errorName()).isEqualTo("REQUEST_TIMEOUT");
                assertThat(cut.headers()).containsIgnoringCase("Connection: close");
            }
            assertThat(received).containsExactly("{}");
        } finally {
            for (Socket socket : slow) {
                socket.close();
            }
            received.clear();
        }
    }

    @Test
    void longRequestsAreNotCutByTheReadTimeout() throws IOException {
        Reply reply = send("GET /v1/slow HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + TOKEN + "\r\n\r\n");
        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.json().path("slow").asBoolean()).isTrue();
    }

    @Test
    void connectionsBeyondTheLimitWaitForAFreeOne() throws Exception {
        List<Socket> held = new ArrayList<>();
        try {
            for (int i = 0; i < MAX_CONNECTIONS; i++) {
                Socket socket = new Socket("127.0.0.1", server.port());
                socket.getOutputStream().write("GET /v1/health HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII));
                held.add(socket);
            }
            Thread.sleep(200);
            try (Socket waiting = new Socket("127.0.0.1", server.port())) {
                waiting.getOutputStream()
                        .write("GET /v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n"
                                .getBytes(StandardCharsets.US_ASCII));
                waiting.setSoTimeout((int) (READ_TIMEOUT.toMillis() / 2));
                assertThatThrownBy(() -> waiting.getInputStream().read()).isInstanceOf(SocketTimeoutException.class);
                held.forEach(ApiServerTest::closeQuietly);
                waiting.setSoTimeout((int) READ_TIMEOUT.toMillis() * 5);
                assertThat(read(waiting).status()).isEqualTo(200);
            }
        } finally {
            held.forEach(ApiServerTest::closeQuietly);
        }
    }

    @Test
    void aNonLoopbackAddressNeedsTls() {
        TarnConfig wide = TarnConfig.defaults().with(ConfigKeys.HTTP_HOST, "0.0.0.0");
        assertThatThrownBy(() -> HttpSettings.from(wide))
                .isInstanceOf(TarnException.class)
                .hasMessage("http.host '0.0.0.0' is not a loopback address: Tarn does not send tokens over a network in"
                        + " clear text. Configure http.tls.key-store and http.tls.key-store-password (see"
                        + " docs/security.md), or bind to 127.0.0.1");
        HttpSettings withTls = HttpSettings.from(
                wide.with(ConfigKeys.HTTP_TLS_KEY_STORE, "/k.p12").with(ConfigKeys.HTTP_TLS_KEY_STORE_PASSWORD, "pw"));
        assertThat(withTls.tls()).contains(new HttpSettings.Tls(Path.of("/k.p12"), "pw"));
        assertThat(withTls.tls().get().toString()).doesNotContain("pw");
        assertThat(HttpSettings.from(TarnConfig.defaults().with(ConfigKeys.HTTP_HOST, "localhost"))
                        .tls())
                .isEmpty();
    }

    @Test
    void tlsServesHttpsOnly(@TempDir Path dir) throws Exception {
        Path keyStore = dir.resolve("api.p12");
        String password = "changeit-" + System.nanoTime();
        Process keytool = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "keytool")
                                .toString(),
                        "-genkeypair",
                        "-alias",
                        "tarn",
                        "-keyalg",
                        "EC",
                        "-dname",
                        "CN=localhost",
                        "-ext",
                        "SAN=dns:localhost,ip:127.0.0.1",
                        "-validity",
                        "2",
                        "-storetype",
                        "PKCS12",
                        "-keystore",
                        keyStore.toString(),
                        "-storepass",
                        password)
                .redirectErrorStream(true)
                .start();
        String output = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(keytool.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(keytool.exitValue()).as(output).isZero();
        try (ApiServer https = ApiServer.start(
                settings("127.0.0.1", Set.of(), Optional.of(new HttpSettings.Tls(keyStore, password))),
                routes(),
                ApiServerTest::authenticate,
                (principal, permission) -> true,
                AuditSink.NONE,
                "")) {
            assertThat(https.address()).isEqualTo("https://127.0.0.1:" + https.port());
            KeyStore trusted = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(keyStore)) {
                trusted.load(in, password.toCharArray());
            }
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(trusted);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trust.getTrustManagers(), null);
            try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", https.port())) {
                write(socket, post("/v1/things", "localhost", "application/json", "{\"tls\":1}", ""));
                Reply reply = read(socket);
                assertThat(reply.status()).as(reply.text()).isEqualTo(201);
            }
            try (Socket plain = new Socket("127.0.0.1", https.port())) {
                write(plain, "GET /v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n");
                plain.setSoTimeout(10_000);
                byte[] answer = plain.getInputStream().readNBytes(12);
                assertThat(new String(answer, StandardCharsets.ISO_8859_1)).doesNotStartWith("HTTP/1.1 200");
            }
        }
        assertThat(received).containsExactly("{\"tls\":1}");
        received.clear();
    }

    private static String post(String path, String host, String type, String body, String extraHeaders) {
        return "POST " + path + " HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " + TOKEN + "\r\n"
                + "Content-Type: " + type + "\r\n" + extraHeaders + "Content-Length: "
                + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body;
    }

    private static Reply send(String request) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout(30_000);
            write(socket, request);
            return read(socket);
        }
    }

    private static void write(Socket socket, String request) throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write(request.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** Reads one response: status line, headers and a body of Content-Length bytes. */
    private static Reply read(Socket socket) throws IOException {
        InputStream in = socket.getInputStream();
        String headers = readHead(in);
        int status = Integer.parseInt(headers.substring(9, 12));
        int length = 0;
        for (String line : headers.split("\r\n")) {
            if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).strip());
            }
        }
        String body = new String(in.readNBytes(length), StandardCharsets.UTF_8);
        return new Reply(status, headers, body);
    }

    /** A chunked body as far as it arrives, and whether it ended with its last (empty) chunk. */
    private record Chunked(String text, boolean complete) {}

    private static Chunked readChunked(InputStream in) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
            String size = readLine(in);
            if (size == null) {
                return new Chunked(body.toString(StandardCharsets.UTF_8), false);
            }
            int length = Integer.parseInt(size.strip(), 16);
            if (length == 0) {
                return new Chunked(body.toString(StandardCharsets.UTF_8), readLine(in) != null);
            }
            byte[] chunk = in.readNBytes(length);
            body.write(chunk);
            if (chunk.length < length || readLine(in) == null) {
                return new Chunked(body.toString(StandardCharsets.UTF_8), false);
            }
        }
    }

    /** A CRLF-terminated line, or null when the connection ends first. */
    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b = in.read(); b >= 0; b = in.read()) {
            if (b == '\n') {
                String text = line.toString(StandardCharsets.ISO_8859_1);
                return text.endsWith("\r") ? text.substring(0, text.length() - 1) : text;
            }
            line.write(b);
        }
        return null;
    }

    /** A response's status line and headers. */
    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed after: " + head.toString(StandardCharsets.ISO_8859_1));
            }
            head.write(b);
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // closed already
        }
    }

    private record Reply(int status, String headers, String text) {
        JsonNode json() throws IOException {
            return Request.JSON.readTree(text);
        }

        String errorName() throws IOException {
            return json().path("error").path("name").asText();
        }

        String errorMessage() throws IOException {
            return json().path("error").path("message").asText();
        }
    }
}
