package io.tarn.app.launcher;

import io.tarn.core.config.ConfigKeys;
import io.tarn.core.config.TarnConfig;
import io.tarn.core.io.DataDir;
import io.tarn.core.io.Directories;
import io.tarn.server.TarnServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Option;

/** Options shared by {@code tarn server} and {@code tarn demo}; they override tarn.yaml and TARN_* variables. */
public final class ServerOptionsMixin {
    @Option(
            names = "--config",
            paramLabel = "FILE",
            description = "YAML configuration file (see docs/configuration.md).")
    Path config;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Where Tarn keeps its data (default ./tarn-data).")
    String dataDir;

    @Option(names = "--http-port", paramLabel = "N", description = "HTTP API port; 0 picks a free one (default 8080).")
    Integer httpPort;

    @Option(
            names = "--kafka-port",
            paramLabel = "N",
            description = "Kafka protocol port of the embedded broker; 0 picks a free one (default 9092).")
    Integer kafkaPort;

    public TarnConfig load() {
        Map<String, String> overrides = new LinkedHashMap<>();
        if (dataDir != null) {
            overrides.put(ConfigKeys.DATA_DIR.name(), dataDir);
        }
        if (httpPort != null) {
            overrides.put(ConfigKeys.HTTP_PORT.name(), httpPort.toString());
        }
        if (kafkaPort != null) {
            overrides.put(ConfigKeys.LOG_PORT.name(), kafkaPort.toString());
        }
        TarnConfig loaded = TarnConfig.load(Optional.ofNullable(config), System.getenv(), overrides);
        Logging.apply(loaded);
        return loaded;
    }

    /**
     * Points the JVM's temporary directory into the data dir and empties it: Flink's planner and DuckDB extract large
     * files there and leave them behind when the process is killed (45 MB per table environment). Must run before Flink is loaded.
     */
    public static void useTemporaryDirectoryIn(Path dataDir) throws IOException {
        Path tmp = new DataDir(dataDir).tmp();
        try {
            Directories.deleteRecursively(tmp);
        } catch (UncheckedIOException e) {
            // Stale files only waste space; the JVM can still use the directory.
        }
        Files.createDirectories(tmp);
        System.setProperty("java.io.tmpdir", tmp.toString());
    }

    /** The line scripts and tests wait for: {@code READY http=http://HOST:PORT kafka=HOST:PORT}. */
    public static void printReady(TarnServer server) {
        System.out.println("READY http=" + server.httpAddress() + " kafka=" + server.bootstrapServers());
        System.out.flush();
    }
}
