package io.tarn.compute.lake;

import java.util.Map;
import java.util.Optional;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.table.catalog.Catalog;
import org.apache.flink.table.factories.Factory;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.CatalogProperties;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.flink.CatalogLoader;
import org.apache.iceberg.flink.FlinkCatalog;
import org.apache.iceberg.flink.FlinkCatalogFactory;
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

    /** Iceberg's Flink catalog with {@link LakeTableFactory} as its tables' factory. */
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
    }
}
