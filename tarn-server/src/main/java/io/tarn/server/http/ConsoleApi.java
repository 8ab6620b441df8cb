package io.tarn.server.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tarn.compute.JobControl;
import io.tarn.compute.JobGraph;
import io.tarn.core.pipeline.PipelineState;
import io.tarn.core.pipeline.PipelineStatus;
import io.tarn.core.topic.TopicInfo;
import io.tarn.lake.FileSizes;
import io.tarn.lake.LakeCatalog;
import io.tarn.server.auth.Grants;
import io.tarn.server.auth.Permission;
import io.tarn.server.auth.Privilege;
import io.tarn.server.metrics.TarnMetrics;
import io.tarn.server.pipeline.PipelineService;
import io.tarn.server.source.SourceService;
import io.tarn.server.topic.TopicRates;
import io.tarn.server.topic.TopicService;
import io.tarn.server.topic.TopicTail;
import io.tarn.server.topic.TopicTails;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * What the web console shows beyond the other endpoints, each number computed here once: an overview of everything
 * ({@code GET /v1/overview}), a topic's rate history and live records, a pipeline's job graph; and the console itself
 * ({@link ConsoleAssets}) at {@code /}.
 */
public final class ConsoleApi {
    private final Supplier<Map<String, Boolean>> parts;
    private final TopicService topics;
    private final TopicRates rates;
    private final TopicTails tails;
    private final PipelineService pipelines;
    private final JobControl jobs;
    private final SourceService sources;
    private final Supplier<List<TarnMetrics.Reading>> readings;
    private final Grants grants;
    private final LakeCatalog lake;
    private final ConsoleAssets assets;

    /** Services may all be null to list the routes. */
    public ConsoleApi(
            Supplier<Map<String, Boolean>> parts,
            TopicService topics,
            TopicRates rates,
            TopicTails tails,
            PipelineService pipelines,
            JobControl jobs,
            SourceService sources,
            Supplier<List<TarnMetrics.Reading>> readings,
            Grants grants,
            LakeCatalog lake) {
        this.parts = parts;
        this.topics = topics;
        this.rates = rates;
        this.tails = tails;
        this.pipelines = pipelines;
        this.jobs = jobs;
        this.sources = sources;
        this.readings = readings;
        this.grants = grants;
        this.lake = lake;
        this.assets = new ConsoleAssets();
    }

    public List<Route> routes() {
        return List.of(
                new Route("GET", "/", r -> assets.file("index.html")).withoutToken(),
                new Route("GET", "/console/{file}", r -> assets.file(r.path("file"))).withoutToken(),
                new Route("GET", "/v1/overview", r -> Response.ok(overview(r))).requiring(Access.TOKEN),
                new Route("GET", "/v1/topics/{name}/rates", r -> Response.ok(rates(r.path("name"))))
                        .requiring(Access.path(Privilege.READ, "topic")),
                new Route("GET", "/v1/topics/{name}/tail", this::tail).requiring(Access.path(Privilege.READ, "topic")),
                new Route("GET", "/v1/pipelines/{name}/graph", r -> Response.ok(graph(r.path("name"))))
                        .requiring(Access.path(Privilege.READ, "pipeline")),
                new Route("GET", "/v1/tables/{name}/files", r -> Response.ok(files(r.path("name"))))
                        .requiring(Access.path(Privilege.READ, "table")));
    }

    private ObjectNode overview(Request request) {
        ObjectNode body = Request.JSON.createObjectNode();
        body.put("at", Instant.now().toString());
        Map<String, Boolean> state = parts.get();
        body.put("ready", state.values().stream().allMatch(Boolean::booleanValue));
        ObjectNode partsNode = body.putObject("parts");
        state.forEach(partsNode::put);

        Map<String, Long> lag = new TreeMap<>();
        Map<String, Double> freshness = new TreeMap<>();
        Map<String, Double> lastCommit = new TreeMap<>();
        for (TarnMetrics.Reading reading : readings.get()) {
            switch (reading.meter()) {
                case "tarn.pipeline.lag.records" ->
                    lag.merge(reading.tags().get("pipeline"), (long) reading.value(), Long::sum);
                case "tarn.table.freshness.seconds" ->
                    freshness.put(reading.tags().get("table"), reading.value());
                case "tarn.table.last.commit.timestamp.seconds" ->
                    lastCommit.put(reading.tags().get("table"), reading.value());
                default -> {}
            }
        }
        ArrayNode topicsNode = body.putArray("topics");
        for (TopicInfo topic : topics.list()) {
            String name = topic.spec().name();
            if (readable(request, "topic", name)) {
                ObjectNode node = topicsNode.addObject().put("name", name).put("records", topic.records());
                rates.current(name)
                        .ifPresentOrElse(
                                rate -> node.put("recordsPerSecond", rate), () -> node.putNull("recordsPerSecond"));
            }
        }
        ArrayNode tablesNode = body.putArray("tables");
        freshness.forEach((table, seconds) -> {
            if (readable(request, "table", table)) {
                ObjectNode node = tablesNode.addObject().put("name", table).put("freshnessSeconds", seconds);
                Double committed = lastCommit.get(table);
                if (committed == null) {
                    node.putNull("lastCommitAt");
                } else {
                    node.put(
                            "lastCommitAt",
                            Instant.ofEpochMilli(Math.round(committed * 1000)).toString());
                }
            }
        });
        ArrayNode pipelinesNode = body.putArray("pipelines");
        for (PipelineStatus pipeline : pipelines.list()) {
            String name = pipeline.spec().name();
            if (readable(request, "pipeline", name)) {
                ObjectNode node = pipelinesNode
                        .addObject()
                        .put("name", name)
                        .put("state", pipeline.state().name())
                        .put("lagRecords", lag.getOrDefault(name, 0L))
                        .put("recordsOut", pipeline.recordsOut())
                        .put(
                                "failing",
                                pipeline.state() == PipelineState.FAILED
                                        || pipeline.state() == PipelineState.RESTARTING);
                pipeline.lastError().ifPresentOrElse(e -> node.put("lastError", e), () -> node.putNull("lastError"));
            }
        }
        ArrayNode sourcesNode = body.putArray("sources");
        for (SourceService.Status source : sources.list()) {
            String name = source.source().name();
            if (readable(request, "source", name)) {
                ObjectNode node = sourcesNode
                        .addObject()
                        .put("name", name)
                        .put("state", source.state())
                        .put("failing", source.state().equals("FAILED"));
                source.lastError().ifPresentOrElse(e -> node.put("lastError", e), () -> node.putNull("lastError"));
                source.warnings().forEach(node.putArray("warnings")::add);
            }
        }
        return body;
    }

    private ObjectNode rates(String topic) {
        topics.describe(topic); // 404 for a topic that is not there
        ObjectNode body = Request.JSON.createObjectNode();
        body.put("intervalSeconds", TopicRates.INTERVAL.toSeconds());
        ArrayNode samples = body.putArray("rates");
        for (TopicRates.Rate rate : rates.history(topic)) {
            samples.addObject()
                    .put("at", rate.at().toString())
                    .put("seconds", rate.seconds())
                    .put("records", rate.records())
                    .put("recordsPerSecond", rate.recordsPerSecond());
        }
        return body;
    }

    private Response tail(Request request) {
        long last = request.queryNumber("last").orElse(TopicTails.DEFAULT_LAST);
        TopicTail tail = tails.follow(request.path("name"), last);
        return Response.events(tail::writeTo, tail::close);
    }

    private ObjectNode graph(String pipeline) {
        PipelineStatus status = pipelines.get(pipeline);
        ObjectNode body = Request.JSON.createObjectNode();
        body.put("state", status.state().name());
        JobGraph graph = status.jobId().flatMap(jobs::graph).orElse(new JobGraph(List.of(), List.of()));
        ObjectNode checkpoints = body.putObject("checkpoints");
        status.jobId()
                .flatMap(jobs::recentStatus)
                .ifPresentOrElse(
                        job -> checkpoints
                                .put("completed", job.checkpoints().completed())
                                .put("failed", job.checkpoints().failed())
                                .put("lastMillis", job.checkpoints().lastMillis()),
                        () -> checkpoints.put("completed", 0).put("failed", 0).put("lastMillis", -1));
        ArrayNode vertices = body.putArray("vertices");
        for (JobGraph.Vertex vertex : graph.vertices()) {
            vertices.addObject()
                    .put("id", vertex.id())
                    .put("name", vertex.name())
                    .put("parallelism", vertex.parallelism())
                    .put("state", vertex.state())
                    .put("recordsIn", vertex.recordsIn())
                    .put("recordsOut", vertex.recordsOut())
                    .put("recordsInPerSecond", vertex.recordsInPerSecond())
                    .put("recordsOutPerSecond", vertex.recordsOutPerSecond())
                    .put("backPressured", vertex.backPressured())
                    .put("backPressure", vertex.backPressureLevel())
                    .put("busy", vertex.busy());
        }
        ArrayNode edges = body.putArray("edges");
        for (JobGraph.Edge edge : graph.edges()) {
            edges.addObject().put("from", edge.from()).put("to", edge.to()).put("shipStrategy", edge.shipStrategy());
        }
        return body;
    }

    private ObjectNode files(String table) {
        FileSizes sizes = FileSizes.of(lake.load(table));
        ObjectNode body = Request.JSON.createObjectNode();
        if (sizes.snapshotId() < 0) {
            body.putNull("snapshotId");
        } else {
            body.put("snapshotId", sizes.snapshotId());
        }
        ArrayNode buckets = body.putArray("sizes");
        for (FileSizes.Bucket bucket : sizes.buckets()) {
            ObjectNode node = buckets.addObject();
            if (bucket.upToBytes() < 0) {
                node.putNull("upToBytes");
            } else {
                node.put("upToBytes", bucket.upToBytes());
            }
            node.put("dataFiles", bucket.dataFiles())
                    .put("deleteFiles", bucket.deleteFiles())
                    .put("bytes", bucket.bytes());
        }
        return body;
    }

    private boolean readable(Request request, String kind, String name) {
        return grants.allows(request.principal(), Permission.read(kind, name));
    }
}
