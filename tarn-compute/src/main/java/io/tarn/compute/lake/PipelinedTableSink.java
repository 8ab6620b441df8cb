package io.tarn.compute.lake;

import static java.util.Objects.requireNonNull;

import io.tarn.lake.LakeCatalog;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Method;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.DataStreamSink;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.catalog.UniqueConstraint;
import org.apache.flink.table.connector.ChangelogMode;
import org.apache.flink.table.connector.sink.DataStreamSinkProvider;
import org.apache.flink.table.connector.sink.DynamicTableSink;
import org.apache.flink.table.connector.sink.abilities.SupportsOverwrite;
import org.apache.flink.table.connector.sink.abilities.SupportsPartitioning;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.types.RowKind;
import org.apache.iceberg.Table;
import org.apache.iceberg.flink.FlinkWriteConf;
import org.apache.iceberg.flink.IcebergTableSink;
import org.apache.iceberg.flink.TableLoader;
import org.apache.iceberg.flink.sink.IcebergSink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Iceberg's table sink, whose streaming writes go through {@link PipelinedSink}: the same {@link IcebergSink}, built
 * from the same options, schema and configuration as Iceberg's table sink builds it, with the same operator uid, but
 * with each writer on a thread of its own. {@code INSERT OVERWRITE} (batch only) is left to Iceberg's table sink.
 *
 * <p>Iceberg's builder makes its sink only inside {@code append()}, which adds it to the job as it is; its
 * {@code build()} is not public, so it is called by reflection. Should a later Iceberg drop it, sinks fall back to
 * Iceberg's own (one thread) with a warning, and a test fails.
 */
final class PipelinedTableSink implements DynamicTableSink, SupportsPartitioning, SupportsOverwrite {
    private static final Logger LOG = LoggerFactory.getLogger(PipelinedTableSink.class);
    private static final Optional<Method> BUILD = buildMethod();

    private final IcebergTableSink iceberg;
    private final TableLoader tables;
    private final ResolvedSchema schema;
    private final ReadableConfig config;
    private final Map<String, String> options;
    private boolean overwrite;

    PipelinedTableSink(
            IcebergTableSink iceberg,
            TableLoader tables,
            ResolvedSchema schema,
            ReadableConfig config,
            Map<String, String> options) {
        this.iceberg = requireNonNull(iceberg, "iceberg is null");
        this.tables = requireNonNull(tables, "tables is null");
        this.schema = requireNonNull(schema, "schema is null");
        this.config = requireNonNull(config, "config is null");
        this.options = Map.copyOf(options);
    }

    /** Whether a table's options route its rows through Iceberg's dynamic sink, which this does not wrap. */
    static boolean usesDynamicSink(Map<String, String> options) {
        return Boolean.parseBoolean(options.getOrDefault("use-dynamic-iceberg-sink", "false"));
    }

    @Override
    public SinkRuntimeProvider getSinkRuntimeProvider(Context context) {
        if (overwrite || BUILD.isEmpty()) {
            return iceberg.getSinkRuntimeProvider(context);
        }
        return (DataStreamSinkProvider) (providerContext, stream) -> sinkTo(stream, true);
    }

    /**
     * Adds the sink to a stream of rows, as Iceberg's table sink would build it.
     *
     * @param copyRows whether the rows may be objects the runtime reuses (anything a planner's operator emits), so
     *     that they must be copied before the writer thread takes them; false only for streams whose every row is a
     *     new object (a source's decoder)
     */
    DataStreamSink<RowData> sinkTo(DataStream<RowData> stream, boolean copyRows) {
        // as Iceberg's table sink: physical columns only, equality fields from their (absent) primary key
        ResolvedSchema physical = ResolvedSchema.of(
                schema.getColumns().stream().filter(Column::isPhysical).toList());
        List<String> equalityColumns =
                physical.getPrimaryKey().map(UniqueConstraint::getColumns).orElse(List.of());
        Table table = load();
        IcebergSink.Builder builder = IcebergSink.forRowData(stream)
                .table(table)
                .tableLoader(tables)
                .equalityFieldColumns(equalityColumns)
                .overwrite(false)
                .setAll(options)
                .flinkConf(config)
                .resolvedSchema(physical);
        FlinkWriteConf conf = new FlinkWriteConf(table, options, config);
        // the table's own name, unless its data was swapped in from another name (LakeCatalog.swap)
        String suffix = conf.uidSuffix() == null || conf.uidSuffix().isEmpty()
                ? table.properties().getOrDefault(LakeCatalog.SINK_UID, table.name())
                : conf.uidSuffix();
        int parallelism = Optional.ofNullable(conf.writeParallelism()).orElseGet(stream::getParallelism);
        RowType rows = (RowType) physical.toSinkRowDataType().getLogicalType(); // what Iceberg's writer reads
        return stream.sinkTo(new PipelinedSink<>(build(builder), rows, table.name(), copyRows))
                .uid(suffix)
                .name(suffix)
                .setParallelism(parallelism);
    }

    /** A loader of the sink's table, of its own. */
    TableLoader tableLoader() {
        return tables.clone();
    }

    /** Whether this sink is one that {@link #sinkTo} can add (Iceberg's builder could be called). */
    boolean pipelined() {
        return !overwrite && BUILD.isPresent();
    }

    private Table load() {
        try (TableLoader loader = tables.clone()) {
            loader.open();
            return loader.loadTable();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @SuppressWarnings("unchecked")
    private static Sink<RowData> build(IcebergSink.Builder builder) {
        try {
            return (Sink<RowData>) BUILD.orElseThrow().invoke(builder);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("Iceberg's sink could not be built: " + e.getCause(), e);
        }
    }

    private static Optional<Method> buildMethod() {
        try {
            Method build = IcebergSink.Builder.class.getDeclaredMethod("build");
            build.setAccessible(true);
            return Optional.of(build);
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.warn(
                    "Lake table writers run on the pipeline's task thread: this Iceberg's sink builder has no build()");
            return Optional.empty();
        }
    }

    /**
     * Iceberg's sink takes every kind of change it is offered; in upsert mode it ignores {@code UPDATE_BEFORE} (an
     * update is a delete of the key and the new row) and deletes by key only. Saying so lets Flink feed it an upsert
     * changelog as it is, without a ChangelogNormalize that would keep every row of the table as state only to make
     * retractions and full deletes nobody reads.
     */
    @Override
    public ChangelogMode getChangelogMode(ChangelogMode requestedMode) {
        ChangelogMode mode = iceberg.getChangelogMode(requestedMode);
        if (overwrite
                || !mode.contains(RowKind.UPDATE_BEFORE)
                || schema.getPrimaryKey().isEmpty()
                || !new FlinkWriteConf(load(), options, config).upsertMode()) {
            return mode;
        }
        ChangelogMode.Builder upserts = ChangelogMode.newBuilder().keyOnlyDeletes(true);
        mode.getContainedKinds().stream()
                .filter(kind -> kind != RowKind.UPDATE_BEFORE)
                .forEach(upserts::addContainedKind);
        return upserts.build();
    }

    @Override
    public void applyStaticPartition(Map<String, String> partition) {
        iceberg.applyStaticPartition(partition);
    }

    @Override
    public boolean requiresPartitionGrouping(boolean supportsGrouping) {
        return iceberg.requiresPartitionGrouping(supportsGrouping);
    }

    @Override
    public void applyOverwrite(boolean newOverwrite) {
        iceberg.applyOverwrite(newOverwrite);
        overwrite = newOverwrite;
    }

    @Override
    public DynamicTableSink copy() {
        PipelinedTableSink copy =
                new PipelinedTableSink((IcebergTableSink) iceberg.copy(), tables, schema, config, options);
        copy.overwrite = overwrite;
        return copy;
    }

    @Override
    public String asSummaryString() {
        return iceberg.asSummaryString();
    }
}
