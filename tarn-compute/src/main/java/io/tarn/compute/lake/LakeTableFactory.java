package io.tarn.compute.lake;

import org.apache.flink.table.connector.sink.DynamicTableSink;
import org.apache.flink.table.factories.DynamicTableFactory;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.flink.CatalogLoader;
import org.apache.iceberg.flink.FlinkCatalog;
import org.apache.iceberg.flink.FlinkConfigOptions;
import org.apache.iceberg.flink.FlinkDynamicTableFactory;
import org.apache.iceberg.flink.IcebergTableSink;
import org.apache.iceberg.flink.TableLoader;

/**
 * Iceberg's table factory, whose streaming sinks ({@code INSERT INTO} a lake table in a pipeline) write on a thread of
 * their own unless {@link LakeCatalogFactory#WRITER_THREAD} is off. Sources are Iceberg's.
 */
final class LakeTableFactory extends FlinkDynamicTableFactory {
    private final CatalogLoader loader;

    LakeTableFactory(FlinkCatalog catalog, CatalogLoader loader) {
        super(catalog);
        this.loader = loader;
    }

    @Override
    public DynamicTableSink createDynamicTableSink(DynamicTableFactory.Context context) {
        DynamicTableSink sink = super.createDynamicTableSink(context);
        if (!(sink instanceof IcebergTableSink iceberg)
                || !context.getConfiguration().get(LakeCatalogFactory.WRITER_THREAD)
                || !context.getConfiguration().get(FlinkConfigOptions.TABLE_EXEC_ICEBERG_USE_V2_SINK)
                || PipelinedTableSink.usesDynamicSink(context.getCatalogTable().getOptions())) {
            return sink;
        }
        var path = context.getObjectIdentifier().toObjectPath();
        TableLoader tables =
                TableLoader.fromCatalog(loader, TableIdentifier.of(path.getDatabaseName(), path.getObjectName()));
        return new PipelinedTableSink(
                iceberg,
                tables,
                context.getCatalogTable().getResolvedSchema(),
                context.getConfiguration(),
                context.getCatalogTable().getOptions());
    }
}
