package io.tarn.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.tarn.core.config.ConfigKeys;
import io.tarn.core.config.TarnConfig;
import io.tarn.s3proxy.S3Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** Helpers shared by the server's integration tests. */
final class Fixtures {
    private Fixtures() {}

    static void await(String what, Duration timeout, BooleanSupplier condition) {
        await(what, timeout, condition, () -> "");
    }

    /** Waits for a condition; on time-out the failure also says what {@code diagnostics} reports then. */
    static void await(String what, Duration timeout, BooleanSupplier condition, Supplier<String> diagnostics) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(
                        "timed out after " + timeout + " waiting for " + what + "; " + diagnostics.get());
            }
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what, e);
            }
        }
    }

    /** The configuration of a server in this JVM on a data dir, with the HTTP API and Kafka on free ports. */
    static TarnConfig localServer(Path dataDir) {
        return TarnConfig.defaults()
                .with(ConfigKeys.DATA_DIR, dataDir.toString())
                .with(ConfigKeys.HTTP_PORT, "0")
                .with(ConfigKeys.LOG_PORT, "0")
                // the audit log's lake pipeline is a Flink job of every server: AuditIT tests it, others need not run
                // it
                .with(ConfigKeys.AUDIT_LAKE, "false");
    }

    /** Creates a topic whose records are {@code {"id": BIGINT}}, failing unless it is created. */
    static void createIdTopic(Http http, String name, int partitions) {
        Http.Reply reply = http.post(
                "/v1/topics",
                Map.of(
                        "name",
                        name,
                        "partitions",
                        partitions,
                        "columns",
                        List.of(Map.of("name", "id", "type", "BIGINT"))));
        if (reply.status() != 201) {
            throw new AssertionError("topic " + name + " not created: " + reply.text());
        }
    }

    /**
     * Creates a landing pipeline that copies the ids of a topic made by {@link #createIdTopic} into a lake table
     * {@code (id BIGINT)}, failing unless it is created.
     *
     * @param table {@code namespace.table}
     */
    static void createIdLanding(Http http, String pipeline, String topic, String table) {
        Http.Reply reply = http.post(
                "/v1/pipelines",
                Map.of(
                        "name",
                        pipeline,
                        "sql",
                        "CREATE TABLE IF NOT EXISTS lake.%s (id BIGINT); INSERT INTO lake.%s SELECT id FROM stream.%s;"
                                .formatted(table, table, topic)));
        if (reply.status() != 201) {
            throw new AssertionError("pipeline " + pipeline + " not created: " + reply.text());
        }
    }

    /** Sends the ids {@code [from, to)} to a topic made by {@link #createIdTopic} over HTTP, failing unless taken. */
    static void sendIds(Http http, String topic, long from, long to) {
        List<Map<String, Object>> batch = new ArrayList<>();
        for (long id = from; id < to; id++) {
            batch.add(Map.of("id", id));
        }
        Http.Reply reply = http.post("/v1/topics/" + topic + "/records", batch);
        if (reply.status() != 200) {
            throw new AssertionError("ids not sent: " + reply.text());
        }
    }

    /**
     * A client with the admin token of a server just started, once it is ready ({@code GET /v1/ready} 200: the
     * pipelines and sources that should run were resumed), within a minute.
     */
    static Http awaitReady(TarnServer server) {
        Http http = Http.of(server);
        await(
                "the server to be ready",
                Duration.ofSeconds(60),
                () -> http.get("/v1/ready").status() == 200,
                () -> http.get("/v1/ready").text());
        return http;
    }

    /** The environment of a Tarn process whose {@code lake.s3.*} reach an S3Proxy with its credentials. */
    static Map<String, String> s3Environment(S3Proxy s3) {
        return Map.of(
                "TARN_LAKE_S3_ENDPOINT", s3.endpoint(),
                "TARN_LAKE_S3_REGION", S3Proxy.REGION,
                "TARN_LAKE_S3_PATH_STYLE_ACCESS", "true",
                "TARN_LAKE_S3_ACCESS_KEY_ID", S3Proxy.ACCESS_KEY,
                "TARN_LAKE_S3_SECRET_ACCESS_KEY", S3Proxy.SECRET_KEY);
    }

    /** Waits up to two minutes for a pipeline to be RUNNING. */
    static void awaitPipelineRunning(Http http, String pipeline, String when) {
        await(
                "pipeline " + pipeline + " RUNNING " + when,
                Duration.ofMinutes(2),
                () -> http.get("/v1/pipelines/" + pipeline)
                        .body()
                        .path("state")
                        .asText()
                        .equals("RUNNING"),
                () -> http.get("/v1/pipelines/" + pipeline).text());
    }

    /** Runs a query through the HTTP API and returns its rows, failing on an error answer. */
    static JsonNode rows(Http http, String sql) {
        Http.Reply reply = http.post("/v1/query", Map.of("sql", sql));
        if (reply.status() != 200) {
            throw new AssertionError("query failed: " + reply.text());
        }
        return reply.body().path("rows");
    }

    /** The single number a query such as {@code SELECT count(*) ...} returns, or -1 while the table does not exist. */
    static long number(Http http, String sql) {
        Http.Reply reply = http.post("/v1/query", Map.of("sql", sql));
        if (reply.status() == 404) {
            return -1;
        }
        if (reply.status() != 200) {
            throw new AssertionError("query failed: " + reply.text());
        }
        return reply.body().path("rows").get(0).get(0).asLong();
    }

    /** Sends values with a plain Kafka producer (the Kafka protocol path) and waits for every acknowledgement. */
    static void produce(String bootstrapServers, String topic, List<String> values) {
        produce(bootstrapServers, topic, null, values);
    }

    /** Sends values to one partition (or, if null, wherever the producer's partitioner puts them). */
    static void produce(String bootstrapServers, String topic, Integer partition, List<String> values) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        try (var producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (String value : values) {
                producer.send(new ProducerRecord<>(topic, partition, null, value.getBytes(StandardCharsets.UTF_8)));
            }
            producer.flush();
        }
    }
}
