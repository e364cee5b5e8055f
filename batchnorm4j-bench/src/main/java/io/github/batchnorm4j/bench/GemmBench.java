package io.github.batchnorm4j.bench;

import io.github.batchnorm4j.kernel.Gemm;
import io.github.batchnorm4j.kernel.Kernels;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * GFLOP/s of the library's SGEMM (no transposes, alpha 1, beta 0) for square and layer-shaped products. Each size
 * is warmed up, then timed as the best of several repetitions of a loop that runs for at least {@code minMs};
 * GFLOP/s = 2·m·n·k / seconds.
 */
public final class GemmBench {
    /** The sizes measured unless told: three squares and three layer shapes of the benchmark models. */
    public static final List<String> DEFAULT_SIZES =
            List.of("1024x1024x1024", "512x512x512", "256x256x256", "60x100x784", "32x784x288", "64x196x576");

    /** One measured product. */
    public record Row(int m, int n, int k, double gflops) {}

    private GemmBench() {}

    /**
     * Parses {@code m x n x k} triples such as {@code 1024x1024x1024}, all before any measurement.
     *
     * @throws IllegalArgumentException naming the first malformed size
     */
    public static List<int[]> parseSizes(List<String> sizes) {
        List<int[]> parsed = new ArrayList<>();
        for (String s : sizes) {
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
        return parsed;
    }

    /** Best GFLOP/s over {@code reps} repetitions of at least {@code minMs} each, after two warm-up rounds. */
    public static Row measure(int m, int n, int k, int reps, int minMs) {
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
            double calls = Measure.callsPerSecond(
                    () -> Gemm.sgemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, c, 0, n), minMs);
            if (rep >= 0) {
                best = Math.max(best, flops * calls / 1e9);
            }
        }
        return new Row(m, n, k, best);
    }

    /** One JSON object: the benchmark, the thread count and one entry per size. */
    public static String toJson(int threads, List<Row> rows) {
        StringBuilder sb = new StringBuilder("{\"benchmark\":\"gemm\",\"threads\":").append(threads)
                .append(",\"results\":[");
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            sb.append(i > 0 ? "," : "").append(String.format(Locale.ROOT,
                    "{\"m\":%d,\"n\":%d,\"k\":%d,\"gflops\":%.3f}", r.m(), r.n(), r.k(), r.gflops()));
        }
        return sb.append("]}").toString();
    }

    /** A plain-text table with a header naming the kernels. */
    public static String table(int threads, List<Row> rows) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "SGEMM, %d thread(s), %s%n", threads,
                Kernels.lanes() > 1 ? Kernels.lanes() + " float lanes" : "scalar kernels"));
        sb.append(String.format(Locale.ROOT, "%8s %8s %8s %10s%n", "m", "n", "k", "GFLOP/s"));
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, "%8d %8d %8d %10.2f%n", r.m(), r.n(), r.k(), r.gflops()));
        }
        return sb.toString();
    }
}
