package io.tarn.core.io;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;

/**
 * Every path of Tarn's data directory, in one place (docs/operations.md describes them for operators).
 *
 * @param root the data directory ({@code data-dir}, {@code --data-dir}, {@code $TARN_DATA_DIR})
 */
public record DataDir(Path root) {
    public DataDir {
        requireNonNull(root, "root is null");
    }

    /** Tarn's metadata: topics, pipelines, sources, tokens (SQLite). */
    public Path metadata() {
        return root.resolve("tarn.db");
    }

    /** This server's identity among servers that share a metadata database (created at its first start). */
    public Path nodeId() {
        return root.resolve("node.id");
    }

    /** The admin token, readable by its owner only. */
    public Path adminToken() {
        return root.resolve("admin.token");
    }

    /** The embedded Kafka node's logs and metadata. */
    public Path kafka() {
        return root.resolve("kafka");
    }

    /** The lake's Iceberg catalog (SQLite). */
    public Path catalog() {
        return root.resolve("catalog.db");
    }

    /** The lake's files unless {@code lake.warehouse} names another place. */
    public Path warehouse() {
        return root.resolve("warehouse");
    }

    /** Pipelines' retained checkpoints and savepoints ({@code checkpoints/<pipeline>}, {@code savepoints/<pipeline>}). */
    public Path pipelineState() {
        return root.resolve("flink");
    }

    /** The embedded Flink cluster's working files, emptied at each start. */
    public Path flinkWork() {
        return pipelineState().resolve("tmp");
    }

    /** The embedded Flink cluster's TLS key, made at the first start. */
    public Path flinkTls() {
        return pipelineState().resolve("tls");
    }

    /** The live views' serving stores, one SQLite file per view. */
    public Path views() {
        return root.resolve("views");
    }

    /** Change data capture: each source's offsets and schema history. */
    public Path sources() {
        return root.resolve("sources");
    }

    /** Where lake queries spill, emptied at each start. */
    public Path querySpill() {
        return root.resolve("query-spill");
    }

    /** Where lake maintenance (compaction) spills what does not fit its memory limit. */
    public Path maintenanceSpill() {
        return root.resolve("maintenance-spill");
    }

    /** The JVM's temporary directory, emptied at each start. */
    public Path tmp() {
        return root.resolve("tmp");
    }
}
