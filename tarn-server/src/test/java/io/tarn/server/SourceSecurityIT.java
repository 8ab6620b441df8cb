package io.tarn.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Sources as an attacker (or an unlucky network) meets them: a database that accepts connections and never answers, and
 * connection URLs that smuggle driver parameters past the allowed list. Each is refused with its reason, nothing is
 * created, and the rest of the API keeps answering meanwhile.
 */
class SourceSecurityIT {
    @RegisterExtension
    static final TarnServerExtension tarn = new TarnServerExtension();

    static Http http;
    /** A "database" that accepts TCP connections and never sends a byte. */
    static ServerSocket silent;

    static final AtomicInteger connections = new AtomicInteger();
    static final List<Socket> held = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() throws IOException {
        http = tarn.http();
        silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(
                () -> {
                    while (!silent.isClosed()) {
                        try {
                            held.add(silent.accept());
                            connections.incrementAndGet();
                        } catch (IOException e) {
                            return;
                        }
                    }
                },
                "silent-database");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    @AfterAll
    static void stop() throws IOException {
        silent.close();
        for (Socket socket : held) {
            socket.close();
        }
    }

    @Test
    void aDatabaseThatNeverAnswersHoldsUpOnlyItsOwnSource() throws Exception {
        int before = connections.get();
        long start = System.nanoTime();
        CompletableFuture<Http.Reply> hung = CompletableFuture.supplyAsync(() -> http.post(
                "/v1/sources", source("hung", "postgresql://127.0.0.1:%d/shop".formatted(silent.getLocalPort()))));
        Fixtures.await(
                "the hung source to reach its database", Duration.ofSeconds(10), () -> connections.get() > before);

        // meanwhile, other source requests are answered at once
        for (Runnable request : List.<Runnable>of(
                () -> assertThat(http.get("/v1/sources").status()).isEqualTo(200),
                () -> assertThat(http.get("/v1/sources/hung").status()).isEqualTo(404),
                () -> assertThat(http.delete("/v1/sources/other").status()).isEqualTo(404),
                () -> assertThat(http.post("/v1/sources", source("Bad", "postgresql://h/db"))
                                .status())
                        .isEqualTo(400))) {
            long asked = System.nanoTime();
            request.run();
            assertThat(Duration.ofNanos(System.nanoTime() - asked)).isLessThan(Duration.ofSeconds(3));
        }
        assertThat(hung).isNotDone();

        // the driver's default login timeout (10 s) ends the wait
        Http.Reply reply = hung.get(60, TimeUnit.SECONDS);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(40));
        assertThat(reply.status()).as(reply.text()).isEqualTo(503);
        assertThat(reply.errorName()).isEqualTo("SOURCE_UNAVAILABLE");
        assertThat(reply.errorMessage())
                .startsWith("database shop at 127.0.0.1:%d could not be described: ".formatted(silent.getLocalPort()));
        assertNothingCreated("hung");
    }

    @Test
    void driverParametersCannotHideInTheDatabaseName() {
        int before = connections.get();
        for (String database : List.of(
                "shop%3FsocketFactory=org.springframework.context.support.ClassPathXmlApplicationContext",
                "shop%3Fsslfactory=x%26sslfactoryarg=evil.xml", "shop%3FApplicationName=x%26loggerLevel=TRACE")) {
            Http.Reply reply = http.post(
                    "/v1/sources",
                    source("smuggled", "postgresql://127.0.0.1:%d/%s".formatted(silent.getLocalPort(), database)));
            assertThat(reply.status()).as(reply.text()).isEqualTo(400);
            assertThat(reply.errorName()).isEqualTo("INVALID_REQUEST");
            assertThat(reply.errorMessage())
                    .as(database)
                    .startsWith("the database name must be 1-63 letters, digits, '_', '$' or '-'");
        }
        assertThat(connections.get()).as("connections the database received").isEqualTo(before);
        assertNothingCreated("smuggled");
    }

    private static Map<String, Object> source(String name, String connection) {
        return Map.of(
                "name",
                name,
                "connection",
                connection,
                "user",
                "tarn",
                "password",
                "secret",
                "tables",
                List.of("public.orders"));
    }

    private static void assertNothingCreated(String source) {
        assertThat(http.get("/v1/sources/" + source).status()).isEqualTo(404);
        assertThat(http.get("/v1/topics").text()).doesNotContain(source + ".");
        assertThat(http.get("/v1/pipelines/" + source + "-mirror").status()).isEqualTo(404);
        assertThat(tarn.dataDir().resolve("sources").resolve(source)).doesNotExist();
    }
}
