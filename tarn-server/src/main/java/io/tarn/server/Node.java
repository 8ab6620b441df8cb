package io.tarn.server;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.io.DataDir;
import io.tarn.server.http.Route;
import io.tarn.server.metadata.MetadataStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This server's part among Tarn servers that share one metadata database ({@code node.role}). The one whose role is
 * {@code all} runs the pipelines, views, sources and lake maintenance, and holds the lease {@value #LEASE} in the
 * metadata database while it does, so that a second one cannot run them twice. A server whose role is {@code query}
 * runs none of them and answers their routes with {@link ErrorCode#NOT_ON_THIS_NODE}.
 */
final class Node {
    static final String LEASE = "pipelines";
    /** How often the lease is renewed, and how long after its last renewal another server may take it. */
    static final Duration RENEWAL = Duration.ofSeconds(10);

    static final Duration LEASE_TTL = Duration.ofSeconds(60);

    private static final Logger LOG = LoggerFactory.getLogger(Node.class);
    /** The routes of what a query node does not run. */
    private static final List<String> RUNNER_ROUTES =
            List.of("/v1/pipelines", "/v1/views", "/v1/sources", "/v1/tables/{name}/maintenance");
    /** What a query node answers of them: reads of views' rows and changes, from stores it keeps of their topics. */
    private static final Set<String> FOLLOWED_READS = Set.of("/v1/views/{name}", "/v1/views/{name}/changes");

    private final String id;
    private final boolean runsPipelines;
    private final MetadataStore metadata;
    private volatile boolean leaseLost;

    private Node(String id, boolean runsPipelines, MetadataStore metadata) {
        this.id = id;
        this.runsPipelines = runsPipelines;
        this.metadata = metadata;
    }

    /**
     * This server as {@code node.role} says; a server that runs pipelines takes the lease first.
     *
     * @throws TarnException {@link ErrorCode#INVALID_STATE} when another server holds the lease
     */
    static Node start(String role, DataDir dataDir, MetadataStore metadata) {
        Node node = new Node(id(dataDir), role.equals("all"), metadata);
        if (node.runsPipelines) {
            String holder = node.claim();
            if (!holder.equals(node.id)) {
                throw new TarnException(
                        ErrorCode.INVALID_STATE,
                        ("another Tarn server (node %s) runs the pipelines of this metadata database; give this one"
                                        + " node.role=query, or stop that one (its lease ends %d s after its last"
                                        + " renewal)")
                                .formatted(holder, LEASE_TTL.toSeconds()));
            }
        }
        return node;
    }

    /** This server's id, kept in its data directory. */
    String id() {
        return id;
    }

    boolean runsPipelines() {
        return runsPipelines;
    }

    /** Renews the lease; logs once, as an error, when another server took it meanwhile (this one stalled too long). */
    void renew() {
        String holder = claim();
        if (!holder.equals(id) && !leaseLost) {
            leaseLost = true;
            LOG.error(
                    "Node {} lost the pipelines lease to node {} (no renewal for {} s); stop this server: both now"
                            + " run the pipelines",
                    id,
                    holder,
                    LEASE_TTL.toSeconds());
        }
    }

    /** Lets the lease go at a clean stop, so that another server can take over at once. */
    void release() {
        if (runsPipelines) {
            metadata.releaseLease(LEASE, id);
        }
    }

    /** The routes this server serves: on a query node, those of what it does not run refuse. */
    List<Route> routes(List<Route> all) {
        if (runsPipelines) {
            return all;
        }
        return all.stream()
                .map(route -> RUNNER_ROUTES.stream().anyMatch(route.template()::startsWith)
                                && !(route.method().equals("GET") && FOLLOWED_READS.contains(route.template()))
                        ? route.refusing(() -> new TarnException(
                                ErrorCode.NOT_ON_THIS_NODE,
                                "this server's node.role is query: pipelines, views (but reads of their rows),"
                                        + " sources and table maintenance are on the server whose node.role is all"))
                        : route)
                .toList();
    }

    private String claim() {
        return metadata.claimLease(LEASE, id, System.currentTimeMillis(), LEASE_TTL.toMillis());
    }

    /** The id in the data directory, made at the first start. */
    private static String id(DataDir dataDir) {
        try {
            if (Files.exists(dataDir.nodeId())) {
                return Files.readString(dataDir.nodeId(), StandardCharsets.UTF_8)
                        .strip();
            }
            String id = UUID.randomUUID().toString();
            Files.writeString(dataDir.nodeId(), id + "\n", StandardCharsets.UTF_8);
            return id;
        } catch (IOException e) {
            throw new UncheckedIOException("the node id in the data directory could not be read or written", e);
        }
    }
}
