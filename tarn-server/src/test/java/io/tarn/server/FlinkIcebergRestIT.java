package io.tarn.server;

import static io.tarn.server.Fixtures.await;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.tarn.core.config.ConfigKeys;
import io.tarn.server.auth.Tokens;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A Flink that is not Tarn's, with Iceberg's own Flink connector and {@code 'catalog-type' = 'rest'} pointed at Tarn:
 * it reads exact rows of a snapshot of a table a Tarn pipeline is writing, and writes a table that a Tarn pipeline then
 * reads.
 */
class FlinkIcebergRestIT {
    @RegisterExtension
    static final TarnServerExtension tarn =
            new TarnServerExtension(config -> config.with(ConfigKeys.COMPUTE_CHECKPOINT_INTERVAL, "1s"));

    private static Http http;
    private static TableEnvironment flink;

    @BeforeAll
    static void connect() {
        http = tarn.http();
        flink = TableEnvironment.create(EnvironmentSettings.inBatchMode());
        flink.getConfig().set("parallelism.default", "2");
        flink.executeSql(
                "CREATE CATALOG ext WITH ('type' = 'iceberg', 'catalog-type' = 'rest', 'uri' = '%s/iceberg', 'token' = '%s')"
                        .formatted(
                                tarn.server().httpAddress(),
                                Tokens.readAdminToken(tarn.server().dataDir())));
        Http.Reply namespace = http.post("/iceberg/v1/namespaces", Map.of("namespace", List.of("interop")));
        assertThat(namespace.status()).as(namespace.text()).isEqualTo(200);
    }

    @Test
    void readsTheExactRowsOfASnapshotOfATableATarnPipelineIsWriting() throws Exception {
        Fixtures.createIdTopic(http, "events", 2);
        Fixtures.createIdLanding(http, "land-events", "events", "interop.events");
        Fixtures.awaitPipelineRunning(http, "land-events", "after creation");
        Fixtures.sendIds(http, "events", 0, 1000);
        await(
                "the first 1000 events in the lake",
                Duration.ofMinutes(2),
                () -> Fixtures.number(http, "SELECT count(*) FROM lake.interop.events") == 1000);
        JsonNode snapshots =
                http.get("/v1/tables/interop.events/snapshots").body().path("snapshots");
        assertThat(snapshots.get(0).path("totalRows").asLong()).isEqualTo(1000);
        long snapshot = snapshots.get(0).path("id").asLong();

        AtomicBoolean sending = new AtomicBoolean(true);
        AtomicLong sent = new AtomicLong(1000);
        Thread sender = new Thread(() -> {
            while (sending.get()) {
                long from = sent.get();
                Fixtures.sendIds(http, "events", from, from + 100);
                sent.set(from + 100);
            }
        });
        sender.start();
        try {
            await(
                    "the pipeline to commit while Flink reads",
                    Duration.ofMinutes(2),
                    () -> Fixtures.number(http, "SELECT count(*) FROM lake.interop.events") > 1000);
            assertThat(rows("SELECT count(*), sum(id), min(id), max(id) FROM ext.interop.events"
                            + " /*+ OPTIONS('snapshot-id' = '%d') */".formatted(snapshot)))
                    .isEqualTo(List.of(Row.of(1000L, 499_500L, 0L, 999L)));
        } finally {
            sending.set(false);
            sender.join();
        }
        long total = sent.get();
        await(
                "every event in the lake",
                Duration.ofMinutes(2),
                () -> Fixtures.number(http, "SELECT count(*) FROM lake.interop.events") == total);
        assertThat(rows("SELECT count(*), count(DISTINCT id), sum(id) FROM ext.interop.events"))
                .isEqualTo(List.of(Row.of(total, total, total * (total - 1) / 2)));
        assertThat(http.delete("/v1/pipelines/land-events").status()).isEqualTo(204);
    }

    @Test
    void writesATableThatATarnPipelineThenReads() throws Exception {
        flink.executeSql("CREATE TABLE ext.interop.prices (sku STRING, price DECIMAL(10, 2))");
        flink.executeSql("INSERT INTO ext.interop.prices VALUES ('a', 1.50), ('b', 2.25), ('c', 10.00)")
                .await();
        Http.Reply pipeline = http.post(
                "/v1/pipelines",
                Map.of(
                        "name",
                        "double-prices",
                        "sql",
                        "CREATE TABLE IF NOT EXISTS lake.interop.doubled (sku STRING, price DECIMAL(11, 2));"
                                + " INSERT INTO lake.interop.doubled SELECT sku, CAST(price * 2 AS DECIMAL(11, 2)) FROM lake.interop.prices;"));
        assertThat(pipeline.status()).as(pipeline.text()).isEqualTo(201);
        await(
                "the pipeline to copy the table Flink wrote",
                Duration.ofMinutes(2),
                () -> Fixtures.number(http, "SELECT count(*) FROM lake.interop.doubled") == 3);
        // a pipeline over a table (a bounded source) ends when it has read it
        await("the pipeline to finish", Duration.ofMinutes(2), () -> http.get("/v1/pipelines/double-prices")
                .body()
                .path("state")
                .asText()
                .equals("FINISHED"));
        // the answer's text: decimals keep their scale
        assertThat(http.post("/v1/query", Map.of("sql", "SELECT sku, price FROM lake.interop.doubled ORDER BY sku"))
                        .text())
                .contains("\"rows\":[[\"a\",3.00],[\"b\",4.50],[\"c\",20.00]]");
        // and Flink reads what the pipeline wrote
        assertThat(rows("SELECT sku, price FROM ext.interop.doubled ORDER BY sku")
                        .toString())
                .isEqualTo("[+I[a, 3.00], +I[b, 4.50], +I[c, 20.00]]");
    }

    private static List<Row> rows(String sql) throws Exception {
        TableResult result = flink.executeSql(sql);
        List<Row> rows = new ArrayList<>();
        try (CloseableIterator<Row> iterator = result.collect()) {
            iterator.forEachRemaining(rows::add);
        }
        return rows;
    }
}
