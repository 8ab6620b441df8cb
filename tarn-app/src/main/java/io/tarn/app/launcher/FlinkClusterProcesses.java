package io.tarn.app.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tarn.compute.JobJars;
import io.tarn.compute.RestTls;
import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A Flink session cluster of separate JVMs started from Flink's own entry points: one JobManager
 * ({@code StandaloneSessionClusterEntrypoint}) and TaskManagers ({@code TaskManagerRunner}). Their class path is this
 * JVM's without Tarn's modules and without the libraries Tarn ships with each job (Kafka's connector and client,
 * Iceberg, Parquet, Hadoop's client): what a Flink distribution holds plus the catalog's JDBC drivers in its lib/, so a
 * job only runs if Tarn shipped what it needs. Each process writes its output to a log file in the cluster's directory. For the tests and benchmarks
 * of Tarn on a session cluster ({@code compute.cluster}).
 */
public final class FlinkClusterProcesses implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path directory;
    private final Path config;
    private final int restPort;
    private final String classPath;
    private final String scheme;
    private final HttpClient http;
    private final List<Process> taskManagers = new ArrayList<>();
    private Process jobManager;

    private FlinkClusterProcesses(Path directory, Path config, int restPort, String classPath, Optional<RestTls> tls) {
        this.directory = directory;
        this.config = config;
        this.restPort = restPort;
        this.classPath = classPath;
        this.scheme = tls.isPresent() ? "https" : "http";
        HttpClient.Builder client = HttpClient.newBuilder();
        tls.ifPresent(t -> client.sslContext(t.sslContext()));
        this.http = client.build();
    }

    /**
     * Starts the JobManager and {@code taskManagers} TaskManagers of {@code slots} slots each, and waits for them.
     *
     * @param tls the key and certificate of the REST endpoint's mutual TLS (Flink's {@code security.ssl.rest.*}),
     *     which its clients must present; empty: plain HTTP
     * @param options more of the cluster's configuration, such as its S3 file system's {@code s3.*} options (the
     *     processes load Flink's plugins from this JVM's {@code FLINK_PLUGINS_DIR})
     */
    public static FlinkClusterProcesses start(
            Path directory, int taskManagers, int slots, Optional<RestTls> tls, Map<String, String> options)
            throws Exception {
        Path config = directory.resolve("conf");
        Files.createDirectories(config);
        int restPort = ServerProcess.freePort();
        Map<String, String> settings = new HashMap<>(Map.ofEntries(
                Map.entry("jobmanager.rpc.address", "localhost"),
                Map.entry("jobmanager.rpc.port", String.valueOf(ServerProcess.freePort())),
                Map.entry("jobmanager.bind-host", "localhost"),
                Map.entry("rest.address", "localhost"),
                Map.entry("rest.bind-address", "localhost"),
                Map.entry("rest.port", String.valueOf(restPort)),
                Map.entry("taskmanager.bind-host", "localhost"),
                Map.entry("taskmanager.host", "localhost"),
                Map.entry("taskmanager.numberOfTaskSlots", String.valueOf(slots)),
                Map.entry("jobmanager.memory.process.size", "800m"),
                // a TaskManager started from its entry point (not Flink's scripts) is given its resources explicitly
                Map.entry("taskmanager.cpu.cores", "1"),
                Map.entry("taskmanager.memory.framework.heap.size", "128m"),
                Map.entry("taskmanager.memory.task.heap.size", "384m"),
                Map.entry("taskmanager.memory.framework.off-heap.size", "128m"),
                Map.entry("taskmanager.memory.task.off-heap.size", "0m"),
                Map.entry("taskmanager.memory.jvm-metaspace.size", "256m"),
                Map.entry("taskmanager.memory.jvm-overhead.min", "192m"),
                Map.entry("taskmanager.memory.jvm-overhead.max", "192m"),
                Map.entry("taskmanager.memory.managed.size", "64m"),
                Map.entry("taskmanager.memory.network.min", "64m"),
                Map.entry("taskmanager.memory.network.max", "64m"),
                // a killed TaskManager is noticed within seconds, not the default 50 s
                Map.entry("heartbeat.interval", "1000"),
                Map.entry("heartbeat.timeout", "5000"),
                Map.entry("web.submit.enable", "false"),
                // a job's subtasks spread over the TaskManagers, so that killing one hits the job
                Map.entry("taskmanager.load-balance.mode", "SLOTS")));
        settings.putAll(options);
        tls.ifPresent(t -> {
            settings.putAll(t.clientConfig());
            // one version: a cluster writes this option into its RPC system's configuration, which cannot parse the
            // list Tarn's client offers (TLSv1.3,TLSv1.2)
            settings.put("security.ssl.protocol", "TLSv1.3");
        });
        Files.writeString(
                config.resolve("config.yaml"),
                settings.entrySet().stream()
                        .map(e -> e.getKey() + ": " + e.getValue())
                        .sorted()
                        .collect(Collectors.joining("\n", "", "\n")));
        Files.writeString(
                config.resolve("log4j2.properties"),
                String.join(
                        "\n",
                        "rootLogger.level = INFO",
                        "rootLogger.appenderRef.out.ref = out",
                        "appender.out.type = Console",
                        "appender.out.name = out",
                        "appender.out.layout.type = PatternLayout",
                        "appender.out.layout.pattern = %d{HH:mm:ss.SSS} %-5p [%t] %c{1} - %m%n",
                        ""));
        FlinkClusterProcesses cluster = new FlinkClusterProcesses(directory, config, restPort, flinkClassPath(), tls);
        try {
            cluster.jobManager = cluster.launch(
                    "jobmanager", "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint", "-Xmx400m");
            for (int i = 0; i < taskManagers; i++) {
                cluster.addTaskManager();
            }
            cluster.awaitTaskManagers(taskManagers);
            return cluster;
        } catch (Exception e) {
            cluster.close();
            throw e;
        }
    }

    /** {@code https://localhost:<port>} (or {@code http}): the JobManager's REST endpoint, for {@code compute.cluster}. */
    public String restAddress() {
        return scheme + "://localhost:" + restPort;
    }

    /** Starts one more TaskManager. */
    public void addTaskManager() throws IOException {
        int n = taskManagers.size() + 1;
        taskManagers.add(launch(
                "taskmanager-" + n,
                "org.apache.flink.runtime.taskexecutor.TaskManagerRunner",
                "-Xmx600m",
                "-XX:MaxDirectMemorySize=300m"));
    }

    /** SIGKILL to the {@code index}th TaskManager (from 0): nothing of it is flushed or closed. */
    public void killTaskManager(int index) throws InterruptedException {
        Process process = taskManagers.get(index);
        process.destroyForcibly();
        process.waitFor(1, TimeUnit.MINUTES);
    }

    /** Waits until the JobManager counts {@code expected} TaskManagers. */
    public void awaitTaskManagers(int expected) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (true) {
            JsonNode overview = get("/overview");
            if (overview != null && overview.path("taskmanagers").asInt() == expected) {
                return;
            }
            if (!jobManager.isAlive()) {
                throw new IllegalStateException(
                        "the JobManager exited; the end of its log:\n" + tail(log("jobmanager")));
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(
                        "the cluster has not %d TaskManagers after 2 minutes: %s".formatted(expected, overview));
            }
            Thread.sleep(200);
        }
    }

    /** The jobs the cluster knows, each with its {@code jid}, {@code name} and {@code state}. */
    public List<JsonNode> jobs() throws Exception {
        List<JsonNode> jobs = new ArrayList<>();
        JsonNode overview = get("/jobs/overview");
        if (overview != null) {
            overview.path("jobs").forEach(jobs::add);
        }
        return jobs;
    }

    /** The JSON of a REST call, for diagnostics. */
    public String rest(String path) {
        try {
            return String.valueOf(get(path));
        } catch (Exception e) {
            return e.toString();
        }
    }

    private JsonNode get(String path) throws Exception {
        try {
            HttpResponse<String> response = http.send(
                    HttpRequest.newBuilder(URI.create(restAddress() + path))
                            .timeout(Duration.ofSeconds(10))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            return response.statusCode() == 200 ? JSON.readTree(response.body()) : null;
        } catch (IOException e) {
            return null; // not up yet
        }
    }

    private Process launch(String name, String mainClass, String... jvm) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of(jvm));
        command.add("-XX:+UseParallelGC");
        for (String argument : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (argument.startsWith("--add-opens") || argument.startsWith("--add-exports")) {
                command.add(argument); // Flink's module opens, as this JVM was given them
            }
        }
        Path tmp = directory.resolve(name + "-tmp");
        Files.createDirectories(tmp);
        command.addAll(List.of(
                "-Dlog4j2.configurationFile=" + config.resolve("log4j2.properties"),
                "-cp",
                classPath,
                mainClass,
                "--configDir",
                config.toString(),
                "-D",
                "io.tmp.dirs=" + tmp,
                "-D",
                "blob.storage.directory=" + tmp.resolve("blobs")));
        return new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log(name).toFile()))
                .start();
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }

    private Path log(String name) {
        return directory.resolve(name + ".log");
    }

    /**
     * This JVM's class path without Tarn's modules (its jars and directories of classes) and without what Tarn ships
     * with each job, by the artifacts of the build's lists.
     */
    private static String flinkClassPath() {
        String own = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> kept = new ArrayList<>();
        for (String entry : own.split(File.pathSeparator)) {
            Path path = Path.of(entry);
            boolean tarn =
                    Files.isDirectory(path) || path.getFileName().toString().startsWith("tarn-");
            if (!tarn && !JobJars.isShipped(path)) {
                kept.add(entry);
            }
        }
        return String.join(File.pathSeparator, kept);
    }

    /** CPU time the cluster's processes have used so far (those still running), in seconds. */
    public double cpuSeconds() {
        double total = jobManager == null ? 0 : ServerProcess.cpuSeconds(jobManager.pid());
        for (Process process : taskManagers) {
            if (process.isAlive()) {
                total += ServerProcess.cpuSeconds(process.pid());
            }
        }
        return total;
    }

    @Override
    public void close() {
        for (Process process : taskManagers) {
            process.destroyForcibly();
        }
        if (jobManager != null) {
            jobManager.destroyForcibly();
        }
        for (Process process : taskManagers) {
            waitQuietly(process);
        }
        if (jobManager != null) {
            waitQuietly(jobManager);
        }
    }

    private static void waitQuietly(Process process) {
        try {
            process.waitFor(1, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
