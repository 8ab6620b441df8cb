package io.tarn.server;

import static io.tarn.server.Fixtures.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tarn.core.io.Directories;
import io.tarn.lake.Seams;
import io.tarn.server.auth.Tokens;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericAppenderFactory;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.exceptions.ForbiddenException;
import org.apache.iceberg.exceptions.NoSuchTableException;
import org.apache.iceberg.exceptions.NotAuthorizedException;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.rest.RESTCatalog;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Tarn's Iceberg REST catalog with Iceberg's own REST client: tables written by a client are Tarn's lake tables and
 * the other way round, every request needs a token, and no table's metadata makes Tarn touch a file outside the
 * warehouse.
 */
class IcebergRestIT {
    private static final Schema SCHEMA = new Schema(
            Types.NestedField.required(1, "id", Types.LongType.get()),
            Types.NestedField.optional(2, "name", Types.StringType.get()));

    @RegisterExtension
    static final TarnServerExtension tarn = new TarnServerExtension();

    private static Path dataDir;
    private static TarnServer server;
    private static Http http;
    private static RESTCatalog client;

    @BeforeAll
    static void connect() {
        dataDir = tarn.dataDir();
        server = tarn.server();
        http = tarn.http();
        client = client(Map.of("token", Tokens.readAdminToken(server.dataDir())));
    }

    private static RESTCatalog client(Map<String, String> properties) {
        RESTCatalog catalog = new RESTCatalog();
        catalog.setConf(new Configuration());
        Map<String, String> all = new HashMap<>(properties);
        all.put("uri", server.httpAddress() + "/iceberg");
        catalog.initialize("tarn", all);
        return catalog;
    }

    @AfterAll
    static void disconnect() throws IOException {
        if (client != null) {
            client.close();
        }
    }

    @Test
    void aTableAClientWritesIsALakeTableAndALakeTableIsReadByTheClient() throws IOException {
        client.createNamespace(Namespace.of("ext"));
        Table table = client.createTable(TableIdentifier.of("ext", "people"), SCHEMA, PartitionSpec.unpartitioned());
        assertThat(table.location()).startsWith(dataDir.resolve("warehouse").toString());
        List<Record> rows = new ArrayList<>();
        for (long id = 0; id < 250; id++) {
            GenericRecord row = GenericRecord.create(SCHEMA);
            row.setField("id", id);
            row.setField("name", "n" + id % 7);
            rows.add(row);
        }
        table.newAppend().appendFile(write(table, rows)).commit();
        // Tarn reads it with its own engines
        assertThat(Fixtures.rows(http, "SELECT count(*), sum(id), count(DISTINCT name) FROM lake.ext.people")
                        .toString())
                .isEqualTo("[[250,31125,7]]");
        assertThat(http.get("/v1/tables/ext.people").body().path("rows").asLong())
                .isEqualTo(250);

        // and the client reads what a Tarn pipeline lands
        Fixtures.createIdTopic(http, "ids", 1);
        Http.Reply pipeline = http.post(
                "/v1/pipelines",
                Map.of(
                        "name",
                        "land-ids",
                        "sql",
                        "CREATE TABLE IF NOT EXISTS lake.ext.ids (id BIGINT);"
                                + " INSERT INTO lake.ext.ids SELECT id FROM stream.ids;"));
        assertThat(pipeline.status()).as(pipeline.text()).isEqualTo(201);
        List<Map<String, Object>> ids = new ArrayList<>();
        for (long id = 0; id < 100; id++) {
            ids.add(Map.of("id", id));
        }
        assertThat(http.post("/v1/topics/ids/records", ids).status()).isEqualTo(200);
        await(
                "the pipeline's rows, read through the REST catalog",
                Duration.ofMinutes(2),
                () -> sumOfIds(client.loadTable(TableIdentifier.of("ext", "ids"))) == 4950);
        assertThat(http.delete("/v1/pipelines/land-ids").status()).isEqualTo(204);

        // a purge through the REST catalog deletes every file of the table, the landing job's seams too
        Path location = dataDir.resolve("warehouse/ext/ids");
        assertThat(location.resolve(Seams.DIRECTORY)).isDirectory();
        assertThat(client.dropTable(TableIdentifier.of("ext", "ids"), true)).isTrue();
        try (Stream<Path> left = Files.walk(location)) {
            assertThat(left.filter(Files::isRegularFile)).isEmpty();
        }
    }

    @Test
    void everyRequestNeedsAToken() throws Exception {
        HttpResponse<String> anonymous = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(server.httpAddress() + "/iceberg/v1/config"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThatThrownBy(() -> client(Map.of("token", "not-a-token"))).isInstanceOf(NotAuthorizedException.class);
    }

    @Test
    void noTableMakesTarnWriteReadOrDeleteAFileOutsideTheWarehouse() throws IOException {
        client.createNamespace(Namespace.of("confined"));
        Path outside = Files.createTempDirectory("tarn-outside");
        try {
            // a table located outside: its metadata would be written there
            assertThatThrownBy(() -> client.buildTable(TableIdentifier.of("confined", "away"), SCHEMA)
                            .withLocation(outside.resolve("away").toString())
                            .create())
                    .isInstanceOf(ForbiddenException.class)
                    .hasMessageContaining("is outside the lake's warehouse");
            assertThat(client.tableExists(TableIdentifier.of("confined", "away")))
                    .isFalse();
            try (var files = Files.list(outside)) {
                assertThat(files).isEmpty();
            }

            // a table whose metadata names a file outside as one of its data files: purging it leaves that file
            Path victim = Files.writeString(outside.resolve("victim.parquet"), "not Tarn's");
            Table table = client.createTable(TableIdentifier.of("confined", "t"), SCHEMA);
            DataFile foreign = DataFiles.builder(PartitionSpec.unpartitioned())
                    .withPath(victim.toString())
                    .withFormat(FileFormat.PARQUET)
                    .withFileSizeInBytes(Files.size(victim))
                    .withRecordCount(1)
                    .build();
            table.newAppend().appendFile(foreign).commit();
            assertThat(client.dropTable(TableIdentifier.of("confined", "t"), true))
                    .isTrue();
            assertThat(victim).hasContent("not Tarn's");
            assertThatThrownBy(() -> client.loadTable(TableIdentifier.of("confined", "t")))
                    .isInstanceOf(NoSuchTableException.class);
        } finally {
            Directories.deleteRecursively(outside);
        }
    }

    private static DataFile write(Table table, List<Record> rows) throws IOException {
        DataWriter<Record> writer = new GenericAppenderFactory(table.schema())
                .newDataWriter(
                        org.apache.iceberg.encryption.EncryptedFiles.plainAsEncryptedOutput(table.io()
                                .newOutputFile(
                                        table.locationProvider().newDataLocation(UUID.randomUUID() + ".parquet"))),
                        FileFormat.PARQUET,
                        null);
        try (writer) {
            rows.forEach(writer::write);
        }
        return writer.toDataFile();
    }

    private static long sumOfIds(Table table) {
        long sum = 0;
        try (CloseableIterable<Record> records = IcebergGenerics.read(table).build()) {
            for (Record record : records) {
                sum += (Long) record.getField("id");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return sum;
    }
}
