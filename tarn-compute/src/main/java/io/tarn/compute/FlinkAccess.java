package io.tarn.compute;

import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLContext;

/**
 * How Tarn reaches a Flink cluster's REST endpoint: its address, the Flink options a client needs (TLS), and the TLS
 * context for Tarn's own REST calls.
 *
 * @param clientConfig Flink options of every job submitted to the cluster
 * @param sslContext for {@link #restAddress()} when it is HTTPS
 */
public record FlinkAccess(URI restAddress, Map<String, String> clientConfig, Optional<SSLContext> sslContext) {
    public FlinkAccess {
        requireNonNull(restAddress, "restAddress is null");
        clientConfig = Map.copyOf(requireNonNull(clientConfig, "clientConfig is null"));
        requireNonNull(sslContext, "sslContext is null");
    }

    @Override
    public String toString() { // clientConfig holds a key store password
        return "FlinkAccess[" + restAddress + "]";
    }
}
