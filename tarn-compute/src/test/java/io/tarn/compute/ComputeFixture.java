package io.tarn.compute;

import io.tarn.lake.LakeCatalog;
import io.tarn.lake.LakeQuery;
import io.tarn.log.EmbeddedKafka;
import io.tarn.log.KafkaLog;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;

/** The real parts pipelines need, for one test class: a Kafka broker, a Flink MiniCluster and a lake on disk. */
final class ComputeFixture implements AutoCloseable {
    final Path dir;
    final EmbeddedKafka kafka;
    final KafkaLog log;
    final EmbeddedFlink flink;
    final LakeCatalog lake;
    final LakeQuery query;

    private ComputeFixture(Path dir) {
        this.dir = dir;
        this.kafka = EmbeddedKafka.start(dir.resolve("kafka"), "localhost", 0, 1 << 20, false);
        this.log = new KafkaLog(kafka.bootstrapServers(), 1 << 20);
        this.flink = EmbeddedFlink.start(dir.resolve("flink-tmp"), RestTls.open(dir.resolve("flink-tls")), 4);
        String warehouse = dir.resolve("warehouse").toString();
        this.lake = LakeCatalog.open(dir.resolve("catalog.db"), warehouse);
        this.query = new LakeQuery(lake, warehouse, 1L << 30, dir.resolve("query-spill"));
    }

    static ComputeFixture start(Path dir) {
        return new ComputeFixture(dir);
    }

    /** Pipelines with Tarn's settings but for a 1 s checkpoint interval and the given SQL rules. */
    FlinkCompute compute(boolean tarnDefaults, boolean landingJobs, PipelineSqlRules rules) {
        return new FlinkCompute(
                flink.access(),
                new ComputeSettings(
                        dir.resolve("flink"),
                        1,
                        Duration.ofSeconds(1),
                        3,
                        3,
                        Duration.ofMinutes(1),
                        Duration.ofSeconds(1),
                        tarnDefaults,
                        tarnDefaults,
                        landingJobs,
                        rules),
                lake.properties(),
                kafka.bootstrapServers());
    }

    /** Flink's own list of the cluster's jobs, as JSON text ({@code GET /jobs}). */
    String jobs() throws Exception {
        return get("/jobs");
    }

    /** A GET of Flink's REST API, with the cluster's key, as JSON text. */
    String get(String path) throws Exception {
        URI uri = flink.access().restAddress().resolve(path);
        HttpClient client = HttpClient.newBuilder()
                .sslContext(flink.access().sslContext().orElseThrow())
                .build();
        return client.send(HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofString())
                .body();
    }

    @Override
    public void close() {
        flink.close();
        log.close();
        kafka.close();
        lake.close();
    }
}
