package io.tarn.compute;

import io.tarn.core.config.ConfigKeys;
import io.tarn.core.config.TarnConfig;
import io.tarn.lake.LakeCatalog;
import io.tarn.lake.LakeQuery;
import io.tarn.log.EmbeddedKafka;
import io.tarn.log.KafkaLog;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;

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

    /**
     * Pipelines with Tarn's settings but for a 1 s checkpoint interval, restarts after 1 s, and the given SQL rules.
     *
     * @param tarnDefaults whether object reuse and lake writer threads are on (Tarn's defaults), or off (Flink's)
     * @param functions classes of functions pipelines may use ({@code compute.sql.allowed-functions})
     */
    FlinkCompute compute(boolean tarnDefaults, boolean landingJobs, String... functions) {
        TarnConfig config = TarnConfig.defaults()
                .with(ConfigKeys.COMPUTE_PARALLELISM, "1")
                .with(ConfigKeys.COMPUTE_CHECKPOINT_INTERVAL, "1s")
                .with(ConfigKeys.COMPUTE_RETAINED_CHECKPOINTS, "3")
                .with(ConfigKeys.COMPUTE_RESTART_MAX_FAILURES, "3")
                .with(ConfigKeys.COMPUTE_RESTART_FAILURE_INTERVAL, "1min")
                .with(ConfigKeys.COMPUTE_RESTART_DELAY, "1s")
                .with(ConfigKeys.COMPUTE_OBJECT_REUSE, String.valueOf(tarnDefaults))
                .with(ConfigKeys.COMPUTE_LAKE_WRITER_THREAD, String.valueOf(tarnDefaults))
                .with(ConfigKeys.COMPUTE_LANDING_JOBS, String.valueOf(landingJobs))
                .with(ConfigKeys.COMPUTE_SQL_ALLOWED_FUNCTIONS, String.join(",", functions));
        return new FlinkCompute(
                flink.access(),
                ComputeSettings.from(config, dir.resolve("flink")),
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
        query.close();
        lake.close();
    }
}
