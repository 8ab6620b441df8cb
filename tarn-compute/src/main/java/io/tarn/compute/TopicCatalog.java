package io.tarn.compute;

import io.tarn.core.sql.TableGuard;
import java.util.Optional;
import java.util.Set;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.catalog.CatalogBaseTable;
import org.apache.flink.table.catalog.GenericInMemoryCatalog;
import org.apache.flink.table.catalog.ObjectPath;
import org.apache.flink.table.catalog.exceptions.CatalogException;
import org.apache.flink.table.catalog.exceptions.TableNotExistException;
import org.apache.flink.table.connector.sink.DynamicTableSink;
import org.apache.flink.table.connector.source.DynamicTableSource;
import org.apache.flink.table.factories.DynamicTableFactory;
import org.apache.flink.table.factories.DynamicTableSinkFactory;
import org.apache.flink.table.factories.DynamicTableSourceFactory;
import org.apache.flink.table.factories.Factory;
import org.apache.flink.table.factories.FactoryUtil;

/**
 * The catalog topics are declared in ({@code stream.<topic>}), in memory as Flink's built-in one, but answering time
 * travel as a catalog should: Flink's planner looks a {@code FOR SYSTEM_TIME AS OF} table up in the current catalog
 * first, and the built-in catalog then throws instead of saying the table is not there, so {@code lake.ns.t FOR
 * SYSTEM_TIME AS OF ...} never reached the lake catalog. Its tables are made by their connectors' factories once no
 * {@code OPTIONS} hint changed an option ({@link OptionHints}).
 */
final class TopicCatalog extends GenericInMemoryCatalog {
    TopicCatalog(String name) {
        super(name);
    }

    @Override
    public CatalogBaseTable getTable(ObjectPath tablePath, long timestamp)
            throws TableNotExistException, CatalogException {
        if (!tableExists(tablePath)) {
            throw new TableNotExistException(getName(), tablePath);
        }
        throw new CatalogException(
                "%s is not a lake table: only lake tables keep a history to read FOR SYSTEM_TIME AS OF"
                        .formatted(tablePath.getFullName()));
    }

    @Override
    public Optional<Factory> getFactory() {
        return Optional.of(new TopicTableFactory(this));
    }

    /**
     * The factory of this catalog's tables: each table's own connector, found as Flink finds it, once no option of the
     * table was changed by a hint.
     */
    private static final class TopicTableFactory implements DynamicTableSourceFactory, DynamicTableSinkFactory {
        private final TopicCatalog catalog;

        TopicTableFactory(TopicCatalog catalog) {
            this.catalog = catalog;
        }

        @Override
        public String factoryIdentifier() {
            return "tarn-topic-catalog";
        }

        @Override
        public Set<ConfigOption<?>> requiredOptions() {
            return Set.of();
        }

        @Override
        public Set<ConfigOption<?>> optionalOptions() {
            return Set.of();
        }

        @Override
        public DynamicTableSource createDynamicTableSource(DynamicTableFactory.Context context) {
            TableGuard.reading(topicTable(context));
            return connector(context, DynamicTableSourceFactory.class).createDynamicTableSource(context);
        }

        @Override
        public DynamicTableSink createDynamicTableSink(DynamicTableFactory.Context context) {
            TableGuard.writing(topicTable(context));
            return connector(context, DynamicTableSinkFactory.class).createDynamicTableSink(context);
        }

        /** {@code stream.<topic>}: a topic's table, or the raw table under a view of its good records. */
        private static String topicTable(DynamicTableFactory.Context context) {
            return StreamTables.DATABASE + "." + context.getObjectIdentifier().getObjectName();
        }

        private <T extends DynamicTableFactory> T connector(DynamicTableFactory.Context context, Class<T> kind) {
            OptionHints.check(catalog, context, Set.of(), "topics or a pipeline's tables");
            String connector = context.getCatalogTable().getOptions().get(FactoryUtil.CONNECTOR.key());
            if (connector == null) {
                throw new ValidationException("table %s names no 'connector'"
                        .formatted(context.getObjectIdentifier().asSummaryString()));
            }
            return FactoryUtil.discoverFactory(context.getClassLoader(), kind, connector);
        }
    }
}
