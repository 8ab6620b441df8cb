package io.tarn.cli;

import com.fasterxml.jackson.databind.JsonNode;
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
            TopicsCommand.class,
            ProduceCommand.class,
            PipelinesCommand.class,
            ViewsCommand.class,
            SourcesCommand.class,
            TablesCommand.class,
            TarnCli.Sql.class,
            TokensCommand.class,
            GrantsCommand.class,
            CommandLine.HelpCommand.class,
            TarnCli.Completion.class
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

        @Option(names = "--json", description = "Print the API's JSON answer as it is, for scripts.")
        boolean json;

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

        /** Prints an answer: with --json its JSON, else what {@code human} makes of it. */
        void show(JsonNode answer, java.util.function.Function<JsonNode, String> human) {
            if (json) {
                printJson(answer);
            } else {
                print(human.apply(answer));
            }
        }

        /** Prints an answer: with --json its JSON, else each field on a line of its own ({@link Block#of}). */
        void show(JsonNode answer) {
            show(answer, Block::of);
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

    /** Picocli's generator of a bash/zsh completion script, shown in the help (picocli hides its own). */
    @Command(
            name = "completion",
            mixinStandardHelpOptions = true,
            description = "Print a bash (and zsh) completion script for tarn: source <(./tarn completion)")
    static final class Completion implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            String script = picocli.AutoComplete.bash("tarn", spec.root().commandLine());
            spec.commandLine().getOut().print(script);
            spec.commandLine().getOut().flush();
            return 0;
        }
    }

    @Command(name = "sql", mixinStandardHelpOptions = true, description = "Run a SELECT over lake tables.")
    static final class Sql extends ApiCommand {
        @Parameters(index = "0", description = "The query, e.g. \"SELECT count(*) FROM lake.web.clicks\".")
        String sql;

        @Option(
                names = "--engine",
                defaultValue = "duckdb",
                description = "duckdb (fast path, default) or flink (reference).")
        String engine;

        @Option(
                names = "--fresh",
                description = "Read landing tables with their topic's records after their last commit (duckdb only).")
        boolean fresh;

        @Override
        public Integer call() {
            JsonNode answer = api().post("v1/query", Map.of("sql", sql, "engine", engine, "fresh", fresh));
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
