package io.tarn.server.lake;

import static java.util.Objects.requireNonNull;

import io.tarn.lake.LakeCatalog;
import io.tarn.server.metadata.MetadataStore;
import io.tarn.server.metadata.PipelineRecord;
import java.time.Duration;
import java.util.Optional;
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
     * Expires one table's snapshots older than the retention, keeping every pipeline's newest commit and what follows.
     *
     * @param table {@code namespace.table}
     * @return how many snapshots were expired
     */
    public int expire(String table) {
        long olderThan = System.currentTimeMillis() - retention.toMillis();
        for (PipelineRecord pipeline : metadata.pipelines()) {
            Optional<LakeCatalog.FlinkCommit> commit = lake.lastCommit(table, metadata.pipelineJobs(pipeline.name()));
            if (commit.isPresent()) {
                olderThan = Math.min(olderThan, commit.get().timestampMillis());
            }
        }
        int expired = lake.expireSnapshots(table, olderThan);
        if (expired > 0) {
            LOG.info("Expired {} snapshots of lake table {}", expired, table);
        }
        return expired;
    }
}
