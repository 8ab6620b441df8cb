package io.tarn.server;

import static io.tarn.server.Fixtures.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.tarn.core.config.ConfigKeys;
import io.tarn.s3proxy.S3Proxy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server whose warehouse is in an S3-compatible store ({@code lake.warehouse=s3://…}, {@code lake.s3.*}, against
 * S3Proxy in a process of its own): a pipeline lands a topic there, Flink queries read it exactly, the DuckDB path says
 * it cannot yet, maintenance runs, and dropping the table deletes its objects.
 */
class S3WarehouseServerIT {
    @TempDir
    static Path dir;

    private static S3Proxy s3;
    private static TarnServer server;
    private static Http http;

    @BeforeAll
    static void start() throws Exception {
        s3 = S3Proxy.start(dir.resolve("s3"), List.of("lake"));
        server = TarnServer.start(Fixtures.localServer(dir.resolve("data"))
                .with(ConfigKeys.COMPUTE_CHECKPOINT_INTERVAL, "1s")
                .with(ConfigKeys.LAKE_WAREHOUSE, "s3://lake/warehouse")
                .with(ConfigKeys.LAKE_S3_ENDPOINT, s3.endpoint())
                .with(ConfigKeys.LAKE_S3_REGION, S3Proxy.REGION)
                .with(ConfigKeys.LAKE_S3_PATH_STYLE_ACCESS, "true")
                .with(ConfigKeys.LAKE_S3_ACCESS_KEY_ID, S3Proxy.ACCESS_KEY)
                .with(ConfigKeys.LAKE_S3_SECRET_ACCESS_KEY, S3Proxy.SECRET_KEY));
        http = Fixtures.awaitReady(server);
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
        s3.close();
    }

    @Test
    void aPipelineLandsInTheBucketAndFlinkReadsItExactly() throws Exception {
        Fixtures.createIdTopic(http, "events", 2);
        Fixtures.createIdLanding(http, "land-events", "events", "objects.events");
        Fixtures.sendIds(http, "events", 0, 1000);
        String sql = "SELECT count(*), count(DISTINCT id), sum(id) FROM lake.objects.events";
        await("1000 events in the bucket", Duration.ofMinutes(2), () -> {
            Http.Reply reply = http.post("/v1/query", Map.of("sql", sql, "engine", "flink"));
            return reply.status() == 200 && reply.body().path("rows").toString().equals("[[1000,1000,499500]]");
        });
        Path table = s3.bucketDirectory("lake").resolve("warehouse/objects/events");
        assertThat(files(table.resolve("data"))).isNotEmpty();
        assertThat(files(table.resolve("metadata"))).isNotEmpty();

        Http.Reply fast = http.post("/v1/query", Map.of("sql", sql));
        assertThat(fast.status()).isEqualTo(400);
        assertThat(fast.errorName()).isEqualTo("UNSUPPORTED_QUERY");
        assertThat(fast.errorMessage())
                .isEqualTo("lake table 'objects.events' is in object storage; the fast query path reads local files"
                        + " only so far: run the query with \"engine\": \"flink\"");

        Http.Reply maintained = http.post("/v1/tables/objects.events/maintenance", Map.of());
        assertThat(maintained.status()).as(maintained.text()).isEqualTo(200);
        assertThat(maintained.body().path("error").isNull())
                .as(maintained.text())
                .isTrue();

        assertThat(http.delete("/v1/pipelines/land-events").status()).isEqualTo(204);
        assertThat(http.delete("/v1/tables/objects.events").status()).isEqualTo(204);
        assertThat(files(table)).isEmpty();
    }

    private static List<Path> files(Path directory) throws IOException {
        if (!Files.exists(directory)) {
            return List.of();
        }
        try (Stream<Path> paths = Files.walk(directory)) {
            return paths.filter(Files::isRegularFile).toList();
        }
    }
}
