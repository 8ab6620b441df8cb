package io.tarn.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tarn.core.config.ConfigKeys;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The same grants on the Kafka protocol: the embedded broker's SASL/SCRAM listener ({@code log.sasl-port}) takes a
 * token's name and the token, and each principal produces and consumes exactly what its grants allow over HTTP, with
 * real Kafka clients; refused produces write nothing, and a changed grant or a revoked token holds at once.
 */
class KafkaGrantsIT {
    @RegisterExtension
    static final TarnServerExtension tarn =
            new TarnServerExtension(config -> config.with(ConfigKeys.LOG_SASL_PORT, "0"));

    @Test
    void eachTokenProducesAndConsumesWhatItsGrantsAllow() throws Exception {
        Http admin = tarn.http();
        Fixtures.createIdTopic(admin, "orders", 1);
        Fixtures.createIdTopic(admin, "secret", 1);
        Fixtures.sendIds(admin, "secret", 0, 5);
        String writer = token(admin, "writer", Map.of("privilege", "write", "resource", "topic:orders"));
        String reader = token(admin, "reader", Map.of("privilege", "read", "resource", "topic:ord*"));
        String none = token(admin, "none");
        String revoked = token(admin, "gone", Map.of("privilege", "manage", "resource", "*"));
        assertThat(admin.delete("/v1/tokens/gone").status()).isEqualTo(204);

        // the writer produces to its topic, not to another
        try (KafkaProducer<String, String> producer = producer("writer", writer)) {
            for (int id = 0; id < 3; id++) {
                producer.send(new ProducerRecord<>("orders", "{\"id\":" + id + "}"))
                        .get();
            }
        }
        assertRefused(() -> produce("writer", writer, "secret"));
        // the reader consumes its topics in its own groups, and produces nothing
        assertThat(consume("reader", reader, "orders", "reader.tail"))
                .containsExactly("{\"id\":0}", "{\"id\":1}", "{\"id\":2}");
        assertRefused(() -> consume("reader", reader, "orders", "someone-elses"));
        assertRefused(() -> consume("reader", reader, "secret", "reader.peek"));
        assertRefused(() -> produce("reader", reader, "orders"));
        // a token without grants can do nothing; a revoked token cannot sign in
        assertRefused(() -> consume("none", none, "orders", "none.tail"));
        assertRefused(() -> produce("none", none, "orders"));
        assertThatThrownBy(() -> consume("gone", revoked, "orders", "gone.tail"))
                .isInstanceOf(SaslAuthenticationException.class);
        // nothing refused was written
        assertThat(admin.get("/v1/topics/orders").body().path("records").asLong())
                .isEqualTo(3);
        assertThat(admin.get("/v1/topics/secret").body().path("records").asLong())
                .isEqualTo(5);

        // grants change, and Kafka follows at once
        assertThat(admin.post("/v1/grants", Map.of("principal", "none", "role", "order-readers"))
                        .status())
                .isEqualTo(201);
        assertThat(admin.post(
                                "/v1/grants",
                                Map.of("role", "order-readers", "privilege", "read", "resource", "topic:orders"))
                        .status())
                .isEqualTo(201);
        assertThat(consume("none", none, "orders", "none.tail")).hasSize(3);
        assertThat(admin.post(
                                "/v1/grants/revoke",
                                Map.of("principal", "reader", "privilege", "read", "resource", "topic:ord*"))
                        .status())
                .isEqualTo(200);
        assertRefused(() -> consume("reader", reader, "orders", "reader.again"));
        assertThat(admin.delete("/v1/tokens/writer").status()).isEqualTo(204);
        assertThatThrownBy(() -> produce("writer", writer, "orders"))
                .isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(SaslAuthenticationException.class);
        assertThat(admin.get("/v1/topics/orders").body().path("records").asLong())
                .isEqualTo(3);
    }

    private interface Attempt {
        void run() throws Exception;
    }

    /**
     * A Kafka call refused for authorization, as the client reports it: directly, as a send's cause, or under the
     * producer's "error state" when its idempotent initialization was refused first (which of the two comes first is
     * the client's race).
     */
    private static void assertRefused(Attempt attempt) {
        Throwable failure = null;
        try {
            attempt.run();
        } catch (Throwable e) {
            failure = e;
        }
        assertThat(failure).as("refused").isNotNull();
        List<Throwable> chain = new ArrayList<>();
        for (Throwable t = failure; t != null && !chain.contains(t); t = t.getCause()) {
            chain.add(t);
        }
        assertThat(chain).as("the failure and its causes").anyMatch(AuthorizationException.class::isInstance);
    }

    private static String token(Http admin, String name, Map<?, ?>... grants) {
        Http.Reply created = admin.post("/v1/tokens", Map.of("name", name, "grants", List.of(grants)));
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        return created.body().path("token").asText();
    }

    private static Map<String, Object> sasl(String user, String token) {
        Map<String, Object> config = new HashMap<>();
        config.put(
                CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG,
                tarn.server().saslBootstrapServers().orElseThrow());
        config.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT");
        config.put(SaslConfigs.SASL_MECHANISM, "SCRAM-SHA-256");
        config.put(
                SaslConfigs.SASL_JAAS_CONFIG,
                "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"%s\" password=\"%s\";"
                        .formatted(user, token));
        return config;
    }

    private static KafkaProducer<String, String> producer(String user, String token) {
        Map<String, Object> config = sasl(user, token);
        config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
        config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 10_000);
        config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
        return new KafkaProducer<>(config, new StringSerializer(), new StringSerializer());
    }

    private static void produce(String user, String token, String topic) throws Exception {
        try (KafkaProducer<String, String> producer = producer(user, token)) {
            producer.send(new ProducerRecord<>(topic, "{\"id\":99}")).get();
        }
    }

    /** Every record of a topic (one partition), read in a group from its beginning. */
    private static List<String> consume(String user, String token, String topic, String group) {
        Map<String, Object> config = sasl(user, token);
        config.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(config, new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (System.nanoTime() < deadline && values.size() < 3) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(500))) {
                    values.add(record.value());
                }
            }
            consumer.commitSync();
        }
        return values;
    }
}
