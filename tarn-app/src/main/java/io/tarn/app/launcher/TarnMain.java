package io.tarn.app.launcher;

import io.tarn.app.demo.DemoCommand;
import io.tarn.cli.TarnCli;
import io.tarn.core.error.TarnException;
import picocli.CommandLine;

/**
 * Entry point of the {@code tarn} launcher: the CLI's commands plus {@code server} and {@code demo}; {@code bench} runs
 * in a JVM of its own, which the launcher script starts ({@link BenchHelp} only lists it).
 */
public final class TarnMain {
    private TarnMain() {}

    public static void main(String[] args) {
        CommandLine line = commandLine();
        int code = line.execute(args);
        if (code != 0 || !(args.length > 0 && (args[0].equals("server") || args[0].equals("demo")))) {
            System.exit(code);
        }
    }

    /** The launcher's command line: the CLI's commands, {@code server}, {@code demo} and {@code bench}. */
    public static CommandLine commandLine() {
        CommandLine line = TarnCli.commandLine(new TarnCli());
        line.addSubcommand("server", new ServerCommand());
        line.addSubcommand("demo", new DemoCommand());
        line.addSubcommand("bench", new BenchHelp());
        CommandLine.IExecutionExceptionHandler api = line.getExecutionExceptionHandler();
        line.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof TarnException tarn) {
                cmd.getErr().println("error: " + tarn.code().name() + ": " + tarn.getMessage());
                cmd.getErr().flush();
                return 2;
            }
            return api.handleExecutionException(e, cmd, parsed);
        });
        return line;
    }

    /** {@code tarn bench} as the command list shows it; the launcher script runs the harness itself. */
    @CommandLine.Command(
            name = "bench",
            description = "Measure Tarn against plain Flink, raw Kafka, DuckDB and the Kafka producer (./tarn bench"
                    + " --help; docs/benchmarks.md).")
    static final class BenchHelp implements Runnable {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            spec.commandLine()
                    .getOut()
                    .println(
                            "The benchmark harness runs through the launcher: ./tarn bench --help (docs/benchmarks.md)");
        }
    }
}
