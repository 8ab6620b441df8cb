package io.tarn.server.launcher;

import io.tarn.cli.TarnCli;
import io.tarn.core.error.TarnException;
import io.tarn.server.demo.DemoCommand;
import picocli.CommandLine;

/** Entry point of the {@code tarn} launcher: the CLI's commands plus {@code server} and {@code demo}. */
public final class TarnMain {
    private TarnMain() {}

    public static void main(String[] args) {
        CommandLine line = TarnCli.commandLine(new TarnCli());
        line.addSubcommand("server", new ServerCommand());
        line.addSubcommand("demo", new DemoCommand());
        CommandLine.IExecutionExceptionHandler api = line.getExecutionExceptionHandler();
        line.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof TarnException tarn) {
                cmd.getErr().println("error: " + tarn.code().name() + ": " + tarn.getMessage());
                cmd.getErr().flush();
                return 2;
            }
            return api.handleExecutionException(e, cmd, parsed);
        });
        int code = line.execute(args);
        if (code != 0 || !(args.length > 0 && (args[0].equals("server") || args[0].equals("demo")))) {
            System.exit(code);
        }
    }
}
