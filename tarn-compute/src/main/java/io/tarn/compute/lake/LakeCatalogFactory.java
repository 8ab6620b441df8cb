package io.tarn.compute.lake;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.table.catalog.Catalog;
import org.apache.flink.table.catalog.CatalogBaseTable;
import org.apache.flink.table.catalog.CatalogTable;
import org.apache.flink.table.catalog.ObjectPath;
import org.apache.flink.table.catalog.exceptions.CatalogException;
import org.apache.flink.table.catalog.exceptions.TableNotExistException;
import org.apache.flink.table.factories.Factory;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.CatalogProperties;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.flink.CatalogLoader;
import org.apache.iceberg.flink.FlinkCatalog;
import org.apache.iceberg.flink.FlinkCatalogFactory;
import org.apache.iceberg.flink.FlinkReadOptions;
import org.apache.iceberg.util.PropertyUtil;

/**
 * The catalog of lake tables in pipelines ({@code 'type' = 'tarn-lake'}): Iceberg's Flink catalog with the same options
 * and tables, whose sinks write on a thread of their own ({@link PipelinedTableSink}). Tarn's lake catalog is always
 * given by its implementation class ({@code catalog-impl}).
 */
public final class LakeCatalogFactory extends FlinkCatalogFactory {
    public static final String IDENTIFIER = "tarn-lake";

    /** The job option that gives each lake table sink subtask its own writer thread ({@link PipelinedWriter}). */
    public static final ConfigOption<Boolean> WRITER_THREAD = ConfigOptions.key("tarn.lake.writer-thread")
            .booleanType()
            .defaultValue(true)
            .withDescription("Encode lake table rows on a thread of their own, next to the pipeline's task thread.");

    @Override
    public String factoryIdentifier() {
        return IDENTIFIER;
    }

    @Override
    protected Catalog createCatalog(String name, Map<String, String> properties, Configuration hadoopConf) {
        String implementation = properties.get(CatalogProperties.CATALOG_IMPL);
        if (implementation == null) {
            throw new IllegalArgumentException("catalog " + name + " needs '" + CatalogProperties.CATALOG_IMPL + "'");
        }
        CatalogLoader loader = CatalogLoader.custom(name, properties, hadoopConf, implementation);
        long expiration = PropertyUtil.propertyAsLong(
                properties,
                CatalogProperties.CACHE_EXPIRATION_INTERVAL_MS,
                CatalogProperties.CACHE_EXPIRATION_INTERVAL_MS_OFF);
        return new LakeFlinkCatalog(
                name,
                properties.getOrDefault(DEFAULT_DATABASE, DEFAULT_DATABASE_NAME),
                loader,
                properties,
                PropertyUtil.propertyAsBoolean(
                        properties, CatalogProperties.CACHE_ENABLED, CatalogProperties.CACHE_ENABLED_DEFAULT),
                expiration == 0 ? CatalogProperties.CACHE_EXPIRATION_INTERVAL_MS_OFF : expiration);
    }

    /**
     * Iceberg's Flink catalog with {@link LakeTableFactory} as its tables' factory, and time travel: a table read
     * {@code FOR SYSTEM_TIME AS OF} a time is the table with Iceberg's {@code as-of-timestamp} read option, so it reads
     * the snapshot that was current then.
     */
    static final class LakeFlinkCatalog extends FlinkCatalog {
        private final CatalogLoader loader;

        LakeFlinkCatalog(
                String name,
                String defaultDatabase,
                CatalogLoader loader,
                Map<String, String> properties,
                boolean cacheEnabled,
                long cacheExpirationMillis) {
            super(name, defaultDatabase, Namespace.empty(), loader, properties, cacheEnabled, cacheExpirationMillis);
            this.loader = loader;
        }

        @Override
        public Optional<Factory> getFactory() {
            return Optional.of(new LakeTableFactory(this, loader));
        }

        @Override
        public CatalogBaseTable getTable(ObjectPath tablePath, long timestamp)
                throws TableNotExistException, CatalogException {
            CatalogBaseTable table = getTable(tablePath);
            if (!(table instanceof CatalogTable catalogTable)) {
                throw new CatalogException("%s is not a table that keeps history".formatted(tablePath));
            }
            Map<String, String> options = new HashMap<>(catalogTable.getOptions());
            options.put(FlinkReadOptions.AS_OF_TIMESTAMP.key(), Long.toString(timestamp));
            return catalogTable.copy(options);
        }
    }
}
