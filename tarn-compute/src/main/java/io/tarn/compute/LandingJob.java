package io.tarn.compute;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tarn.compute.json.TarnJsonFormatFactory;
import io.tarn.compute.lake.LakeSinks;
import io.tarn.core.topic.ColumnSpec;
import io.tarn.core.topic.TopicSpec;
import io.tarn.lake.LakeCatalog;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.transformations.SourceTransformation;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.api.StatementSet;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.catalog.Catalog;
import org.apache.flink.table.catalog.CatalogBaseTable;
import org.apache.flink.table.catalog.CatalogTable;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ObjectIdentifier;
import org.apache.flink.table.catalog.ResolvedCatalogTable;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.catalog.exceptions.TableNotExistException;
import org.apache.flink.table.connector.sink.DynamicTableSink;
import org.apache.flink.table.connector.source.DataStreamScanProvider;
import org.apache.flink.table.connector.source.DynamicTableSource;
import org.apache.flink.table.connector.source.ScanTableSource;
import org.apache.flink.table.connector.source.SourceProvider;
import org.apache.flink.table.connector.source.abilities.SupportsProjectionPushDown;
import org.apache.flink.table.connector.source.abilities.SupportsReadingMetadata;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.factories.DynamicTableFactory;
import org.apache.flink.table.factories.DynamicTableSinkFactory;
import org.apache.flink.table.factories.Factory;
import org.apache.flink.table.factories.FactoryUtil;
import org.apache.flink.table.runtime.connector.source.ScanRuntimeProviderContext;
import org.apache.flink.table.types.DataType;
import org.apache.flink.table.types.logical.LocalZonedTimestampType;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.TimestampKind;
import org.apache.flink.table.types.logical.TimestampType;
import org.apache.flink.table.types.logical.utils.LogicalTypeParser;
import org.apache.flink.table.types.utils.TypeConversions;
import org.apache.iceberg.flink.TableLoader;

/**
 * The landing job of a pipeline whose one {@code INSERT} only copies value columns of one JSON topic into an
 * append-only lake table: the job Flink's planner makes for it without the planner's operators in between.
 *
 * <p>Such an INSERT is planned as the topic's Kafka source, a {@code Calc} and the lake table's sink. The {@code Calc}
 * does nothing to the values — it reorders columns and widens timestamps to the table's microseconds, which
 * {@code TimestampData} holds either way — yet it writes every row into a new binary row, whose strings the Iceberg
 * writer then copies back out, and the sink must copy each row once more before its writer thread takes it. This job
 * reads the topic with the same Kafka table source (its columns projected in the table's order, decoded by the same
 * decoder) and hands the decoded rows, each a new object, straight to the same lake sink.
 *
 * <p>Its operators and their state are the planned job's: the sink and its committer carry the same uids, and the
 * source is, as in the planned job, the first operator with one chained successor, which is all its Flink-generated
 * id depends on. A pipeline whose SQL changes between the two shapes therefore resumes from its savepoints.
 *
 * <p>The plan decides: whatever Flink plans for the INSERT must be exactly source → (projection and timestamp
 * widening) → lake sink, or the pipeline runs as Flink planned it.
 *
 * <p>Size: reading the compiled plan and building the job from it must agree on every shape the plan may take, so both
 * are here.
 */
final class LandingJob {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String LAKE_CATALOG = LakeCatalog.NAME;

    private final TableEnvironment env;
    private final ObjectIdentifier streamTable;
    private final ObjectIdentifier lakeTable;
    /** Indexes into the topic table's physical columns, in the lake table's column order. */
    private final int[] projection;

    private final DataType producedType;

    private LandingJob(
            TableEnvironment env,
            ObjectIdentifier streamTable,
            ObjectIdentifier lakeTable,
            int[] projection,
            DataType producedType) {
        this.env = env;
        this.streamTable = streamTable;
        this.lakeTable = lakeTable;
        this.projection = projection;
        this.producedType = producedType;
    }

    /** What {@link #plan} found: the job, or why the pipeline runs as Flink planned it. */
    record Plan(Optional<LandingJob> job, String reason) {
        Plan {
            requireNonNull(job, "job is null");
            requireNonNull(reason, "reason is null");
        }

        static Plan refused(String reason) {
            return new Plan(Optional.empty(), reason);
        }
    }

    /**
     * The landing job of a statement set of one INSERT, if Flink's plan for it is a landing.
     *
     * @param env the environment the statement set was made in, with the pipeline's catalogs and tables
     * @param topics every topic, as declared in {@code env}
     */
    static Plan plan(TableEnvironment env, StatementSet insert, Collection<TopicSpec> topics) {
        JsonNode plan;
        try {
            plan = JSON.readTree(insert.compilePlan().asJsonString());
        } catch (JsonProcessingException | RuntimeException e) {
            return Plan.refused("Flink cannot compile its plan: " + e.getMessage());
        }
        try {
            return analyse(env, plan, topics);
        } catch (RuntimeException e) { // a plan of a shape this does not expect (e.g. an anonymous table)
            return Plan.refused("its plan is not one of a landing: " + e);
        }
    }

    private static Plan analyse(TableEnvironment env, JsonNode plan, Collection<TopicSpec> topics) {
        JsonNode source = null;
        JsonNode calc = null;
        JsonNode sink = null;
        for (JsonNode node : plan.path("nodes")) {
            String type = node.path("type").asText();
            if (type.startsWith("stream-exec-table-source-scan_") && source == null) {
                source = node;
            } else if (type.startsWith("stream-exec-calc_") && calc == null) {
                calc = node;
            } else if (type.startsWith("stream-exec-sink_") && sink == null) {
                sink = node;
            } else if (type.startsWith("stream-exec-table-source-scan_")
                    || type.startsWith("stream-exec-calc_")
                    || type.startsWith("stream-exec-sink_")) {
                return Plan.refused("its plan has more than one " + type.replaceAll("_\\d+$", "") + " node");
            } else {
                return Plan.refused("its plan has a " + type.replaceAll("_\\d+$", "") + " node");
            }
        }
        if (source == null || sink == null) {
            return Plan.refused("its plan has no source or no sink");
        }
        for (JsonNode edge : plan.path("edges")) {
            if (!edge.path("shuffle").path("type").asText().equals("FORWARD")) {
                return Plan.refused("its plan redistributes rows");
            }
        }

        // the source: value columns of a JSON topic, nothing else
        ObjectIdentifier streamTable = identifier(source.path("scanTableSource").path("table"));
        Optional<TopicSpec> topic = topics.stream()
                .filter(t ->
                        streamTable.equals(ObjectIdentifier.of("default_catalog", StreamTables.DATABASE, t.name())))
                .findFirst();
        Map<String, String> sourceOptions =
                options(source.path("scanTableSource").path("table"));
        if (topic.isEmpty()
                || topic.get().raw()
                || topic.get().format() != TopicSpec.Format.JSON
                || !TarnKafkaTableFactory.IDENTIFIER.equals(sourceOptions.get("connector"))
                || !TarnJsonFormatFactory.IDENTIFIER.equals(sourceOptions.get("value.format"))) {
            return Plan.refused("it does not read a JSON topic's table");
        }
        List<Column> physical = physicalColumns(env, streamTable);
        List<Integer> projected = null;
        for (JsonNode ability : source.path("scanTableSource").path("abilities")) {
            String type = ability.path("type").asText();
            if (type.equals("ProjectPushDown")) {
                projected = new ArrayList<>();
                for (JsonNode path : ability.path("projectedFields")) {
                    if (path.size() != 1) {
                        return Plan.refused("it reads nested fields");
                    }
                    projected.add(path.get(0).asInt());
                }
            } else if (type.equals("WatermarkPushDown")) {
                continue; // the topic's watermark: nothing downstream of a landing uses it
            } else if (!type.equals("ReadingMetadata")
                    || !ability.path("metadataKeys").isEmpty()) {
                return Plan.refused("it reads its topic with " + type);
            }
        }
        if (projected == null) {
            return Plan.refused("it reads every column of its topic");
        }
        Set<String> valueColumns = new HashSet<>();
        topic.get().columns().stream().map(ColumnSpec::name).forEach(valueColumns::add);
        for (int index : projected) {
            if (!valueColumns.contains(physical.get(index).getName())) {
                return Plan.refused("it reads the record key");
            }
        }

        // the Calc: only column references and casts of them
        List<Integer> order = new ArrayList<>();
        /** Per lake column, the types its value is cast to on the way, innermost first. */
        List<List<LogicalType>> casts = new ArrayList<>();
        if (calc == null) {
            for (int i = 0; i < projected.size(); i++) {
                order.add(i);
                casts.add(List.of());
            }
        } else {
            if (!calc.path("condition").isMissingNode()
                    && !calc.path("condition").isNull()) {
                return Plan.refused("it filters rows");
            }
            for (JsonNode expression : calc.path("projection")) {
                JsonNode reference = expression;
                List<LogicalType> steps = new ArrayList<>();
                while (reference.path("kind").asText().equals("CALL")
                        && reference.path("internalName").asText().startsWith("$CAST$")
                        && reference.path("operands").size() == 1) {
                    steps.add(0, type(reference.path("type")));
                    reference = reference.path("operands").get(0);
                }
                if (!reference.path("kind").asText().equals("INPUT_REF")) {
                    return Plan.refused("it computes values");
                }
                int input = reference.path("inputIndex").asInt();
                if (order.contains(input)) {
                    return Plan.refused("it writes a column twice");
                }
                order.add(input);
                casts.add(steps);
            }
        }

        // the sink: an append-only lake table whose columns take the values as they are
        JsonNode sinkTable = sink.path("dynamicTableSink");
        ObjectIdentifier lakeTable = identifier(sinkTable.path("table"));
        if (!lakeTable.getCatalogName().equals(LAKE_CATALOG)
                || (!sinkTable.path("abilities").isMissingNode()
                        && !sinkTable.path("abilities").isNull()
                        && !sinkTable.path("abilities").isEmpty())) {
            return Plan.refused("it does not append to a lake table");
        }
        JsonNode changes = sink.path("inputChangelogMode");
        if (changes.size() != 1 || !changes.get(0).asText().equals("INSERT")) {
            return Plan.refused("its rows are changes, not inserts");
        }
        ResolvedSchema lake = schema(env, lakeTable);
        if (lake.getPrimaryKey().isPresent()) {
            return Plan.refused("its lake table has a primary key");
        }
        List<Column> lakeColumns =
                lake.getColumns().stream().filter(Column::isPhysical).toList();
        if (lakeColumns.size() != order.size()) {
            return Plan.refused("its plan does not write every column of its lake table");
        }
        int[] projection = new int[order.size()];
        List<DataTypes.Field> fields = new ArrayList<>();
        for (int i = 0; i < order.size(); i++) {
            Column from = physical.get(projected.get(order.get(i)));
            Column to = lakeColumns.get(i);
            if (!to.getDataType().getLogicalType().isNullable()) {
                return Plan.refused("lake column " + to.getName() + " is NOT NULL");
            }
            List<LogicalType> steps = new ArrayList<>();
            steps.add(from.getDataType().getLogicalType());
            steps.addAll(casts.get(i));
            steps.add(to.getDataType().getLogicalType());
            for (int step = 1; step < steps.size(); step++) {
                if (!sameValues(steps.get(step - 1), steps.get(step))) {
                    return Plan.refused("column %s of type %s is written into %s %s%s"
                            .formatted(
                                    from.getName(),
                                    steps.get(0).asSummaryString(),
                                    to.getName(),
                                    steps.get(steps.size() - 1).asSummaryString(),
                                    step == steps.size() - 1
                                                    || steps.get(step)
                                                            .copy(true)
                                                            .equals(steps.get(steps.size() - 1)
                                                                    .copy(true))
                                            ? ""
                                            : " through " + steps.get(step).asSummaryString()));
                }
            }
            projection[i] = projected.get(order.get(i));
            fields.add(DataTypes.FIELD(from.getName(), decoded(from.getDataType())));
        }
        return new Plan(
                Optional.of(new LandingJob(
                        env,
                        streamTable,
                        lakeTable,
                        projection,
                        DataTypes.ROW(fields.toArray(DataTypes.Field[]::new)).notNull())),
                "it only copies columns of topic %s into lake table %s"
                        .formatted(streamTable.getObjectName(), lakeTable.toObjectPath()));
    }

    /**
     * Whether a value of type {@code from} is, as Flink holds it, the same value of type {@code to}: the same type up
     * to nullability, or a timestamp (also an event-time attribute, whose value is its timestamp) into one of higher
     * precision (which Flink's cast leaves as it is).
     */
    static boolean sameValues(LogicalType from, LogicalType to) {
        if (from.copy(true).equals(to.copy(true))) {
            return true;
        }
        if (from instanceof TimestampType f && to instanceof TimestampType t) {
            return f.getKind() != TimestampKind.PROCTIME
                    && t.getKind() == TimestampKind.REGULAR
                    && t.getPrecision() >= f.getPrecision();
        }
        if (from instanceof LocalZonedTimestampType f && to instanceof LocalZonedTimestampType t) {
            return f.getKind() != TimestampKind.PROCTIME
                    && t.getKind() == TimestampKind.REGULAR
                    && t.getPrecision() >= f.getPrecision();
        }
        return false;
    }

    /** A column's type as the topic's decoder produces it: an event-time attribute is the plain timestamp. */
    private static DataType decoded(DataType column) {
        LogicalType type = column.getLogicalType();
        if (type instanceof TimestampType t && t.getKind() != TimestampKind.REGULAR) {
            return TypeConversions.fromLogicalToDataType(new TimestampType(t.isNullable(), t.getPrecision()));
        }
        if (type instanceof LocalZonedTimestampType t && t.getKind() != TimestampKind.REGULAR) {
            return TypeConversions.fromLogicalToDataType(new LocalZonedTimestampType(t.isNullable(), t.getPrecision()));
        }
        return column;
    }

    /** A type as a compiled plan writes it: its SQL text, or an object for time attributes. */
    private static LogicalType type(JsonNode type) {
        if (type.isTextual()) {
            return LogicalTypeParser.parse(type.asText(), LandingJob.class.getClassLoader());
        }
        TimestampKind kind = TimestampKind.valueOf(type.path("kind").asText("REGULAR"));
        boolean nullable = type.path("nullable").asBoolean(true);
        int precision = type.path("precision").asInt();
        return switch (type.path("type").asText()) {
            case "TIMESTAMP_WITHOUT_TIME_ZONE" -> new TimestampType(nullable, kind, precision);
            case "TIMESTAMP_WITH_LOCAL_TIME_ZONE" -> new LocalZonedTimestampType(nullable, kind, precision);
            default -> throw new IllegalArgumentException("a type this does not read: " + type);
        };
    }

    /**
     * Adds the job's source and sink to an environment.
     *
     * @return false if the lake table's sink cannot be added outside the planner (then the pipeline is planned)
     */
    boolean addTo(StreamExecutionEnvironment job) {
        ClassLoader classLoader = LandingJob.class.getClassLoader();
        DynamicTableSource source = new TarnKafkaTableFactory()
                .createDynamicTableSource(context(streamTable, resolved(env, streamTable), classLoader));
        int[][] fields = new int[projection.length][];
        for (int i = 0; i < projection.length; i++) {
            fields[i] = new int[] {projection[i]};
        }
        // as the planner applies them: the projection, then no metadata columns
        ((SupportsProjectionPushDown) source).applyProjection(fields, producedType);
        ((SupportsReadingMetadata) source).applyReadableMetadata(List.of(), producedType);
        Catalog lake = env.getCatalog(LAKE_CATALOG).orElseThrow();
        Optional<Factory> factory = lake.getFactory();
        if (factory.isEmpty() || !(factory.get() instanceof DynamicTableSinkFactory sinks)) {
            return false;
        }
        DynamicTableSink sink = sinks.createDynamicTableSink(context(lakeTable, resolved(env, lakeTable), classLoader));
        Optional<TableLoader> table = LakeSinks.tableLoader(sink);
        if (table.isEmpty()) {
            return false;
        }
        ScanTableSource.ScanRuntimeProvider provider =
                ((ScanTableSource) source).getScanRuntimeProvider(ScanRuntimeProviderContext.INSTANCE);
        Source<RowData, ?, ?> kafka;
        String name;
        if (provider instanceof DataStreamScanProvider streams
                && streams.produceDataStream(n -> Optional.empty(), job).getTransformation()
                        instanceof SourceTransformation<RowData, ?, ?> planned) {
            kafka = planned.getSource(); // that stream is left unused: only what reaches a sink is part of the job
            name = planned.getName();
        } else if (provider instanceof SourceProvider sources) {
            kafka = sources.createSource();
            name = "KafkaSource-" + streamTable;
        } else {
            return false;
        }
        // the offsets each checkpoint covers go into the table's seam: fresh reads start the topic's tail there
        String topic = resolved(env, streamTable).getOptions().get("topic");
        DataStream<RowData> rows = job.fromSource(
                new SeamSource<>(kafka, table.get(), topic, seamColumns()), WatermarkStrategy.noWatermarks(), name);
        return LakeSinks.appendNewRows(sink, rows).isPresent();
    }

    /** Per lake table column, the topic column (its JSON field) it is copied from. */
    private Map<String, String> seamColumns() {
        List<Column> topicColumns = physicalColumns(env, streamTable);
        List<Column> lakeColumns = physicalColumns(env, lakeTable);
        Map<String, String> columns = new LinkedHashMap<>();
        for (int i = 0; i < projection.length; i++) {
            columns.put(
                    lakeColumns.get(i).getName(),
                    topicColumns.get(projection[i]).getName());
        }
        return columns;
    }

    private DynamicTableFactory.Context context(
            ObjectIdentifier identifier, ResolvedCatalogTable table, ClassLoader classLoader) {
        return new FactoryUtil.DefaultDynamicTableContext(
                identifier, table, Map.of(), env.getConfig(), classLoader, false);
    }

    private static ResolvedCatalogTable resolved(TableEnvironment env, ObjectIdentifier identifier) {
        Catalog catalog = env.getCatalog(identifier.getCatalogName()).orElseThrow();
        CatalogBaseTable table;
        try {
            table = catalog.getTable(identifier.toObjectPath());
        } catch (TableNotExistException e) {
            throw new IllegalStateException("table " + identifier + " vanished while its pipeline was planned", e);
        }
        return new ResolvedCatalogTable((CatalogTable) table, schema(env, identifier));
    }

    private static ResolvedSchema schema(TableEnvironment env, ObjectIdentifier identifier) {
        return env.from(identifier.asSerializableString()).getResolvedSchema();
    }

    private static List<Column> physicalColumns(TableEnvironment env, ObjectIdentifier identifier) {
        return schema(env, identifier).getColumns().stream()
                .filter(Column::isPhysical)
                .toList();
    }

    private static Map<String, String> options(JsonNode table) {
        Map<String, String> options = new HashMap<>();
        table.path("resolvedTable")
                .path("options")
                .properties()
                .forEach(e -> options.put(e.getKey(), e.getValue().asText()));
        return options;
    }

    /** A table's identifier as a compiled plan writes it: three back-quoted names joined by dots. */
    static ObjectIdentifier identifier(JsonNode table) {
        String text = table.path("identifier").asText();
        List<String> names = new ArrayList<>();
        StringBuilder name = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '`') {
                if (quoted && i + 1 < text.length() && text.charAt(i + 1) == '`') {
                    name.append('`');
                    i++;
                } else {
                    quoted = !quoted;
                }
            } else if (c == '.' && !quoted) {
                names.add(name.toString());
                name.setLength(0);
            } else {
                name.append(c);
            }
        }
        names.add(name.toString());
        if (names.size() != 3) {
            throw new IllegalArgumentException("not a table identifier: " + text);
        }
        return ObjectIdentifier.of(names.get(0), names.get(1), names.get(2));
    }
}
