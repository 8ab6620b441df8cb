package io.tarn.server;

import static io.tarn.server.Fixtures.await;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.tarn.compute.DeadLetters;
import io.tarn.core.config.ConfigKeys;
import io.tarn.core.config.TarnConfig;
import io.tarn.core.io.DataDir;
import io.tarn.core.io.Directories;
import io.tarn.server.metadata.DeadLetterPosition;
import io.tarn.server.metadata.MetadataStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Replays of dead letters over HTTP on one server in this JVM: corrected and as they were, each landing exactly once,
 * refusals that change nothing, and replays cut off by a crash (committed or not) finished exactly once by a restart.
 */
class DeadLetterReplayIT {
    private static final String PIPELINE = "land-orders";
    private static final String REPLAY_TOPIC = DeadLetters.replayTopic(PIPELINE, "orders");

    private static Path dataDir;
    private static TarnConfig config;
    private static TarnServer server;

    @AfterAll
    static void stop() {
        try {
            if (server != null) {
                server.close();
            }
        } finally {
            Directories.deleteRecursively(dataDir);
        }
    }

    @Test
    void replayedDeadLettersLandExactlyOnceAlsoAcrossACrash() throws Exception {
        dataDir = Files.createTempDirectory("tarn-replay-it").toRealPath();
        config = Fixtures.localServer(dataDir).with(ConfigKeys.COMPUTE_CHECKPOINT_INTERVAL, "1s");
        server = TarnServer.start(config);
        Http http = Fixtures.awaitReady(server);
        Http.Reply topic = http.post(
                "/v1/topics",
                Map.of(
                        "name",
                        "orders",
                        "partitions",
                        1,
                        "columns",
                        List.of(
                                Map.of("name", "id", "type", "BIGINT NOT NULL"),
                                Map.of("name", "amount", "type", "DECIMAL(10, 2)"))));
        assertThat(topic.status()).as(topic.text()).isEqualTo(201);
        Http.Reply created = http.post(
                "/v1/pipelines",
                Map.of(
                        "name",
                        PIPELINE,
                        "onError",
                        "dead-letter",
                        "sql",
                        """
                        CREATE DATABASE IF NOT EXISTS lake.shop;
                        CREATE TABLE lake.shop.orders (id BIGINT, amount DECIMAL(10, 2), k STRING);
                        INSERT INTO lake.shop.orders SELECT id, amount, kafka_key FROM stream.orders;
                        """));
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        Fixtures.createIdTopic(http, "plain", 1);
        Fixtures.createIdLanding(http, "land-plain", "plain", "shop.plain");

        // offsets 0-4 good, 5-8 bad, written by a Kafka client (nothing checks them on the way in)
        List<String> values = new ArrayList<>();
        for (int i = 1; i <= 5; i++) {
            values.add("{\"id\":%d,\"amount\":%d.50}".formatted(i, i));
        }
        values.addAll(List.of("{\"id\":\"six\"}", "{oops", "{\"id\":8,\"amount\":99999999.995}", "[9]"));
        try (KafkaProducer<byte[], byte[]> producer = producer()) {
            for (int i = 0; i < values.size(); i++) {
                producer.send(new ProducerRecord<>(
                                "orders",
                                ("key-" + i).getBytes(StandardCharsets.UTF_8),
                                values.get(i).getBytes(StandardCharsets.UTF_8)))
                        .get();
            }
        }
        awaitCounts(http, 5, 4);

        // a corrected dead letter lands, once
        Http.Reply corrected = http.post(
                "/v1/pipelines/land-orders/dead-letters/replay",
                Map.of(
                        "deadLetters",
                        List.of(Map.of(
                                "topic",
                                "orders",
                                "partition",
                                0,
                                "offset",
                                5,
                                "value",
                                Map.of("id", 6, "amount", 6.5)))));
        assertThat(corrected.status()).as(corrected.text()).isEqualTo(200);
        assertThat(corrected.body().toString()).isEqualTo("{\"replayed\":1,\"remaining\":3}");
        awaitCounts(http, 6, 4);
        assertThat(Fixtures.rows(http, "SELECT id, amount, k FROM lake.shop.orders WHERE id = 6")
                        .toString())
                .as("the corrected value, with the record's key")
                .isEqualTo("[[6,6.5,\"key-5\"]]");

        // refusals, each of which changes nothing
        long replayEnd = committedEnd(REPLAY_TOPIC);
        assertThat(replayEnd).isEqualTo(2); // one record and the transaction's commit marker
        Http.Reply again = http.post(
                "/v1/pipelines/land-orders/dead-letters/replay",
                Map.of("deadLetters", List.of(Map.of("topic", "orders", "partition", 0, "offset", 5))));
        assertThat(again.status()).isEqualTo(409);
        assertThat(again.errorMessage())
                .isEqualTo("dead letter orders/0/5 of pipeline 'land-orders' was replayed already");
        Http.Reply absent = http.post(
                "/v1/pipelines/land-orders/dead-letters/replay",
                Map.of("deadLetters", List.of(Map.of("topic", "orders", "partition", 0, "offset", 4))));
        assertThat(absent.status()).isEqualTo(400);
        assertThat(absent.errorMessage()).isEqualTo("pipeline 'land-orders' has no dead letter orders/0/4");
        Http.Reply tooLarge = http.post(
                "/v1/pipelines/land-orders/dead-letters/replay",
                Map.of(
                        "deadLetters",
                        List.of(Map.of("topic", "orders", "partition", 0, "offset", 6, "value", "x".repeat(2 << 20)))));
        assertThat(tooLarge.status()).isEqualTo(400);
        assertThat(tooLarge.errorMessage()).contains("has 2097154 bytes; log.max-record-bytes is");
        Http.Reply twice = http.post(
                "/v1/pipelines/land-orders/dead-letters/replay",
                Map.of(
                        "deadLetters",
                        List.of(
                                Map.of("topic", "orders", "partition", 0, "offset", 6),
                                Map.of("topic", "orders", "partition", 0, "offset", 6))));
        assertThat(twice.errorMessage()).isEqualTo("dead letter orders/0/6 is named twice");
        Http.Reply both = http.post(
                "/v1/pipelines/land-orders/dead-letters/replay", Map.of("all", true, "deadLetters", List.of()));
        assertThat(both.status()).isEqualTo(400);
        Http.Reply badPosition = http.post(
                "/v1/pipelines/land-orders/dead-letters/replay",
                Map.of("deadLetters", List.of(Map.of("topic", "orders", "partition", -1, "offset", 6))));
        assertThat(badPosition.status()).isEqualTo(400);
        Http.Reply failing = http.post("/v1/pipelines/land-plain/dead-letters/replay", Map.of("all", true));
        assertThat(failing.status()).isEqualTo(409);
        assertThat(failing.errorMessage())
                .isEqualTo("pipeline 'land-plain' does not dead-letter bad records (its onError is fail)");
        assertThat(http.post("/v1/pipelines/nope/dead-letters/replay", Map.of("all", true))
                        .status())
                .isEqualTo(404);
        assertThat(committedEnd(REPLAY_TOPIC))
                .as("refused replays wrote nothing")
                .isEqualTo(replayEnd);

        // all the others as they were: still bad, so dead-lettered again, in the replay topic
        Http.Reply all = http.post("/v1/pipelines/land-orders/dead-letters/replay", Map.of("all", true));
        assertThat(all.status()).as(all.text()).isEqualTo(200);
        assertThat(all.body().toString()).isEqualTo("{\"replayed\":3,\"remaining\":0}");
        awaitCounts(http, 6, 7);
        JsonNode letters = http.get("/v1/pipelines/land-orders/dead-letters").body();
        List<String> listed = new ArrayList<>();
        letters.path("deadLetters")
                .forEach(l -> listed.add("%s/%d/%d %s %s %s"
                        .formatted(
                                l.path("topic").asText().equals("orders") ? "orders" : "replay",
                                l.path("partition").asInt(),
                                l.path("offset").asLong(),
                                l.path("key").asText(),
                                l.path("errorClass").asText(),
                                l.path("replayed").asBoolean())));
        assertThat(listed)
                .containsExactlyInAnyOrder(
                        "orders/0/5 key-5 INVALID_FIELD true",
                        "orders/0/6 key-6 MALFORMED_JSON true",
                        "orders/0/7 key-7 INVALID_FIELD true",
                        "orders/0/8 key-8 NOT_AN_OBJECT true",
                        "replay/0/2 key-6 MALFORMED_JSON false",
                        "replay/0/3 key-7 INVALID_FIELD false",
                        "replay/0/4 key-8 NOT_AN_OBJECT false");
        Http.Reply nothingNew = http.post("/v1/pipelines/land-orders/dead-letters/replay", Map.of("all", true));
        assertThat(nothingNew.body().toString())
                .as("replays 3 to 5 are the only ones not replayed; a replay that is still bad is replayed on request")
                .isEqualTo("{\"replayed\":3,\"remaining\":0}");
        awaitCounts(http, 6, 10);

        // a replay cut off by a crash after Kafka committed it: Tarn's start finds it committed and sends nothing
        long end = committedEnd(REPLAY_TOPIC);
        assertThat(end).isEqualTo(10); // three transactions: 1 + 3 + 3 records and three commit markers
        server.close();
        server = null;
        Path metadataFile = new DataDir(dataDir).metadata();
        assertThat(sql(
                        metadataFile,
                        "UPDATE dead_letter_replays SET done = 0 WHERE pipeline = 'land-orders' AND id = 3"))
                .isEqualTo(1);
        server = TarnServer.start(config);
        http = Fixtures.awaitReady(server);
        await(
                "the start to finish the replay",
                Duration.ofMinutes(1),
                () -> count(metadataFile, "SELECT count(*) FROM dead_letter_replays WHERE done = 1 AND id = 3") == 1);
        assertThat(committedEnd(REPLAY_TOPIC)).as("nothing sent again").isEqualTo(end);

        // a replay cut off by a crash before it was sent: Tarn's start sends it, once
        server.close();
        server = null;
        DeadLetterPosition stillBad = new DeadLetterPosition(REPLAY_TOPIC, 0, 7); // key-7's latest dead letter
        try (MetadataStore metadata = MetadataStore.open(metadataFile)) {
            metadata.beginReplay(
                    PIPELINE,
                    List.of(stillBad),
                    Map.of(stillBad, "{\"id\":7,\"amount\":7.5}".getBytes(StandardCharsets.UTF_8)),
                    Map.of(REPLAY_TOPIC, Map.of(0, end)));
        }
        server = TarnServer.start(config);
        http = Fixtures.awaitReady(server);
        awaitCounts(http, 7, 10);
        Thread.sleep(3_000);
        assertThat(Fixtures.rows(http, "SELECT id, count(*), min(k) FROM lake.shop.orders GROUP BY id ORDER BY id")
                        .toString())
                .isEqualTo("[[1,1,\"key-0\"],[2,1,\"key-1\"],[3,1,\"key-2\"],[4,1,\"key-3\"],[5,1,\"key-4\"],"
                        + "[6,1,\"key-5\"],[7,1,\"key-7\"]]");
        assertThat(committedEnd(REPLAY_TOPIC)).isEqualTo(end + 2);
        assertThat(http.get("/v1/pipelines/land-orders")
                        .body()
                        .path("deadLetters")
                        .asLong())
                .isEqualTo(10);

        List<String> topics = new ArrayList<>();
        http.get("/v1/topics")
                .body()
                .path("topics")
                .forEach(t -> topics.add(t.path("name").asText()));
        assertThat(topics).as("replay topics are internal").containsExactly("orders", "plain", "tarn.audit");

        // from the command line: the two dead letters not replayed yet (replay/0/6 and replay/0/8)
        Cli.Result replayed = cli("pipelines", "dead-letters", PIPELINE, "--replay", "all");
        assertThat(replayed.code()).as(replayed.err()).isZero();
        assertThat(replayed.out()).isEqualTo("replayed 2 dead letters of pipeline land-orders; 0 not replayed yet\n");
        awaitCounts(http, 7, 12);
        Cli.Result fixedByCli =
                cli("pipelines", "dead-letters", PIPELINE, "--replay", REPLAY_TOPIC + "/0/12", "--value", "{\"id\":8}");
        assertThat(fixedByCli.code()).as(fixedByCli.err()).isZero();
        awaitCounts(http, 8, 12);
        Cli.Result table = cli("pipelines", "dead-letters", PIPELINE, "--limit", "12");
        assertThat(table.code()).as(table.err()).isZero();
        assertThat(table.out()).contains("replayed").endsWith("12 of 12 dead letters\n");
        assertThat(table.out().lines().filter(l -> l.endsWith(" yes")).count()).isEqualTo(11);

        // deleting the pipeline deletes its replay topic; its dead-letter table stays
        assertThat(http.delete("/v1/pipelines/land-orders").status()).isEqualTo(204);
        try (Admin admin = admin()) {
            assertThat(admin.listTopics().names().get())
                    .doesNotContain(REPLAY_TOPIC)
                    .contains("orders");
        }
        assertThat(Fixtures.number(http, "SELECT count(*) FROM lake.dead_letters.\"land-orders\""))
                .isEqualTo(12);
    }

    private static Cli.Result cli(String... args) {
        return Cli.against(server, args);
    }

    private static void awaitCounts(Http http, long landed, long deadLetters) {
        await(
                landed + " orders landed and " + deadLetters + " dead letters",
                Duration.ofMinutes(2),
                () -> Fixtures.number(http, "SELECT count(*) FROM lake.shop.orders") == landed
                        && http.get("/v1/pipelines/land-orders")
                                        .body()
                                        .path("deadLetters")
                                        .asLong()
                                == deadLetters,
                () -> http.get("/v1/pipelines/land-orders").text());
    }

    /** Runs an UPDATE on the metadata store's SQLite file (which a running server shares), returning its count. */
    private static int sql(Path file, String update) {
        try (Connection db = DriverManager.getConnection("jdbc:sqlite:" + file);
                Statement statement = db.createStatement()) {
            return statement.executeUpdate(update);
        } catch (java.sql.SQLException e) {
            throw new AssertionError(e);
        }
    }

    private static long count(Path file, String select) {
        try (Connection db = DriverManager.getConnection("jdbc:sqlite:" + file);
                Statement statement = db.createStatement();
                java.sql.ResultSet rs = statement.executeQuery(select)) {
            rs.next();
            return rs.getLong(1);
        } catch (java.sql.SQLException e) {
            throw new AssertionError(e);
        }
    }

    private static long committedEnd(String topic) throws Exception {
        try (Admin admin = admin()) {
            TopicPartition partition = new TopicPartition(topic, 0);
            return admin.listOffsets(
                            Map.of(partition, OffsetSpec.latest()),
                            new ListOffsetsOptions(IsolationLevel.READ_COMMITTED))
                    .all()
                    .get()
                    .get(partition)
                    .offset();
        }
    }

    private static Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrapServers()));
    }

    private static KafkaProducer<byte[], byte[]> producer() {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrapServers());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    }
}
