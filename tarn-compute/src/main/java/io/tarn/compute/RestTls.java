package io.tarn.compute;

import static java.util.Objects.requireNonNull;

import io.tarn.core.error.ErrorCode;
import io.tarn.core.error.TarnException;
import io.tarn.core.io.Directories;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Mutual TLS for the embedded Flink cluster's endpoints: its REST API accepts job submissions (code that runs as the
 * Tarn process), and its blob server serves jobs' files, so both answer only clients holding the cluster's own key.
 *
 * <p>The key and its self-signed certificate (for {@code localhost} and 127.0.0.1) are made once, on the first start,
 * with the JDK's {@code keytool}, into a PKCS12 store in the data directory (mode 0700) with a random password next to
 * it (mode 0600). The same store is key store and trust store: the server and Tarn's clients present and trust exactly
 * this certificate.
 */
public final class RestTls {
    private static final String STORE = "cluster.p12";
    private static final String PASSWORD = "cluster.password";
    /** TLS 1.3 suites, and TLS 1.2 suites with forward secrecy (Flink's own default is an RSA key exchange suite). */
    private static final String CIPHER_SUITES = "TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384,"
            + "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384";

    private final Path store;
    private final String password;

    private RestTls(Path store, String password) {
        this.store = store;
        this.password = password;
    }

    /**
     * The cluster's key in {@code directory}, made there if it is not yet.
     *
     * @throws TarnException {@link ErrorCode#COMPUTE_UNAVAILABLE} when it cannot be made or read
     */
    public static RestTls open(Path directory) {
        Path store = directory.resolve(STORE);
        Path passwordFile = directory.resolve(PASSWORD);
        try {
            if (!Files.isRegularFile(store) || !Files.isRegularFile(passwordFile)) {
                Directories.createOwnerOnly(directory);
                Files.deleteIfExists(store);
                byte[] random = new byte[24];
                new SecureRandom().nextBytes(random);
                String password = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
                generate(store, password);
                Directories.writeOwnerOnly(passwordFile, password);
            }
            return new RestTls(
                    store,
                    Files.readString(passwordFile, StandardCharsets.UTF_8).strip());
        } catch (IOException | UncheckedIOException e) {
            throw new TarnException(
                    ErrorCode.COMPUTE_UNAVAILABLE,
                    "the key of the embedded Flink cluster cannot be made or read: " + TarnException.rootMessage(e),
                    e);
        }
    }

    /**
     * A store made elsewhere (a session cluster's), holding the key and certificate Tarn presents and trusts.
     *
     * @throws TarnException {@link ErrorCode#INVALID_CONFIG} when it cannot be read with the password
     */
    public static RestTls of(Path store, String password) {
        RestTls tls = new RestTls(store.toAbsolutePath(), password);
        try (InputStream in = Files.newInputStream(tls.store)) {
            KeyStore.getInstance("PKCS12").load(in, password.toCharArray());
        } catch (IOException | GeneralSecurityException e) {
            throw new TarnException(
                    ErrorCode.INVALID_CONFIG,
                    "compute.cluster-tls-store cannot be read with its password: " + TarnException.rootMessage(e));
        }
        return tls;
    }

    private static void generate(Path store, String password) throws IOException {
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        ProcessBuilder keytoolRun = new ProcessBuilder(
                        keytool.toString(),
                        "-genkeypair",
                        "-alias",
                        "tarn-flink",
                        "-keyalg",
                        "RSA",
                        "-keysize",
                        "2048",
                        "-dname",
                        "CN=localhost",
                        "-ext",
                        "SAN=dns:localhost,ip:127.0.0.1,ip:::1",
                        "-validity",
                        "36500",
                        "-storetype",
                        "PKCS12",
                        "-keystore",
                        store.toString(),
                        "-storepass:env",
                        "TARN_FLINK_STORE_PASSWORD")
                .redirectErrorStream(true);
        keytoolRun.environment().put("TARN_FLINK_STORE_PASSWORD", password);
        Process started = keytoolRun.start();
        started.getOutputStream().close();
        String output = new String(started.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!started.waitFor(2, TimeUnit.MINUTES) || started.exitValue() != 0) {
                started.destroyForcibly();
                throw new IOException("keytool failed: " + output.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while keytool made the key", e);
        }
    }

    /** Flink options that turn mutual TLS on for the cluster's REST endpoint and internal connections. */
    Map<String, String> clusterConfig() {
        Map<String, String> config = new LinkedHashMap<>(clientConfig());
        for (String scope : List.of("internal")) {
            config.put("security.ssl." + scope + ".enabled", "true");
            config.put("security.ssl." + scope + ".keystore", store.toString());
            config.put("security.ssl." + scope + ".keystore-type", "PKCS12");
            config.put("security.ssl." + scope + ".truststore-type", "PKCS12");
            config.put("security.ssl." + scope + ".keystore-password", password);
            config.put("security.ssl." + scope + ".key-password", password);
            config.put("security.ssl." + scope + ".truststore", store.toString());
            config.put("security.ssl." + scope + ".truststore-password", password);
        }
        return config;
    }

    /**
     * Flink options a client of the cluster (a table environment submitting jobs) needs; the same options turn mutual
     * TLS on for a cluster's REST endpoint.
     */
    public Map<String, String> clientConfig() {
        Map<String, String> config = new LinkedHashMap<>();
        config.put("security.ssl.rest.enabled", "true");
        config.put("security.ssl.rest.authentication-enabled", "true");
        config.put("security.ssl.rest.keystore", store.toString());
        config.put("security.ssl.rest.keystore-type", "PKCS12");
        config.put("security.ssl.rest.truststore-type", "PKCS12");
        config.put("security.ssl.rest.keystore-password", password);
        config.put("security.ssl.rest.key-password", password);
        config.put("security.ssl.rest.truststore", store.toString());
        config.put("security.ssl.rest.truststore-password", password);
        config.put("security.ssl.protocol", "TLSv1.3,TLSv1.2");
        config.put("security.ssl.algorithms", CIPHER_SUITES);
        return config;
    }

    /** A TLS context that presents and trusts the cluster's certificate, for Tarn's own REST calls. */
    public SSLContext sslContext() {
        try (InputStream in = Files.newInputStream(store)) {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(in, password.toCharArray());
            KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keyManagers.init(keys, password.toCharArray());
            TrustManagerFactory trustManagers =
                    TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trustManagers.init(keys);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keyManagers.getKeyManagers(), trustManagers.getTrustManagers(), new SecureRandom());
            return context;
        } catch (IOException | GeneralSecurityException e) {
            throw new TarnException(
                    ErrorCode.COMPUTE_UNAVAILABLE,
                    "the Flink cluster's TLS store cannot be read: " + TarnException.rootMessage(e),
                    e);
        }
    }

    @Override
    public String toString() {
        return "RestTls[" + requireNonNull(store) + "]";
    }
}
