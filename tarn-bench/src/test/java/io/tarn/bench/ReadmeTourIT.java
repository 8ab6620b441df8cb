package io.tarn.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.tarn.app.launcher.ServerProcess;
import io.tarn.cdc.EmbeddedPostgreSql;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's five-minute tour, run as a new user runs it: its bash block, top to bottom, through the real {@code
 * ./tarn} launcher, against {@code ./tarn server} started in the same working directory, with a PostgreSQL holding the
 * database step 7 captures. Only the ports change (the tour's 8080 and 5432 are taken on a build machine), the way a
 * user changes them: {@code TARN_URL} and the URLs in the commands.
 */
class ReadmeTourIT {
    private static final Duration TOUR = Duration.ofMinutes(15);

    @TempDir
    Path dir;

    @Test
    void theToursCommandsRunAsWritten() throws Exception {
        Path repository = Path.of("").toAbsolutePath().getParent();
        String tour = tour(Files.readString(repository.resolve("README.md")));
        Files.createSymbolicLink(dir.resolve("tarn"), repository.resolve("tarn"));
        try (EmbeddedPostgres postgres = EmbeddedPostgreSql.start()) {
            database(postgres);
            int httpPort = ServerProcess.freePort();
            Process server = launch(
                    List.of(
                            "./tarn",
                            "server",
                            "--http-port",
                            String.valueOf(httpPort),
                            "--kafka-port",
                            String.valueOf(ServerProcess.freePort())),
                    dir.resolve("server.log"));
            try {
                awaitReady(dir.resolve("server.log"));
                String script = "set -euo pipefail\nexport TARN_URL=http://localhost:" + httpPort + "\n"
                        + tour.replace("localhost:8080", "localhost:" + httpPort)
                                .replace("localhost:5432", "localhost:" + postgres.getPort());
                Process bash = launch(List.of("bash", "-x", "-c", script), dir.resolve("tour.log"));
                assertThat(bash.waitFor(TOUR.toMinutes(), TimeUnit.MINUTES))
                        .as("the tour ends")
                        .isTrue();
                assertThat(bash.exitValue())
                        .as("every command of the tour succeeds:%n%s", Files.readString(dir.resolve("tour.log")))
                        .isZero();

                String base = "http://localhost:" + httpPort;
                // step 2 produced three orders (ada 12.50, bob 3.20, ada 7); steps 3-7 land them, all with amount > 0
                awaitRows(
                        base,
                        "SELECT customer, count(*), sum(amount) FROM lake.shop.orders GROUP BY customer"
                                + " ORDER BY customer",
                        "[[\"ada\",2,19.5],[\"bob\",1,3.2]]");
                // step 5's view counts the orders of the topic by customer
                awaitView(
                        base,
                        "/v1/views/spend?keys=" + URLEncoder.encode("[\"ada\",\"bob\"]", StandardCharsets.UTF_8),
                        "[{\"customer\":\"ada\",\"orders\":2,\"total\":19.5},{\"customer\":\"bob\",\"orders\":1,\"total\":3.2}]");
                // step 8 mirrors PostgreSQL's shop.public.orders into lake.crm.orders
                awaitRows(base, "SELECT count(*), sum(amount) FROM lake.crm.orders", "[[3,60.75]]");
                // step 9's results
                try (Stream<Path> results = Files.list(dir.resolve("bench").resolve("results"))) {
                    Path json = results.filter(p -> p.toString().endsWith("-quick.json"))
                            .findFirst()
                            .orElseThrow();
                    JsonNode runs = BenchContext.JSON.readTree(json.toFile()).path("runs");
                    assertThat(runs.findValuesAsText("variant"))
                            .containsExactlyElementsOf(Stream.of(
                                            Stream.of("tarn"),
                                            BenchContext.plainFlinkParallelisms().stream()
                                                    .map(Report::plainFlink),
                                            Stream.of("raw-kafka", "direct-writer"))
                                    .flatMap(s -> s)
                                    .toList());
                    runs.forEach(run -> assertThat(run.path("rows").asLong()).isEqualTo(200_000));
                }
                // the benchmark's progress is not mixed with the log of what it measures, which has a file
                assertThat(Files.readString(dir.resolve("tour.log")))
                        .doesNotContainPattern("(?m)^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} (INFO|WARN|ERROR) ");
                assertThat(dir.resolve("tarn-bench.log")).isNotEmptyFile();
            } finally {
                server.destroy();
                server.waitFor(2, TimeUnit.MINUTES);
            }
        }
    }

    /** The bash block of the README's tour. */
    static String tour(String readme) {
        String section = readme.substring(readme.indexOf("## Five-minute tour"));
        int start = section.indexOf("```bash\n") + "```bash\n".length();
        return section.substring(start, section.indexOf("\n```", start) + 1);
    }

    /** The database of step 7: PostgreSQL's shop, owned by the tour's user tarn, with three orders. */
    private static void database(EmbeddedPostgres postgres) throws Exception {
        try (Connection admin = postgres.getPostgresDatabase().getConnection();
                Statement statement = admin.createStatement()) {
            statement.execute("CREATE ROLE tarn LOGIN REPLICATION PASSWORD 'secret'");
            statement.execute("CREATE DATABASE shop OWNER tarn");
        }
        try (Connection shop = DriverManager.getConnection(
                        "jdbc:postgresql://localhost:" + postgres.getPort() + "/shop", "tarn", "secret");
                Statement statement = shop.createStatement()) {
            statement.execute(
                    "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer TEXT, amount NUMERIC(10, 2), ts TIMESTAMP)");
            statement.execute("INSERT INTO orders VALUES (1, 'ada', 12.50, '2026-11-22 10:00:00'),"
                    + " (2, 'bob', 3.20, '2026-11-22 10:00:30'), (3, 'cy', 45.05, '2026-11-22 10:01:10')");
        }
    }

    private Process launch(List<String> command, Path log) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().put("TARN_NO_BUILD", "1");
        builder.environment().remove("TARN_TOKEN");
        builder.environment().remove("TARN_URL");
        return builder.start();
    }

    private static void awaitReady(Path log) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (!Files.exists(log) || !Files.readString(log).contains("READY http=")) {
            assertThat(System.nanoTime())
                    .as("the server is READY; its log:%n%s", read(log))
                    .isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    private void awaitRows(String base, String sql, String expected) throws Exception {
        String body = BenchContext.JSON.createObjectNode().put("sql", sql).toString();
        awaitAnswer(
                sql,
                () -> HttpRequest.newBuilder(URI.create(base + "/v1/query"))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body)),
                expected);
    }

    /** Waits up to two minutes for a view read to answer exactly these rows. */
    private void awaitView(String base, String path, String expected) throws Exception {
        awaitAnswer(path, () -> HttpRequest.newBuilder(URI.create(base + path)), expected);
    }

    /** Waits up to two minutes for the {@code rows} of a request's answer (sent with the admin token) to be these. */
    private void awaitAnswer(String what, Supplier<HttpRequest.Builder> request, String expected) throws Exception {
        String token = Files.readString(dir.resolve("tarn-data").resolve("admin.token"))
                .strip();
        HttpClient client = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        String rows = "";
        while (System.nanoTime() < deadline) {
            HttpResponse<String> answer = client.send(
                    request.get().header("Authorization", "Bearer " + token).build(),
                    HttpResponse.BodyHandlers.ofString());
            rows = BenchContext.JSON.readTree(answer.body()).path("rows").toString();
            if (rows.equals(expected)) {
                return;
            }
            Thread.sleep(500);
        }
        assertThat(rows).as(what).isEqualTo(expected);
    }

    private static String read(Path log) {
        try {
            return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "(no log)";
        } catch (IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }
}
