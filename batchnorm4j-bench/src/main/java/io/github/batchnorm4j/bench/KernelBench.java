package io.github.batchnorm4j.bench;

import io.github.batchnorm4j.functional.NormCore;
import io.github.batchnorm4j.functional.NormSaved;
import io.github.batchnorm4j.functional.NormWorkspace;
import io.github.batchnorm4j.kernel.Kernels;
import io.github.batchnorm4j.kernel.NormGeometry;
import io.github.batchnorm4j.kernel.WorkerPool;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The kernel benchmark harness: warm-up by time, then samples of a calibrated number of calls until a minimum
 * time has been measured; reports the median per-call time and the effective bandwidth of a fixed byte model
 * over the tensor size T: training forward 3T (read for the statistics, read and write to normalise), eval
 * forward 2T, backward 5T (read x and dy for the reductions, again for dx, write dx). Buffers are allocated
 * once per shape; the timed calls are the library's NormCore entry points with a reused workspace.
 */
public final class KernelBench {
    /** One benchmark shape and layout. */
    public record Case(String shape, String layout, NormGeometry geometry) {}

    /** One measured row; {@code shape}/{@code layout} are null for the triad. */
    public record Row(String shape, String layout, String op, int threads, double medianMs, double gbps) {}

    private static final int TRIAD_N = 64 * 64 * 56 * 56;
    private final double minMs;

    /** @param minMs minimum measured time per row, milliseconds */
    public KernelBench(double minMs) {
        this.minMs = minMs;
    }

    /** The shapes and layouts of BENCHMARKS.md. */
    public static List<Case> cases() {
        return List.of(
                new Case("64x64x56x56", "NCHW", NormGeometry.perChannel(64, 64, 56 * 56)),
                new Case("64x64x56x56", "NHWC", NormGeometry.perChannel(64 * 56 * 56, 64, 1)),
                new Case("128x64x28x28", "NCHW", NormGeometry.perChannel(128, 64, 28 * 28)),
                new Case("32x256x14x14", "NCHW", NormGeometry.perChannel(32, 256, 14 * 14)),
                new Case("4096x1024", "NC", NormGeometry.perChannel(4096, 1024, 1)),
                new Case("60x100", "NC", NormGeometry.perChannel(60, 100, 1)));
    }

    /** Training forward, eval forward and backward of one case. */
    public List<Row> run(Case c, int threads) {
        NormGeometry g = c.geometry();
        int n = (int) g.numel(), ch = g.k();
        SplittableRandom r = new SplittableRandom(1);
        float[] x = new float[n], y = new float[n], dy = new float[n], dx = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (0.5 + 2 * r.nextGaussian());
            dy[i] = (float) r.nextGaussian();
        }
        float[] gamma = new float[ch], beta = new float[ch], rm = new float[ch], rv = new float[ch];
        float[] dGamma = new float[ch], dBeta = new float[ch];
        for (int i = 0; i < ch; i++) {
            gamma[i] = (float) (1 + 0.1 * r.nextGaussian());
            beta[i] = (float) (0.1 * r.nextGaussian());
            rv[i] = 1f;
        }
        NormWorkspace trainWs = new NormWorkspace(), evalWs = new NormWorkspace(), bwdWs = new NormWorkspace();
        double bytes = 4.0 * n;
        List<Row> rows = new ArrayList<>();
        double ms = medianMs(() -> NormCore.forward(x, y, g, true, rm, rv, 0.1, 1e-5, gamma, beta, null, false,
                trainWs), n);
        rows.add(new Row(c.shape(), c.layout(), "train_forward", threads, ms, 3 * bytes / ms / 1e6));
        ms = medianMs(() -> NormCore.forward(x, y, g, false, rm, rv, 0.1, 1e-5, gamma, beta, null, false, evalWs), n);
        rows.add(new Row(c.shape(), c.layout(), "eval_forward", threads, ms, 2 * bytes / ms / 1e6));
        NormSaved saved = NormCore.forward(x, y, g, true, null, null, 0.1, 1e-5, gamma, beta, null, false, bwdWs);
        ms = medianMs(() -> NormCore.backward(saved, x, dy, gamma, null, dx, null, dGamma, dBeta, bwdWs), n);
        rows.add(new Row(c.shape(), c.layout(), "backward", threads, ms, 5 * bytes / ms / 1e6));
        return rows;
    }

    /** STREAM triad {@code a = b + s * c} over three arrays of the largest tensor's size, in fixed chunks. */
    public Row triad(int threads) {
        float[] a = new float[TRIAD_N], b = new float[TRIAD_N], c = new float[TRIAD_N];
        Arrays.fill(b, 1f);
        Arrays.fill(c, 2f);
        int chunk = 1 << 16, tasks = (TRIAD_N + chunk - 1) / chunk;
        double ms = medianMs(() -> WorkerPool.parallelFor(tasks, t -> triadChunk(a, b, c, 3f, t * chunk,
                Math.min(TRIAD_N, t * chunk + chunk))), TRIAD_N);
        return new Row(null, null, "triad", threads, ms, 3 * 4.0 * TRIAD_N / ms / 1e6);
    }

    private static final boolean VECTOR = Kernels.vectorModulePresent();

    private static void triadChunk(float[] a, float[] b, float[] c, float s, int from, int to) {
        int i = VECTOR ? VectorTriad.chunk(a, b, c, s, from, to) : from;
        for (; i < to; i++) {
            a[i] = Math.fma(c[i], s, b[i]);
        }
    }

    private double medianMs(Runnable op, long numel) {
        return Measure.medianMs(op, numel, minMs);
    }

    /** One JSON array, one object per row. */
    public static String toJson(List<Row> rows) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            sb.append(i == 0 ? "\n  {" : ",\n  {");
            if (r.shape() != null) {
                sb.append("\"shape\": \"").append(r.shape()).append("\", \"layout\": \"").append(r.layout())
                        .append("\", ");
            }
            sb.append(String.format(Locale.ROOT, "\"op\": \"%s\", \"threads\": %d, ", r.op(), r.threads()));
            if (r.shape() != null) {
                sb.append(String.format(Locale.ROOT, "\"median_ms\": %.5f, ", r.medianMs()));
            }
            sb.append(String.format(Locale.ROOT, "\"gbps\": %.3f}", r.gbps()));
        }
        return sb.append("\n]").toString();
    }
}
