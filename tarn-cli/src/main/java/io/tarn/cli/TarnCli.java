package io.tarn.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tarn.core.io.DataDir;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** The {@code tarn} command line client. Every command is one or a few calls of the HTTP API. */
@Command(
        name = "tarn",
        mixinStandardHelpOptions = true,
        version = "tarn 0.1.0",
        description = "Tarn, a streaming lakehouse: Kafka log, Flink SQL pipelines, Iceberg lake.",
        subcommands = {
            TarnCli.Topics.class,
            ProduceCommand.class,
            TarnCli.Pipelines.class,
            TarnCli.Sources.class,
            TarnCli.Tables.class,
            TarnCli.Sql.class,
            TokensCommand.class,
            CommandLine.HelpCommand.class
        })
public final class TarnCli implements Runnable {
    @Option(names = "--url", description = "Tarn's HTTP API (default: $TARN_URL or http://localhost:8080).")
    String url;

    @Option(
            names = "--data-dir",
            paramLabel = "DIR",
            description = "Tarn's data directory, whose admin.token the CLI sends when $TARN_TOKEN is not set"
                    + " (default: $TARN_DATA_DIR or ./tarn-data).")
    Path dataDir;

    @Spec
    CommandLine.Model.CommandSpec spec;

    /** The token to send: {@code $TARN_TOKEN}, else the admin token of the data dir, if there is one. */
    ApiClient.Credentials credentials() {
        String fromEnvironment = System.getenv("TARN_TOKEN");
        if (fromEnvironment != null && !fromEnvironment.isBlank()) {
            return new ApiClient.Credentials(Optional.of(fromEnvironment.strip()), "$TARN_TOKEN");
        }
        Path directory =
                dataDir != null ? dataDir : Path.of(System.getenv().getOrDefault("TARN_DATA_DIR", "tarn-data"));
        Path file = new DataDir(directory).adminToken();
        try {
            return new ApiClient.Credentials(Optional.of(Files.readString(file).strip()), file.toString());
        } catch (IOException e) {
            return new ApiClient.Credentials(
                    Optional.empty(), "no token: $TARN_TOKEN is not set and %s cannot be read".formatted(file));
        }
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** A command line whose errors from the API print as {@code error: NAME: message} with Tarn's exit codes. */
    public static CommandLine commandLine(Object root) {
        CommandLine line = new CommandLine(root);
        line.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof ApiException api) {
                PrintWriter err = cmd.getErr();
                err.println("error: " + api.name() + ": " + api.getMessage());
                for (JsonNode record : api.details().path("records")) {
                    err.println("  record " + record.path("index").asInt() + ": "
                            + record.path("reason").asText());
                }
                err.flush();
                return api.exitCode();
            }
            if (e instanceof CliException cli) {
                cmd.getErr().println("error: " + cli.getMessage());
                cmd.getErr().flush();
                return 3;
            }
            // never a stack trace: one line that says what failed
            cmd.getErr().println("error: " + e.getClass().getSimpleName() + ": " + e.getMessage());
            cmd.getErr().flush();
            return 1;
        });
        return line;
    }

    public static void main(String[] args) {
        System.exit(commandLine(new TarnCli()).execute(args));
    }

    /** A problem with the command's own input (a file that cannot be read). */
    static final class CliException extends RuntimeException {
        CliException(String message) {
            super(message);
        }
    }

    abstract static class ApiCommand implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;

        ApiClient api() {
            TarnCli root = (TarnCli) root();
            String url = root.url;
            if (url == null) {
                url = System.getenv().getOrDefault("TARN_URL", "http://localhost:8080");
            }
            return new ApiClient(base(url), root.credentials());
        }

        /** The API's base URL: http:// or https://, a host, maybe a port; a bare host:port is refused with a hint. */
        static URI base(String url) {
            URI uri;
            try {
                uri = new URI(url.endsWith("/") ? url : url + "/");
            } catch (URISyntaxException e) {
                uri = null;
            }
            if (uri == null
                    || uri.getHost() == null
                    || !("http".equalsIgnoreCase(uri.getScheme()) || "https".equalsIgnoreCase(uri.getScheme()))) {
                throw new CliException(
                        "--url '%s' is not an http:// or https:// URL; write it as http://%s".formatted(url, url));
            }
            return uri;
        }

        private Object root() {
            CommandLine line = spec.commandLine();
            while (line.getParent() != null) {
                line = line.getParent();
            }
            return line.getCommand();
        }

        PrintWriter out() {
            return spec.commandLine().getOut();
        }

        void print(String text) {
            out().print(text);
            out().flush();
        }

        void printJson(JsonNode node) {
            try {
                print(ApiClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node) + "\n");
            } catch (IOException e) {
                throw new CliException("could not print JSON: " + e.getMessage());
            }
        }

        static String text(JsonNode node) {
            if (node == null || node.isNull() || node.isMissingNode()) {
                return "";
            }
            return node.isValueNode() ? node.asText() : node.toString();
        }

        static byte[] read(String file) {
            try {
                if (file == null || file.equals("-")) {
                    return System.in.readAllBytes();
                }
                return Files.readAllBytes(Path.of(file));
            } catch (IOException e) {
                throw new CliException("cannot read %s: %s".formatted(file, e.getMessage()));
            }
        }

        /**
         * The SQL an option gives: a file's text, standard input's ({@code -}), or, when no such file exists and the
         * value holds a space or a semicolon, the value itself.
         */
        static String sql(String fileOrSql) {
            if (!fileOrSql.equals("-")
                    && !Files.exists(Path.of(fileOrSql.length() > 255 ? "-" : fileOrSql.strip()))
                    && (fileOrSql.contains(" ") || fileOrSql.contains(";") || fileOrSql.contains("\n"))) {
                return fileOrSql;
            }
            return new String(read(fileOrSql), StandardCharsets.UTF_8);
        }
    }

    @Command(
            name = "topics",
            mixinStandardHelpOptions = true,
            description = "Create, list, describe and delete topics.",
            subcommands = {Topics.Create.class, Topics.ListTopics.class, Topics.Describe.class, Topics.Delete.class})
    static final class Topics implements Runnable {
        @Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            spec.commandLine().usage(spec.commandLine().getOut());
        }

        @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a topic.")
        static final class Create extends ApiCommand {
            @Parameters(index = "0", description = "Topic name.")
            String name;

            @Option(
                    names = "--partitions",
                    description = "Partition count (default: the server's log.default-partitions).")
            Integer partitions;

            @Option(
                    names = "--column",
                    paramLabel = "NAME:TYPE",
                    description =
                            "A JSON column, e.g. page:STRING or ts:TIMESTAMP(3); repeatable. None: one raw `value` column.")
            List<String> columns = new ArrayList<>();

            @Option(
                    names = "--watermark",
                    paramLabel = "COLUMN:DELAY",
                    description = "Event-time watermark, e.g. event_time:5s.")
            String watermark;

            @Override
            public Integer call() {
                ObjectNode body = ApiClient.JSON.createObjectNode().put("name", name);
                if (partitions != null) {
                    body.put("partitions", partitions);
                }
                if (!columns.isEmpty()) {
                    ArrayNode array = body.putArray("columns");
                    for (String column : columns) {
                        int colon = column.indexOf(':');
                        if (colon < 1) {
                            throw new CliException("--column must be NAME:TYPE, got '" + column + "'");
                        }
                        array.addObject()
                                .put("name", column.substring(0, colon))
                                .put("type", column.substring(colon + 1));
                    }
                }
                if (watermark != null) {
                    int colon = watermark.indexOf(':');
                    if (colon < 1) {
                        throw new CliException("--watermark must be COLUMN:DELAY, got '" + watermark + "'");
                    }
                    body.putObject("watermark")
                            .put("column", watermark.substring(0, colon))
                            .put("delay", watermark.substring(colon + 1));
                }
                printJson(api().post("v1/topics", body));
                return 0;
            }
        }

        @Command(name = "list", mixinStandardHelpOptions = true, description = "List topics.")
        static final class ListTopics extends ApiCommand {
            @Override
            public Integer call() {
                List<List<String>> rows = new ArrayList<>();
                for (JsonNode topic : api().get("v1/topics").path("topics")) {
                    rows.add(List.of(
                            text(topic.path("name")),
                            text(topic.path("partitions")),
                            text(topic.path("records")),
                            text(topic.path("table"))));
                }
                print(Table.render(List.of("name", "partitions", "records", "table"), rows));
                return 0;
            }
        }

        @Command(
                name = "describe",
                mixinStandardHelpOptions = true,
                description = "Describe a topic: columns, partitions, records.")
        static final class Describe extends ApiCommand {
            @Parameters(index = "0", description = "Topic name.")
            String name;

            @Override
            public Integer call() {
                printJson(api().get("v1/topics/" + ApiClient.segment(name)));
                return 0;
            }
        }

        @Command(
                name = "delete",
                mixinStandardHelpOptions = true,
                description = "Delete a topic and its records; refused while pipelines or sources use it.")
        static final class Delete extends ApiCommand {
            @Parameters(index = "0", description = "Topic name.")
            String name;

            @Option(names = "--force", description = "Delete it even when pipelines use it; they fail.")
            boolean force;

            @Override
            public Integer call() {
                api().delete("v1/topics/" + ApiClient.segment(name) + (force ? "?force=true" : ""));
                print("deleted topic " + name + "\n");
                return 0;
            }
        }
    }

    @Command(
            name = "pipelines",
            mixinStandardHelpOptions = true,
            description = "Manage Flink SQL pipelines.",
            subcommands = {
                Pipelines.Create.class,
                Pipelines.ListPipelines.class,
                Pipelines.Describe.class,
                Pipelines.Stop.class,
                Pipelines.Start.class,
                Pipelines.Update.class,
                Pipelines.Savepoints.class,
                Pipelines.Delete.class
            })
    static final class Pipelines implements Runnable {
        @Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            spec.commandLine().usage(spec.commandLine().getOut());
        }

        @Command(
                name = "create",
                mixinStandardHelpOptions = true,
                description = "Create and start a pipeline from Flink SQL.")
        static final class Create extends ApiCommand {
            @Parameters(index = "0", description = "Pipeline name.")
            String name;

            @Option(
                    names = "--sql",
                    required = true,
                    description =
                            "The pipeline's Flink SQL: a file, '-' for standard input, or the statements themselves.")
            String sqlFile;

            @Override
            public Integer call() {
                String sql = sql(sqlFile);
                printJson(api().post("v1/pipelines", Map.of("name", name, "sql", sql)));
                return 0;
            }
        }

        @Command(name = "list", mixinStandardHelpOptions = true, description = "List pipelines and their state.")
        static final class ListPipelines extends ApiCommand {
            @Override
            public Integer call() {
                List<List<String>> rows = new ArrayList<>();
                for (JsonNode p : api().get("v1/pipelines").path("pipelines")) {
                    rows.add(List.of(
                            text(p.path("name")),
                            text(p.path("state")),
                            text(p.path("recordsIn")),
                            text(p.path("recordsOut")),
                            text(p.path("lastCheckpoint").path("completedAt")),
                            text(p.path("lastError"))));
                }
                print(Table.render(
                        List.of("name", "state", "records in", "records out", "last checkpoint", "last error"), rows));
                return 0;
            }
        }

        abstract static class Named extends ApiCommand {
            @Parameters(index = "0", description = "Pipeline name.")
            String name;

            String path() {
                return "v1/pipelines/" + ApiClient.segment(name);
            }
        }

        @Command(
                name = "describe",
                mixinStandardHelpOptions = true,
                description = "Show a pipeline: state, job, checkpoint, counts, last error.")
        static final class Describe extends Named {
            @Override
            public Integer call() {
                printJson(api().get(path()));
                return 0;
            }
        }

        @Command(name = "stop", mixinStandardHelpOptions = true, description = "Stop a pipeline with a savepoint.")
        static final class Stop extends Named {
            @Override
            public Integer call() {
                printJson(api().post(path() + "/stop", Map.of()));
                return 0;
            }
        }

        @Command(
                name = "start",
                mixinStandardHelpOptions = true,
                description = "Start a stopped or failed pipeline where it left off, or from one of its savepoints.")
        static final class Start extends Named {
            @Option(names = "--savepoint", description = "Name of the savepoint to resume from (see `savepoints`).")
            String savepoint;

            @Override
            public Integer call() {
                printJson(api().post(path() + "/start", savepoint == null ? Map.of() : Map.of("savepoint", savepoint)));
                return 0;
            }
        }

        @Command(
                name = "update",
                mixinStandardHelpOptions = true,
                description = "Change the SQL of a stopped pipeline; the next start resumes it from the savepoint.")
        static final class Update extends Named {
            @Option(
                    names = "--sql",
                    required = true,
                    description =
                            "The pipeline's new Flink SQL: a file, '-' for standard input, or the statements themselves.")
            String sqlFile;

            @Override
            public Integer call() {
                String sql = sql(sqlFile);
                printJson(api().put(path(), Map.of("sql", sql)));
                return 0;
            }
        }

        @Command(name = "savepoints", mixinStandardHelpOptions = true, description = "List a pipeline's savepoints.")
        static final class Savepoints extends Named {
            @Override
            public Integer call() {
                List<List<String>> rows = new ArrayList<>();
                for (JsonNode s : api().get(path() + "/savepoints").path("savepoints")) {
                    rows.add(List.of(text(s.path("name")), text(s.path("checkpointId")), text(s.path("createdAt"))));
                }
                print(Table.render(List.of("name", "checkpoint", "created at"), rows));
                return 0;
            }
        }

        @Command(
                name = "delete",
                mixinStandardHelpOptions = true,
                description = "Delete a pipeline (its lake tables stay).")
        static final class Delete extends Named {
            @Override
            public Integer call() {
                api().delete(path());
                print("deleted pipeline " + name + "\n");
                return 0;
            }
        }
    }

    @Command(
            name = "sources",
            mixinStandardHelpOptions = true,
            description = "Capture database tables into topics (change data capture) and mirror them into the lake.",
            subcommands = {Sources.Create.class, Sources.ListSources.class, Sources.Describe.class, Sources.Delete.class
            })
    static final class Sources implements Runnable {
        @Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            spec.commandLine().usage(spec.commandLine().getOut());
        }

        @Command(
                name = "create",
                mixinStandardHelpOptions = true,
                description =
                        "Capture PostgreSQL or MariaDB tables: snapshot, then every change, into topics and lake tables.")
        static final class Create extends ApiCommand {
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
                printJson(api().post("v1/sources", body));
                return 0;
            }
        }

        @Command(name = "list", mixinStandardHelpOptions = true, description = "List sources and their state.")
        static final class ListSources extends ApiCommand {
            @Override
            public Integer call() {
                List<List<String>> rows = new ArrayList<>();
                for (JsonNode source : api().get("v1/sources").path("sources")) {
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
        static final class Describe extends ApiCommand {
            @Parameters(index = "0", description = "Source name.")
            String name;

            @Override
            public Integer call() {
                printJson(api().get("v1/sources/" + ApiClient.segment(name)));
                return 0;
            }
        }

        @Command(
                name = "delete",
                mixinStandardHelpOptions = true,
                description = "Delete a source: its replication slot and publication, its mirror pipeline; topics and"
                        + " lake tables stay.")
        static final class Delete extends ApiCommand {
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

    @Command(
            name = "tables",
            mixinStandardHelpOptions = true,
            description = "List, describe and delete lake tables; page through their snapshots.",
            subcommands = {Tables.ListTables.class, Tables.Describe.class, Tables.Snapshots.class, Tables.Delete.class})
    static final class Tables implements Runnable {
        @Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            spec.commandLine().usage(spec.commandLine().getOut());
        }

        /** A table as the API names it: {@code namespace.table}, also when given as {@code lake.namespace.table}. */
        static String bare(String name) {
            return name.startsWith("lake.") ? name.substring("lake.".length()) : name;
        }

        @Command(name = "list", mixinStandardHelpOptions = true, description = "List lake tables.")
        static final class ListTables extends ApiCommand {
            @Override
            public Integer call() {
                List<List<String>> rows = new ArrayList<>();
                api().get("v1/tables").path("tables").forEach(t -> rows.add(List.of("lake." + t.asText())));
                print(Table.render(List.of("table"), rows));
                return 0;
            }
        }

        @Command(
                name = "describe",
                mixinStandardHelpOptions = true,
                description = "Describe a lake table: schema, partitioning, snapshots, files, rows.")
        static final class Describe extends ApiCommand {
            @Parameters(index = "0", description = "Table as namespace.table (or lake.namespace.table).")
            String name;

            @Override
            public Integer call() {
                String bare = bare(name);
                printJson(api().get("v1/tables/" + ApiClient.segment(bare)));
                return 0;
            }
        }

        @Command(
                name = "snapshots",
                mixinStandardHelpOptions = true,
                description = "A lake table's snapshots, newest first, a page at a time.")
        static final class Snapshots extends ApiCommand {
            @Parameters(index = "0", description = "Table as namespace.table (or lake.namespace.table).")
            String name;

            @Option(names = "--limit", defaultValue = "20", description = "Snapshots to show (1 to 1000; default 20).")
            int limit;

            @Option(names = "--before", description = "Start after this snapshot id (the id a previous page ends on).")
            Long before;

            @Override
            public Integer call() {
                String bare = bare(name);
                JsonNode page = api().get("v1/tables/%s/snapshots?limit=%d%s"
                        .formatted(ApiClient.segment(bare), limit, before == null ? "" : "&before=" + before));
                List<List<String>> rows = new ArrayList<>();
                for (JsonNode s : page.path("snapshots")) {
                    rows.add(List.of(
                            text(s.path("id")),
                            text(s.path("committedAt")),
                            text(s.path("operation")),
                            text(s.path("addedRows")),
                            text(s.path("totalRows"))));
                }
                print(Table.render(List.of("snapshot", "committed at", "operation", "added rows", "total rows"), rows));
                if (!page.path("next").isNull()) {
                    print("older: tarn tables snapshots %s --before %s\n".formatted(bare, text(page.path("next"))));
                }
                return 0;
            }
        }

        @Command(
                name = "delete",
                mixinStandardHelpOptions = true,
                description = "Delete a lake table and its files; refused while pipelines use it.")
        static final class Delete extends ApiCommand {
            @Parameters(index = "0", description = "Table as namespace.table (or lake.namespace.table).")
            String name;

            @Option(names = "--force", description = "Delete it even when pipelines use it; they fail.")
            boolean force;

            @Override
            public Integer call() {
                String bare = bare(name);
                api().delete("v1/tables/" + ApiClient.segment(bare) + (force ? "?force=true" : ""));
                print("deleted table lake." + bare + "\n");
                return 0;
            }
        }
    }

    @Command(name = "sql", mixinStandardHelpOptions = true, description = "Run a SELECT over lake tables.")
    static final class Sql extends ApiCommand {
        @Parameters(index = "0", description = "The query, e.g. \"SELECT count(*) FROM lake.web.clicks\".")
        String sql;

        @Option(names = "--json", description = "Print the raw JSON answer.")
        boolean json;

        @Option(
                names = "--engine",
                defaultValue = "duckdb",
                description = "duckdb (fast path, default) or flink (reference).")
        String engine;

        @Override
        public Integer call() {
            JsonNode answer = api().post("v1/query", Map.of("sql", sql, "engine", engine));
            if (json) {
                printJson(answer);
                return 0;
            }
            List<String> header = new ArrayList<>();
            answer.path("columns").forEach(c -> header.add(c.asText()));
            List<List<String>> rows = new ArrayList<>();
            for (JsonNode row : answer.path("rows")) {
                List<String> cells = new ArrayList<>();
                row.forEach(v -> cells.add(v.isNull() ? "NULL" : text(v)));
                rows.add(cells);
            }
            print(Table.render(header, rows));
            if (answer.path("truncated").asBoolean()) {
                print("(truncated at the server's query.max-rows)\n");
            }
            return 0;
        }
    }
}
