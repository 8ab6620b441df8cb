package io.tarn.server;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** {@code tarn server} in a child JVM, as a user runs it, so tests can kill it with signals. */
final class ServerProcess implements AutoCloseable {
    private static final Pattern READY = Pattern.compile("READY http=(\\S+) kafka=(\\S+)");

    private final Process process;
    private final Thread output;
    final String http;
    final String kafka;

    private ServerProcess(Process process, Thread output, String http, String kafka) {
        this.process = process;
        this.output = output;
        this.http = http;
        this.kafka = kafka;
    }

    /** Starts the server on free ports and waits for its READY line; its output goes to {@code log}. */
    static ServerProcess start(Path dataDir, Path log, Map<String, String> environment) throws Exception {
        return start(dataDir, log, environment, 0);
    }

    /**
     * Starts the server with its Kafka listener on {@code kafkaPort} (0: a free one), so Kafka clients can follow it
     * across restarts.
     */
    static ServerProcess start(Path dataDir, Path log, Map<String, String> environment, int kafkaPort)
            throws Exception {
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx2g");
        command.addAll(
                Arrays.asList(System.getProperty("tarn.jvm.opens", "").trim().split("\\s+")));
        command.addAll(List.of(
                "-cp",
                classpath,
                "io.tarn.server.launcher.TarnMain",
                "server",
                "--data-dir",
                dataDir.toString(),
                "--http-port",
                "0",
                "--kafka-port",
                String.valueOf(kafkaPort)));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(environment);
        Process process = builder.start();
        CompletableFuture<Matcher> ready = new CompletableFuture<>();
        Thread pump = new Thread(
                () -> {
                    try (BufferedReader in = new BufferedReader(
                                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
                            PrintWriter out = new PrintWriter(Files.newBufferedWriter(
                                    log, StandardOpenOption.CREATE, StandardOpenOption.APPEND))) {
                        for (String line; (line = in.readLine()) != null; ) {
                            out.println(line);
                            out.flush();
                            Matcher matcher = READY.matcher(line);
                            if (matcher.find()) {
                                ready.complete(matcher);
                            }
                        }
                    } catch (IOException e) {
                        ready.completeExceptionally(e);
                    }
                    ready.completeExceptionally(new IllegalStateException("server exited before READY; see " + log));
                },
                "server-output");
        pump.setDaemon(true);
        pump.start();
        Matcher matcher = ready.get(3, TimeUnit.MINUTES);
        return new ServerProcess(process, pump, matcher.group(1), matcher.group(2));
    }

    /** A port that was free a moment ago. */
    static int freePort() throws IOException {
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** Waits for the process to end by itself (e.g. a fault hook halted it) and returns its exit code. */
    int awaitExit(java.time.Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("server still running after " + timeout);
        }
        output.join(10_000);
        return process.exitValue();
    }

    /** SIGKILL: no shutdown hook runs. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(1, TimeUnit.MINUTES);
    }

    /** SIGSTOP, a pause, then SIGCONT: the process freezes as under a long GC pause or a stalled VM. */
    void pause(java.time.Duration pause) throws Exception {
        signal("STOP");
        Thread.sleep(pause.toMillis());
        signal("CONT");
    }

    private void signal(String name) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + name, String.valueOf(process.pid()))
                .inheritIO()
                .start();
        if (kill.waitFor() != 0) {
            throw new AssertionError("kill -" + name + " failed");
        }
    }

    /** SIGTERM, then waits for a clean exit and for its last output to be in the log. */
    int terminate() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(2, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError("server did not stop within 2 minutes of SIGTERM");
        }
        output.join(10_000);
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            kill();
        }
    }
}
