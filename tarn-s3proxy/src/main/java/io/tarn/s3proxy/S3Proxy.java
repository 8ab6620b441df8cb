package io.tarn.s3proxy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * For tests: an S3-compatible server, S3Proxy (Maven Central) with its file-system back end, in a process of its own
 * (its libraries never meet Tarn's), listening on a free port of the loopback address with path-style buckets and AWS
 * signatures (v2 or v4) of one access key. A bucket is a directory under {@code blobs/} of its directory.
 */
public final class S3Proxy implements AutoCloseable {
    public static final String ACCESS_KEY = "tarn-test-access";
    public static final String SECRET_KEY = "tarn-test-secret";
    public static final String REGION = "us-east-1";

    private final Process process;
    private final String endpoint;
    private final Path blobs;

    private S3Proxy(Process process, String endpoint, Path blobs) {
        this.process = process;
        this.endpoint = endpoint;
        this.blobs = blobs;
    }

    /**
     * Starts a server keeping its objects under a directory, with the given buckets, and waits up to a minute for it
     * to accept connections; its log is {@code s3proxy.log} there.
     */
    public static S3Proxy start(Path dir, List<String> buckets) throws IOException, InterruptedException {
        Path blobs = Files.createDirectories(dir.resolve("blobs"));
        for (String bucket : buckets) {
            Files.createDirectories(blobs.resolve(bucket));
        }
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        String endpoint = "http://127.0.0.1:" + port;
        Properties properties = new Properties();
        properties.setProperty("s3proxy.endpoint", endpoint);
        properties.setProperty("s3proxy.authorization", "aws-v2-or-v4");
        properties.setProperty("s3proxy.identity", ACCESS_KEY);
        properties.setProperty("s3proxy.credential", SECRET_KEY);
        properties.setProperty("jclouds.provider", "filesystem");
        properties.setProperty("jclouds.filesystem.basedir", blobs.toString());
        Path configuration = dir.resolve("s3proxy.properties");
        try (OutputStream out = Files.newOutputStream(configuration)) {
            properties.store(out, "S3Proxy for Tarn's tests");
        }
        // its log: warnings and errors only (Logback, without a configuration, logs every request at DEBUG)
        Path logging = dir.resolve("logback.xml");
        Files.writeString(
                logging,
                "<configuration><appender name=\"out\" class=\"ch.qos.logback.core.ConsoleAppender\"><encoder>"
                        + "<pattern>%d{HH:mm:ss.SSS} %-5level %logger{0} - %msg%n</pattern></encoder></appender>"
                        + "<root level=\"WARN\"><appender-ref ref=\"out\"/></root></configuration>");
        Process process = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Xmx256m",
                        "-Dlogback.configurationFile=" + logging,
                        "-cp",
                        classPath(),
                        "org.gaul.s3proxy.Main",
                        "--properties",
                        configuration.toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(
                        dir.resolve("s3proxy.log").toFile()))
                .start();
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        while (!accepts(port)) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                process.destroyForcibly();
                throw new IllegalStateException("S3Proxy did not start; see " + dir.resolve("s3proxy.log"));
            }
            Thread.sleep(100);
        }
        return new S3Proxy(process, endpoint, blobs);
    }

    /** Its process id. */
    public long pid() {
        return process.pid();
    }

    /** Its address, {@code http://127.0.0.1:<port>}. */
    public String endpoint() {
        return endpoint;
    }

    /** Iceberg's S3FileIO properties that reach this server with its credentials. */
    public Map<String, String> ioProperties() {
        return Map.of(
                "s3.endpoint", endpoint(),
                "s3.path-style-access", "true",
                "s3.access-key-id", ACCESS_KEY,
                "s3.secret-access-key", SECRET_KEY,
                "client.region", REGION);
    }

    /** Where the objects of a bucket are, as files. */
    public Path bucketDirectory(String bucket) {
        return blobs.resolve(bucket);
    }

    private static boolean accepts(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** S3Proxy's class path, as the build wrote it: the jars in the local Maven repository. */
    private static String classPath() {
        try (InputStream in = S3Proxy.class.getResourceAsStream("s3proxy.classpath")) {
            if (in == null) {
                throw new IllegalStateException("s3proxy.classpath is missing: build tarn-s3proxy with Maven");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
