package io.tarn.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.tarn.core.config.ConfigKeys;
import io.tarn.core.config.TarnConfig;
import io.tarn.log.EmbeddedKafka;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** With {@code log.bootstrap-servers} set, Tarn uses that Kafka cluster and starts no broker of its own. */
class ExternalKafkaIT {
    @TempDir
    Path dir;

    @Test
    void usesTheConfiguredClusterInsteadOfTheEmbeddedBroker() {
        try (EmbeddedKafka external =
                EmbeddedKafka.start(dir.resolve("external-kafka"), "localhost", 0, 1 << 20, false)) {
            Path dataDir = dir.resolve("data");
            TarnConfig config = TarnConfig.defaults()
                    .with(ConfigKeys.DATA_DIR, dataDir.toString())
                    .with(ConfigKeys.HTTP_PORT, "0")
                    .with(ConfigKeys.LOG_BOOTSTRAP_SERVERS, external.bootstrapServers());
            try (TarnServer server = TarnServer.start(config)) {
                assertThat(server.bootstrapServers()).isEqualTo(external.bootstrapServers());
                assertThat(Files.exists(dataDir.resolve("kafka")))
                        .as("no embedded broker directory")
                        .isFalse();
                Http http = Http.of(server);
                assertThat(http.post("/v1/topics", Map.of("name", "ext", "partitions", 3))
                                .status())
                        .isEqualTo(201);
                assertThat(http.post("/v1/topics/ext/records", List.of(Map.of("a", 1), Map.of("a", 2)))
                                .body()
                                .path("accepted")
                                .asInt())
                        .isEqualTo(2);
                assertThat(http.get("/v1/topics/ext").body().path("records").asLong())
                        .isEqualTo(2);
                assertThat(http.get("/v1/topics/ext").body().path("partitions").asInt())
                        .isEqualTo(3);
            }
        }
    }
}
