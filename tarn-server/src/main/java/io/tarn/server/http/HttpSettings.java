package io.tarn.server.http;

import static java.util.Objects.requireNonNull;

import io.tarn.core.config.ConfigKeys;
import io.tarn.core.config.TarnConfig;
import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;

/**
 * How the API listens.
 *
 * @param allowedHosts host names besides localhost and IP addresses that clients may use
 * @param tls key store and password for HTTPS; empty for plain HTTP (loopback hosts only)
 */
public record HttpSettings(
        String host,
        int port,
        int threads,
        long maxRequestBytes,
        int maxConnections,
        Duration readTimeout,
        Set<String> allowedHosts,
        Optional<Tls> tls) {
    public HttpSettings {
        requireNonNull(host, "host is null");
        requireNonNull(readTimeout, "readTimeout is null");
        allowedHosts = Set.copyOf(allowedHosts);
        requireNonNull(tls, "tls is null");
    }

    /**
     * @throws TarnException {@link ErrorCode#INVALID_CONFIG} for a non-loopback host without TLS
     */
    public static HttpSettings from(TarnConfig config) {
        String keyStore = config.get(ConfigKeys.HTTP_TLS_KEY_STORE);
        Optional<Tls> tls = keyStore.isBlank()
                ? Optional.empty()
                : Optional.of(new Tls(Path.of(keyStore), config.get(ConfigKeys.HTTP_TLS_KEY_STORE_PASSWORD)));
        String host = config.get(ConfigKeys.HTTP_HOST);
        Set<String> names = new LinkedHashSet<>(config.get(ConfigKeys.HTTP_ALLOWED_HOSTS));
        names.add(host);
        HttpSettings settings = new HttpSettings(
                host,
                config.get(ConfigKeys.HTTP_PORT),
                config.get(ConfigKeys.HTTP_THREADS),
                config.get(ConfigKeys.HTTP_MAX_REQUEST_BYTES),
                config.get(ConfigKeys.HTTP_MAX_CONNECTIONS),
                config.get(ConfigKeys.HTTP_READ_TIMEOUT),
                names,
                tls);
        if (tls.isEmpty() && !settings.loopback()) {
            throw new TarnException(
                    ErrorCode.INVALID_CONFIG,
                    ("http.host '%s' is not a loopback address: Tarn does not send tokens over a network in clear"
                                    + " text. Configure http.tls.key-store and http.tls.key-store-password (see"
                                    + " docs/security.md), or bind to 127.0.0.1")
                            .formatted(host));
        }
        return settings;
    }

    /** Whether the host is a loopback address (a name is resolved: the operator chose it). */
    boolean loopback() {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            throw new TarnException(ErrorCode.INVALID_CONFIG, "http.host '%s' cannot be resolved".formatted(host), e);
        }
    }

    String scheme() {
        return tls.isPresent() ? "https" : "http";
    }

    /** A key store for HTTPS; its password never appears in {@link #toString()}. */
    public record Tls(Path keyStore, String password) {
        public Tls {
            requireNonNull(keyStore, "keyStore is null");
            requireNonNull(password, "password is null");
        }

        @Override
        public String toString() {
            return "Tls[keyStore=" + keyStore + "]";
        }
    }
}
