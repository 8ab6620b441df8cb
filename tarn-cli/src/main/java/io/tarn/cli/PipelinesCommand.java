package io.tarn.cli;

import static io.tarn.cli.TarnCli.ApiCommand.text;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tarn pipelines}: continuous SQL pipelines. */
@Command(
        name = "pipelines",
        mixinStandardHelpOptions = true,
        description = "Manage Flink SQL pipelines.",
        subcommands = {
            PipelinesCommand.Create.class,
            PipelinesCommand.ListPipelines.class,
            PipelinesCommand.Describe.class,
            PipelinesCommand.Stop.class,
            PipelinesCommand.Start.class,
            PipelinesCommand.Update.class,
            PipelinesCommand.Savepoints.class,
            PipelinesCommand.DeadLetterList.class,
            PipelinesCommand.Delete.class
        })
final class PipelinesCommand extends CommandGroup {
    /**
     * A pipeline as a readable block: state, counts, lag (in the answer of {@code GET /v1/pipelines/{name}} only, when
     * known), last checkpoint, errors, rules, warnings and its SQL.
     */
    static String block(JsonNode p) {
        JsonNode checkpoint = p.path("lastCheckpoint");
        List<String> rules = new ArrayList<>();
        for (JsonNode rule : p.path("rules")) {
            rules.add("%s (%s %s): %s passed, %s failed"
                    .formatted(
                            text(rule.path("name")),
                            text(rule.path("check")),
                            text(rule.path("action")),
                            text(rule.path("passed")),
                            text(rule.path("failed"))));
        }
        List<String> warnings = new ArrayList<>();
        p.path("warnings").forEach(w -> warnings.add(w.asText()));
        return new Block()
                .add("name", text(p.path("name")))
                .add("state", text(p.path("state")))
                .add("job", text(p.path("jobId")))
                .add("records in", text(p.path("recordsIn")))
                .add("records out", text(p.path("recordsOut")))
                .add(
                        "lag",
                        p.path("lagRecords").isNumber()
                                ? text(p.path("lagRecords")) + " records not committed yet"
                                : null)
                .add(
                        "last checkpoint",
                        checkpoint.isObject()
                                ? "#%s at %s"
                                        .formatted(text(checkpoint.path("id")), text(checkpoint.path("completedAt")))
                                : "none yet")
                .add("restarts", text(p.path("restarts")))
                .add("dead letters", text(p.path("deadLetters")))
                .add("on error", text(p.path("onError")))
                .add("reads from", text(p.path("from")))
                .add("savepoint", text(p.path("savepoint")))
                .add("last error", p.path("lastError").isNull() ? "none" : text(p.path("lastError")))
                .lines("rules", rules)
                .lines("warnings", warnings)
                .lines("sql", text(p.path("sql")).strip().lines().toList())
                .render();
    }

    @Command(
            name = "create",
            mixinStandardHelpOptions = true,
            description = "Create and start a pipeline from Flink SQL.")
    static final class Create extends TarnCli.ApiCommand {
        @Parameters(index = "0", description = "Pipeline name.")
        String name;

        @Option(
                names = "--sql",
                required = true,
                description = "The pipeline's Flink SQL: a file, '-' for standard input, or the statements themselves.")
        String sqlFile;

        @Option(
                names = "--on-error",
                defaultValue = "fail",
                description = "What a bad record of a topic it reads does: fail (the pipeline) or dead-letter"
                        + " (it goes to the lake table dead_letters.<name>). Default: ${DEFAULT-VALUE}.")
        String onError;

        @Option(
                names = "--rules",
                paramLabel = "FILE",
                description = "Its data quality rules: a JSON file of an array of rules (docs/operations.md,"
                        + " \"Quality rules\").")
        String rulesFile;

        @Option(
                names = "--from",
                defaultValue = "earliest",
                description = "Where it starts reading its topics: earliest, latest or an ISO-8601 time such as"
                        + " 2026-12-04T10:00:00Z. Default: ${DEFAULT-VALUE}.")
        String from;

        @Override
        public Integer call() {
            Map<String, Object> body =
                    new LinkedHashMap<>(Map.of("name", name, "sql", sql(sqlFile), "onError", onError, "from", from));
            if (rulesFile != null) {
                try {
                    body.put("rules", ApiClient.JSON.readTree(read(rulesFile)));
                } catch (java.io.IOException e) {
                    throw new TarnCli.CliException("--rules is not a JSON file: " + e.getMessage());
                }
            }
            show(api().post("v1/pipelines", body), PipelinesCommand::block);
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List pipelines and their state.")
    static final class ListPipelines extends TarnCli.ApiCommand {
        @Override
        public Integer call() {
            JsonNode answer = api().get("v1/pipelines");
            if (json) {
                printJson(answer);
                return 0;
            }
            List<List<String>> rows = new ArrayList<>();
            for (JsonNode p : answer.path("pipelines")) {
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

    abstract static class Named extends TarnCli.ApiCommand {
        @Parameters(index = "0", description = "Pipeline name.")
        String name;

        String path() {
            return "v1/pipelines/" + ApiClient.segment(name);
        }
    }

    @Command(
            name = "describe",
            mixinStandardHelpOptions = true,
            description = "Show a pipeline: state, job, lag, checkpoint, counts, last error.")
    static final class Describe extends Named {
        @Override
        public Integer call() {
            show(api().get(path()), PipelinesCommand::block);
            return 0;
        }
    }

    @Command(name = "stop", mixinStandardHelpOptions = true, description = "Stop a pipeline with a savepoint.")
    static final class Stop extends Named {
        @Override
        public Integer call() {
            show(api().post(path() + "/stop", Map.of()), PipelinesCommand::block);
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
            show(
                    api().post(path() + "/start", savepoint == null ? Map.of() : Map.of("savepoint", savepoint)),
                    PipelinesCommand::block);
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
            show(api().put(path(), Map.of("sql", sql)), PipelinesCommand::block);
            return 0;
        }
    }

    @Command(name = "savepoints", mixinStandardHelpOptions = true, description = "List a pipeline's savepoints.")
    static final class Savepoints extends Named {
        @Override
        public Integer call() {
            JsonNode answer = api().get(path() + "/savepoints");
            if (json) {
                printJson(answer);
                return 0;
            }
            List<List<String>> rows = new ArrayList<>();
            for (JsonNode s : answer.path("savepoints")) {
                rows.add(List.of(text(s.path("name")), text(s.path("checkpointId")), text(s.path("createdAt"))));
            }
            print(Table.render(List.of("name", "checkpoint", "created at"), rows));
            return 0;
        }
    }

    @Command(
            name = "dead-letters",
            mixinStandardHelpOptions = true,
            description = {
                "List a pipeline's dead letters, oldest first: the bad records it did not land, and why.",
                "With --replay, send dead letters to the pipeline again (after a fix), each exactly once."
            })
    static final class DeadLetterList extends Named {
        @Option(names = "--limit", defaultValue = "100", description = "At most this many (1-1000).")
        int limit;

        @Option(names = "--offset", defaultValue = "0", description = "Skip this many, for the next page.")
        long offset;

        @Option(
                names = "--replay",
                paramLabel = "TOPIC/PARTITION/OFFSET|all",
                description =
                        "Replay this dead letter (repeatable), or 'all': the oldest not replayed yet, up to 1000.")
        List<String> replay = new ArrayList<>();

        @Option(
                names = "--value",
                paramLabel = "JSON",
                description = "With one --replay of a dead letter: the corrected value to send in place of its own.")
        String value;

        @Override
        public Integer call() {
            if (!replay.isEmpty()) {
                return replay();
            }
            JsonNode page = api().get(path() + "/dead-letters?limit=" + limit + "&offset=" + offset);
            if (json) {
                printJson(page);
                return 0;
            }
            List<List<String>> rows = new ArrayList<>();
            for (JsonNode letter : page.path("deadLetters")) {
                rows.add(List.of(
                        text(letter.path("topic")) + "/" + text(letter.path("partition")) + "/"
                                + text(letter.path("offset")),
                        text(letter.path("errorClass")),
                        text(letter.path("errorMessage")),
                        letter.path("value").isNull()
                                ? "(" + text(letter.path("valueBase64")).length() + " base64 chars)"
                                : text(letter.path("value")),
                        letter.path("replayed").asBoolean() ? "yes" : "no"));
            }
            print(Table.render(List.of("record", "error", "why", "value", "replayed"), rows));
            print("%d of %d dead letters\n"
                    .formatted(rows.size(), page.path("total").asLong()));
            return 0;
        }

        private int replay() {
            Map<String, Object> body;
            if (replay.equals(List.of("all"))) {
                if (value != null) {
                    throw new TarnCli.CliException("--value corrects one dead letter; name it with --replay");
                }
                body = Map.of("all", true);
            } else {
                if (value != null && replay.size() != 1) {
                    throw new TarnCli.CliException("--value corrects one dead letter; give one --replay with it");
                }
                List<Map<String, Object>> letters = new ArrayList<>();
                for (String position : replay) {
                    String[] parts = position.split("/");
                    if (parts.length != 3) {
                        throw new TarnCli.CliException(
                                "--replay must be TOPIC/PARTITION/OFFSET or all, got '" + position + "'");
                    }
                    Map<String, Object> letter = new LinkedHashMap<>();
                    letter.put("topic", parts[0]);
                    try {
                        letter.put("partition", Integer.parseInt(parts[1]));
                        letter.put("offset", Long.parseLong(parts[2]));
                    } catch (NumberFormatException e) {
                        throw new TarnCli.CliException(
                                "--replay must be TOPIC/PARTITION/OFFSET or all, got '" + position + "'");
                    }
                    if (value != null) {
                        try {
                            letter.put("value", ApiClient.JSON.readTree(value));
                        } catch (JsonProcessingException e) {
                            throw new TarnCli.CliException("--value is not JSON: " + e.getOriginalMessage());
                        }
                    }
                    letters.add(letter);
                }
                body = Map.of("deadLetters", letters);
            }
            JsonNode result = api().post(path() + "/dead-letters/replay", body);
            print("replayed %d dead letters of pipeline %s; %d not replayed yet\n"
                    .formatted(
                            result.path("replayed").asLong(),
                            name,
                            result.path("remaining").asLong()));
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
