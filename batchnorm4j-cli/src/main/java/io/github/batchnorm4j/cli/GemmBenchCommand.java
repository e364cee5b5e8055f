package io.github.batchnorm4j.cli;

import io.github.batchnorm4j.kernel.Gemm;
import io.github.batchnorm4j.kernel.WorkerPool;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bn4j bench gemm}: GFLOP/s of {@link Gemm#sgemm} (no transposes, alpha 1, beta 0) for square and
 * layer-shaped products. Each size is warmed up, then timed as the best of several repetitions of a loop that
 * runs for at least {@code --min-ms}; GFLOP/s = 2·m·n·k / seconds.
 */
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
        WorkerPool.setThreads(threads);
        List<String> list = sizes != null ? sizes
                : List.of("1024x1024x1024", "512x512x512", "256x256x256", "60x100x784", "32x784x288", "64x196x576");
        List<int[]> parsed = new ArrayList<>();
        for (String s : list) { // all checked before the first measurement
            String[] p = s.toLowerCase(Locale.ROOT).split("x");
            int[] mnk = new int[3];
            try {
                for (int i = 0; i < 3 && p.length == 3; i++) {
                    mnk[i] = Integer.parseInt(p[i]);
                }
            } catch (NumberFormatException e) {
                mnk[0] = 0;
            }
            if (p.length != 3 || mnk[0] < 1 || mnk[1] < 1 || mnk[2] < 1) {
                throw new IllegalArgumentException("Expected --sizes of positive m x n x k like 1024x1024x1024, got "
                        + s);
            }
            parsed.add(mnk);
        }
        List<double[]> rows = new ArrayList<>();
        for (int[] mnk : parsed) {
            int m = mnk[0], n = mnk[1], k = mnk[2];
            rows.add(new double[] {m, n, k, measure(m, n, k)});
        }
        if (json) {
            StringBuilder sb = new StringBuilder("{\"benchmark\":\"gemm\",\"threads\":").append(threads)
                    .append(",\"results\":[");
            for (int i = 0; i < rows.size(); i++) {
                double[] r = rows.get(i);
                sb.append(i > 0 ? "," : "").append(String.format(Locale.ROOT,
                        "{\"m\":%d,\"n\":%d,\"k\":%d,\"gflops\":%.3f}", (int) r[0], (int) r[1], (int) r[2], r[3]));
            }
            System.out.println(sb.append("]}"));
        } else {
            System.out.printf(Locale.ROOT, "SGEMM, %d thread(s), %s%n", threads, vectorInfo());
            System.out.printf(Locale.ROOT, "%8s %8s %8s %10s%n", "m", "n", "k", "GFLOP/s");
            for (double[] r : rows) {
                System.out.printf(Locale.ROOT, "%8d %8d %8d %10.2f%n", (int) r[0], (int) r[1], (int) r[2], r[3]);
            }
        }
        return 0;
    }

    private static String vectorInfo() {
        return "FloatVector.SPECIES_PREFERRED = " + jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length()
                + " lanes";
    }

    /** Best GFLOP/s over {@link #reps} repetitions after a warm-up of about the same length. */
    private double measure(int m, int n, int k) {
        SplittableRandom rng = new SplittableRandom(42);
        float[] a = new float[m * k];
        float[] b = new float[k * n];
        float[] c = new float[m * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) rng.nextDouble(-1, 1);
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) rng.nextDouble(-1, 1);
        }
        double flops = 2.0 * m * n * k;
        double best = 0;
        for (int rep = -2; rep < reps; rep++) { // two warm-up rounds let the JIT compile the kernel
            long start = System.nanoTime();
            long iters = 0;
            long elapsed;
            do {
                Gemm.sgemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, c, 0, n);
                iters++;
                elapsed = System.nanoTime() - start;
            } while (elapsed < minMs * 1_000_000L);
            if (rep >= 0) {
                best = Math.max(best, flops * iters / elapsed);
            }
        }
        return best;
    }
}
