package io.tarn.compute;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.streaming.connectors.kafka.table.KafkaDynamicTableFactory;
import org.apache.flink.table.api.Schema;
import org.apache.flink.table.catalog.CatalogTable;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedCatalogTable;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.connector.ChangelogMode;
import org.apache.flink.table.connector.sink.DynamicTableSink;
import org.apache.flink.table.connector.source.DynamicTableSource;
import org.apache.flink.table.connector.source.ScanTableSource;
import org.apache.flink.table.connector.source.abilities.SupportsProjectionPushDown;
import org.apache.flink.table.connector.source.abilities.SupportsReadingMetadata;
import org.apache.flink.table.connector.source.abilities.SupportsWatermarkPushDown;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.factories.DynamicTableFactory;
import org.apache.flink.table.factories.DynamicTableSinkFactory;
import org.apache.flink.table.factories.DynamicTableSourceFactory;
import org.apache.flink.table.factories.FactoryUtil;
import org.apache.flink.table.types.DataType;

/**
 * The connector of Tarn's stream tables ({@code 'connector' = 'tarn-kafka'}): Flink's Kafka connector with the same
 * options, whose source also accepts projection push-down. Flink's Kafka source decodes every physical column of
 * every record, including the record key, and builds a row of all of them that a projection then copies again; this
 * source is rebuilt by the Kafka connector's own factory over only the columns a query reads, so a pipeline that
 * lands some value columns decodes just those, skips the key, and its rows reach the next operator as decoded.
 * Sinks are the Kafka connector's unchanged.
 */
public final class TarnKafkaTableFactory implements DynamicTableSourceFactory, DynamicTableSinkFactory {
    public static final String IDENTIFIER = "tarn-kafka";

    private static final KafkaDynamicTableFactory KAFKA = new KafkaDynamicTableFactory();

    @Override
    public String factoryIdentifier() {
        return IDENTIFIER;
    }

    @Override
    public Set<ConfigOption<?>> requiredOptions() {
        return KAFKA.requiredOptions();
    }

    @Override
    public Set<ConfigOption<?>> optionalOptions() {
        return KAFKA.optionalOptions();
    }

    @Override
    public DynamicTableSource createDynamicTableSource(DynamicTableFactory.Context context) {
        KAFKA.createDynamicTableSource(context); // validates the options as the Kafka connector does, once
        return new ProjectingSource(context, null, null, null, null);
    }

    @Override
    public DynamicTableSink createDynamicTableSink(DynamicTableFactory.Context context) {
        return KAFKA.createDynamicTableSink(context);
    }

    /**
     * The abilities the planner applied are kept and replayed on a Kafka source built for the projected columns when
     * the runtime provider is asked for, because the Kafka source itself cannot drop physical columns.
     */
    private static final class ProjectingSource
            implements ScanTableSource, SupportsProjectionPushDown, SupportsReadingMetadata, SupportsWatermarkPushDown {
        private final DynamicTableFactory.Context context;
        /** Indexes into the table's physical columns, in the order the query reads them; null: all. */
        private int[] projection;

        private List<String> metadataKeys;
        private DataType producedType;
        private WatermarkStrategy<RowData> watermark;

        ProjectingSource(
                DynamicTableFactory.Context context,
                int[] projection,
                List<String> metadataKeys,
                DataType producedType,
                WatermarkStrategy<RowData> watermark) {
            this.context = context;
            this.projection = projection;
            this.metadataKeys = metadataKeys;
            this.producedType = producedType;
            this.watermark = watermark;
        }

        private DynamicTableSource kafka() {
            DynamicTableSource source = KAFKA.createDynamicTableSource(projection == null ? context : projected());
            if (metadataKeys != null) {
                ((SupportsReadingMetadata) source).applyReadableMetadata(metadataKeys, producedType);
            }
            if (watermark != null) {
                ((SupportsWatermarkPushDown) source).applyWatermark(watermark);
            }
            return source;
        }

        /** The table as if it had only the projected physical columns (and all metadata columns). */
        private DynamicTableFactory.Context projected() {
            ResolvedCatalogTable table = context.getCatalogTable();
            List<Column> physical = table.getResolvedSchema().getColumns().stream()
                    .filter(Column::isPhysical)
                    .toList();
            List<Column> columns = new ArrayList<>();
            for (int index : projection) {
                columns.add(physical.get(index));
            }
            table.getResolvedSchema().getColumns().stream()
                    .filter(c -> !c.isPhysical())
                    .forEach(columns::add);
            String keyFields = table.getOptions().get("key.fields");
            boolean readsKey = keyFields == null
                    || columns.stream()
                            .anyMatch(c -> Arrays.asList(keyFields.split(";")).contains(c.getName()));
            Map<String, String> options = readsKey ? table.getOptions() : withoutKey(table.getOptions());
            // the planner passes the catalog table's options as enrichment options when it rebuilds a source it
            // reuses for several scans, and Flink refuses a key format there that the projected table lacks
            Map<String, String> enrichment =
                    readsKey ? context.getEnrichmentOptions() : withoutKey(context.getEnrichmentOptions());
            ResolvedSchema schema = ResolvedSchema.of(columns);
            CatalogTable origin = CatalogTable.newBuilder()
                    .schema(Schema.newBuilder().fromResolvedSchema(schema).build())
                    .comment(table.getComment())
                    .options(options)
                    .build();
            return new FactoryUtil.DefaultDynamicTableContext(
                    context.getObjectIdentifier(),
                    new ResolvedCatalogTable(origin, schema),
                    enrichment,
                    context.getConfiguration(),
                    context.getClassLoader(),
                    context.isTemporary());
        }

        /** The options of a table that does not read the record key. */
        private static Map<String, String> withoutKey(Map<String, String> options) {
            Map<String, String> without = new HashMap<>(options);
            without.keySet()
                    .removeIf(k -> k.equals("key.fields")
                            || k.equals("key.format")
                            || k.startsWith("key.raw.")
                            || k.startsWith("key.fields-prefix"));
            if (options.containsKey("value.fields-include")) {
                without.put("value.fields-include", "ALL");
            }
            return without;
        }

        @Override
        public ChangelogMode getChangelogMode() {
            return ChangelogMode.insertOnly();
        }

        @Override
        public ScanRuntimeProvider getScanRuntimeProvider(ScanContext runtimeProviderContext) {
            return ((ScanTableSource) kafka()).getScanRuntimeProvider(runtimeProviderContext);
        }

        @Override
        public boolean supportsNestedProjection() {
            return false;
        }

        @Override
        public void applyProjection(int[][] projectedFields, DataType producedDataType) {
            projection =
                    Arrays.stream(projectedFields).mapToInt(path -> path[0]).toArray();
            producedType = producedDataType;
        }

        @Override
        public Map<String, DataType> listReadableMetadata() {
            return ((SupportsReadingMetadata) KAFKA.createDynamicTableSource(context)).listReadableMetadata();
        }

        @Override
        public void applyReadableMetadata(List<String> keys, DataType producedDataType) {
            metadataKeys = List.copyOf(keys);
            producedType = producedDataType;
        }

        @Override
        public void applyWatermark(WatermarkStrategy<RowData> watermarkStrategy) {
            watermark = watermarkStrategy;
        }

        @Override
        public DynamicTableSource copy() {
            return new ProjectingSource(
                    context, projection == null ? null : projection.clone(), metadataKeys, producedType, watermark);
        }

        @Override
        public String asSummaryString() {
            return "Kafka";
        }
    }
}
