package io.tarn.compute;

import com.fasterxml.jackson.databind.JsonNode;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import org.apache.flink.runtime.util.EnvironmentInformation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An existing Flink session cluster ({@code compute.cluster}) that runs Tarn's jobs instead of the embedded
 * MiniCluster: Tarn submits to its REST endpoint as to the MiniCluster's, and ships its own modules and the libraries
 * of its connectors and formats with every job ({@link JobJars}).
 */
public final class SessionCluster {
    private static final Logger LOG = LoggerFactory.getLogger(SessionCluster.class);

    private SessionCluster() {}

    /**
     * Checks that the cluster answers and runs the Flink version Tarn was built with, and returns how to reach it.
     *
     * @param address {@code https://host:port} (or {@code http://}) of the JobManager's REST endpoint
     * @param tls the key Tarn presents to the endpoint and the certificate it trusts there: required for, and only
     *     for, an {@code https} address
     * @param workDirectory where jars to ship are packed when Tarn runs from directories of classes
     * @throws TarnException {@link ErrorCode#INVALID_CONFIG} for an address that is not an {@code http(s)://host:port}
     *     URL or does not go with {@code tls}, {@link ErrorCode#COMPUTE_UNAVAILABLE} if the cluster does not answer or
     *     runs another Flink version
     */
    public static FlinkAccess connect(String address, Optional<RestTls> tls, Path workDirectory) {
        URI rest = restAddress(address);
        boolean https = rest.getScheme().equals("https");
        if (https && tls.isEmpty()) {
            throw new TarnException(
                    ErrorCode.INVALID_CONFIG, "an https:// compute.cluster needs compute.cluster-tls-store");
        }
        if (!https && tls.isPresent()) {
            throw new TarnException(
                    ErrorCode.INVALID_CONFIG,
                    "compute.cluster-tls-store is set but compute.cluster is http://: give it as https://");
        }
        Map<String, String> clientConfig =
                new HashMap<>(tls.map(RestTls::clientConfig).orElse(Map.of()));
        Optional<SSLContext> sslContext = tls.map(RestTls::sslContext);
        JsonNode overview = new FlinkRest(new FlinkAccess(rest, clientConfig, sslContext)).overview();
        String clusterVersion = overview.path("flink-version").asText();
        String ownVersion = EnvironmentInformation.getVersion();
        if (!minor(clusterVersion).equals(minor(ownVersion))) {
            throw new TarnException(
                    ErrorCode.COMPUTE_UNAVAILABLE,
                    "the Flink cluster at %s runs Flink %s; Tarn's jobs need Flink %s.x"
                            .formatted(
                                    rest,
                                    clusterVersion.isEmpty() ? "of an unknown version" : clusterVersion,
                                    minor(ownVersion)));
        }
        List<String> jars = JobJars.resolve(workDirectory);
        LOG.info(
                "Flink session cluster at {}: Flink {}, {} TaskManagers, {} task slots; each job ships {} jars",
                rest,
                clusterVersion,
                overview.path("taskmanagers").asInt(),
                overview.path("slots-total").asInt(),
                jars.size());
        clientConfig.put("pipeline.jars", String.join(";", jars));
        return new FlinkAccess(rest, clientConfig, sslContext);
    }

    /**
     * The REST address of {@code compute.cluster}: an {@code https} or {@code http} URL with a host and a port, and
     * nothing else.
     */
    static URI restAddress(String address) {
        URI uri;
        try {
            uri = new URI(address.strip());
        } catch (URISyntaxException e) {
            throw invalid();
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!(scheme.equals("https") || scheme.equals("http"))
                || uri.getHost() == null
                || uri.getPort() < 1
                || uri.getUserInfo() != null
                || uri.getQuery() != null
                || uri.getFragment() != null
                || !(uri.getRawPath() == null
                        || uri.getRawPath().isEmpty()
                        || uri.getRawPath().equals("/"))) {
            throw invalid();
        }
        return URI.create(scheme + "://" + uri.getRawAuthority());
    }

    private static TarnException invalid() { // the value is not echoed: it may hold a password
        return new TarnException(
                ErrorCode.INVALID_CONFIG,
                "compute.cluster must be the https://host:port (or http://) address of a Flink JobManager's REST"
                        + " endpoint, with no"
                        + " user, path or query");
    }

    /** {@code major.minor} of a version such as {@code 2.1.1}. */
    private static String minor(String version) {
        String[] parts = version.split("\\.");
        return parts.length < 2 ? version : parts[0] + "." + parts[1];
    }
}
