package io.github.batchnorm4j.cli;

import io.github.batchnorm4j.bench.GemmBench;
import io.github.batchnorm4j.kernel.WorkerPool;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bn4j bench gemm}: the options of {@link GemmBench}, and its table or JSON. */
@Command(name = "gemm", mixinStandardHelpOptions = true,
        description = "Measure SGEMM GFLOP/s (1024^3 and a few layer-shaped sizes).")
public final class GemmBenchCommand implements Callable<Integer> {
    @Option(names = "--threads", description = "Worker threads (default ${DEFAULT-VALUE}).", defaultValue = "1")
    int threads;

    @Option(names = "--json", description = "Print one JSON object instead of a table.")
    boolean json;

    @Option(names = "--sizes", split = ",", description = "m x n x k triples such as 1024x1024x1024 "
            + "(default: 1024^3, 512^3, 256^3, 60x100x784, 32x784x288, 64x196x576).")
    List<String> sizes;

    @Option(names = "--min-ms", defaultValue = "300", description = "Minimum time per repetition (ms).")
    int minMs;

    @Option(names = "--reps", defaultValue = "5", description = "Timed repetitions per size; the best counts.")
    int reps;

    @Override
    public Integer call() {
        if (threads < 1) {
            throw new IllegalArgumentException("Expected --threads >= 1, got " + threads);
        }
        if (reps < 1 || minMs < 1) {
            throw new IllegalArgumentException("Expected --reps >= 1 and --min-ms >= 1, got " + reps + ", " + minMs);
        }
        List<int[]> parsed = GemmBench.parseSizes(sizes != null ? sizes : GemmBench.DEFAULT_SIZES);
        WorkerPool.setThreads(threads);
        List<GemmBench.Row> rows = new ArrayList<>();
        for (int[] mnk : parsed) {
            rows.add(GemmBench.measure(mnk[0], mnk[1], mnk[2], reps, minMs));
        }
        System.out.print(json ? GemmBench.toJson(threads, rows) + "\n" : GemmBench.table(threads, rows));
        return 0;
    }
}
