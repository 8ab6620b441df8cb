package io.tarn.server.metrics;

import static java.util.Objects.requireNonNull;

import io.tarn.compute.JobControl;
import io.tarn.compute.PlanLineage;
import io.tarn.core.error.TarnException;
import io.tarn.lake.LakeCatalog;
import io.tarn.log.KafkaLog;
import io.tarn.server.lineage.LineageService;
import io.tarn.server.metadata.MetadataStore;
import io.tarn.server.metadata.PipelineRecord;
import io.tarn.server.pipeline.PipelinePositions;
import io.tarn.server.source.SourceService;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the metrics read from the parts at each scrape: each pipeline's lag per topic partition (landing pipelines:
 * records not committed to their table yet; others: not committed by their Kafka group), its job's checkpoints, each
 * lake table a pipeline writes (commits, last commit, freshness), and each source's lag and retained WAL. A part that
 * cannot be asked is left out of that scrape (logged at debug), never failing it.
 */
public final class MetricReadings {
    private static final Logger LOG = LoggerFactory.getLogger(MetricReadings.class);

    private final MetadataStore metadata;
    private final PipelinePositions positions;
    private final KafkaLog log;
    private final LakeCatalog lake;
    private final JobControl jobs;
    private final SourceService sources;
    private final LineageService lineage;

    public MetricReadings(
            MetadataStore metadata,
            PipelinePositions positions,
            KafkaLog log,
            LakeCatalog lake,
            JobControl jobs,
            SourceService sources,
            LineageService lineage) {
        this.metadata = requireNonNull(metadata, "metadata is null");
        this.positions = requireNonNull(positions, "positions is null");
        this.log = requireNonNull(log, "log is null");
        this.lake = requireNonNull(lake, "lake is null");
        this.jobs = requireNonNull(jobs, "jobs is null");
        this.sources = requireNonNull(sources, "sources is null");
        this.lineage = requireNonNull(lineage, "lineage is null");
    }

    /** The readings of now. */
    public List<TarnMetrics.Reading> read() {
        List<TarnMetrics.Reading> readings = new ArrayList<>();
        Map<String, PlanLineage> lineages = lineage.pipelineLineages();
        Map<String, Long> lagOf = new HashMap<>();
        Map<String, Map<Integer, Long>> ends = new HashMap<>();
        for (PipelineRecord pipeline : metadata.pipelines()) {
            PlanLineage lineage = lineages.get(pipeline.name());
            if (lineage == null) {
                continue;
            }
            long total = 0;
            for (Map.Entry<String, Map<Integer, Long>> topic :
                    lag(pipeline.name(), lineage, ends).entrySet()) {
                for (Map.Entry<Integer, Long> partition : topic.getValue().entrySet()) {
                    total += partition.getValue();
                    readings.add(new TarnMetrics.Reading(
                            "tarn.pipeline.lag.records",
                            Map.of(
                                    "pipeline", pipeline.name(),
                                    "topic", topic.getKey(),
                                    "partition", partition.getKey().toString()),
                            partition.getValue()));
                }
            }
            lagOf.put(pipeline.name(), total);
            pipeline.jobId().flatMap(this::status).ifPresent(status -> {
                Map<String, String> tags = Map.of("pipeline", pipeline.name());
                readings.add(new TarnMetrics.Reading(
                        "tarn.pipeline.checkpoints.completed",
                        tags,
                        status.checkpoints().completed()));
                readings.add(new TarnMetrics.Reading(
                        "tarn.pipeline.checkpoints.failed",
                        tags,
                        status.checkpoints().failed()));
                if (status.checkpoints().lastMillis() >= 0) {
                    readings.add(new TarnMetrics.Reading(
                            "tarn.pipeline.checkpoint.duration.seconds",
                            tags,
                            status.checkpoints().lastMillis() / 1000.0));
                }
            });
        }
        readings.addAll(tables(lineages, lagOf));
        readings.addAll(sources());
        return readings;
    }

    /**
     * One pipeline's lag: per topic it reads (not those it writes too) and partition, the committed records it has not
     * read yet; empty when its lineage is not known (its plan could not be compiled).
     */
    public Optional<Map<String, Map<Integer, Long>>> lag(String pipeline) {
        return lineage.pipelineLineage(pipeline).map(l -> lag(pipeline, l, new HashMap<>()));
    }

    /** The lag of a pipeline, reading each topic's ends once into {@code ends}; topics whose lag is unknown left out. */
    private Map<String, Map<Integer, Long>> lag(
            String pipeline, PlanLineage lineage, Map<String, Map<Integer, Long>> ends) {
        Map<String, Map<Integer, Long>> lag = new TreeMap<>();
        for (String table : lineage.reads()) {
            if (!table.startsWith("stream.") || lineage.writes().contains(table)) {
                continue;
            }
            String topic = table.substring("stream.".length());
            try {
                Map<Integer, Long> end = ends.computeIfAbsent(topic, log::committedEnds);
                Map<Integer, Long> at = positions.position(pipeline, topic);
                Map<Integer, Long> behind = new TreeMap<>();
                end.forEach((partition, offset) ->
                        behind.put(partition, Math.max(0, offset - at.getOrDefault(partition, 0L))));
                lag.put(topic, behind);
            } catch (TarnException e) {
                LOG.debug("The lag of pipeline {} in topic {} is not known: {}", pipeline, topic, e.getMessage());
            }
        }
        return lag;
    }

    /**
     * Per lake table a pipeline writes: its commits (the current snapshot's sequence number), when it was last
     * committed, and its freshness: 0 while every pipeline writing it has committed all it read, else the seconds since
     * its last commit (since it was made, before its first) — how far what it shows is behind the log's head.
     */
    private List<TarnMetrics.Reading> tables(Map<String, PlanLineage> lineages, Map<String, Long> lagOf) {
        Map<String, Set<String>> writers = new HashMap<>();
        lineages.forEach((pipeline, lineage) -> lineage.writes().stream()
                .filter(table -> table.startsWith("lake."))
                .forEach(table -> writers.computeIfAbsent(table.substring("lake.".length()), t -> new TreeSet<>())
                        .add(pipeline)));
        List<TarnMetrics.Reading> readings = new ArrayList<>();
        long now = System.currentTimeMillis();
        for (Map.Entry<String, Set<String>> table : writers.entrySet()) {
            Table loaded;
            try {
                loaded = lake.load(table.getKey());
            } catch (TarnException e) {
                continue; // dropped meanwhile
            }
            Snapshot current = loaded.currentSnapshot();
            Map<String, String> tags = Map.of("table", table.getKey());
            long lastCommit = current == null ? now : current.timestampMillis();
            readings.add(new TarnMetrics.Reading(
                    "tarn.table.commits", tags, current == null ? 0 : current.sequenceNumber()));
            if (current != null) {
                readings.add(
                        new TarnMetrics.Reading("tarn.table.last.commit.timestamp.seconds", tags, lastCommit / 1000.0));
            }
            boolean behind = table.getValue().stream().anyMatch(p -> lagOf.getOrDefault(p, 0L) > 0);
            readings.add(new TarnMetrics.Reading(
                    "tarn.table.freshness.seconds", tags, behind ? Math.max(0, now - lastCommit) / 1000.0 : 0));
        }
        return readings;
    }

    private List<TarnMetrics.Reading> sources() {
        List<TarnMetrics.Reading> readings = new ArrayList<>();
        for (SourceService.Status source : sources.list()) {
            source.lag().ifPresent(lag -> {
                Map<String, String> tags = Map.of("source", source.source().name());
                readings.add(new TarnMetrics.Reading("tarn.source.lag.bytes", tags, lag.bytesBehind()));
                readings.add(new TarnMetrics.Reading("tarn.source.retained.bytes", tags, lag.retainedBytes()));
                readings.add(new TarnMetrics.Reading("tarn.source.active", tags, lag.active() ? 1 : 0));
            });
        }
        return readings;
    }

    private Optional<JobControl.JobStatus> status(String jobId) {
        try {
            return jobs.recentStatus(jobId);
        } catch (TarnException e) {
            return Optional.empty();
        }
    }
}
