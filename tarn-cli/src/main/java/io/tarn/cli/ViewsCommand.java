package io.tarn.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tarn views}: live views, a query's rows kept up to date and served by key. */
@Command(
        name = "views",
        mixinStandardHelpOptions = true,
        description = "Manage live views: a Flink SQL query whose rows Tarn keeps up to date and serves by key.",
        subcommands = {
            ViewsCommand.Create.class,
            ViewsCommand.ListViews.class,
            ViewsCommand.Describe.class,
            ViewsCommand.Get.class,
            ViewsCommand.Stop.class,
            ViewsCommand.Start.class,
            ViewsCommand.Delete.class
        })
final class ViewsCommand extends CommandGroup {
    @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a view and start its query.")
    static final class Create extends TarnCli.ApiCommand {
        @Parameters(index = "0", description = "View name.")
        String name;

        @Option(
                names = "--sql",
                required = true,
                description = "The view's query (one SELECT): a file, '-' for standard input, or the query itself.")
        String sqlFile;

        @Option(
                names = "--key",
                split = ",",
                description =
                        "Columns that identify a row (default: the key Flink derives, e.g. the GROUP BY columns).")
        List<String> key;

        @Option(
                names = "--history",
                description = "Also keep the view's rows in lake table lake.views.<name>, upserted by key.")
        boolean history;

        @Override
        public Integer call() {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("name", name);
            body.put("sql", sql(sqlFile));
            if (key != null) {
                body.put("key", key);
            }
            if (history) {
                body.put("history", true);
            }
            show(api().post("v1/views", body));
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List views, their state and rows.")
    static final class ListViews extends TarnCli.ApiCommand {
        @Override
        public Integer call() {
            JsonNode answer = api().get("v1/views");
            if (json) {
                printJson(answer);
                return 0;
            }
            List<List<String>> rows = new ArrayList<>();
            for (JsonNode v : answer.path("views")) {
                List<String> key = new ArrayList<>();
                v.path("key").forEach(k -> key.add(k.asText()));
                rows.add(List.of(
                        text(v.path("name")),
                        text(v.path("state")),
                        String.join(",", key),
                        text(v.path("rows")),
                        text(v.path("freshness").path("appliedAt")),
                        text(v.path("lastError"))));
            }
            print(Table.render(List.of("name", "state", "key", "rows", "last change applied", "last error"), rows));
            return 0;
        }
    }

    abstract static class Named extends TarnCli.ApiCommand {
        @Parameters(index = "0", description = "View name.")
        String name;

        String path() {
            return "v1/views/" + ApiClient.segment(name);
        }
    }

    @Command(
            name = "describe",
            mixinStandardHelpOptions = true,
            description = "Show a view: query, key, columns, state, rows and freshness.")
    static final class Describe extends Named {
        @Override
        public Integer call() {
            show(api().get(path() + "/status"));
            return 0;
        }
    }

    @Command(
            name = "get",
            mixinStandardHelpOptions = true,
            description = "Read rows of a view by key, prefix or range (all rows up to --limit without one).")
    static final class Get extends Named {
        @Option(
                names = "--key",
                description = "A key: its value, or a JSON array of values for a key of several columns.")
        String key;

        @Option(names = "--prefix", description = "JSON array of the first values of a key of several columns.")
        String prefix;

        @Option(names = "--from", description = "Rows from this key on (inclusive).")
        String from;

        @Option(names = "--to", description = "Rows before this key (exclusive).")
        String to;

        @Option(names = "--limit", description = "Most rows to return (default 100).")
        Integer limit;

        @Option(names = "--desc", description = "In descending key order.")
        boolean descending;

        @Override
        public Integer call() {
            Map<String, String> parameters = new LinkedHashMap<>();
            parameters.put("key", key);
            parameters.put("prefix", prefix);
            parameters.put("from", from);
            parameters.put("to", to);
            parameters.put("limit", limit == null ? null : limit.toString());
            parameters.put("order", descending ? "desc" : null);
            List<String> query = new ArrayList<>();
            parameters.forEach((k, v) -> {
                if (v != null) {
                    query.add(k + "=" + URLEncoder.encode(v, StandardCharsets.UTF_8));
                }
            });
            show(api().get(path() + (query.isEmpty() ? "" : "?" + String.join("&", query))), answer -> {
                List<String> header = new ArrayList<>();
                List<List<String>> rows = new ArrayList<>();
                for (JsonNode row : answer.path("rows")) {
                    row.fieldNames().forEachRemaining(column -> {
                        if (!header.contains(column)) {
                            header.add(column);
                        }
                    });
                }
                for (JsonNode row : answer.path("rows")) {
                    List<String> cells = new ArrayList<>();
                    header.forEach(column -> cells.add(row.path(column).isNull() ? "NULL" : text(row.path(column))));
                    rows.add(cells);
                }
                JsonNode freshness = answer.path("freshness");
                return Table.render(header, rows)
                        + "applied up to %s (written %s), %s changes not applied yet\n"
                                .formatted(
                                        text(freshness.path("appliedAt")),
                                        text(freshness.path("changedAt")),
                                        text(freshness.path("lagRecords")));
            });
            return 0;
        }
    }

    @Command(
            name = "stop",
            mixinStandardHelpOptions = true,
            description = "Stop a view's query with a savepoint; the view keeps serving its rows.")
    static final class Stop extends Named {
        @Override
        public Integer call() {
            show(api().post(path() + "/stop", Map.of()));
            return 0;
        }
    }

    @Command(name = "start", mixinStandardHelpOptions = true, description = "Start a stopped view's query again.")
    static final class Start extends Named {
        @Override
        public Integer call() {
            show(api().post(path() + "/start", Map.of()));
            return 0;
        }
    }

    @Command(
            name = "delete",
            mixinStandardHelpOptions = true,
            description = "Delete a view: its query's pipeline, its topic and its rows.")
    static final class Delete extends Named {
        @Override
        public Integer call() {
            api().delete(path());
            print("deleted view " + name + "\n");
            return 0;
        }
    }
}
