package io.tarn.cli;

import picocli.CommandLine;
import picocli.CommandLine.Spec;

/** A command that only groups others ({@code tarn topics}, …): called alone, it prints its usage. */
abstract class CommandGroup implements Runnable {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
