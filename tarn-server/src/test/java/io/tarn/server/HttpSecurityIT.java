package io.tarn.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.tarn.core.config.ConfigKeys;
import io.tarn.core.config.TarnConfig;
import io.tarn.core.error.TarnException;
import io.tarn.server.auth.Tokens;
import io.tarn.server.http.IcebergRestApi;
import io.tarn.server.http.Route;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The doors of a whole Tarn server: tokens on every route, token management, the data directory's modes and the
 * addresses every listener of the process is bound to.
 */
class HttpSecurityIT {
    @RegisterExtension
    static final TarnServerExtension tarn = new TarnServerExtension();

    static Path dataDir;
    static TarnServer server;
    static Http admin;

    @BeforeAll
    static void start() {
        dataDir = tarn.dataDir();
        server = tarn.server();
        admin = tarn.http();
    }

    @Test
    void everyRouteOfTheOpenApiDocumentButHealthAndTheConsolesFilesNeedsAToken() {
        JsonNode openApi = admin.get("/v1/openapi.json").body();
        Http anonymous = admin.withToken(Optional.empty());
        Http mistyped = admin.withToken(Optional.of("tarn_" + "A".repeat(43)));
        int checked = 0;
        List<String> open = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> paths = openApi.path("paths").fields(); paths.hasNext(); ) {
            var path = paths.next();
            String concrete = path.getKey().replaceAll("\\{[^}]+}", "x");
            for (Iterator<String> methods = path.getValue().fieldNames(); methods.hasNext(); ) {
                String method = methods.next().toUpperCase(Locale.ROOT);
                JsonNode security =
                        path.getValue().path(method.toLowerCase(Locale.ROOT)).path("security");
                if (security.isArray() && security.isEmpty()) {
                    open.add(method + " " + path.getKey());
                }
                if (!path.getKey().equals("/v1/health") && security.isArray() && security.isEmpty()) {
                    continue; // the console's files (HTML and JavaScript): ConsoleApiIT
                }
                for (Http client : List.of(anonymous, mistyped)) {
                    Http.Reply reply = client.send(HttpRequest.newBuilder(client.uri(concrete))
                            .header("Content-Type", "application/json")
                            .method(method, HttpRequest.BodyPublishers.ofString("{}")));
                    if (path.getKey().equals("/v1/health")) {
                        assertThat(reply.status()).isEqualTo(200);
                    } else {
                        assertThat(reply.status()).as(method + " " + concrete).isEqualTo(401);
                        if (concrete.startsWith("/schema-registry/")) { // Confluent's shape, which its clients read
                            assertThat(reply.body().path("error_code").asInt()).isEqualTo(401);
                        } else {
                            assertThat(reply.errorName()).isEqualTo("UNAUTHENTICATED");
                        }
                    }
                }
                checked++;
            }
        }
        assertThat(checked).isGreaterThanOrEqualTo(24);
        assertThat(open).containsExactlyInAnyOrder("GET /v1/health", "GET /", "GET /console/{file}");
        Http.Reply noToken = anonymous.post(
                "/v1/topics", Map.of("name", "sneaky", "columns", List.of(Map.of("name", "a", "type", "INT"))));
        assertThat(noToken.errorMessage())
                .isEqualTo("this endpoint needs a token: send the header 'Authorization: Bearer <token>' (the admin"
                        + " token is in admin.token of Tarn's data directory)");
        assertThat(mistyped.get("/v1/topics").errorMessage()).isEqualTo("the token is not valid (mistyped or revoked)");
        assertThat(admin.get("/v1/topics/sneaky").status()).isEqualTo(404);
    }

    @Test
    void everyRouteOfTheIcebergRestCatalogNeedsAToken() {
        Http anonymous = admin.withToken(Optional.empty());
        int checked = 0;
        for (Route route : new IcebergRestApi(
                        server.lake().icebergCatalog(), "/nowhere", "/nowhere", Map.of(), (p, q) -> true)
                .routes()) {
            String concrete = route.template().replaceAll("\\{[^}]+}", "x");
            Http.Reply reply = anonymous.send(HttpRequest.newBuilder(anonymous.uri(concrete))
                    .header("Content-Type", "application/json")
                    .method(route.method(), HttpRequest.BodyPublishers.ofString("{}")));
            assertThat(reply.status()).as(route.method() + " " + concrete).isEqualTo(401);
            if (!route.method().equals("HEAD")) {
                // as the REST spec writes errors, so that Iceberg's clients raise NotAuthorizedException
                assertThat(reply.body().path("error").path("code").asInt()).isEqualTo(401);
                assertThat(reply.body().path("error").path("type").asText()).isEqualTo("UNAUTHENTICATED");
            }
            checked++;
        }
        assertThat(checked).isEqualTo(24);
    }

    @Test
    void aWebPageCannotCreateAPipeline() {
        String sql = "CREATE DATABASE IF NOT EXISTS lake.web; CREATE TABLE IF NOT EXISTS lake.web.t (v STRING);"
                + " CREATE TEMPORARY TABLE g (v STRING) WITH ('connector' = 'datagen');"
                + " INSERT INTO lake.web.t SELECT v FROM g";
        String body = "{\"name\":\"from-a-page\",\"sql\":\"" + sql + "\"}";
        // the "simple request" a page may send across origins without asking: text/plain, no token
        Http.Reply simple = admin.withToken(Optional.empty())
                .send(HttpRequest.newBuilder(admin.uri("/v1/pipelines"))
                        .header("Content-Type", "text/plain")
                        .POST(HttpRequest.BodyPublishers.ofString(body)));
        expectError(simple, 401, "UNAUTHENTICATED");
        // even with a token (say, one a page got hold of): not JSON, or from another origin
        expectError(
                admin.send(HttpRequest.newBuilder(admin.uri("/v1/pipelines"))
                        .header("Content-Type", "text/plain")
                        .POST(HttpRequest.BodyPublishers.ofString(body))),
                415,
                "UNSUPPORTED_MEDIA_TYPE");
        expectError(
                admin.send(HttpRequest.newBuilder(admin.uri("/v1/pipelines"))
                        .header("Content-Type", "application/json")
                        .header("Origin", "https://attacker.example")
                        .POST(HttpRequest.BodyPublishers.ofString(body))),
                403,
                "ORIGIN_NOT_ALLOWED");
        assertThat(admin.get("/v1/pipelines").body().path("pipelines")).isEmpty();
        assertThat(admin.get("/v1/tables").body().path("tables").toString()).doesNotContain("web.t");
    }

    @Test
    void tokensAreManagedByTheAdminTokenAndKeptOnlyAsHashes() throws IOException {
        Http.Reply created = admin.post("/v1/tokens", Map.of("name", "ci-loader"));
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        String token = created.body().path("token").asText();
        assertThat(token).startsWith("tarn_").hasSize(48);
        Http loader = admin.withToken(Optional.of(token));
        assertThat(loader.get("/v1/topics").status()).isEqualTo(200);

        expectError(loader.post("/v1/tokens", Map.of("name", "more")), 403, "NOT_PERMITTED");
        expectError(loader.get("/v1/tokens"), 403, "NOT_PERMITTED");
        expectError(loader.delete("/v1/tokens/ci-loader"), 403, "NOT_PERMITTED");
        expectError(admin.post("/v1/tokens", Map.of("name", "ci-loader")), 409, "TOKEN_ALREADY_EXISTS");
        expectError(admin.post("/v1/tokens", Map.of("name", "Bad Name")), 400, "INVALID_NAME");
        Http.Reply adminRevoked = admin.delete("/v1/tokens/admin");
        expectError(adminRevoked, 403, "NOT_PERMITTED");
        assertThat(adminRevoked.errorMessage())
                .isEqualTo("the admin token cannot be revoked; to replace it, delete admin.token in Tarn's data"
                        + " directory and restart Tarn");

        JsonNode listed = admin.get("/v1/tokens").body().path("tokens");
        List<String> names = new ArrayList<>();
        listed.forEach(t -> names.add(t.path("name").asText()));
        assertThat(names).containsExactly("admin", "ci-loader");
        assertThat(listed.toString()).doesNotContain(token).doesNotContain("hash");

        String adminToken = Tokens.readAdminToken(dataDir);
        for (Path file : List.of(dataDir.resolve("tarn.db"), dataDir.resolve("tarn.db-wal"))) {
            if (Files.exists(file)) {
                String bytes = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
                assertThat(bytes).doesNotContain(token).doesNotContain(adminToken);
            }
        }

        assertThat(admin.delete("/v1/tokens/ci-loader").status()).isEqualTo(204);
        expectError(loader.get("/v1/topics"), 401, "UNAUTHENTICATED");
        expectError(admin.delete("/v1/tokens/ci-loader"), 404, "TOKEN_NOT_FOUND");
    }

    @Test
    void theDataDirectoryAndTheAdminTokenAreTheOwnersOnly() throws IOException {
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dataDir)))
                .isEqualTo("rwx------");
        Path tokenFile = dataDir.resolve("admin.token");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tokenFile)))
                .isEqualTo("rw-------");
        assertThat(Files.readString(tokenFile)).matches("tarn_[A-Za-z0-9_-]{43}\n");
    }

    @Test
    void everyListenerOfTheProcessIsOnALoopbackAddress() throws IOException {
        List<InetAddress> listening = listeningAddresses();
        // HTTP API, Kafka broker and controller, Flink's REST endpoint and blob server
        assertThat(listening).hasSizeGreaterThanOrEqualTo(5);
        assertThat(listening).allMatch(InetAddress::isLoopbackAddress, "a loopback address");
    }

    @Test
    void flinksRestEndpointAnswersOnlyClientsWithTheClustersKey() throws Exception {
        URI rest = server.flinkAccess().restAddress();
        assertThat(rest.getScheme()).isEqualTo("https");
        assertThat(Http.flink(server).get("/jobs").status()).isEqualTo(200);
        // plain HTTP: only Flink's redirect to HTTPS, no content
        HttpClient plain = HttpClient.newHttpClient();
        URI cleartext = new URI("http", null, rest.getHost(), rest.getPort(), "/jobs", null, null);
        var answer = plain.send(HttpRequest.newBuilder(cleartext).build(), BodyHandlers.ofString());
        assertThat(answer.statusCode()).isEqualTo(301);
        assertThat(answer.body()).isEmpty();
        // TLS that trusts the cluster but presents no key of its own: refused in the handshake
        SSLContext trustOnly = SSLContext.getInstance("TLS");
        KeyStore store = KeyStore.getInstance("PKCS12");
        Path tls = dataDir.resolve("flink").resolve("tls");
        try (InputStream in = Files.newInputStream(tls.resolve("cluster.p12"))) {
            store.load(in, Files.readString(tls.resolve("cluster.password")).toCharArray());
        }
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(store);
        trustOnly.init(null, trust.getTrustManagers(), null);
        HttpClient anonymous = HttpClient.newBuilder().sslContext(trustOnly).build();
        assertThatThrownBy(() -> anonymous.send(
                        HttpRequest.newBuilder(rest.resolve("/jobs")).build(), BodyHandlers.ofString()))
                .isInstanceOf(IOException.class);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tls.resolve("cluster.password"))))
                .isEqualTo("rw-------");
    }

    @Test
    void aServerRefusesANetworkAddressWithoutTlsBeforeTouchingItsDataDir(@TempDir Path other) {
        Path data = other.resolve("data");
        TarnConfig wide = Fixtures.localServer(data).with(ConfigKeys.HTTP_HOST, "0.0.0.0");
        assertThatThrownBy(() -> TarnServer.start(wide))
                .isInstanceOf(TarnException.class)
                .hasMessageStartingWith("http.host '0.0.0.0' is not a loopback address");
        assertThat(data).doesNotExist();
    }

    @Test
    void theCliSendsTheAdminTokenOfItsDataDir() {
        Cli.Result listed = Cli.run("--url", server.httpAddress(), "--data-dir", dataDir.toString(), "topics", "list");
        assertThat(listed.code()).as(listed.err()).isZero();
        Cli.Result elsewhere = Cli.run(
                "--url",
                server.httpAddress(),
                "--data-dir",
                dataDir.resolve("nowhere").toString(),
                "topics",
                "list");
        assertThat(elsewhere.code()).isEqualTo(7);
        assertThat(elsewhere.err())
                .startsWith("error: UNAUTHENTICATED: this endpoint needs a token")
                .contains("(token from no token: $TARN_TOKEN is not set and "
                        + dataDir.resolve("nowhere").resolve("admin.token") + " cannot be read; set $TARN_TOKEN or"
                        + " --data-dir)");
    }

    private static void expectError(Http.Reply reply, int status, String name) {
        assertThat(reply.status()).as(reply.text()).isEqualTo(status);
        assertThat(reply.errorName()).as(reply.text()).isEqualTo(name);
    }

    /** Local addresses of this process's listening TCP sockets, from /proc (Linux). */
    static List<InetAddress> listeningAddresses() throws IOException {
        Set<String> inodes = new HashSet<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) {
                        inodes.add(target.substring(8, target.length() - 1));
                    }
                } catch (IOException e) {
                    // closed meanwhile
                }
            }
        }
        List<InetAddress> addresses = new ArrayList<>();
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            List<String> lines;
            try (InputStream in = Files.newInputStream(Path.of(table))) {
                lines = new String(in.readAllBytes(), StandardCharsets.US_ASCII)
                        .lines()
                        .skip(1)
                        .toList();
            }
            for (String line : lines) {
                String[] fields = line.strip().split("\\s+");
                if (fields[3].equals("0A") && inodes.contains(fields[9])) { // 0A: LISTEN
                    addresses.add(address(fields[1].substring(0, fields[1].indexOf(':'))));
                }
            }
        }
        return addresses;
    }

    /** An address as /proc writes it: 32-bit words in host (little-endian) order. */
    private static InetAddress address(String hex) throws IOException {
        byte[] bytes = new byte[hex.length() / 2];
        for (int word = 0; word < bytes.length / 4; word++) {
            for (int i = 0; i < 4; i++) {
                int at = word * 8 + (3 - i) * 2;
                bytes[word * 4 + i] = new BigInteger(hex.substring(at, at + 2), 16).byteValue();
            }
        }
        return InetAddress.getByAddress(bytes);
    }
}
