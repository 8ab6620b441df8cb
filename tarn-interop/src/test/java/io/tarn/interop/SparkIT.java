package io.tarn.interop;

import static io.tarn.interop.TarnProcess.await;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Apache Spark (local mode, Iceberg's Spark runtime, {@code type=rest}) on Tarn's Iceberg REST catalog: it reads the
 * exact rows of a snapshot of a table a Tarn pipeline is writing, and writes, updates and deletes in a table that a
 * Tarn pipeline and Tarn's lake SQL then read. One Spark session and one Tarn serve every test of the module.
 */
class SparkIT {
    private static TarnProcess tarn;
    private static SparkSession spark;

    @BeforeAll
    static void start() throws Exception {
        tarn = TarnProcess.start(Path.of("target", "interop").toAbsolutePath());
        spark = SparkSession.builder()
                .master("local[2]")
                .appName("tarn-interop")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.sql.shuffle.partitions", "2")
                .config(
                        "spark.sql.warehouse.dir",
                        Path.of("target", "interop", "spark-warehouse")
                                .toAbsolutePath()
                                .toString())
                .config("spark.sql.extensions", "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions")
                .config("spark.sql.catalog.tarn", "org.apache.iceberg.spark.SparkCatalog")
                .config("spark.sql.catalog.tarn.type", "rest")
                .config("spark.sql.catalog.tarn.uri", tarn.http + "/iceberg")
                .config("spark.sql.catalog.tarn.token", tarn.token)
                // every read sees the table's current snapshot, not one Spark cached
                .config("spark.sql.catalog.tarn.cache-enabled", "false")
                .getOrCreate();
        spark.sql("CREATE NAMESPACE IF NOT EXISTS tarn.interop");
    }

    @AfterAll
    static void stop() throws Exception {
        if (spark != null) {
            spark.stop();
        }
        if (tarn != null) {
            tarn.close();
        }
    }

    @Test
    void readsTheExactRowsOfASnapshotOfATableATarnPipelineIsWriting() throws Exception {
        tarn.expect(
                201,
                tarn.post(
                        "/v1/topics",
                        Map.of(
                                "name",
                                "events",
                                "partitions",
                                2,
                                "columns",
                                List.of(Map.of("name", "id", "type", "BIGINT")))),
                "topic");
        tarn.expect(
                201,
                tarn.post(
                        "/v1/pipelines",
                        Map.of(
                                "name",
                                "land-events",
                                "sql",
                                "CREATE TABLE IF NOT EXISTS lake.interop.events (id BIGINT);"
                                        + " INSERT INTO lake.interop.events SELECT id FROM stream.events;")),
                "pipeline");
        send(0, 1000);
        await(
                "the first 1000 events in the lake",
                Duration.ofMinutes(2),
                () -> tarn.number("SELECT count(*) FROM lake.interop.events") == 1000);
        JsonNode newest = tarn.expect(200, tarn.get("/v1/tables/interop.events/snapshots"), "snapshots")
                .path("snapshots")
                .get(0);
        assertThat(newest.path("totalRows").asLong()).isEqualTo(1000);
        long snapshot = newest.path("id").asLong();

        AtomicBoolean sending = new AtomicBoolean(true);
        AtomicLong sent = new AtomicLong(1000);
        Thread sender = new Thread(() -> {
            while (sending.get()) {
                send(sent.get(), sent.get() + 100);
                sent.addAndGet(100);
            }
        });
        sender.start();
        try {
            await(
                    "the pipeline to commit again while Spark reads",
                    Duration.ofMinutes(2),
                    () -> tarn.number("SELECT count(*) FROM lake.interop.events") > 1000);
            assertThat(rows("SELECT count(*), sum(id), min(id), max(id) FROM tarn.interop.events VERSION AS OF "
                            + snapshot))
                    .isEqualTo("[[1000,499500,0,999]]");
        } finally {
            sending.set(false);
            sender.join();
        }
        long total = sent.get();
        await(
                "every event in the lake",
                Duration.ofMinutes(2),
                () -> tarn.number("SELECT count(*) FROM lake.interop.events") == total);
        assertThat(rows("SELECT count(*), count(DISTINCT id), sum(id) FROM tarn.interop.events"))
                .isEqualTo("[[%d,%d,%d]]".formatted(total, total, total * (total - 1) / 2));
        tarn.expect(204, tarn.delete("/v1/pipelines/land-events"), "pipeline deletion");
    }

    @Test
    void writesUpdatesAndDeletesATableThatTarnThenReads() throws Exception {
        spark.sql("CREATE TABLE tarn.interop.prices (sku STRING, price DECIMAL(10, 2)) USING iceberg"
                + " TBLPROPERTIES ('format-version' = '2', 'write.delete.mode' = 'merge-on-read',"
                + " 'write.update.mode' = 'merge-on-read')");
        spark.sql("INSERT INTO tarn.interop.prices VALUES ('a', 1.50), ('b', 2.25), ('c', 10.00), ('d', 4.00)");
        // row-level changes as position delete files, which Tarn's lake SQL applies
        spark.sql("DELETE FROM tarn.interop.prices WHERE sku = 'b'");
        spark.sql("UPDATE tarn.interop.prices SET price = 12.00 WHERE sku = 'c'");
        assertThat(tarn.rows("SELECT sku, price FROM lake.interop.prices ORDER BY sku")
                        .toString())
                .isEqualTo("[[\"a\",1.50],[\"c\",12.00],[\"d\",4.00]]");

        tarn.expect(
                201,
                tarn.post(
                        "/v1/pipelines",
                        Map.of(
                                "name",
                                "double-prices",
                                "sql",
                                "CREATE TABLE IF NOT EXISTS lake.interop.doubled (sku STRING, price DECIMAL(11, 2));"
                                        + " INSERT INTO lake.interop.doubled SELECT sku, CAST(price * 2 AS DECIMAL(11, 2))"
                                        + " FROM lake.interop.prices;")),
                "pipeline");
        await(
                "the pipeline to copy the table Spark wrote",
                Duration.ofMinutes(2),
                () -> tarn.number("SELECT count(*) FROM lake.interop.doubled") == 3);
        // a pipeline over a table (a bounded source) ends when it has read it
        await("the pipeline to finish", Duration.ofMinutes(2), () -> tarn.get("/v1/pipelines/double-prices")
                .body()
                .path("state")
                .asText()
                .equals("FINISHED"));
        assertThat(tarn.rows("SELECT sku, price FROM lake.interop.doubled ORDER BY sku")
                        .toString())
                .isEqualTo("[[\"a\",3.00],[\"c\",24.00],[\"d\",8.00]]");
        // and Spark reads what the pipeline wrote
        assertThat(rows("SELECT sku, price FROM tarn.interop.doubled ORDER BY sku"))
                .isEqualTo("[[a,3.00],[c,24.00],[d,8.00]]");
    }

    private static void send(long from, long to) {
        List<Map<String, Object>> batch = new ArrayList<>();
        for (long id = from; id < to; id++) {
            batch.add(Map.of("id", id));
        }
        tarn.expect(200, tarn.post("/v1/topics/events/records", batch), "ingest");
    }

    /** A Spark query's rows as {@code [[v, …], …]}, values as Spark prints them. */
    private static String rows(String sql) {
        List<String> rows = new ArrayList<>();
        for (Row row : spark.sql(sql).collectAsList()) {
            List<String> values = new ArrayList<>();
            for (int i = 0; i < row.length(); i++) {
                values.add(String.valueOf(row.get(i)));
            }
            rows.add("[" + String.join(",", values) + "]");
        }
        return "[" + String.join(",", rows) + "]";
    }
}
