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

    /** Runs the command line against a server, with its address and data directory (where its admin token is). */
    static Result against(TarnServer server, String... args) {
        String[] all = new String[args.length + 4];
        all[0] = "--url";
        all[1] = server.httpAddress();
        all[2] = "--data-dir";
        all[3] = server.dataDir().toString();
        System.arraycopy(args, 0, all, 4, args.length);
        return run(all);
    }

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
