package io.tarn.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code tarn server} in a child JVM started exactly as {@code ./tarn server} starts it (heap, GC, module opens), for
 * the workloads that measure a process: start-up, recovery after {@code kill -9}, resident memory.
 */
final class ServerChild implements AutoCloseable {
    private static final Pattern READY = Pattern.compile("READY http=(\\S+) kafka=(\\S+)");
    /** The JVM options of {@code ./tarn server}. */
    private static final List<String> SERVER_JVM = List.of("-Xmx2g", "-XX:+UseParallelGC");

    private final Process process;
    final String http;
    final String kafka;
    /** From launching the JVM to its READY line. */
    final long startNanos;

    private ServerChild(Process process, String http, String kafka, long startNanos) {
        this.process = process;
        this.http = http;
        this.kafka = kafka;
        this.startNanos = startNanos;
    }

    /**
     * Starts a server on a data directory with a free HTTP port and the given Kafka port, and waits for READY; its
     * output is appended to {@code log}.
     */
    static ServerChild start(Path dataDir, int kafkaPort, Path log) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(SERVER_JVM);
        for (String argument : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (argument.startsWith("--add-opens") || argument.startsWith("--add-exports")) {
                command.add(argument);
            }
        }
        command.addAll(List.of(
                "-cp",
                System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                "io.tarn.server.launcher.TarnMain",
                "server",
                "--data-dir",
                dataDir.toString(),
                "--http-port",
                "0",
                "--kafka-port",
                String.valueOf(kafkaPort)));
        long launched = System.nanoTime();
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        CompletableFuture<Matcher> ready = new CompletableFuture<>();
        Thread pump = new Thread(
                () -> {
                    try (BufferedReader in = new BufferedReader(
                                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
                            PrintWriter out = new PrintWriter(Files.newBufferedWriter(
                                    log, StandardOpenOption.CREATE, StandardOpenOption.APPEND))) {
                        for (String line; (line = in.readLine()) != null; ) {
                            out.println(line);
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
                "bench-server-output");
        pump.setDaemon(true);
        pump.start();
        try {
            Matcher matcher = ready.get(3, TimeUnit.MINUTES);
            return new ServerChild(process, matcher.group(1), matcher.group(2), System.nanoTime() - launched);
        } catch (Exception e) {
            process.destroyForcibly();
            throw e;
        }
    }

    /** A port that was free a moment ago. */
    static int freePort() throws IOException {
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** Resident set size now, in bytes (Linux {@code VmRSS}). */
    long rssBytes() {
        return status("VmRSS:");
    }

    /** Peak resident set size since start, in bytes (Linux {@code VmHWM}). */
    long peakRssBytes() {
        return status("VmHWM:");
    }

    private long status(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(process.pid()), "status"))) {
                if (line.startsWith(field)) {
                    return Long.parseLong(line.substring(field.length())
                                    .replace("kB", "")
                                    .strip())
                            * 1024;
                }
            }
            throw new IllegalStateException(field + " not in /proc/" + process.pid() + "/status");
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the memory of process " + process.pid(), e);
        }
    }

    /** CPU time the process has used so far, all threads (Linux {@code /proc/PID/stat}, 100 ticks a second). */
    double cpuSeconds() {
        try {
            String stat = Files.readString(Path.of("/proc", String.valueOf(process.pid()), "stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // fields after the command: state is index 0, so utime (14th of the line) is 11 and stime 12
            return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / 100.0;
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the CPU time of process " + process.pid(), e);
        }
    }

    /** SIGKILL: no shutdown hook, nothing flushed. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(1, TimeUnit.MINUTES);
    }

    /** SIGTERM and wait for the clean shutdown. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(2, TimeUnit.MINUTES)) {
            kill();
        }
    }
}
