package io.github.batchnorm4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code bn4j bench}: the parent of the benchmark subcommands (each its own class, registered here). Benchmarks
 * print medians and effective bandwidth; they are measurements, never pass/fail tests.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks (medians, effective GB/s); see BENCHMARKS.md.",
        subcommands = {KernelsBenchCommand.class, GemmBenchCommand.class, TrainBenchCommand.class,
                InferBenchCommand.class, SyncBenchCommand.class, CommandLine.HelpCommand.class})
public final class BenchCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
