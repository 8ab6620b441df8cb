package io.tarn.app.launcher;

import io.tarn.server.auth.Tokens;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code tarn server} in a child JVM started as {@code ./tarn server} starts it (heap, GC, module opens), for what must
 * see a real process: the crash tests (signals, {@code kill -9}) and the benchmarks that measure start-up, recovery
 * and resident memory. Its output is appended to a log file; the child inherits this JVM's class path.
 */
public final class ServerProcess implements AutoCloseable {
    private static final Pattern READY = Pattern.compile("READY http=(\\S+) kafka=(\\S+)");
    /** The heap and GC of {@code ./tarn server}. */
    private static final List<String> SERVER_JVM = List.of("-Xmx2g", "-XX:+UseParallelGC");

    private final Process process;
    /** Base URL of its HTTP API. */
    public final String http;
    /** Its Kafka bootstrap address. */
    public final String kafka;
    /** The admin token of its data dir. */
    public final String token;
    /** From launching the JVM to its READY line. */
    public final long startNanos;

    private ServerProcess(Process process, String http, String kafka, String token, long startNanos) {
        this.process = process;
        this.http = http;
        this.kafka = kafka;
        this.token = token;
        this.startNanos = startNanos;
    }

    /**
     * Starts the server on a free HTTP port with its Kafka listener on {@code kafkaPort} (0: a free one; a fixed one
     * lets Kafka clients follow it across restarts) and waits up to 3 minutes for its READY line.
     *
     * @param environment added to the child's environment (e.g. fault injection switches)
     */
    public static ServerProcess start(Path dataDir, Path log, Map<String, String> environment, int kafkaPort)
            throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(SERVER_JVM);
        // Flink's module opens, which this JVM was given by the launcher or the build
        for (String argument : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (argument.startsWith("--add-opens") || argument.startsWith("--add-exports")) {
                command.add(argument);
            }
        }
        command.addAll(List.of(
                // the logging of ./tarn server, also where a test or the benchmark has its own configuration
                "-Dlog4j2.configurationFile=log4j2.xml",
                "-cp",
                System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                TarnMain.class.getName(),
                "server",
                "--data-dir",
                dataDir.toString(),
                "--http-port",
                "0",
                "--kafka-port",
                String.valueOf(kafkaPort)));
        // straight to the file: a thread reading the child's pipe loses its last lines to the JDK, which closes the
        // pipe under a blocked reader when the child exits ("Stream closed")
        Files.createDirectories(log.toAbsolutePath().getParent());
        long offset = Files.exists(log) ? Files.size(log) : 0;
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().putAll(environment);
        long launched = System.nanoTime();
        Process process = builder.start();
        try {
            long deadline = launched + TimeUnit.MINUTES.toNanos(3);
            while (true) {
                Matcher matcher = READY.matcher(tail(log, offset));
                if (matcher.find()) {
                    long started = System.nanoTime() - launched;
                    return new ServerProcess(
                            process, matcher.group(1), matcher.group(2), Tokens.readAdminToken(dataDir), started);
                }
                if (!process.isAlive()) {
                    throw new IllegalStateException("server exited before READY; see " + log);
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("server not READY within 3 minutes; see " + log);
                }
                Thread.sleep(20);
            }
        } catch (Exception e) {
            process.destroyForcibly();
            throw e;
        }
    }

    private static String tail(Path log, long offset) throws IOException {
        try (SeekableByteChannel channel = Files.newByteChannel(log)) {
            channel.position(offset);
            return new String(Channels.newInputStream(channel).readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** A port that was free a moment ago. */
    public static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** Waits for the process to end by itself (e.g. a fault hook halted it) and returns its exit code. */
    public int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("server still running after " + timeout);
        }
        return process.exitValue();
    }

    /** SIGKILL: no shutdown hook runs, nothing is flushed. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(1, TimeUnit.MINUTES);
    }

    /** SIGSTOP, a pause, then SIGCONT: the process freezes as under a long GC pause or a stalled VM. */
    public void pause(Duration pause) throws Exception {
        signal("STOP");
        Thread.sleep(pause.toMillis());
        signal("CONT");
    }

    private void signal(String name) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + name, String.valueOf(process.pid()))
                .inheritIO()
                .start();
        if (kill.waitFor() != 0) {
            throw new IllegalStateException("kill -" + name + " failed");
        }
    }

    /** SIGTERM, then waits for a clean exit; returns the exit code. */
    public int terminate() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(2, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new IllegalStateException("server did not stop within 2 minutes of SIGTERM");
        }
        return process.exitValue();
    }

    /** Resident set size now, in bytes (Linux {@code VmRSS}). */
    public long rssBytes() {
        return status("VmRSS:");
    }

    /** Peak resident set size since start, in bytes (Linux {@code VmHWM}). */
    public long peakRssBytes() {
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
    public double cpuSeconds() {
        return cpuSeconds(process.pid());
    }

    /** CPU time a process has used so far, all threads (Linux {@code /proc/PID/stat}, 100 ticks a second). */
    public static double cpuSeconds(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // fields after the command: state is index 0, so utime (14th of the line) is 11 and stime 12
            return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / 100.0;
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the CPU time of process " + pid, e);
        }
    }

    /** Kills it if it still runs. */
    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            kill();
        }
    }
}
