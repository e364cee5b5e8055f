package io.github.batchnorm4j.cli;

import io.github.batchnorm4j.bench.InferBench;
import io.github.batchnorm4j.kernel.WorkerPool;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bn4j bench infer}: eval-mode images/s of a built-in architecture with BN, BN folded and without BN
 * ({@link InferBench}); this command parses the options and prints the table.
 */
@Command(name = "infer", mixinStandardHelpOptions = true,
        description = "Measure eval-mode images/s with BN, BN folded, and without BN.")
public final class InferBenchCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = "cnn", description = "mlp | cnn | resnet (default: ${DEFAULT-VALUE})")
    String model;

    @Option(names = "--batch-size", defaultValue = "64", description = "(default: ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--threads", defaultValue = "1", description = "worker threads (default: ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--rounds", defaultValue = "15", description = "interleaved rounds; the median counts")
    int rounds;

    @Option(names = "--min-ms", defaultValue = "300", description = "minimum time per variant and round (ms)")
    int minMs;

    @Override
    public Integer call() {
        if (threads < 1 || batchSize < 1 || rounds < 1 || minMs < 1) {
            System.err.println("bn4j bench infer: Expected --threads, --batch-size, --rounds and --min-ms >= 1, got "
                    + threads + ", " + batchSize + ", " + rounds + ", " + minMs);
            return 1;
        }
        WorkerPool.setThreads(threads);
        InferBench.Result r;
        try {
            r = InferBench.run(model, batchSize, threads, rounds, minMs);
        } catch (IllegalArgumentException e) {
            System.err.println("bn4j bench infer: --model: " + e.getMessage());
            return 1;
        }
        System.out.print(r.markdown());
        return 0;
    }
}
