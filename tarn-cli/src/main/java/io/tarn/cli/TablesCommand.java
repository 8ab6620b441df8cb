package io.tarn.cli;

import static io.tarn.cli.TarnCli.ApiCommand.text;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tarn tables}: tables of the lake. */
@Command(
        name = "tables",
        mixinStandardHelpOptions = true,
        description = "List, describe, maintain, swap and delete lake tables; page through their snapshots.",
        subcommands = {
            TablesCommand.ListTables.class,
            TablesCommand.Describe.class,
            TablesCommand.Snapshots.class,
            TablesCommand.Maintain.class,
            TablesCommand.Swap.class,
            TablesCommand.Delete.class
        })
final class TablesCommand extends CommandGroup {
    /** Snapshots as the API lists them, as a table. */
    static String snapshots(JsonNode snapshots) {
        List<List<String>> rows = new ArrayList<>();
        for (JsonNode s : snapshots) {
            rows.add(List.of(
                    text(s.path("id")),
                    text(s.path("committedAt")),
                    text(s.path("operation")),
                    text(s.path("addedRows")),
                    text(s.path("totalRows"))));
        }
        return Table.render(List.of("snapshot", "committed at", "operation", "added rows", "total rows"), rows);
    }

    /** A table as the API names it: {@code namespace.table}, also when given as {@code lake.namespace.table}. */
    static String bare(String name) {
        return name.startsWith("lake.") ? name.substring("lake.".length()) : name;
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List lake tables.")
    static final class ListTables extends TarnCli.ApiCommand {
        @Override
        public Integer call() {
            JsonNode answer = api().get("v1/tables");
            if (json) {
                printJson(answer);
                return 0;
            }
            List<List<String>> rows = new ArrayList<>();
            answer.path("tables").forEach(t -> rows.add(List.of("lake." + t.asText())));
            print(Table.render(List.of("table"), rows));
            return 0;
        }
    }

    @Command(
            name = "describe",
            mixinStandardHelpOptions = true,
            description = "Describe a lake table: schema, partitioning, snapshots, files, rows.")
    static final class Describe extends TarnCli.ApiCommand {
        @Parameters(index = "0", description = "Table as namespace.table (or lake.namespace.table).")
        String name;

        @Override
        public Integer call() {
            String bare = bare(name);
            show(api().get("v1/tables/" + ApiClient.segment(bare)), t -> {
                List<String> columns = new ArrayList<>();
                t.path("columns")
                        .forEach(c -> columns.add(text(c.path("name")) + " " + text(c.path("type"))
                                + (c.path("required").asBoolean() ? " NOT NULL" : "")));
                List<String> partitioning = new ArrayList<>();
                t.path("partitionSpec").forEach(f -> partitioning.add(f.isObject() ? f.toString() : f.asText()));
                return new Block()
                                .add("table", "lake." + text(t.path("name")))
                                .add("rows", text(t.path("rows")))
                                .add("data files", text(t.path("dataFiles")))
                                .add("delete files", text(t.path("deleteFiles")))
                                .add("bytes", text(t.path("fileBytes")))
                                .add("average file", text(t.path("averageFileBytes")) + " bytes")
                                .add("snapshots", text(t.path("snapshotCount")))
                                .add("format version", text(t.path("formatVersion")))
                                .add(
                                        "partitioned by",
                                        partitioning.isEmpty() ? "nothing" : String.join(", ", partitioning))
                                .add(
                                        "last maintenance",
                                        t.path("lastMaintenance").isObject()
                                                ? t.path("lastMaintenance").toString()
                                                : "none since Tarn started")
                                .lines("columns", columns)
                                .render()
                        + (t.path("recentSnapshots").isEmpty()
                                ? ""
                                : "\nnewest snapshots\n" + snapshots(t.path("recentSnapshots")));
            });
            return 0;
        }
    }

    @Command(
            name = "snapshots",
            mixinStandardHelpOptions = true,
            description = "A lake table's snapshots, newest first, a page at a time.")
    static final class Snapshots extends TarnCli.ApiCommand {
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
            if (json) {
                printJson(page);
                return 0;
            }
            print(snapshots(page.path("snapshots")));
            if (!page.path("next").isNull()) {
                print("older: tarn tables snapshots %s --before %s\n".formatted(bare, text(page.path("next"))));
            }
            return 0;
        }
    }

    @Command(
            name = "maintain",
            mixinStandardHelpOptions = true,
            description = "Maintain a lake table now: compact its files (deletes applied), expire snapshots, rewrite"
                    + " manifests, remove orphan files; prints what was done.")
    static final class Maintain extends TarnCli.ApiCommand {
        @Parameters(index = "0", description = "Table as namespace.table (or lake.namespace.table).")
        String name;

        @Override
        public Integer call() {
            show(api().post("v1/tables/" + ApiClient.segment(bare(name)) + "/maintenance", Map.of()));
            return 0;
        }
    }

    @Command(
            name = "swap",
            mixinStandardHelpOptions = true,
            description = "Exchange two lake tables' data atomically (after a new pipeline version reprocessed into"
                    + " the second): readers see either whole; the pipelines using them go on with their own data"
                    + " under the other name.")
    static final class Swap extends TarnCli.ApiCommand {
        @Parameters(index = "0", description = "Table as namespace.table (or lake.namespace.table).")
        String name;

        @Option(names = "--with", required = true, description = "The other table.")
        String other;

        @Override
        public Integer call() {
            JsonNode swapped =
                    api().post("v1/tables/" + ApiClient.segment(bare(name)) + "/swap", Map.of("with", bare(other)));
            print("swapped lake.%s and lake.%s\n".formatted(bare(name), bare(other)));
            swapped.path("restarted").forEach(p -> print("restarted pipeline " + p.asText() + "\n"));
            swapped.path("leftStopped")
                    .fields()
                    .forEachRemaining(e -> print("pipeline %s stays stopped: %s\n"
                            .formatted(e.getKey(), e.getValue().asText())));
            return 0;
        }
    }

    @Command(
            name = "delete",
            mixinStandardHelpOptions = true,
            description = "Delete a lake table and its files; refused while pipelines use it.")
    static final class Delete extends TarnCli.ApiCommand {
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
