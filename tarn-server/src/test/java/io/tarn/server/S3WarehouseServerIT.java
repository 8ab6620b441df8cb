package io.tarn.server;

import static io.tarn.server.Fixtures.await;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.tarn.core.config.ConfigKeys;
import io.tarn.s3proxy.S3Proxy;
import io.tarn.server.auth.Tokens;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.rest.RESTCatalog;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server whose warehouse and pipeline state are in an S3-compatible store ({@code lake.warehouse=s3://…},
 * {@code compute.state-dir=s3://…}, {@code lake.s3.*}, against S3Proxy in a process of its own): a pipeline lands a
 * topic there and checkpoints there, stops with a savepoint there and resumes from it; Flink queries read the table
 * exactly, the DuckDB path reads it through local copies, maintenance runs, and dropping the pipeline and the table
 * deletes their objects.
 */
class S3WarehouseServerIT {
    @TempDir
    static Path dir;

    private static S3Proxy s3;
    private static TarnServer server;
    private static Http http;
    private final ObjectMapper mapper = new ObjectMapper();

    @BeforeAll
    static void start() throws Exception {
        s3 = S3Proxy.start(dir.resolve("s3"), List.of("lake"));
        server = TarnServer.start(Fixtures.localServer(dir.resolve("data"))
                .with(ConfigKeys.COMPUTE_CHECKPOINT_INTERVAL, "1s")
                .with(ConfigKeys.LAKE_COMPACTION_MIN_FILES, "2")
                .with(ConfigKeys.LAKE_WAREHOUSE, "s3://lake/warehouse")
                .with(ConfigKeys.COMPUTE_STATE_DIR, "s3://lake/state")
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
        Path state = s3.bucketDirectory("lake").resolve("state");
        assertThat(files(state.resolve("checkpoints/land-events")))
                .as("the pipeline's checkpoints")
                .anyMatch(file -> file.getFileName().toString().equals("_metadata"));

        // a stop takes a savepoint into the bucket; a start resumes from it and lands what came meanwhile once
        Http.Reply stopped = http.post("/v1/pipelines/land-events/stop", Map.of());
        assertThat(stopped.status()).as(stopped.text()).isEqualTo(200);
        String savepoint = stopped.body().path("savepoint").asText();
        assertThat(state.resolve("savepoints/land-events").resolve(savepoint).resolve("_metadata"))
                .isRegularFile();
        Http.Reply listed = http.get("/v1/pipelines/land-events/savepoints");
        assertThat(listed.body().findValuesAsText("name")).containsExactly(savepoint);
        Fixtures.sendIds(http, "events", 1000, 1050);
        Http.Reply started = http.post("/v1/pipelines/land-events/start", Map.of("savepoint", savepoint));
        assertThat(started.status()).as(started.text()).isEqualTo(200);
        await("1050 events after the start", Duration.ofMinutes(2), () -> http.post(
                        "/v1/query", Map.of("sql", sql, "engine", "flink"))
                .body()
                .path("rows")
                .toString()
                .equals("[[1050,1050,%d]]".formatted(1049L * 1050 / 2)));

        // the fast path reads the same rows, through local copies of the bucket's files
        Http.Reply fast = http.post("/v1/query", Map.of("sql", sql));
        assertThat(fast.status()).as(fast.text()).isEqualTo(200);
        assertThat(fast.body().path("rows").toString()).isEqualTo("[[1050,1050,%d]]".formatted(1049L * 1050 / 2));
        assertThat(fast.body().path("engine").asText()).isEqualTo("duckdb");
        // and so does a fresh read: the snapshot's copies, then the topic's records after its seam (in the bucket)
        Fixtures.sendIds(http, "events", 1050, 1100);
        Http.Reply fresh = http.post(
                "/v1/query", Map.of("sql", "SELECT count(*), sum(id) FROM lake.objects.events", "fresh", true));
        assertThat(fresh.status()).as(fresh.text()).isEqualTo(200);
        assertThat(fresh.body().path("rows").toString()).isEqualTo("[[1100,%d]]".formatted(1099L * 1100 / 2));

        await("the 100 more committed", Duration.ofMinutes(1), () -> http.post(
                        "/v1/query", Map.of("sql", "SELECT count(*) FROM lake.objects.events"))
                .body()
                .path("rows")
                .toString()
                .equals("[[1100]]"));
        Http.Reply maintained = http.post("/v1/tables/objects.events/maintenance", Map.of());
        assertThat(maintained.status()).as(maintained.text()).isEqualTo(200);
        assertThat(maintained.body().path("error").isNull())
                .as(maintained.text())
                .isTrue();
        assertThat(maintained
                        .body()
                        .path("compaction")
                        .path("dataFilesRewritten")
                        .asInt())
                .as(maintained.text())
                .isGreaterThanOrEqualTo(2);
        Http.Reply compacted =
                http.post("/v1/query", Map.of("sql", "SELECT count(*), sum(id) FROM lake.objects.events"));
        assertThat(compacted.body().path("rows").toString()).isEqualTo("[[1100,%d]]".formatted(1099L * 1100 / 2));

        // an engine of its own reads the table through the REST catalog with only its own credentials: the catalog's
        // /config tells it the warehouse, the endpoint, the region and the addressing, and never Tarn's keys
        Http.Reply config = http.get("/iceberg/v1/config");
        assertThat(mapper.convertValue(config.body().path("defaults"), Map.class))
                .isEqualTo(Map.of(
                        "client.region",
                        S3Proxy.REGION,
                        "s3.endpoint",
                        s3.endpoint(),
                        "s3.path-style-access",
                        "true",
                        "warehouse",
                        "s3://lake/warehouse"));
        assertThat(config.text()).doesNotContain(S3Proxy.ACCESS_KEY).doesNotContain(S3Proxy.SECRET_KEY);
        try (RESTCatalog engine = new RESTCatalog()) {
            engine.setConf(new Configuration());
            engine.initialize(
                    "engine",
                    Map.of(
                            "uri",
                            server.httpAddress() + "/iceberg",
                            "token",
                            Tokens.readAdminToken(server.dataDir()),
                            "s3.access-key-id",
                            S3Proxy.ACCESS_KEY,
                            "s3.secret-access-key",
                            S3Proxy.SECRET_KEY));
            long count = 0;
            long sum = 0;
            try (CloseableIterable<Record> rows = IcebergGenerics.read(
                            engine.loadTable(TableIdentifier.of("objects", "events")))
                    .build()) {
                for (Record row : rows) {
                    count++;
                    sum += (Long) row.getField("id");
                }
            }
            assertThat(List.of(count, sum)).isEqualTo(List.of(1100L, 1099L * 1100 / 2));
        }

        assertThat(http.delete("/v1/pipelines/land-events").status()).isEqualTo(204);
        assertThat(http.delete("/v1/tables/objects.events").status()).isEqualTo(204);
        assertThat(files(table)).isEmpty();
        assertThat(files(state)).as("the pipeline's checkpoints and savepoints").isEmpty();
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
