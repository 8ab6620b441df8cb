package io.tarn.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tarn topics}: topics of the log. */
@Command(
        name = "topics",
        mixinStandardHelpOptions = true,
        description = "Create, list, describe and delete topics, and change their columns and retention.",
        subcommands = {
            TopicsCommand.Create.class,
            TopicsCommand.ListTopics.class,
            TopicsCommand.Describe.class,
            TopicsCommand.Schema.class,
            TopicsCommand.SetRetention.class,
            TopicsCommand.Delete.class
        })
final class TopicsCommand extends CommandGroup {
    @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a topic.")
    static final class Create extends TarnCli.ApiCommand {
        @Parameters(index = "0", description = "Topic name.")
        String name;

        @Option(names = "--partitions", description = "Partition count (default: the server's log.default-partitions).")
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
                addColumns(body, columns);
            }
            if (watermark != null) {
                int colon = watermark.indexOf(':');
                if (colon < 1) {
                    throw new TarnCli.CliException("--watermark must be COLUMN:DELAY, got '" + watermark + "'");
                }
                body.putObject("watermark")
                        .put("column", watermark.substring(0, colon))
                        .put("delay", watermark.substring(colon + 1));
            }
            show(api().post("v1/topics", body));
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List topics.")
    static final class ListTopics extends TarnCli.ApiCommand {
        @Override
        public Integer call() {
            JsonNode answer = api().get("v1/topics");
            if (json) {
                printJson(answer);
                return 0;
            }
            List<List<String>> rows = new ArrayList<>();
            for (JsonNode topic : answer.path("topics")) {
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
    static final class Describe extends TarnCli.ApiCommand {
        @Parameters(index = "0", description = "Topic name.")
        String name;

        @Override
        public Integer call() {
            show(api().get("v1/topics/" + ApiClient.segment(name)), t -> {
                List<String> columns = new ArrayList<>();
                t.path("columns").forEach(c -> columns.add(text(c.path("name")) + " " + text(c.path("type"))));
                JsonNode retention = t.path("retention");
                JsonNode watermark = t.path("watermark");
                return new Block()
                        .add("name", text(t.path("name")))
                        .add("format", text(t.path("format")))
                        .add("partitions", text(t.path("partitions")))
                        .add("records", text(t.path("records")))
                        .add("table", text(t.path("table")))
                        .add(
                                "watermark",
                                watermark.isObject()
                                        ? text(watermark.path("column")) + " - " + text(watermark.path("delay"))
                                        : null)
                        .add(
                                "retention",
                                retention.isObject()
                                        ? "%s ms, %s bytes per partition%s"
                                                .formatted(
                                                        text(retention.path("ms")),
                                                        text(retention.path("bytes")),
                                                        retention
                                                                        .path("untilLanded")
                                                                        .asBoolean()
                                                                ? ", and until landed"
                                                                : "")
                                        : null)
                        .add("primary key", t.path("primaryKey").isArray() ? joined(t.path("primaryKey")) : null)
                        .lines("columns", columns)
                        .render();
            });
            return 0;
        }
    }

    static String joined(JsonNode array) {
        List<String> values = new ArrayList<>();
        array.forEach(v -> values.add(v.asText()));
        return String.join(", ", values);
    }

    /** The columns NAME:TYPE as the API's {@code "columns"}. */
    static void addColumns(ObjectNode body, List<String> columns) {
        ArrayNode array = body.putArray("columns");
        for (String column : columns) {
            int colon = column.indexOf(':');
            if (colon < 1) {
                throw new TarnCli.CliException("--column must be NAME:TYPE, got '" + column + "'");
            }
            array.addObject().put("name", column.substring(0, colon)).put("type", column.substring(colon + 1));
        }
    }

    @Command(
            name = "schema",
            mixinStandardHelpOptions = true,
            description = {
                "Show a topic's versions of columns, or give it new ones (all of them, as --column NAME:TYPE).",
                "They must follow the earlier ones under its compatibility (BACKWARD, FORWARD, FULL, NONE, ...)."
            })
    static final class Schema extends TarnCli.ApiCommand {
        @Parameters(index = "0", description = "Topic name.")
        String name;

        @Option(names = "--column", paramLabel = "NAME:TYPE", description = "A column of the new version; repeatable.")
        List<String> columns = new ArrayList<>();

        @Option(names = "--compatibility", description = "The topic's compatibility from now on.")
        String compatibility;

        @Override
        public Integer call() {
            String path = "v1/topics/" + ApiClient.segment(name) + "/schema";
            if (columns.isEmpty()) {
                if (compatibility != null) {
                    throw new TarnCli.CliException("--compatibility goes with the new columns (--column)");
                }
                show(api().get(path));
                return 0;
            }
            ObjectNode body = ApiClient.JSON.createObjectNode();
            addColumns(body, columns);
            if (compatibility != null) {
                body.put("compatibility", compatibility);
            }
            show(api().put(path, body));
            return 0;
        }
    }

    @Command(
            name = "retention",
            mixinStandardHelpOptions = true,
            description = {
                "Set how long and how much of a topic Kafka keeps, or keep its records until landed.",
                "E.g. --ms 86400000, or --until-landed (7 days and until every pipeline reading it committed past)."
            })
    static final class SetRetention extends TarnCli.ApiCommand {
        @Parameters(index = "0", description = "Topic name.")
        String name;

        @Option(
                names = "--ms",
                description = "How long a record is kept: -1 (no limit) or at least 1000. Default 7 days.")
        Long ms;

        @Option(names = "--bytes", description = "How many bytes a partition keeps: -1 (no limit, the default).")
        Long bytes;

        @Option(
                names = "--until-landed",
                description = "Also keep each record until every pipeline reading the topic has committed past it.")
        boolean untilLanded;

        @Override
        public Integer call() {
            Map<String, Object> retention = new LinkedHashMap<>();
            if (ms != null) {
                retention.put("ms", ms);
            }
            if (bytes != null) {
                retention.put("bytes", bytes);
            }
            retention.put("untilLanded", untilLanded);
            show(api().put("v1/topics/" + ApiClient.segment(name) + "/retention", retention));
            return 0;
        }
    }

    @Command(
            name = "delete",
            mixinStandardHelpOptions = true,
            description = "Delete a topic and its records; refused while pipelines or sources use it.")
    static final class Delete extends TarnCli.ApiCommand {
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
