package io.tarn.server.lake;

import static java.util.Objects.requireNonNull;

import io.tarn.lake.LakeCatalog;
import io.tarn.server.metadata.MetadataStore;
import io.tarn.server.metadata.PipelineRecord;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Expires lake snapshots older than the retention, but never one a pipeline needs to resume exactly once.
 *
 * <p>When a pipeline resumes from a checkpoint or savepoint, Iceberg's Flink committer finds out whether that
 * checkpoint's files were already committed by walking the table's snapshots back from the current one until it meets
 * a snapshot of the same Flink job. If that snapshot had been expired, it would commit the files a second time. So
 * for each table, the newest commit of every pipeline (running or stopped) and all snapshots after it are kept; a
 * stopped pipeline therefore holds back expiry of its tables until it is started or deleted. Older savepoints need no
 * protection: Tarn refuses to resume from them.
 */
public final class SnapshotExpiry {
    private static final Logger LOG = LoggerFactory.getLogger(SnapshotExpiry.class);

    private final LakeCatalog lake;
    private final MetadataStore metadata;
    private final Duration retention;

    public SnapshotExpiry(LakeCatalog lake, MetadataStore metadata, Duration retention) {
        this.lake = requireNonNull(lake, "lake is null");
        this.metadata = requireNonNull(metadata, "metadata is null");
        this.retention = requireNonNull(retention, "retention is null");
    }

    /**
     * Runs one round over every table.
     *
     * @return {@code namespace.table} to the number of snapshots expired, for tables where any were
     */
    public Map<String, Integer> run() {
        long cutoff = System.currentTimeMillis() - retention.toMillis();
        Map<String, Long> keepFrom = new HashMap<>();
        for (PipelineRecord pipeline : metadata.pipelines()) {
            lake.lastCommits(metadata.pipelineJobs(pipeline.name()))
                    .forEach((table, commit) -> keepFrom.merge(table, commit.timestampMillis(), Math::min));
        }
        Map<String, Integer> expired = new TreeMap<>();
        for (String table : lake.listTables()) {
            long olderThan = Math.min(cutoff, keepFrom.getOrDefault(table, Long.MAX_VALUE));
            int count = lake.expireSnapshots(table, olderThan);
            if (count > 0) {
                expired.put(table, count);
                LOG.info("Expired {} snapshots of lake table {}", count, table);
            }
        }
        return expired;
    }
}
