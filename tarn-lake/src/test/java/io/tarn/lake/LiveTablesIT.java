package io.tarn.lake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tarn.core.config.TarnConfig;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.query.QueryResult;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Live tables ({@code live.<name>}) in lake SQL: typed as their schema says, next to lake tables, and gone after. */
class LiveTablesIT {
    private static final Schema LIVE = new Schema(
            Types.NestedField.optional(1, "page", Types.StringType.get()),
            Types.NestedField.optional(2, "views", Types.LongType.get()),
            Types.NestedField.optional(3, "revenue", Types.DecimalType.of(38, 10)),
            Types.NestedField.optional(4, "at", Types.TimestampType.withoutZone()),
            Types.NestedField.optional(5, "at_utc", Types.TimestampType.withZone()),
            Types.NestedField.optional(6, "day", Types.DateType.get()),
            Types.NestedField.optional(7, "hot", Types.BooleanType.get()),
            Types.NestedField.optional(8, "payload", Types.BinaryType.get()),
            Types.NestedField.optional(9, "Score", Types.DoubleType.get()));
    private static final Schema PAGES = new Schema(
            Types.NestedField.required(1, "page", Types.StringType.get()),
            Types.NestedField.optional(2, "title", Types.StringType.get()));

    @TempDir
    static Path dir;

    static LakeCatalog catalog;
    static LakeQuery query;
    static final Map<String, List<String>> live = new ConcurrentHashMap<>();

    @BeforeAll
    static void createTables() throws IOException {
        String warehouse = dir.resolve("warehouse").toString();
        catalog = LakeCatalog.open(dir.resolve("catalog.db"), warehouse);
        LiveTables tables = name -> Optional.ofNullable(live.get(name)).map(rows -> new LiveTables.Table() {
            @Override
            public Schema schema() {
                return LIVE;
            }

            @Override
            public void rows(LiveTables.RowSink sink) throws IOException {
                for (String row : rows) {
                    sink.row(row);
                }
            }
        });
        query = new LakeQuery(
                catalog,
                tables,
                LogTail.NONE,
                warehouse,
                dir.resolve("spill"),
                LakeQuery.Limits.from(TarnConfig.defaults()));
        catalog.icebergCatalog().createNamespace(Namespace.of("web"));
        Table pages = catalog.icebergCatalog()
                .createTable(TableIdentifier.of("web", "pages"), PAGES, PartitionSpec.unpartitioned());
        List<Record> records = new ArrayList<>();
        for (String[] page : new String[][] {{"/a", "Home"}, {"/b", "Shop"}, {"/c", "Help"}}) {
            GenericRecord record = GenericRecord.create(PAGES);
            record.setField("page", page[0]);
            record.setField("title", page[1]);
            records.add(record);
        }
        pages.newAppend().appendFile(LakeFiles.data(pages, records)).commit();
        live.put(
                "pv",
                List.of(
                        "{\"page\":\"/a\",\"views\":3,\"revenue\":1234567890123456789012345678.0123456789,"
                                + "\"at\":\"2026-12-03T10:00:00.123\",\"at_utc\":\"2026-12-03T10:00:00.123456Z\","
                                + "\"day\":\"2026-12-03\",\"hot\":true,\"payload\":\"aGk=\",\"Score\":0.5}",
                        "{\"page\":\"/b\",\"views\":1,\"revenue\":null,\"at\":null,\"at_utc\":null,\"day\":null,"
                                + "\"hot\":false,\"payload\":null,\"Score\":null}",
                        "{\"page\":\"/x\",\"views\":7}"));
        live.put("my-view", List.of("{\"page\":\"it's\",\"views\":1}"));
    }

    @AfterAll
    static void close() {
        query.close();
        catalog.close();
    }

    @Test
    void liveRowsAreTypedAsTheirSchemaSays() {
        QueryResult result = query.query(
                "SELECT page, views, revenue::VARCHAR, \"at\"::VARCHAR, at_utc = TIMESTAMPTZ '2026-12-03 10:00:00.123456+00',"
                        + " day::VARCHAR, hot, decode(payload), \"Score\", typeof(revenue), typeof(at_utc)"
                        + " FROM live.pv ORDER BY page",
                10);
        assertThat(result.rows().toString())
                .isEqualTo(
                        "[[/a, 3, 1234567890123456789012345678.0123456789, 2026-12-03 10:00:00.123, true,"
                                + " 2026-12-03, true, hi, 0.5, DECIMAL(38,10), TIMESTAMP WITH TIME ZONE],"
                                + " [/b, 1, null, null, null, null, false, null, null, DECIMAL(38,10), TIMESTAMP WITH TIME ZONE],"
                                + " [/x, 7, null, null, null, null, null, null, null, DECIMAL(38,10), TIMESTAMP WITH TIME ZONE]]");
    }

    @Test
    void oneStatementJoinsLiveRowsWithALakeTable() {
        QueryResult result = query.query(
                "SELECT p.title, l.views FROM live.pv l JOIN lake.web.pages p USING (page) ORDER BY p.title", 10);
        assertThat(result.rows().toString()).isEqualTo("[[Home, 3], [Shop, 1]]");
        // a name that is not an SQL identifier is quoted
        assertThat(query.query("SELECT page FROM live.\"my-view\"", 10).rows().toString())
                .isEqualTo("[[it's]]");
    }

    @Test
    void aQuerySeesTheRowsAsTheyAreWhenItStartsAndALiveTableThatIsGoneIsNotFound() {
        live.put("changing", List.of("{\"page\":\"/a\",\"views\":1}"));
        assertThat(query.query("SELECT sum(views) FROM live.changing", 1).rows().toString())
                .isEqualTo("[[1]]");
        live.put("changing", List.of("{\"page\":\"/a\",\"views\":2}", "{\"page\":\"/b\",\"views\":40}"));
        assertThat(query.query("SELECT sum(views) FROM live.changing", 1).rows().toString())
                .isEqualTo("[[42]]");
        live.remove("changing");
        assertThatThrownBy(() -> query.query("SELECT * FROM live.changing", 1))
                .isInstanceOf(TarnException.class)
                .hasMessage("live view 'changing' does not exist (GET /v1/views lists them)")
                .extracting(e -> ((TarnException) e).code())
                .isEqualTo(ErrorCode.TABLE_NOT_FOUND);
        // Tarn's own scratch table is not a live table, and live tables have no other schema
        for (String sql : List.of("SELECT * FROM live.\"tarn$json_rows\"", "SELECT * FROM live.main.pv")) {
            assertThatThrownBy(() -> query.query(sql, 1))
                    .as(sql)
                    .isInstanceOf(TarnException.class)
                    .extracting(e -> ((TarnException) e).code())
                    .isEqualTo(ErrorCode.TABLE_NOT_FOUND);
        }
    }
}
