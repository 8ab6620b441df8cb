package io.tarn.compute;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.flink.table.catalog.ObjectIdentifier;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.table.types.logical.utils.LogicalTypeParser;

/**
 * What a job reads and writes, down to columns, as its compiled plan says: the tables of its sources (scans and
 * lookups) and sinks, and for each column a sink writes, the source columns its values are computed from. Each node's
 * output fields are traced to their origins: a projection by the columns its expressions reference, an aggregate by
 * its grouping columns and its aggregates' arguments, a join by its inputs' fields side by side, a node that passes its
 * input through (exchanges, watermarks, ranks, normalizations) by position; a node of another kind makes each of its
 * fields come from all of its inputs' columns (never fewer origins than there are).
 *
 * @param reads tables read ({@code stream.<topic>}, {@code lake.<namespace>.<table>})
 * @param writes tables written
 * @param columns each written column ({@code table.column}) with the columns its values come from
 */
public record PlanLineage(Set<String> reads, Set<String> writes, Map<String, Set<String>> columns) {
    public PlanLineage {
        reads = Set.copyOf(requireNonNull(reads, "reads is null"));
        writes = Set.copyOf(requireNonNull(writes, "writes is null"));
        Map<String, Set<String>> copy = new HashMap<>();
        requireNonNull(columns, "columns is null").forEach((column, from) -> copy.put(column, Set.copyOf(from)));
        columns = Map.copyOf(copy);
    }

    /** Every table the job uses. */
    public Set<String> tables() {
        Set<String> all = new TreeSet<>(reads);
        all.addAll(writes);
        return all;
    }

    /**
     * The lineage of a compiled plan ({@code CompiledPlan#asJsonString}).
     *
     * @throws IllegalArgumentException for a plan this cannot read
     */
    public static PlanLineage of(JsonNode plan) {
        Map<Integer, List<Integer>> inputs = new HashMap<>();
        for (JsonNode edge : plan.path("edges")) {
            inputs.computeIfAbsent(edge.path("target").asInt(), t -> new ArrayList<>())
                    .add(edge.path("source").asInt());
        }
        Map<Integer, List<Set<String>>> fields = new HashMap<>();
        Set<String> reads = new TreeSet<>();
        Set<String> writes = new TreeSet<>();
        Map<String, Set<String>> columns = new HashMap<>();
        for (JsonNode node : plan.path("nodes")) { // a compiled plan lists a node after its inputs
            int id = node.path("id").asInt();
            List<List<Set<String>>> in = new ArrayList<>();
            for (int input : inputs.getOrDefault(id, List.of())) {
                in.add(requireNonNull(fields.get(input), () -> "node " + id + " comes before its input " + input));
            }
            String type = node.path("type").asText().replaceAll("_\\d+$", "");
            if (node.has("dynamicTableSink")) {
                String table = name(node.path("dynamicTableSink").path("table"));
                writes.add(table);
                List<String> names = columnNames(node.path("dynamicTableSink").path("table"));
                List<Set<String>> written = in.isEmpty() ? List.of() : in.get(0);
                for (int i = 0; i < names.size(); i++) {
                    columns.computeIfAbsent(table + "." + names.get(i), c -> new TreeSet<>())
                            .addAll(i < written.size() ? written.get(i) : all(in));
                }
                continue;
            }
            List<String> output = fieldNames(node.path("outputType"));
            List<Set<String>> out = new ArrayList<>();
            if (node.has("scanTableSource")) {
                String table = name(node.path("scanTableSource").path("table"));
                reads.add(table);
                output.forEach(field -> out.add(Set.of(table + "." + field)));
            } else if (type.endsWith("-calc")) {
                for (JsonNode expression : node.path("projection")) {
                    Set<String> from = new TreeSet<>();
                    references(expression, in.get(0), from);
                    out.add(from);
                }
            } else if (type.endsWith("-lookup-join") || type.endsWith("-temporal-join") && node.has("temporalTable")) {
                JsonNode lookup =
                        node.path("temporalTable").path("lookupTableSource").path("table");
                String table = name(lookup);
                reads.add(table);
                List<Set<String>> left = in.get(0);
                for (int i = 0; i < output.size(); i++) {
                    out.add(i < left.size() ? left.get(i) : Set.of(table + "." + lookupField(lookup, output, i, left)));
                }
            } else if ((type.endsWith("-group-aggregate") || type.endsWith("-window-aggregate"))
                    && !type.contains("local")
                    && !type.contains("global")
                    && !type.contains("incremental")) {
                List<Set<String>> input = in.get(0);
                for (JsonNode group : node.path("grouping")) {
                    out.add(input.get(group.asInt()));
                }
                for (JsonNode call : node.path("aggCalls")) {
                    Set<String> from = new TreeSet<>();
                    call.path("argList").forEach(arg -> from.addAll(input.get(arg.asInt())));
                    out.add(from);
                }
                while (out.size() < output.size()) { // window start, end, time
                    out.add(all(in));
                }
            } else if (in.size() > 1
                    && output.size() == in.stream().mapToInt(List::size).sum()) { // joins
                in.forEach(out::addAll);
            } else if (in.size() > 1 && in.stream().allMatch(i -> i.size() == output.size())) { // unions
                for (int i = 0; i < output.size(); i++) {
                    Set<String> from = new TreeSet<>();
                    for (List<Set<String>> input : in) {
                        from.addAll(input.get(i));
                    }
                    out.add(from);
                }
            } else if (in.size() == 1 && output.size() >= in.get(0).size()) { // passes its input through
                out.addAll(in.get(0));
                while (out.size() < output.size()) {
                    out.add(all(in));
                }
            } else {
                output.forEach(field -> out.add(all(in)));
            }
            if (out.size() != output.size()) {
                throw new IllegalArgumentException(
                        "node %d (%s) has %d fields, traced %d".formatted(id, type, output.size(), out.size()));
            }
            fields.put(id, out);
        }
        return new PlanLineage(reads, writes, columns);
    }

    /** The field a lookup join takes from its lookup table, by the table's own column name where it has one. */
    private static String lookupField(JsonNode lookup, List<String> output, int index, List<Set<String>> left) {
        String name = output.get(index);
        List<String> names = columnNames(lookup);
        if (names.contains(name)) {
            return name;
        }
        int position = index - left.size();
        return position < names.size() ? names.get(position) : name;
    }

    private static Set<String> all(List<List<Set<String>>> in) {
        Set<String> all = new TreeSet<>();
        in.forEach(input -> input.forEach(all::addAll));
        return all;
    }

    /** The origins of the input fields an expression references, at any depth. */
    private static void references(JsonNode expression, List<Set<String>> input, Set<String> from) {
        if (expression.isObject()
                && expression.path("kind").asText().equals("INPUT_REF")
                && expression.has("inputIndex")) {
            from.addAll(input.get(expression.path("inputIndex").asInt()));
            return;
        }
        expression.forEach(child -> references(child, input, from));
    }

    /** A table of a plan as Tarn's SQL names it: {@code stream.<topic>}, {@code lake.<namespace>.<table>}. */
    static String name(JsonNode table) {
        ObjectIdentifier id = LandingJob.identifier(table);
        if (id.getCatalogName().equals(PipelineSqlRules.LAKE_CATALOG)) {
            return PipelineSqlRules.LAKE_CATALOG + "." + id.getDatabaseName() + "." + id.getObjectName();
        }
        if (id.getCatalogName().equals(PipelineSqlRules.DEFAULT_CATALOG)
                && (id.getDatabaseName().equals(StreamTables.DATABASE)
                        || id.getDatabaseName().equals(StreamTables.RAW_DATABASE))) {
            return StreamTables.DATABASE + "." + id.getObjectName();
        }
        return id.asSummaryString();
    }

    /** The columns a table stores, as the plan's resolved table lists them (not computed ones). */
    private static List<String> columnNames(JsonNode table) {
        List<String> names = new ArrayList<>();
        for (JsonNode column : table.path("resolvedTable").path("schema").path("columns")) {
            String kind = column.path("kind").asText("PHYSICAL");
            if (!kind.equals("COMPUTED")
                    && !(kind.equals("METADATA") && column.path("isVirtual").asBoolean())) {
                names.add(column.path("name").asText());
            }
        }
        return names;
    }

    /** The field names of a node's output type: a row type's text, or an object for rows with time attributes. */
    private static List<String> fieldNames(JsonNode type) {
        if (type.isTextual()) {
            LogicalType parsed = LogicalTypeParser.parse(type.asText(), PlanLineage.class.getClassLoader());
            if (parsed instanceof RowType row) {
                return row.getFieldNames();
            }
            throw new IllegalArgumentException("an output type that is not a row: " + type.asText());
        }
        List<String> names = new ArrayList<>();
        for (JsonNode field : type.path("fields")) {
            names.add(field.path("name").asText());
        }
        if (names.isEmpty()) {
            throw new IllegalArgumentException("an output type this does not read: " + type);
        }
        return names;
    }
}
