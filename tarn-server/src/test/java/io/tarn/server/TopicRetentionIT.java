package io.tarn.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.common.TopicPartition;
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
        assertThat(created.body().path("retention").toString())
                .isEqualTo("{\"ms\":8000,\"bytes\":-1,\"untilLanded\":false}");
        assertThat(kafkaConfig("clicks", "retention.ms")).isEqualTo("8000");

        Fixtures.createIdTopic(http, "views", 1);
        assertThat(http.get("/v1/topics/views").body().path("retention").toString())
                .as("Kafka's default")
                .isEqualTo("{\"ms\":604800000,\"bytes\":-1,\"untilLanded\":false}");

        Http.Reply longer = http.put("/v1/topics/clicks/retention", Map.of("ms", 3_600_000, "bytes", 1 << 30));
        assertThat(longer.status()).as(longer.text()).isEqualTo(200);
        assertThat(longer.body().path("retention").toString())
                .isEqualTo("{\"ms\":3600000,\"bytes\":1073741824,\"untilLanded\":false}");
        assertThat(kafkaConfig("clicks", "retention.bytes")).isEqualTo("1073741824");
        assertThat(http.put("/v1/topics/clicks/retention", Map.of("ms", -1))
                        .body()
                        .path("retention")
                        .toString())
                .as("a missing bytes is no limit")
                .isEqualTo("{\"ms\":-1,\"bytes\":-1,\"untilLanded\":false}");

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

    /**
     * A topic a pipeline lands keeps its records until landed by default: Kafka keeps them without limit, and what
     * every pipeline reading the topic has committed past is deleted, not what a stopped one has not landed yet.
     */
    @Test
    void untilLandedKeepsWhatAStoppedPipelineHasNotLanded() throws Exception {
        Http http = tarn.http();
        Fixtures.createIdTopic(http, "orders", 1);
        Fixtures.createIdLanding(http, "land-orders", "orders", "shop.orders");
        assertThat(http.get("/v1/topics/orders").body().path("retention").toString())
                .as("the default for a topic a pipeline lands: 7 days, and until landed")
                .isEqualTo("{\"ms\":604800000,\"bytes\":-1,\"untilLanded\":true}");
        assertThat(kafkaConfig("orders", "retention.ms")).as("Kafka keeps all").isEqualTo("-1");
        Http.Reply shorter = http.put("/v1/topics/orders/retention", Map.of("ms", 1_000, "untilLanded", true));
        assertThat(shorter.body().path("retention").toString())
                .isEqualTo("{\"ms\":1000,\"bytes\":-1,\"untilLanded\":true}");
        // a second reader, whose job Flink plans (its position: its consumer group's committed offsets)
        Http.Reply second = http.post(
                "/v1/pipelines",
                Map.of(
                        "name",
                        "copy-orders",
                        "onError",
                        "dead-letter",
                        "sql",
                        """
                        CREATE TABLE lake.shop.copies (id BIGINT);
                        INSERT INTO lake.shop.copies SELECT id FROM stream.orders;
                        """));
        assertThat(second.status()).as(second.text()).isEqualTo(201);

        Fixtures.sendIds(http, "orders", 0, 100);
        awaitRows(http, "shop.orders", 100);
        awaitRows(http, "shop.copies", 100);
        awaitEarliest(100, "the records both pipelines landed to be deleted");

        assertThat(http.post("/v1/pipelines/copy-orders/stop", Map.of()).status())
                .isEqualTo(200);
        Fixtures.sendIds(http, "orders", 100, 150);
        awaitRows(http, "shop.orders", 150);
        Thread.sleep(12_000); // two rounds of deletion and more, past the time retention
        assertThat(earliest())
                .as("what the stopped pipeline has not landed stays")
                .isEqualTo(100);

        assertThat(http.post("/v1/pipelines/copy-orders/start", Map.of()).status())
                .isEqualTo(200);
        awaitRows(http, "shop.copies", 150);
        awaitEarliest(150, "the records landed after the start to be deleted");
        assertThat(Fixtures.number(http, "SELECT count(DISTINCT id) FROM lake.shop.copies"))
                .isEqualTo(150);

        assertThat(http.put("/v1/topics/orders/retention", Map.of("untilLanded", true, "bytes", 1 << 30))
                        .errorMessage())
                .isEqualTo("retention until landed has no size limit: bytes must be -1");
        assertThat(http.put("/v1/topics/orders/retention", Map.of("untilLanded", "yes"))
                        .errorMessage())
                .isEqualTo("retention untilLanded must be true or false");
        Http.Reply byTime = http.put("/v1/topics/orders/retention", Map.of("ms", 3_600_000));
        assertThat(byTime.body().path("retention").toString())
                .isEqualTo("{\"ms\":3600000,\"bytes\":-1,\"untilLanded\":false}");
        Http.Reply back = http.put("/v1/topics/orders/retention", Map.of("untilLanded", true));
        assertThat(back.body().path("retention").toString())
                .isEqualTo("{\"ms\":604800000,\"bytes\":-1,\"untilLanded\":true}");
        assertThat(kafkaConfig("orders", "retention.ms")).isEqualTo("-1");

        Cli.Result byCli = Cli.against(tarn.server(), "topics", "retention", "orders", "--ms", "-1", "--until-landed");
        assertThat(byCli.code()).as(byCli.err()).isZero();
        assertThat(http.get("/v1/topics/orders").body().path("retention").toString())
                .isEqualTo("{\"ms\":-1,\"bytes\":-1,\"untilLanded\":true}");
    }

    /**
     * A stopped pipeline is warned about the records it has not read when they near the end of their topic's time
     * retention, and when the retention deleted some before it read them; starting it clears the warnings.
     */
    @Test
    void aStoppedPipelineIsWarnedBeforeAndAfterRetentionDeletesWhatItHasNotRead() throws Exception {
        Http http = tarn.http();
        Http.Reply topic = http.post(
                "/v1/topics",
                Map.of(
                        "name",
                        "short",
                        "partitions",
                        1,
                        "columns",
                        List.of(Map.of("name", "id", "type", "BIGINT")),
                        "retention",
                        Map.of("ms", 5_000)));
        assertThat(topic.status()).as(topic.text()).isEqualTo(201);
        Fixtures.createIdLanding(http, "land-short", "short", "shop.short");
        assertThat(http.get("/v1/topics/short")
                        .body()
                        .path("retention")
                        .path("untilLanded")
                        .asBoolean())
                .as("a retention that was set stays")
                .isFalse();
        Fixtures.sendIds(http, "short", 0, 10);
        awaitRows(http, "shop.short", 10);
        assertThat(http.post("/v1/pipelines/land-short/stop", Map.of()).status())
                .isEqualTo(200);
        Fixtures.sendIds(http, "short", 10, 30);
        awaitWarnings(
                http,
                "[\"pipeline 'land-short' has not read 20 records of topic 'short' that are older than 80% of its"
                        + " retention (PT5S): Kafka deletes them soon; start the pipeline, or keep the topic until landed"
                        + " (retention untilLanded)\"]");

        Properties properties = new Properties();
        properties.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tarn.server().bootstrapServers());
        try (Admin admin = Admin.create(properties)) {
            // as Kafka's retention would: the first 15 records go, 5 of which the pipeline had not read
            admin.deleteRecords(Map.of(new TopicPartition("short", 0), RecordsToDelete.beforeOffset(15)))
                    .all()
                    .get();
        }
        awaitWarnings(
                http,
                "[\"topic 'short' deleted 5 records by its retention (PT5S) before pipeline 'land-short' read them; keep"
                        + " a topic until landed to prevent it (retention untilLanded)\"]");

        assertThat(http.post("/v1/pipelines/land-short/start", Map.of()).status())
                .isEqualTo(200);
        awaitRows(http, "shop.short", 25);
        awaitWarnings(http, "[]");
    }

    private static void awaitWarnings(Http http, String warnings) {
        Fixtures.await(
                "the warnings " + warnings,
                Duration.ofMinutes(1),
                () -> http.get("/v1/pipelines/land-short")
                        .body()
                        .path("warnings")
                        .toString()
                        .equals(warnings),
                () -> http.get("/v1/pipelines/land-short")
                        .body()
                        .path("warnings")
                        .toString());
    }

    private static void awaitRows(Http http, String table, long rows) {
        Fixtures.await(
                table + " to have " + rows + " rows",
                Duration.ofMinutes(2),
                () -> Fixtures.number(http, "SELECT count(*) FROM lake." + table) == rows);
    }

    private static void awaitEarliest(long offset, String what) {
        Fixtures.await(what, Duration.ofMinutes(1), () -> earliest() == offset, () -> "earliest " + earliest());
    }

    private static long earliest() {
        Properties properties = new Properties();
        properties.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tarn.server().bootstrapServers());
        try (Admin admin = Admin.create(properties)) {
            TopicPartition partition = new TopicPartition("orders", 0);
            return admin.listOffsets(Map.of(partition, OffsetSpec.earliest()))
                    .all()
                    .get()
                    .get(partition)
                    .offset();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
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
