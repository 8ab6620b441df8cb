package io.tarn.compute.lake;

import io.tarn.compute.OptionHints;
import io.tarn.core.sql.TableGuard;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.connector.sink.DynamicTableSink;
import org.apache.flink.table.connector.source.DynamicTableSource;
import org.apache.flink.table.factories.DynamicTableFactory;
import org.apache.iceberg.SnapshotRef;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.flink.CatalogLoader;
import org.apache.iceberg.flink.FlinkCatalog;
import org.apache.iceberg.flink.FlinkConfigOptions;
import org.apache.iceberg.flink.FlinkDynamicTableFactory;
import org.apache.iceberg.flink.FlinkReadOptions;
import org.apache.iceberg.flink.IcebergTableSink;
import org.apache.iceberg.flink.TableLoader;

/**
 * Iceberg's table factory, whose streaming sinks ({@code INSERT INTO} a lake table in a pipeline) write on a thread of
 * their own unless {@link LakeCatalogFactory#WRITER_THREAD} is off. Sources are Iceberg's, at the snapshot, tag or
 * branch a query's {@code OPTIONS} hint names; no other option can be hinted ({@link OptionHints}).
 */
final class LakeTableFactory extends FlinkDynamicTableFactory {
    /** The read options an {@code OPTIONS} hint may set: the snapshot a query reads. */
    private static final Set<String> READ_POINTS = Set.of(
            FlinkReadOptions.SNAPSHOT_ID.key(),
            FlinkReadOptions.TAG.key(),
            FlinkReadOptions.BRANCH.key(),
            FlinkReadOptions.AS_OF_TIMESTAMP.key());

    private final FlinkCatalog catalog;
    private final CatalogLoader loader;

    LakeTableFactory(FlinkCatalog catalog, CatalogLoader loader) {
        super(catalog);
        this.catalog = catalog;
        this.loader = loader;
    }

    /**
     * Iceberg's source, read at the snapshot, tag or branch an {@code OPTIONS} hint names (or a {@code FOR SYSTEM_TIME
     * AS OF} time), once the table is found to keep it.
     *
     * @throws ValidationException for a hint that sets another option, sets two read points, or names a snapshot, tag
     *     or branch the table does not keep
     */
    @Override
    public DynamicTableSource createDynamicTableSource(DynamicTableFactory.Context context) {
        TableGuard.reading(lakeTable(context));
        Map<String, String> points = OptionHints.check(catalog, context, READ_POINTS, "lake tables");
        if (points.size() > 1) {
            throw new ValidationException("a lake table is read at one point: %s cannot be given together"
                    .formatted(String.join(", ", new TreeSet<>(points.keySet()))));
        }
        if (!points.isEmpty()) {
            var path = context.getObjectIdentifier().toObjectPath();
            Table table = catalog.catalog().loadTable(TableIdentifier.of(path.getDatabaseName(), path.getObjectName()));
            requireKept(table, path.getFullName(), points);
        }
        return super.createDynamicTableSource(context);
    }

    private static String lakeTable(DynamicTableFactory.Context context) {
        return context.getObjectIdentifier().getCatalogName() + "."
                + context.getObjectIdentifier().getDatabaseName() + "."
                + context.getObjectIdentifier().getObjectName();
    }

    private static void requireKept(Table table, String name, Map<String, String> points) {
        String snapshotId = points.get(FlinkReadOptions.SNAPSHOT_ID.key());
        if (snapshotId != null) {
            long id;
            try {
                id = Long.parseLong(snapshotId.trim());
            } catch (NumberFormatException e) {
                throw new ValidationException(
                        "'snapshot-id' must be a snapshot id (a whole number), not '%s'".formatted(snapshotId));
            }
            if (table.snapshot(id) == null) {
                throw new ValidationException(
                        "lake table %s keeps no snapshot %d (its snapshots: GET /v1/tables/%s/snapshots)"
                                .formatted(name, id, name));
            }
        }
        requireRef(table, name, points.get(FlinkReadOptions.TAG.key()), "tag", SnapshotRef::isTag);
        requireRef(table, name, points.get(FlinkReadOptions.BRANCH.key()), "branch", SnapshotRef::isBranch);
    }

    private static void requireRef(Table table, String name, String ref, String kind, Predicate<SnapshotRef> isKind) {
        if (ref == null) {
            return;
        }
        SnapshotRef found = table.refs().get(ref);
        if (found == null || !isKind.test(found)) {
            throw new ValidationException("lake table %s has no %s '%s'".formatted(name, kind, ref));
        }
    }

    @Override
    public DynamicTableSink createDynamicTableSink(DynamicTableFactory.Context context) {
        TableGuard.writing(lakeTable(context));
        OptionHints.check(catalog, context, Set.of(), "lake tables written by a pipeline");
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
