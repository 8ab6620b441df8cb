package io.tarn.server;

import io.tarn.cli.TarnCli;
import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** Runs the {@code tarn} CLI in this JVM, as a user would from a shell. */
final class Cli {
    private Cli() {}

    /** What a CLI run printed and its exit code. */
    record Result(int code, String out, String err) {}

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine line = TarnCli.commandLine(new TarnCli());
        line.setOut(new PrintWriter(out, true));
        line.setErr(new PrintWriter(err, true));
        int code = line.execute(args);
        return new Result(code, out.toString(), err.toString());
    }
}
