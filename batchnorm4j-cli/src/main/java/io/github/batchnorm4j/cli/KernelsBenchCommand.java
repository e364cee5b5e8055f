package io.github.batchnorm4j.cli;

import io.github.batchnorm4j.bench.KernelBench;
import io.github.batchnorm4j.kernel.Kernels;
import io.github.batchnorm4j.kernel.WorkerPool;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bn4j bench kernels}: times the BatchNorm kernels on the shapes of BENCHMARKS.md (training forward, eval forward,
 * backward) and a STREAM-like triad as the bandwidth roof, all in one harness; prints a table or
 * ({@code --json}) one JSON array.
 */
@Command(name = "kernels", mixinStandardHelpOptions = true,
        description = "Time BatchNorm train/eval forward and backward on fixed shapes, with a triad roof.")
public final class KernelsBenchCommand implements Callable<Integer> {
    @Option(names = "--threads", description = "worker threads (default: available processors)")
    Integer threads;

    @Option(names = "--json", description = "print one JSON array of results instead of a table")
    boolean json;

    @Option(names = "--min-ms", defaultValue = "600",
            description = "minimum measured time per row in milliseconds (default: ${DEFAULT-VALUE})")
    double minMs;

    @Option(names = "--shapes", split = ",",
            description = "only these shapes, e.g. 60x100,64x64x56x56 (default: all)")
    List<String> shapes;

    @Override
    public Integer call() {
        int t = threads == null ? WorkerPool.threads() : threads;
        if (t < 1) {
            throw new IllegalArgumentException("Expected --threads >= 1, got " + t);
        }
        if (minMs < 1) {
            throw new IllegalArgumentException("Expected --min-ms >= 1, got " + minMs);
        }
        if (shapes != null) {
            List<String> known = KernelBench.cases().stream().map(KernelBench.Case::shape).distinct().toList();
            for (String s : shapes) {
                if (!known.contains(s)) {
                    throw new IllegalArgumentException("Expected --shapes among " + known + ", got " + s);
                }
            }
        }
        WorkerPool.setThreads(t);
        KernelBench bench = new KernelBench(minMs);
        List<KernelBench.Row> rows = new ArrayList<>();
        rows.add(bench.triad(t));
        for (KernelBench.Case c : KernelBench.cases()) {
            if (shapes == null || shapes.contains(c.shape())) {
                rows.addAll(bench.run(c, t));
            }
        }
        if (json) {
            System.out.println(KernelBench.toJson(rows));
        } else {
            System.out.printf(Locale.ROOT, "kernels: %s, %d thread(s), %d float lanes%n",
                    Kernels.norm().getClass().getSimpleName(), t, Kernels.lanes());
            double roof = rows.get(0).gbps();
            System.out.printf(Locale.ROOT, "%-14s %-5s %-14s %10s %8s %7s%n", "shape", "lay", "op", "median_ms", "GB/s",
                    "%triad");
            for (KernelBench.Row r : rows) {
                System.out.printf(Locale.ROOT, "%-14s %-5s %-14s %10.4f %8.2f %6.0f%%%n", r.shape(), r.layout(), r.op(),
                        r.medianMs(), r.gbps(), 100 * r.gbps() / roof);
            }
        }
        return 0;
    }
}
