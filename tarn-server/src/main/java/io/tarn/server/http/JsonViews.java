package io.tarn.server.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tarn.compute.PipelineStateFiles;
import io.tarn.core.pipeline.PipelineStatus;
import io.tarn.core.pipeline.QualityRule;
import io.tarn.core.table.TableInfo;
import io.tarn.core.topic.TopicInfo;
import io.tarn.core.topic.TopicSpec;
import io.tarn.lake.LakeCatalog;
import io.tarn.server.auth.Grants;
import io.tarn.server.lake.LakeMaintenance;
import io.tarn.server.lineage.LineageService;
import io.tarn.server.source.SourceService;
import io.tarn.server.table.TableService;
import io.tarn.server.view.Freshness;
import io.tarn.server.view.ViewService;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/** How the API renders what the services answer: the JSON of topics, pipelines, tables and sources. */
final class JsonViews {
    private JsonViews() {}

    /** A topic's declaration as JSON for the HTTP API. */
    static ObjectNode lineage(LineageService.Lineage lineage) {
        ObjectNode body = Request.JSON.createObjectNode().put("root", lineage.root());
        ArrayNode nodes = body.putArray("nodes");
        lineage.nodes().forEach(node -> nodes.addObject()
                .put("id", node.id())
                .put("kind", node.kind())
                .put("name", node.name())
                .put("direction", node.direction()));
        ArrayNode edges = body.putArray("edges");
        lineage.edges()
                .forEach(edge -> edges.addObject().put("from", edge.from()).put("to", edge.to()));
        ArrayNode columns = body.putArray("columns");
        lineage.columns().forEach(column -> {
            ObjectNode node = columns.addObject().put("from", column.from()).put("to", column.to());
            column.pipeline().ifPresentOrElse(p -> node.put("pipeline", p), () -> node.putNull("pipeline"));
        });
        body.put("hidden", lineage.hidden());
        return body;
    }

    static ObjectNode grants(Grants.Listing listing) {
        ObjectNode body = Request.JSON.createObjectNode();
        ArrayNode grants = body.putArray("grants");
        for (Grants.Entry entry : listing.grants()) {
            grants.addObject()
                    .put(entry.granteeKind(), entry.grantee())
                    .put("privilege", entry.grant().privilege().text())
                    .put("resource", entry.grant().resource());
        }
        ObjectNode roles = body.putObject("roles");
        listing.roles().forEach((principal, names) -> names.forEach(roles.withArray(principal)::add));
        return body;
    }

    static ObjectNode topic(TopicInfo info) {
        ObjectNode node = Request.JSON.createObjectNode();
        TopicSpec spec = info.spec();
        node.put("name", spec.name());
        node.put("partitions", spec.partitions());
        node.put("format", spec.format().id());
        if (!spec.primaryKey().isEmpty()) {
            var key = node.putArray("primaryKey");
            spec.primaryKey().forEach(key::add);
        }
        node.put("records", info.records());
        info.retention().ifPresent(r -> node.putObject("retention")
                .put("ms", r.millis())
                .put("bytes", r.bytesPerPartition())
                .put("untilLanded", r.untilLanded()));
        node.put("table", "stream." + spec.name());
        var columns = node.putArray("columns");
        if (spec.raw()) {
            columns.addObject().put("name", "value").put("type", "STRING");
        }
        spec.columns().forEach(c -> columns.addObject()
                .put("name", c.name())
                .put("type", c.type().sql()));
        columns.addObject().put("name", "kafka_key").put("type", "STRING");
        if (spec.format() == TopicSpec.Format.JSON) { // change topics have no Kafka metadata columns
            columns.addObject().put("name", "kafka_partition").put("type", "INT");
            columns.addObject().put("name", "kafka_offset").put("type", "BIGINT");
            columns.addObject().put("name", "kafka_timestamp").put("type", "TIMESTAMP_LTZ(3)");
        }
        spec.watermark()
                .ifPresent(w ->
                        node.putObject("watermark").put("column", w.column()).put("delay-ms", w.delayMillis()));
        return node;
    }

    static ObjectNode source(SourceService.Status status) {
        ObjectNode node = Request.JSON.createObjectNode();
        node.put("name", status.source().name());
        node.put("type", status.source().type());
        node.put("connection", status.source().connection());
        node.put("user", status.source().user());
        ArrayNode tables = node.putArray("tables");
        status.source().tables().forEach(tables::add);
        node.put("mirror", status.source().mirror());
        node.put("state", status.state());
        SourceService.Snapshot progress = status.snapshot();
        ObjectNode snapshot = node.putObject("snapshot");
        snapshot.put("running", progress.running());
        snapshot.put("completed", progress.completed());
        snapshot.put("tables", progress.tables());
        snapshot.put("remainingTables", progress.remainingTables());
        ObjectNode rows = snapshot.putObject("rowsScanned");
        progress.rowsScanned().forEach(rows::put);
        node.put("records", status.records());
        status.lag()
                .ifPresentOrElse(
                        l -> node.putObject("lag")
                                .put("captured", l.captured())
                                .put("server", l.server())
                                .put("confirmed", l.confirmed())
                                .put("bytesBehind", l.bytesBehind())
                                .put("retainedBytes", l.retainedBytes())
                                .put("active", l.active()),
                        () -> node.putNull("lag"));
        ObjectNode topicsNode = node.putObject("topics");
        status.topics().forEach(topicsNode::put);
        ObjectNode lakeTables = node.putObject("lakeTables");
        status.lakeTables().forEach(lakeTables::put);
        status.mirrorPipeline()
                .ifPresentOrElse(p -> node.put("mirrorPipeline", p), () -> node.putNull("mirrorPipeline"));
        status.lastError().ifPresentOrElse(e -> node.put("lastError", e), () -> node.putNull("lastError"));
        ArrayNode warnings = node.putArray("warnings");
        status.warnings().forEach(warnings::add);
        return node;
    }

    static ObjectNode view(ViewService.Status status) {
        ObjectNode node = Request.JSON.createObjectNode();
        node.put("name", status.view().name());
        node.put("state", status.pipeline().state().name());
        node.put("sql", status.view().sql());
        ArrayNode key = node.putArray("key");
        status.key().forEach(key::add);
        ArrayNode columns = node.putArray("columns");
        status.columns().forEach(c -> columns.addObject()
                .put("name", c.name())
                .put("type", c.type().sql()));
        node.put("rows", status.rows());
        node.set("freshness", freshness(status.freshness()));
        node.put("topic", status.view().topic());
        node.put("pipeline", status.view().pipeline());
        node.put(
                "history",
                status.view().history().map(t -> LakeCatalog.NAME + "." + t).orElse(null));
        node.put("skippedRecords", status.skipped());
        String error = status.pipeline().lastError().or(status::problem).orElse(null);
        node.put("lastError", error);
        node.put("createdAt", Instant.ofEpochMilli(status.view().createdAt()).toString());
        return node;
    }

    static ObjectNode viewRows(ViewService.Rows rows) {
        ObjectNode node = Request.JSON.createObjectNode();
        ArrayNode array = node.putArray("rows");
        rows.rows().forEach(array::add);
        node.set("freshness", freshness(rows.freshness()));
        return node;
    }

    /** When a view's store last applied a change, when that change was written, and what it has not applied yet. */
    private static ObjectNode freshness(Freshness freshness) {
        ObjectNode node = Request.JSON.createObjectNode();
        node.put("appliedAt", freshness.appliedAt().map(Instant::toString).orElse(null));
        node.put("changedAt", freshness.changedAt().map(Instant::toString).orElse(null));
        freshness.lag().ifPresentOrElse(l -> node.put("lagRecords", l), () -> node.putNull("lagRecords"));
        node.put("watermark", freshness.watermark().map(Instant::toString).orElse(null));
        return node;
    }

    static ObjectNode pipeline(PipelineStatus status) {
        ObjectNode node = Request.JSON.createObjectNode();
        node.put("name", status.spec().name());
        node.put("state", status.state().name());
        node.put("sql", status.spec().sql());
        node.put("onError", status.spec().onError().spelling());
        node.put("from", status.spec().start().spelling());
        node.put("deadLetters", status.deadLetters());
        ArrayNode rules = node.putArray("rules");
        for (QualityRule rule : status.spec().rules()) {
            rules.add(rule.toJson()
                    .put("passed", status.ruleCounts().getOrDefault(rule.name() + ".passed", 0L))
                    .put("failed", status.ruleCounts().getOrDefault(rule.name() + ".failed", 0L)));
        }
        status.jobId().ifPresentOrElse(id -> node.put("jobId", id), () -> node.putNull("jobId"));
        status.lastCheckpoint()
                .ifPresentOrElse(
                        c -> node.putObject("lastCheckpoint")
                                .put("id", c.id())
                                .put("completedAt", c.completedAt().toString()),
                        () -> node.putNull("lastCheckpoint"));
        node.put("recordsIn", status.recordsIn());
        node.put("recordsOut", status.recordsOut());
        node.put("restarts", status.restarts());
        status.lastError().ifPresentOrElse(e -> node.put("lastError", e), () -> node.putNull("lastError"));
        status.savepoint()
                .ifPresentOrElse(
                        s -> node.put("savepoint", PipelineStateFiles.name(s)), () -> node.putNull("savepoint"));
        ArrayNode warnings = node.putArray("warnings");
        status.warnings().forEach(warnings::add);
        return node;
    }

    /** Snapshots a description shows; older ones are paged through {@code /v1/tables/{name}/snapshots}. */
    static final int RECENT_SNAPSHOTS = 10;

    static ObjectNode table(TableService.Description description) {
        TableInfo info = description.info();
        ObjectNode node = Request.JSON.createObjectNode();
        node.put("name", info.name());
        node.put("formatVersion", info.formatVersion());
        ArrayNode columns = node.putArray("columns");
        info.columns().forEach(c -> columns.addObject()
                .put("id", c.id())
                .put("name", c.name())
                .put("type", c.type())
                .put("required", c.required()));
        ArrayNode partitioning = node.putArray("partitionSpec");
        info.partitionSpec().forEach(partitioning::add);
        info.currentSnapshotId()
                .ifPresentOrElse(id -> node.put("currentSnapshotId", id), () -> node.putNull("currentSnapshotId"));
        node.put("dataFiles", info.dataFiles());
        node.put("deleteFiles", info.deleteFiles());
        node.put("fileBytes", info.fileBytes());
        long files = info.dataFiles() + info.deleteFiles();
        node.put("averageFileBytes", files == 0 ? 0 : info.fileBytes() / files);
        description.rows().ifPresentOrElse(rows -> node.put("rows", rows), () -> node.putNull("rows"));
        node.put("rowsWritten", info.rowsWritten());
        node.put("snapshotCount", info.snapshots().size());
        List<TableInfo.Snapshot> recent = new ArrayList<>(info.snapshots()
                .subList(
                        Math.max(0, info.snapshots().size() - RECENT_SNAPSHOTS),
                        info.snapshots().size()));
        Collections.reverse(recent);
        snapshots(node.putArray("recentSnapshots"), recent);
        description
                .lastMaintenance()
                .ifPresentOrElse(
                        run -> node.set("lastMaintenance", maintenance(run)), () -> node.putNull("lastMaintenance"));
        return node;
    }

    /** What one maintenance run did to a table. */
    static ObjectNode maintenance(LakeMaintenance.Run run) {
        ObjectNode node = Request.JSON.createObjectNode();
        node.put("table", run.table());
        node.put("trigger", run.trigger().name().toLowerCase(Locale.ROOT));
        node.put("startedAt", run.startedAt().toString());
        node.put("tookMs", run.took().toMillis());
        run.compaction()
                .ifPresentOrElse(
                        c -> {
                            ObjectNode compaction = node.putObject("compaction");
                            compaction.put("dataFilesRewritten", c.dataFilesRewritten());
                            compaction.put("dataFilesWritten", c.dataFilesWritten());
                            compaction.put("deleteFilesRemoved", c.deleteFilesRemoved());
                            compaction.put("rowsWritten", c.rowsWritten());
                            compaction.put("bytesRewritten", c.bytesRewritten());
                            compaction.put("bytesWritten", c.bytesWritten());
                            compaction.put("commits", c.commits());
                            compaction.put("conflicts", c.conflicts());
                            c.skipped()
                                    .ifPresentOrElse(
                                            reason -> compaction.put("skipped", reason),
                                            () -> compaction.putNull("skipped"));
                        },
                        () -> node.putNull("compaction"));
        node.put("snapshotsExpired", run.snapshotsExpired());
        node.put("manifestsRewritten", run.manifestsRewritten());
        run.orphans()
                .ifPresentOrElse(
                        o -> node.putObject("orphans")
                                .put("filesDeleted", o.filesDeleted())
                                .put("bytesDeleted", o.bytesDeleted())
                                .put("filesKept", o.filesKept()),
                        () -> node.putNull("orphans"));
        run.orphansWaiting().ifPresentOrElse(w -> node.put("orphansWaiting", w), () -> node.putNull("orphansWaiting"));
        run.error().ifPresentOrElse(e -> node.put("error", e), () -> node.putNull("error"));
        return node;
    }

    static void snapshots(ArrayNode array, List<TableInfo.Snapshot> snapshots) {
        snapshots.forEach(s -> array.addObject()
                .put("id", s.id())
                .put("committedAt", s.committedAt().toString())
                .put("operation", s.operation())
                .put("addedRows", s.addedRows())
                .put("totalRows", s.totalRows()));
    }
}
