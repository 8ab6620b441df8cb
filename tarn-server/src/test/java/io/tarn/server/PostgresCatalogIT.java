package io.tarn.server;

import static io.tarn.server.Fixtures.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.tarn.core.config.ConfigKeys;
import io.tarn.core.config.TarnConfig;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server with its metadata ({@code metadata.uri}) and its lake's Iceberg catalog ({@code lake.catalog-uri}) in a real
 * PostgreSQL: nothing of either is in the data directory, and topics, pipelines, tokens and lake tables are all there
 * again after a restart.
 */
class PostgresCatalogIT {
    @TempDir
    static Path dataDir;

    private static EmbeddedPostgres postgres;

    @BeforeAll
    static void startPostgres() throws Exception {
        postgres = EmbeddedPostgres.start();
        try (Connection admin = postgres.getPostgresDatabase().getConnection();
                Statement statement = admin.createStatement()) {
            statement.execute("CREATE DATABASE tarn_metadata");
            statement.execute("CREATE DATABASE tarn_lake");
        }
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        postgres.close();
    }

    @Test
    void aServerKeepsItsMetadataAndItsLakeCatalogInPostgreSqlAcrossARestart() throws Exception {
        TarnConfig config = Fixtures.localServer(dataDir)
                .with(ConfigKeys.COMPUTE_CHECKPOINT_INTERVAL, "1s")
                .with(ConfigKeys.METADATA_URI, url("tarn_metadata"))
                .with(ConfigKeys.METADATA_USER, "postgres")
                .with(ConfigKeys.METADATA_PASSWORD, "postgres")
                .with(ConfigKeys.LAKE_CATALOG_URI, url("tarn_lake"))
                .with(ConfigKeys.LAKE_CATALOG_USER, "postgres")
                .with(ConfigKeys.LAKE_CATALOG_PASSWORD, "postgres");
        String reader;
        try (TarnServer server = TarnServer.start(config)) {
            Http http = Fixtures.awaitReady(server);
            Fixtures.createIdTopic(http, "events", 2);
            Fixtures.createIdLanding(http, "land-events", "events", "shared.events");
            Fixtures.sendIds(http, "events", 0, 500);
            await(
                    "500 events in the lake",
                    Duration.ofMinutes(2),
                    () -> Fixtures.number(http, "SELECT count(*) FROM lake.shared.events") == 500);
            Http.Reply token = http.post(
                    "/v1/tokens",
                    Map.of("name", "reader", "grants", List.of(Map.of("privilege", "read", "resource", "table:*"))));
            assertThat(token.status()).as(token.text()).isEqualTo(201);
            reader = token.body().path("token").asText();
        }
        assertThat(Files.exists(dataDir.resolve("tarn.db"))).isFalse();
        assertThat(Files.exists(dataDir.resolve("catalog.db"))).isFalse();
        assertThat(column("tarn_metadata", "SELECT name FROM topics"))
                .containsExactlyInAnyOrder("events", "tarn.audit");
        assertThat(column("tarn_metadata", "SELECT name FROM pipelines")).containsExactly("land-events");
        assertThat(column("tarn_lake", "SELECT table_namespace || '.' || table_name FROM iceberg_tables"))
                .containsExactly("shared.events");

        try (TarnServer server = TarnServer.start(config)) {
            Http http = Fixtures.awaitReady(server);
            Fixtures.awaitPipelineRunning(http, "land-events", "after the restart");
            Fixtures.sendIds(http, "events", 500, 1000);
            await(
                    "1000 events in the lake",
                    Duration.ofMinutes(2),
                    () -> Fixtures.number(http, "SELECT count(*) FROM lake.shared.events") == 1000);
            assertThat(Fixtures.rows(http, "SELECT count(DISTINCT id), sum(id) FROM lake.shared.events")
                            .toString())
                    .isEqualTo("[[1000,499500]]");
            Http.Reply tables = http.withToken(Optional.of(reader)).get("/v1/tables");
            assertThat(tables.status()).as(tables.text()).isEqualTo(200);
            assertThat(tables.text()).contains("shared.events");
        }
    }

    private static String url(String database) {
        return "jdbc:postgresql://localhost:%d/%s".formatted(postgres.getPort(), database);
    }

    private static List<String> column(String database, String sql) throws SQLException {
        List<String> values = new ArrayList<>();
        try (Connection connection = postgres.getDatabase("postgres", database).getConnection();
                Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery(sql)) {
            while (rs.next()) {
                values.add(rs.getString(1));
            }
        }
        return values;
    }
}
