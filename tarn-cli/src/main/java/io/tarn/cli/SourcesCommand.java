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
            SourcesCommand.Delete.class
        })
final class SourcesCommand extends CommandGroup {
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
            printJson(api().post("v1/sources", body));
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List sources and their state.")
    static final class ListSources extends TarnCli.ApiCommand {
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
    static final class Describe extends TarnCli.ApiCommand {
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
