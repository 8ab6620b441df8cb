package io.tarn.compute;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.net.URI;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one long-lived Flink MiniCluster of a Tarn process. Pipelines and queries are submitted to it through its REST
 * endpoint, exactly as they would be to a Flink session cluster, so no query starts a cluster of its own (a TableEnvironment without a target starts a MiniCluster per query: 1–4 s each)
 * and the same code drives an external cluster. Every port it opens (REST, blob server) listens on the loopback
 * interface only and speaks mutual TLS with the cluster's own key ({@link RestTls}): another user of the machine cannot
 * submit a job (code that would run as the Tarn process) or fetch a job's files.
 */
public final class EmbeddedFlink implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedFlink.class);

    private final MiniCluster cluster;
    private final FlinkAccess access;

    private EmbeddedFlink(MiniCluster cluster, FlinkAccess access) {
        this.cluster = cluster;
        this.access = access;
    }

    /**
     * Starts the cluster with one TaskManager.
     *
     * @param workDirectory Flink's temporary files (spilling, blobs)
     * @param tls the cluster's key: its REST endpoint and blob server answer only clients that hold it
     * @throws TarnException {@link ErrorCode#COMPUTE_UNAVAILABLE} if it cannot start
     */
    public static EmbeddedFlink start(Path workDirectory, RestTls tls, int taskSlots) {
        Map<String, String> options = new HashMap<>(Map.ofEntries(
                Map.entry("rest.address", "localhost"),
                Map.entry("rest.bind-address", "localhost"),
                // the blob server (and any RPC or data port) would otherwise listen on every interface
                Map.entry("jobmanager.bind-host", "localhost"),
                Map.entry("taskmanager.bind-host", "localhost"),
                Map.entry("taskmanager.host", "localhost"),
                Map.entry("rest.bind-port", "0"),
                Map.entry("rest.port", "0"),
                Map.entry("io.tmp.dirs", workDirectory.toString()),
                Map.entry(
                        "blob.storage.directory", workDirectory.resolve("blobs").toString()),
                Map.entry("taskmanager.memory.managed.size", "128m"),
                Map.entry("taskmanager.memory.network.min", "128m"),
                Map.entry("taskmanager.memory.network.max", "128m"),
                Map.entry("classloader.check-leaked-classloader", "false"),
                Map.entry("web.submit.enable", "false"),
                Map.entry("metrics.fetcher.update-interval", "1000")));
        options.putAll(tls.clusterConfig());
        Configuration config = Configuration.fromMap(options);
        MiniClusterConfiguration configuration = new MiniClusterConfiguration.Builder()
                .setConfiguration(config)
                .setNumTaskManagers(1)
                .setNumSlotsPerTaskManager(taskSlots)
                .build();
        MiniCluster cluster = new MiniCluster(configuration);
        try {
            cluster.start();
            URI rest = cluster.getRestAddress().get(60, TimeUnit.SECONDS);
            LOG.info("Flink MiniCluster started with {} task slots, REST at {} (mutual TLS)", taskSlots, rest);
            return new EmbeddedFlink(cluster, new FlinkAccess(rest, tls.clientConfig(), Optional.of(tls.sslContext())));
        } catch (Exception e) {
            cluster.closeAsync();
            throw new TarnException(
                    ErrorCode.COMPUTE_UNAVAILABLE,
                    "embedded Flink cluster could not start: " + TarnException.rootMessage(e),
                    e);
        }
    }

    /** How to reach its REST endpoint. */
    public FlinkAccess access() {
        return access;
    }

    @Override
    public void close() {
        try {
            cluster.closeAsync().get(60, TimeUnit.SECONDS);
            LOG.info("Flink MiniCluster stopped");
        } catch (Exception e) {
            LOG.warn("Flink MiniCluster did not stop cleanly: {}", TarnException.rootMessage(e));
        }
    }
}
