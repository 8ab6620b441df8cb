package io.tarn.server.lineage;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tarn.cdc.Capture;
import io.tarn.compute.PlanLineage;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.topic.ColumnSpec;
import io.tarn.core.topic.TopicSpec;
import io.tarn.server.metadata.MetadataStore;
import io.tarn.server.metadata.SourceRecord;
import io.tarn.server.metadata.ViewRecord;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where every table's data comes from and goes to: sources feed their change topics, pipelines read topics and lake
 * tables and write others (as their compiled plans say, down to columns: {@link PlanLineage}), views are fed by their
 * topics. A lineage is the part of that graph upstream and downstream of one node.
 */
public final class LineageService {
    private static final Logger LOG = LoggerFactory.getLogger(LineageService.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The kinds of nodes, as resources are named ({@code table:shop.orders}). */
    public static final List<String> KINDS = List.of("topic", "table", "pipeline", "view", "source");

    private final MetadataStore metadata;

    public LineageService(MetadataStore metadata) {
        this.metadata = requireNonNull(metadata, "metadata is null");
    }

    /**
     * A node: {@code id} is {@code <kind>:<name>}; a source's node is one of its captured tables,
     * {@code source:<source>/<schema>.<table>}, and {@code name} its source.
     *
     * @param direction {@code root}, {@code upstream}, {@code downstream}, or {@code both} (on a cycle through the
     *     root: a pipeline that reads and writes one table)
     */
    public record Node(String id, String kind, String name, String direction) {}

    public record Edge(String from, String to) {}

    /** A column's values flowing from one node's column to another's, through a pipeline (none for a source). */
    public record ColumnEdge(String from, String to, Optional<String> pipeline) {}

    /**
     * @param hidden nodes of the lineage left out because the principal may not read them (their edges with them)
     */
    public record Lineage(String root, List<Node> nodes, List<Edge> edges, List<ColumnEdge> columns, int hidden) {}

    /**
     * The lineage of a node, with the nodes a principal may read.
     *
     * @param kind one of {@link #KINDS}
     * @param readable whether the principal may read a node ({@code table:shop.orders}, {@code source:crm})
     * @throws TarnException {@link ErrorCode#INVALID_REQUEST} for another kind; {@link ErrorCode#TABLE_NOT_FOUND} when
     *     nothing in the graph is that node
     */
    public Lineage of(String kind, String name, Predicate<String> readable) {
        if (!KINDS.contains(kind)) {
            throw new TarnException(ErrorCode.INVALID_REQUEST, "a lineage is of one of %s".formatted(KINDS));
        }
        Graph graph = graph();
        String root = kind + ":" + name;
        if (kind.equals("source")) {
            Set<String> tables = new TreeSet<>();
            graph.kinds.keySet().stream()
                    .filter(id -> id.startsWith(root + "/"))
                    .forEach(tables::add);
            if (tables.isEmpty()) {
                throw new TarnException(ErrorCode.SOURCE_NOT_FOUND, "source '%s' feeds nothing".formatted(name));
            }
            graph.add(root, "source", name);
            tables.forEach(table -> graph.edge(root, table));
        }
        if (!graph.kinds.containsKey(root)) {
            throw new TarnException(
                    ErrorCode.TABLE_NOT_FOUND,
                    "%s '%s' is in no lineage: no pipeline, source or view reads or writes it".formatted(kind, name));
        }
        Set<String> up = reachable(root, graph.upstream);
        Set<String> down = reachable(root, graph.downstream);
        Map<String, String> directions = new LinkedHashMap<>();
        directions.put(root, "root");
        up.forEach(id -> directions.put(id, down.contains(id) ? "both" : "upstream"));
        down.forEach(id -> directions.putIfAbsent(id, "downstream"));
        up.add(root);
        down.add(root);
        List<Node> nodes = new ArrayList<>();
        int hidden = 0;
        for (Map.Entry<String, String> node : directions.entrySet()) {
            String id = node.getKey();
            if (!readable.test(resource(id))) {
                hidden++;
                continue;
            }
            nodes.add(new Node(id, graph.kinds.get(id), graph.names.get(id), node.getValue()));
        }
        Set<String> shown = new TreeSet<>();
        nodes.forEach(n -> shown.add(n.id()));
        // an edge on a path into the root, or out of it, between nodes the principal may read
        Set<Edge> kept = new LinkedHashSet<>();
        for (Edge edge : graph.edges) {
            boolean upstream = up.contains(edge.from()) && up.contains(edge.to());
            boolean downstream = down.contains(edge.from()) && down.contains(edge.to());
            if ((upstream || downstream) && shown.contains(edge.from()) && shown.contains(edge.to())) {
                kept.add(edge);
            }
        }
        List<ColumnEdge> columns = graph.columns.stream()
                .filter(c -> c.pipeline()
                        .map(p -> kept.contains(new Edge(node(c.from()), "pipeline:" + p))
                                && kept.contains(new Edge("pipeline:" + p, node(c.to()))))
                        .orElse(kept.contains(new Edge(node(c.from()), node(c.to())))))
                .toList();
        return new Lineage(root, nodes, List.copyOf(kept), columns, hidden);
    }

    /** The nodes reachable from a node, following {@code next}. */
    private static Set<String> reachable(String root, Map<String, Set<String>> next) {
        Set<String> seen = new LinkedHashSet<>();
        Deque<String> todo = new ArrayDeque<>(List.of(root));
        while (!todo.isEmpty()) {
            for (String node : next.getOrDefault(todo.poll(), Set.of())) {
                if (!node.equals(root) && seen.add(node)) {
                    todo.add(node);
                }
            }
        }
        return seen;
    }

    /** The resource a principal reads to see a node: a source's captured table is its source's. */
    private static String resource(String node) {
        int slash = node.indexOf('/');
        return slash < 0 ? node : node.substring(0, slash);
    }

    /** The node of a column id ({@code table:shop.orders.id}: columns have no dots). */
    private static String node(String column) {
        return column.substring(0, column.lastIndexOf('.'));
    }

    /** Each pipeline's lineage as its last submission's plan gave it (none for a plan Flink could not compile). */
    public Map<String, PlanLineage> pipelineLineages() {
        Map<String, PlanLineage> lineages = new TreeMap<>();
        metadata.pipelineLineages()
                .forEach((pipeline, json) -> parsed(pipeline, json).ifPresent(l -> lineages.put(pipeline, l)));
        return lineages;
    }

    /** One pipeline's lineage, as {@link #pipelineLineages()} has it, read alone. */
    public Optional<PlanLineage> pipelineLineage(String pipeline) {
        return metadata.pipelineLineage(pipeline).flatMap(json -> parsed(pipeline, json));
    }

    private static Optional<PlanLineage> parsed(String pipeline, String json) {
        try {
            return Optional.of(JSON.readValue(json, PlanLineage.class));
        } catch (JsonProcessingException e) {
            LOG.warn("The lineage of pipeline {} cannot be read: {}", pipeline, e.getOriginalMessage());
            return Optional.empty();
        }
    }

    /** The whole graph as the metadata holds it now. */
    private Graph graph() {
        Graph graph = new Graph();
        for (Map.Entry<String, PlanLineage> entry : pipelineLineages().entrySet()) {
            String pipeline = "pipeline:" + entry.getKey();
            PlanLineage lineage = entry.getValue();
            graph.add(pipeline, "pipeline", entry.getKey());
            lineage.reads().forEach(table -> graph.edge(graph.table(table), pipeline));
            lineage.writes().forEach(table -> graph.edge(pipeline, graph.table(table)));
            lineage.columns()
                    .forEach((to, froms) -> froms.forEach(from -> graph.columns.add(
                            new ColumnEdge(graph.column(from), graph.column(to), Optional.of(entry.getKey())))));
        }
        for (ViewRecord view : metadata.views()) {
            String node = "view:" + view.name();
            graph.add(node, "view", view.name());
            graph.edge(graph.table("stream." + view.topic()), node);
            metadata.topic(view.topic()).ifPresent(topic -> topic.columns()
                    .forEach(column -> graph.columns.add(new ColumnEdge(
                            "topic:" + view.topic() + "." + column.name(),
                            node + "." + column.name(),
                            Optional.empty()))));
        }
        for (SourceRecord source : metadata.sources()) {
            for (String table : source.tables()) {
                String node = "source:" + source.name() + "/" + table;
                graph.add(node, "source", source.name());
                String topic = Capture.topic(source.name(), table);
                graph.edge(node, graph.table("stream." + topic));
                for (ColumnSpec column :
                        metadata.topic(topic).map(TopicSpec::columns).orElse(List.of())) {
                    graph.columns.add(new ColumnEdge(
                            node + "." + column.name(), "topic:" + topic + "." + column.name(), Optional.empty()));
                }
            }
        }
        return graph;
    }

    private static final class Graph {
        final Map<String, String> kinds = new HashMap<>();
        final Map<String, String> names = new HashMap<>();
        final List<Edge> edges = new ArrayList<>();
        final List<ColumnEdge> columns = new ArrayList<>();
        final Map<String, Set<String>> downstream = new HashMap<>();
        final Map<String, Set<String>> upstream = new HashMap<>();

        void add(String id, String kind, String name) {
            kinds.put(id, kind);
            names.put(id, name);
        }

        void edge(String from, String to) {
            if (downstream.computeIfAbsent(from, f -> new TreeSet<>()).add(to)) {
                upstream.computeIfAbsent(to, t -> new TreeSet<>()).add(from);
                edges.add(new Edge(from, to));
            }
        }

        /** The node of a table of SQL ({@code stream.t}, {@code lake.ns.t}), added if new. */
        String table(String table) {
            int dot = table.indexOf('.');
            String kind = table.startsWith("lake.") ? "table" : "topic";
            String name = table.substring(dot + 1);
            String id = kind + ":" + name;
            add(id, kind, name);
            return id;
        }

        /** The id of a column of a table of SQL ({@code stream.t.c}): its node's and the column's name. */
        String column(String column) {
            int dot = column.lastIndexOf('.');
            return table(column.substring(0, dot)) + column.substring(dot);
        }
    }
}
