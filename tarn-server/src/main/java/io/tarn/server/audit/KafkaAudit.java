package io.tarn.server.audit;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tarn.core.audit.AuditNames;
import io.tarn.server.http.AuditEvent;
import io.tarn.server.http.AuditSink;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The audit log on the Kafka log: each API call is a JSON record of the topic {@value AuditNames#TOPIC} (keyed by
 * principal), acknowledged by every in-sync replica and sent once (an idempotent producer), which Tarn's pipeline
 * {@value AuditNames#PIPELINE} lands in {@code lake.}{@value AuditNames#TABLE}. Servers that share the log append to
 * the same topic, each naming itself.
 */
public final class KafkaAudit implements AuditSink, AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final KafkaProducer<String, String> producer;
    private final String node;

    /** @param node this server's node id, in every event */
    public KafkaAudit(String bootstrapServers, String node) {
        this.node = requireNonNull(node, "node is null");
        this.producer = new KafkaProducer<>(
                Map.of(
                        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                        bootstrapServers,
                        ProducerConfig.CLIENT_ID_CONFIG,
                        "tarn-audit",
                        ProducerConfig.ACKS_CONFIG,
                        "all",
                        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
                        true,
                        ProducerConfig.LINGER_MS_CONFIG, // a changing call waits for its event: no lingering
                        0,
                        ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG,
                        30_000,
                        ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG,
                        10_000),
                new StringSerializer(),
                new StringSerializer());
    }

    @Override
    public CompletableFuture<Void> record(AuditEvent event) {
        ObjectNode value = JSON.createObjectNode()
                .put("called_at", event.at().truncatedTo(ChronoUnit.MILLIS).toString())
                .put("node", node)
                .put("principal", event.principal().orElse(null))
                .put("method", event.method())
                .put("route", event.route())
                .put("path", event.path())
                .put("privileges", String.join("; ", event.privileges()))
                .put("decision", event.decision())
                .put("status", event.status())
                .put("error", event.error().orElse(null))
                .put("millis", event.millis());
        CompletableFuture<Void> stored = new CompletableFuture<>();
        producer.send(
                new ProducerRecord<>(AuditNames.TOPIC, event.principal().orElse(""), value.toString()),
                (metadata, failure) -> {
                    if (failure == null) {
                        stored.complete(null);
                    } else {
                        stored.completeExceptionally(failure);
                    }
                });
        return stored;
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(10)); // sends what is still buffered
    }
}
