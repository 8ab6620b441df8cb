package io.tarn.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A topic's retention (Kafka's {@code retention.ms} and {@code retention.bytes}) is set at creation and changed later
 * through the API, with its refusals; Kafka itself holds the setting.
 */
class TopicRetentionIT {
    @RegisterExtension
    static final TarnServerExtension tarn = new TarnServerExtension();

    @Test
    void aTopicsRetentionIsSetAtCreationAndChangedLater() throws Exception {
        Http http = tarn.http();
        Http.Reply created = http.post(
                "/v1/topics",
                Map.of(
                        "name",
                        "clicks",
                        "columns",
                        List.of(Map.of("name", "id", "type", "BIGINT")),
                        "retention",
                        Map.of("ms", 8_000)));
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        assertThat(created.body().path("retention").toString()).isEqualTo("{\"ms\":8000,\"bytes\":-1}");
        assertThat(kafkaConfig("clicks", "retention.ms")).isEqualTo("8000");

        Fixtures.createIdTopic(http, "views", 1);
        assertThat(http.get("/v1/topics/views").body().path("retention").toString())
                .as("Kafka's default")
                .isEqualTo("{\"ms\":604800000,\"bytes\":-1}");

        Http.Reply longer = http.put("/v1/topics/clicks/retention", Map.of("ms", 3_600_000, "bytes", 1 << 30));
        assertThat(longer.status()).as(longer.text()).isEqualTo(200);
        assertThat(longer.body().path("retention").toString()).isEqualTo("{\"ms\":3600000,\"bytes\":1073741824}");
        assertThat(kafkaConfig("clicks", "retention.bytes")).isEqualTo("1073741824");
        assertThat(http.put("/v1/topics/clicks/retention", Map.of("ms", -1))
                        .body()
                        .path("retention")
                        .toString())
                .as("a missing bytes is no limit")
                .isEqualTo("{\"ms\":-1,\"bytes\":-1}");

        assertThat(http.put("/v1/topics/clicks/retention", Map.of("ms", 10)).errorMessage())
                .isEqualTo("retention ms must be -1 (no limit) or at least 1000");
        assertThat(http.put("/v1/topics/clicks/retention", Map.of("bytes", 5)).errorMessage())
                .isEqualTo("retention bytes must be -1 (no limit) or at least 1048576");
        assertThat(http.put("/v1/topics/clicks/retention", Map.of("ms", "long")).errorMessage())
                .isEqualTo("retention ms must be a whole number");
        assertThat(http.put("/v1/topics/clicks/retention", Map.of("days", 1)).errorMessage())
                .startsWith("unknown field 'days'");
        assertThat(http.put("/v1/topics/nope/retention", Map.of("ms", -1)).status())
                .isEqualTo(404);
        assertThat(http.post("/v1/topics", Map.of("name", "bad", "retention", Map.of("ms", 1, "bytes", -1)))
                        .errorMessage())
                .isEqualTo("retention ms must be -1 (no limit) or at least 1000");
        assertThat(http.get("/v1/topics/bad").status()).as("nothing created").isEqualTo(404);
        assertThat(kafkaConfig("clicks", "retention.ms"))
                .as("refusals changed nothing")
                .isEqualTo("-1");
    }

    private static String kafkaConfig(String topic, String name) throws Exception {
        Properties properties = new Properties();
        properties.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tarn.server().bootstrapServers());
        try (Admin admin = Admin.create(properties)) {
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            Config config = admin.describeConfigs(List.of(resource)).all().get().get(resource);
            return config.get(name).value();
        }
    }
}
