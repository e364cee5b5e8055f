package io.github.batchnorm4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code bn4j bench ...}: the parent of the benchmark subcommands. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Run a benchmark.",
        subcommands = {GemmBenchCommand.class, TrainBenchCommand.class})
public final class BenchCommand implements Runnable {
    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }
}
