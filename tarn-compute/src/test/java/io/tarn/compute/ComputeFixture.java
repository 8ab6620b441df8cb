package io.tarn.compute;

import io.tarn.core.config.ConfigKeys;
import io.tarn.core.config.TarnConfig;
import io.tarn.lake.LakeCatalog;
import io.tarn.lake.LakeQuery;
import io.tarn.log.EmbeddedKafka;
import io.tarn.log.KafkaLog;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.GenericAppenderFactory;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.encryption.EncryptedFiles;
import org.apache.iceberg.io.DataWriter;

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
        return compute(config(tarnDefaults, landingJobs, functions), settings -> settings);
    }

    /**
     * Pipelines with Tarn's defaults as {@link #compute(boolean, boolean, String...)} has them, at a parallelism, with
     * one pipeline made quiet ({@link ComputeSettings#withQuietPipeline}).
     */
    FlinkCompute compute(int parallelism, String quietPipeline) {
        return compute(
                config(true, true).with(ConfigKeys.COMPUTE_PARALLELISM, String.valueOf(parallelism)),
                settings -> settings.withQuietPipeline(quietPipeline, Duration.ofSeconds(1)));
    }

    private FlinkCompute compute(TarnConfig config, UnaryOperator<ComputeSettings> settings) {
        return new FlinkCompute(
                flink.access(),
                settings.apply(ComputeSettings.from(config, StateStorage.root("", dir.resolve("flink")))),
                lake.properties(),
                kafka.bootstrapServers());
    }

    private static TarnConfig config(boolean tarnDefaults, boolean landingJobs, String... functions) {
        return TarnConfig.defaults()
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
    }

    /**
     * Appends rows {@code (id, 'n' + id)} for ids {@code [from, to)} to a lake table of columns {@code (id BIGINT, name
     * STRING)} in one commit, written by Iceberg's own Parquet writer.
     *
     * @param branch the branch committed to ({@code main} for the table's current state)
     * @return the snapshot the commit made
     */
    long append(String table, long from, long to, String branch) throws IOException {
        return append(table, branch, schema -> {
            List<Record> rows = new ArrayList<>();
            for (long id = from; id < to; id++) {
                Record row = GenericRecord.create(schema);
                row.setField("id", id);
                row.setField("name", "n" + id);
                rows.add(row);
            }
            return rows;
        });
    }

    /**
     * Appends rows made for the table's current schema in one commit, written by Iceberg's own Parquet writer.
     *
     * @return the snapshot the commit made
     */
    long append(String table, String branch, Function<Schema, List<Record>> rows) throws IOException {
        Table iceberg = lake.load(table);
        DataWriter<Record> writer = new GenericAppenderFactory(iceberg.schema(), iceberg.spec())
                .newDataWriter(
                        EncryptedFiles.plainAsEncryptedOutput(iceberg.io()
                                .newOutputFile(iceberg.location() + "/data/" + UUID.randomUUID() + ".parquet")),
                        FileFormat.PARQUET,
                        null);
        try (writer) {
            rows.apply(iceberg.schema()).forEach(writer::write);
        }
        iceberg.newAppend().appendFile(writer.toDataFile()).toBranch(branch).commit();
        iceberg.refresh();
        return iceberg.snapshot(branch).snapshotId();
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
