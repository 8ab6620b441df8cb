package io.tarn.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code tarn produce}: appends an NDJSON file to a topic in batches. Every batch is validated first (the server checks
 * each record as an append would, writing none), so a file with a bad line writes nothing; problems are reported by
 * the file's line numbers. If writing stops part-way (the server went away), the answer says exactly which lines were
 * written and how to resume with {@code --from-line}, so a rerun never duplicates what is in the topic.
 */
@Command(
        name = "produce",
        mixinStandardHelpOptions = true,
        description = "Append NDJSON records (one JSON object per line) to a topic: all of them, or none if a line is"
                + " invalid.")
final class ProduceCommand extends TarnCli.ApiCommand {
    private static final int LISTED = 100;

    @Parameters(index = "0", description = "Topic name.")
    String topic;

    @Parameters(index = "1", arity = "0..1", description = "NDJSON file; '-' or none reads standard input.")
    String file;

    @Option(names = "--key", description = "Field whose value becomes the Kafka record key.")
    String key;

    @Option(names = "--batch", defaultValue = "5000", description = "Records per request (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(
            names = "--from-line",
            defaultValue = "1",
            paramLabel = "N",
            description = "Start at line N of the file, e.g. to resume a write that stopped part-way.")
    long fromLine;

    @Option(
            names = "--progress",
            defaultValue = "auto",
            description = "A progress bar on standard error: auto (when it is a terminal), always or never.")
    String progress;

    /** A non-blank line of the file and its number (from 1). */
    private record Line(long number, String text) {}

    @Override
    public Integer call() throws IOException {
        if (batch < 1 || fromLine < 1) {
            throw new TarnCli.CliException("--batch and --from-line must be at least 1");
        }
        List<List<Line>> batches = batches(read());
        String path = "v1/topics/" + ApiClient.segment(topic) + "/records?"
                + (key == null ? "" : "key=" + ApiClient.segment(key) + "&");
        long records = batches.stream().mapToLong(List::size).sum();
        long invalid = 0;
        List<String> problems = new ArrayList<>();
        boolean shown = Progress.shown(progress);
        Progress checking = Progress.of(shown, spec.commandLine().getErr(), "checking", "records", records);
        long checked = 0;
        for (List<Line> lines : batches) {
            checked += lines.size();
            checking.at(checked);
            try {
                api().post(path + "validate=true", body(lines));
            } catch (ApiException e) {
                if (!e.name().equals("INVALID_RECORDS")) {
                    throw e;
                }
                invalid += e.details()
                        .path("invalid")
                        .asLong(e.details().path("records").size());
                for (JsonNode problem : e.details().path("records")) {
                    if (problems.size() < LISTED) {
                        problems.add("  line %d: %s"
                                .formatted(
                                        lines.get(problem.path("index").asInt()).number(),
                                        problem.path("reason").asText()));
                    }
                }
            }
        }
        checking.end();
        if (invalid > 0) {
            spec.commandLine()
                    .getErr()
                    .printf(
                            "error: INVALID_RECORDS: %d of %d records are invalid; nothing was written%n%s%n",
                            invalid, records, String.join(System.lineSeparator(), problems));
            spec.commandLine().getErr().flush();
            return 3;
        }
        long accepted = 0;
        long lastWritten = fromLine - 1;
        SortedSet<String> undeclared = new TreeSet<>();
        Progress writing = Progress.of(shown, spec.commandLine().getErr(), "writing ", "records", records);
        for (List<Line> lines : batches) {
            try {
                JsonNode answer = api().post(path.substring(0, path.length() - 1), body(lines));
                accepted += answer.path("accepted").asLong();
                writing.at(accepted);
                answer.path("undeclaredFields").forEach(f -> undeclared.add(f.asText()));
                lastWritten = lines.get(lines.size() - 1).number();
            } catch (ApiException e) {
                writing.end();
                long next = lines.get(0).number();
                spec.commandLine()
                        .getErr()
                        .printf(
                                "error: %s: %s%n  %s; nothing from line %d on was. Rerun with --from-line %d once the"
                                        + " cause is fixed.%n",
                                e.name(),
                                e.getMessage(),
                                accepted == 0
                                        ? "no line was written"
                                        : "lines %d-%d were written (%d records)"
                                                .formatted(fromLine, lastWritten, accepted),
                                next,
                                next);
                spec.commandLine().getErr().flush();
                return e.exitCode();
            }
        }
        writing.end();
        print("accepted " + accepted + "\n");
        if (!undeclared.isEmpty()) {
            print(
                    "note: fields that are no column of topic %s are kept in the records, but pipelines do not see them: %s%n"
                            .formatted(topic, String.join(", ", undeclared)));
        }
        return 0;
    }

    private List<Line> read() throws IOException {
        byte[] bytes;
        try (InputStream in = file == null || file.equals("-") ? System.in : Files.newInputStream(Path.of(file))) {
            bytes = in.readAllBytes();
        } catch (NoSuchFileException e) {
            throw new TarnCli.CliException("no such file: " + file);
        }
        List<Line> lines = new ArrayList<>();
        long number = 0;
        for (String line : new String(bytes, StandardCharsets.UTF_8).split("\n", -1)) {
            number++;
            if (number >= fromLine && !line.isBlank()) {
                lines.add(new Line(number, line));
            }
        }
        return lines;
    }

    private List<List<Line>> batches(List<Line> lines) {
        List<List<Line>> batches = new ArrayList<>();
        for (int from = 0; from < lines.size(); from += batch) {
            batches.add(lines.subList(from, Math.min(lines.size(), from + batch)));
        }
        return batches;
    }

    private static byte[] body(List<Line> lines) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Line line : lines) {
            out.writeBytes(line.text().getBytes(StandardCharsets.UTF_8));
            out.write('\n');
        }
        return out.toByteArray();
    }
}
