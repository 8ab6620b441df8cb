package io.tarn.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tarn sources}: change data capture from databases. */
@Command(
        name = "sources",
        mixinStandardHelpOptions = true,
        description = "Capture database tables into topics (change data capture) and mirror them into the lake.",
        subcommands = {
            SourcesCommand.Create.class,
            SourcesCommand.ListSources.class,
            SourcesCommand.Describe.class,
            SourcesCommand.Snapshot.class,
            SourcesCommand.Delete.class
        })
final class SourcesCommand extends CommandGroup {
    @Command(
            name = "snapshot",
            mixinStandardHelpOptions = true,
            description =
                    "Follow a source's snapshot until it completes: a progress bar of its tables, the rows scanned"
                            + " and the time left; exits 1 if the source fails.")
    static final class Snapshot extends TarnCli.ApiCommand {
        @Parameters(index = "0", description = "Source name.")
        String name;

        @Option(
                names = "--progress",
                defaultValue = "auto",
                description = "A progress bar on standard error: auto (when it is a terminal), always or never.")
        String progress;

        @Option(
                names = "--poll",
                defaultValue = "1000",
                paramLabel = "MS",
                description = "How often to ask, in milliseconds (default: ${DEFAULT-VALUE}).")
        long poll;

        @Override
        public Integer call() throws InterruptedException {
            String path = "v1/sources/" + ApiClient.segment(name);
            Progress bar = null;
            while (true) {
                JsonNode source = api().get(path);
                JsonNode snapshot = source.path("snapshot");
                long tables = snapshot.path("tables").asLong();
                long done = tables - snapshot.path("remainingTables").asLong();
                long rows = 0;
                for (JsonNode scanned : snapshot.path("rowsScanned")) {
                    rows += scanned.asLong();
                }
                if (bar == null) {
                    bar = Progress.of(
                            Progress.shown(progress), spec.commandLine().getErr(), "snapshot", "tables", tables);
                }
                bar.at(done);
                if (source.path("state").asText().equals("FAILED")) {
                    bar.end();
                    spec.commandLine()
                            .getErr()
                            .printf("error: source %s failed: %s%n", name, text(source.path("lastError")));
                    spec.commandLine().getErr().flush();
                    return 1;
                }
                if (snapshot.path("completed").asBoolean()) {
                    bar.end();
                    print("snapshot of source %s complete: %d rows of %d tables%n".formatted(name, rows, tables));
                    return 0;
                }
                Thread.sleep(poll);
            }
        }
    }

    @Command(
            name = "create",
            mixinStandardHelpOptions = true,
            description =
                    "Capture PostgreSQL or MariaDB tables: snapshot, then every change, into topics and lake tables.")
    static final class Create extends TarnCli.ApiCommand {
        @Parameters(index = "0", description = "Source name: lower-case letters, digits and '_'.")
        String name;

        @Option(
                names = "--connection",
                required = true,
                description = "postgresql://host:port/database[?sslmode=...] or mariadb://host:port/database,"
                        + " without credentials.")
        String connection;

        @Option(names = "--user", required = true, description = "Database user (needs replication rights).")
        String user;

        @Option(
                names = "--password-env",
                defaultValue = "PGPASSWORD",
                description = "Environment variable holding the password (default: ${DEFAULT-VALUE}); never on the"
                        + " command line, where other users could read it.")
        String passwordEnv;

        @Option(
                names = "--table",
                required = true,
                paramLabel = "SCHEMA.TABLE",
                description = "A table to capture; repeatable.")
        List<String> tables = new ArrayList<>();

        @Option(names = "--no-mirror", description = "Only capture into topics; keep no lake tables.")
        boolean noMirror;

        @Override
        public Integer call() {
            String password = System.getenv(passwordEnv);
            ObjectNode body = ApiClient.JSON
                    .createObjectNode()
                    .put("name", name)
                    .put("connection", connection)
                    .put("user", user)
                    .put("password", password == null ? "" : password)
                    .put("mirror", !noMirror);
            ArrayNode array = body.putArray("tables");
            tables.forEach(array::add);
            show(api().post("v1/sources", body));
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List sources and their state.")
    static final class ListSources extends TarnCli.ApiCommand {
        @Override
        public Integer call() {
            JsonNode answer = api().get("v1/sources");
            if (json) {
                printJson(answer);
                return 0;
            }
            List<List<String>> rows = new ArrayList<>();
            for (JsonNode source : answer.path("sources")) {
                rows.add(List.of(
                        text(source.path("name")),
                        text(source.path("state")),
                        text(source.path("records")),
                        text(source.path("lag").path("bytesBehind")),
                        String.valueOf(source.path("warnings").size())));
            }
            print(Table.render(List.of("name", "state", "records", "bytes behind", "warnings"), rows));
            return 0;
        }
    }

    @Command(
            name = "describe",
            mixinStandardHelpOptions = true,
            description = "Describe a source: tables, topics, snapshot progress, lag, warnings, last error.")
    static final class Describe extends TarnCli.ApiCommand {
        @Parameters(index = "0", description = "Source name.")
        String name;

        @Override
        public Integer call() {
            show(api().get("v1/sources/" + ApiClient.segment(name)), s -> {
                JsonNode snapshot = s.path("snapshot");
                JsonNode lag = s.path("lag");
                List<String> scanned = new ArrayList<>();
                snapshot.path("rowsScanned").properties().forEach(e -> scanned.add(e.getKey() + ": " + e.getValue()));
                List<String> topics = new ArrayList<>();
                s.path("topics")
                        .properties()
                        .forEach(e -> topics.add(
                                e.getKey() + " → topic " + e.getValue().asText()
                                        + (s.path("lakeTables").has(e.getKey())
                                                ? ", lake."
                                                        + s.path("lakeTables")
                                                                .path(e.getKey())
                                                                .asText()
                                                : "")));
                List<String> warnings = new ArrayList<>();
                s.path("warnings").forEach(w -> warnings.add(w.asText()));
                return new Block()
                        .add("name", text(s.path("name")))
                        .add("type", text(s.path("type")))
                        .add("state", text(s.path("state")))
                        .add("connection", text(s.path("connection")))
                        .add("user", text(s.path("user")))
                        .add(
                                "snapshot",
                                snapshot.path("completed").asBoolean()
                                        ? "complete"
                                        : "%s of %s tables done"
                                                .formatted(
                                                        snapshot.path("tables").asLong()
                                                                - snapshot.path("remainingTables")
                                                                        .asLong(),
                                                        text(snapshot.path("tables"))))
                        .add("records", text(s.path("records")) + " change records since the capture (re)started")
                        .add("captured", text(lag.path("captured")))
                        .add("bytes behind", text(lag.path("bytesBehind")))
                        .add("retained WAL", text(lag.path("retainedBytes")))
                        .add("mirror pipeline", text(s.path("mirrorPipeline")))
                        .add("last error", s.path("lastError").isNull() ? "none" : text(s.path("lastError")))
                        .lines("rows scanned", scanned)
                        .lines("tables", topics)
                        .lines("warnings", warnings)
                        .render();
            });
            return 0;
        }
    }

    @Command(
            name = "delete",
            mixinStandardHelpOptions = true,
            description = "Delete a source: its replication slot and publication, its mirror pipeline; topics and"
                    + " lake tables stay.")
    static final class Delete extends TarnCli.ApiCommand {
        @Parameters(index = "0", description = "Source name.")
        String name;

        @Override
        public Integer call() {
            api().delete("v1/sources/" + ApiClient.segment(name));
            print("deleted source " + name + "\n");
            return 0;
        }
    }
}
