package io.tarn.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tarn.app.launcher.ServerProcess;
import io.tarn.server.TarnServer;
import io.tarn.server.auth.Tokens;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** The Tarn server every workload runs against, and helpers to drive it through its HTTP API. */
final class BenchContext {
    static final ObjectMapper JSON = new ObjectMapper();

    final TarnServer server;
    final Settings settings;
    /** Whether the click topic of {@link IngestLake} is loaded. */
    boolean preloaded;

    final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** Admin tokens of the servers requests go to, by base address. */
    private final Map<String, String> tokens = new ConcurrentHashMap<>();

    BenchContext(TarnServer server, Settings settings) {
        this.server = server;
        this.settings = settings;
        tokens.put(server.httpAddress(), Tokens.readAdminToken(server.dataDir()));
    }

    /** Remembers a server process's admin token for requests to its address. */
    void register(ServerProcess process) {
        tokens.put(process.http, process.token);
    }

    /** The {@code Authorization} header for requests to the server at {@code base}. */
    String authorization(String base) {
        String token = tokens.get(base);
        if (token == null) {
            throw new IllegalStateException("no token known for " + base);
        }
        return "Bearer " + token;
    }

    /** Sizes of one run. */
    record Settings(
            long lakeEvents,
            long httpEvents,
            int repetitions,
            int warmups,
            int httpClients,
            int httpBatch,
            Set<String> variants) {
        /** Whether a variant is to run (all run unless some were chosen). */
        boolean runs(String variant) {
            return variants.isEmpty() || variants.contains(variant);
        }
    }

    /** The parallelisms the plain-Flink baseline runs at: 1, and every core of the machine (as a user would). */
    static List<Integer> plainFlinkParallelisms() {
        int cores = Runtime.getRuntime().availableProcessors();
        return cores > 1 ? List.of(1, cores) : List.of(1);
    }

    void createTopic(String name, int partitions) {
        createTopic(server.httpAddress(), name, partitions);
    }

    /** Creates a click topic on the Tarn server at {@code base}. */
    void createTopic(String base, String name, int partitions) {
        String columns = "["
                + String.join(
                        ",",
                        List.of(
                                        "id BIGINT",
                                        "user_id STRING",
                                        "page STRING",
                                        "country STRING",
                                        "referrer STRING",
                                        "event_time TIMESTAMP(3)")
                                .stream()
                                .map(c -> "{\"name\":\"%s\",\"type\":\"%s\"}"
                                        .formatted(c.substring(0, c.indexOf(' ')), c.substring(c.indexOf(' ') + 1)))
                                .toList())
                + "]";
        request(
                base,
                "POST",
                "/v1/topics",
                "{\"name\":\"%s\",\"partitions\":%d,\"columns\":%s}".formatted(name, partitions, columns),
                201);
    }

    /** One round of a workload: each of its variants once. */
    interface Round {
        /** @param round 0-based, warm-ups first; variants may use it to name what they create */
        List<Run> run(int round) throws Exception;
    }

    /**
     * Runs the warm-up rounds and then the timed repetitions, logging every run; returns the timed runs, numbered from
     * 0.
     */
    List<Run> repeat(Round round) throws Exception {
        List<Run> timed = new ArrayList<>();
        int warmups = settings.warmups();
        for (int i = 0; i < warmups + settings.repetitions(); i++) {
            int repetition = i - warmups;
            for (Run run : round.run(i)) {
                Report.log("%s %s %s: %.0f rows/s %s"
                        .formatted(
                                run.workload(),
                                run.variant(),
                                repetition < 0 ? "warm-up" : "#" + repetition,
                                run.rowsPerSecond(),
                                run.extra()));
                if (repetition >= 0) {
                    timed.add(run.withRepetition(repetition));
                }
            }
        }
        return timed;
    }

    /** The configuration of a client submitting jobs to Tarn's MiniCluster, as a user's own client would. */
    Map<String, String> flinkClient() {
        Map<String, String> config = new HashMap<>();
        config.put("execution.target", "remote");
        config.put("rest.address", server.flinkAccess().restAddress().getHost());
        config.put(
                "rest.port", String.valueOf(server.flinkAccess().restAddress().getPort()));
        config.putAll(server.flinkAccess().clientConfig()); // the cluster's key, as any client of it needs
        return config;
    }

    /**
     * A Flink table environment submitting to Tarn's MiniCluster as a user's own job would: streaming, the given
     * parallelism and a 2 s checkpoint interval like Tarn's pipelines, checkpoints in a directory (without one Flink keeps them in the
     * JobManager's memory, limited to 5 MiB per operator, and stateful Nexmark queries fail their checkpoints), the
     * Iceberg v2 sink, nothing else set.
     */
    TableEnvironment plainFlink(String jobName, int parallelism) {
        Map<String, String> config = flinkClient();
        config.put("execution.runtime-mode", "STREAMING");
        config.put("pipeline.name", jobName);
        config.put("parallelism.default", String.valueOf(parallelism));
        config.put("execution.checkpointing.interval", "2 s");
        config.put(
                "execution.checkpointing.dir",
                server.dataDir()
                        .resolve("bench-checkpoints")
                        .resolve(jobName.replace(':', '-'))
                        .toUri()
                        .toString());
        config.put("table.exec.iceberg.use-v2-sink", "true");
        return TableEnvironment.create(EnvironmentSettings.newInstance()
                .withConfiguration(Configuration.fromMap(config))
                .build());
    }

    /** Creates (and so starts) a pipeline through the API. */
    void createPipeline(String name, String sql) {
        createPipeline(server.httpAddress(), name, sql);
    }

    /** Creates (and so starts) a pipeline on the Tarn server at {@code base}. */
    void createPipeline(String base, String name, String sql) {
        request(
                base,
                "POST",
                "/v1/pipelines",
                JSON.createObjectNode().put("name", name).put("sql", sql).toString(),
                201);
    }

    /** A pipeline that lands every event of a click topic in a new lake table. */
    static String landingSql(String table, String topic) {
        return "CREATE DATABASE IF NOT EXISTS lake.bench; CREATE TABLE lake.%s (%s); INSERT INTO lake.%s SELECT %s FROM stream.%s"
                .formatted(table, Events.COLUMNS_DDL, table, Events.COLUMNS, topic);
    }

    /** Creates a CDC source of PostgreSQL tables (user and password {@code postgres}) on the Tarn server at {@code base}. */
    void createSource(String base, String name, int postgresPort, List<String> tables) {
        try {
            request(
                    base,
                    "POST",
                    "/v1/sources",
                    JSON.writeValueAsString(Map.of(
                            "name",
                            name,
                            "connection",
                            "postgresql://localhost:" + postgresPort + "/postgres",
                            "user",
                            "postgres",
                            "password",
                            "postgres",
                            "tables",
                            tables)),
                    201);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A producer of raw events as the benchmark's clients send them: idempotent, {@code acks=all}, 5 ms linger. */
    static KafkaProducer<byte[], byte[]> producer(String bootstrap) {
        return new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap,
                ProducerConfig.ACKS_CONFIG,
                "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
                true,
                ProducerConfig.LINGER_MS_CONFIG,
                5,
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
                ByteArraySerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
                ByteArraySerializer.class));
    }

    /** Sets a topic-level Kafka config directly on the broker. */
    void setTopicConfig(String topic, String key, String value) {
        try (var admin = Admin.create(Map.of("bootstrap.servers", server.bootstrapServers()))) {
            var resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            admin.incrementalAlterConfigs(Map.of(
                            resource,
                            List.of(new AlterConfigOp(new ConfigEntry(key, value), AlterConfigOp.OpType.SET))))
                    .all()
                    .get();
        } catch (Exception e) {
            throw new IllegalStateException("setting %s=%s on topic %s failed".formatted(key, value, topic), e);
        }
    }

    JsonNode request(String method, String path, String body, int expectedStatus) {
        return request(server.httpAddress(), method, path, body, expectedStatus);
    }

    /** A request to the Tarn server at {@code base} (e.g. one in a child process). */
    JsonNode request(String base, String method, String path, String body, int expectedStatus) {
        try {
            HttpResponse<String> response = http.send(
                    HttpRequest.newBuilder(URI.create(base + path))
                            .header("Content-Type", "application/json")
                            .header("Authorization", authorization(base))
                            .method(method, HttpRequest.BodyPublishers.ofString(body == null ? "" : body))
                            .timeout(Duration.ofMinutes(5))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != expectedStatus) {
                throw new IllegalStateException(
                        "%s %s answered %d: %s".formatted(method, path, response.statusCode(), response.body()));
            }
            return response.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(response.body());
        } catch (IOException e) {
            throw new IllegalStateException(method + " " + path + " failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Rows of a lake table, by {@code count(*)}, which the query path answers from Parquet footers. */
    long count(String base, String table) {
        return request(base, "POST", "/v1/query", "{\"sql\":\"SELECT count(*) FROM lake.%s\"}".formatted(table), 200)
                .path("rows")
                .path(0)
                .path(0)
                .asLong();
    }

    /** {@code SELECT count(*), count(DISTINCT id)} of a lake table through the query API of the server at {@code base}. */
    long[] countAndDistinct(String base, String table) {
        JsonNode row = request(
                        base,
                        "POST",
                        "/v1/query",
                        "{\"sql\":\"SELECT count(*), count(DISTINCT id) FROM lake.%s\"}".formatted(table),
                        200)
                .path("rows")
                .path(0);
        return new long[] {row.path(0).asLong(), row.path(1).asLong()};
    }

    /** Rows in a lake table's current snapshot, from its metadata (0 while it has none). */
    long committedRows(String table) {
        try {
            var snapshot = server.lake().load(table).currentSnapshot();
            return snapshot == null ? 0 : Long.parseLong(snapshot.summary().getOrDefault("total-records", "0"));
        } catch (RuntimeException e) {
            return 0;
        }
    }

    /** Figures of a lake table's current snapshot. */
    Map<String, Object> tableFigures(String table) {
        var summary = server.lake().load(table).currentSnapshot().summary();
        return Map.of(
                "dataFiles", Long.parseLong(summary.getOrDefault("total-data-files", "0")),
                "bytes", Long.parseLong(summary.getOrDefault("total-files-size", "0")));
    }

    /**
     * Polls until {@code value} reaches {@code target}; fails after {@code timeout}, when it overshoots, or as soon as
     * {@code failure} reports one (checked once a second).
     */
    static void awaitAtLeast(
            String what, LongSupplier value, long target, Duration timeout, Supplier<Optional<String>> failure) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long nextCheck = System.nanoTime();
        long last = -1;
        while ((last = value.getAsLong()) < target) {
            if (System.nanoTime() > nextCheck) {
                failure.get().ifPresent(f -> {
                    throw new IllegalStateException(what + ": " + f);
                });
                nextCheck = System.nanoTime() + 1_000_000_000L;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(
                        "timed out after %s waiting for %s: %d of %d".formatted(timeout, what, last, target));
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        if (last != target) {
            throw new IllegalStateException("%s: expected exactly %d, found %d".formatted(what, target, last));
        }
    }
}
