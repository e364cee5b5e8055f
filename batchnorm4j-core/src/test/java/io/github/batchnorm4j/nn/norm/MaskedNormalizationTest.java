package io.github.batchnorm4j.nn.norm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.dist.ThreadCommunicator;
import io.github.batchnorm4j.reference.Float64Reference;
import io.github.batchnorm4j.reference.Float64Reference.Grouping;
import io.github.batchnorm4j.tensor.MemoryFormat;
import io.github.batchnorm4j.tensor.Tensor;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Masked BN, LN, GN and IN against an independent float64 definition: statistics (mean, biased variance) over the
 * valid positions of each statistic's group, the formula applied at every position; running statistics with the
 * unbiased variance of the valid values. The library's output and running update are compared with that
 * definition, its analytic backward with central differences of it (in double), over the documented mask shapes,
 * both memory formats and ragged masks; plus the errors, a NaN-leak check, and masked SyncBatchNorm over 2 and 3
 * ranks against one process.
 */
class MaskedNormalizationTest {
    private static final double EPS = 1e-5;

    private static float[] gaussian(long seed, int n, double scale, double offset) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextGaussian() * scale + offset);
        }
        return v;
    }

    /** A ragged 0/1 mask of {@code n} values, at least {@code minValid} ones per row of {@code row} values. */
    private static float[] mask(long seed, int n, int row) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] m = new float[n];
        for (int i = 0; i < n; i++) {
            m[i] = r.nextDouble() < 0.6 ? 1f : 0f;
        }
        for (int i = 0; i + 1 < n; i += row) { // two valid values in every row: no statistic is left empty
            m[i] = 1f;
            m[Math.min(n - 1, i + 1)] = 1f;
        }
        return m;
    }

    /** The definition: validity of element i, per-statistic valid mean and biased variance, y everywhere. */
    record Ref(double[] y, double[] mean, double[] var, double[] count) {}

    private static boolean valid(float[] mask, int i, int c, int s) {
        return mask[(i / (c * s)) * s + i % s] != 0f;
    }

    static Ref reference(Grouping g, double[] x, float[] mask, int c, int s, double[] gamma, double[] beta) {
        int ns = g.numStats();
        double[] mean = new double[ns];
        double[] count = new double[ns];
        for (int i = 0; i < x.length; i++) {
            if (valid(mask, i, c, s)) {
                mean[g.stat()[i]] += x[i];
                count[g.stat()[i]]++;
            }
        }
        for (int k = 0; k < ns; k++) {
            mean[k] /= count[k];
        }
        double[] var = new double[ns];
        for (int i = 0; i < x.length; i++) {
            if (valid(mask, i, c, s)) {
                double t = x[i] - mean[g.stat()[i]];
                var[g.stat()[i]] += t * t;
            }
        }
        for (int k = 0; k < ns; k++) {
            var[k] /= count[k];
        }
        return new Ref(Float64Reference.normalize(g, x, mean, var, gamma, beta, EPS), mean, var, count);
    }

    /** One layer under test: its module, the grouping of the definition, and x's shape. */
    record Case(String name, Supplier<NormLayer> layer, Grouping grouping, int[] shape, MemoryFormat format) {}

    private static List<Case> cases() {
        return List.of(
                new Case("BN (N,C)", () -> new BatchNorm(5), Float64Reference.batchNorm(new int[] {9, 5}),
                        new int[] {9, 5}, MemoryFormat.CONTIGUOUS),
                new Case("BN (N,C,L)", () -> new BatchNorm(3), Float64Reference.batchNorm(new int[] {4, 3, 7}),
                        new int[] {4, 3, 7}, MemoryFormat.CONTIGUOUS),
                new Case("BN (N,C,H,W) channels-last", () -> new BatchNorm(4),
                        Float64Reference.batchNorm(new int[] {3, 4, 3, 5}), new int[] {3, 4, 3, 5},
                        MemoryFormat.CHANNELS_LAST),
                new Case("LN over (C,L)", () -> new LayerNorm(new int[] {3, 6}, EPS, true),
                        Float64Reference.layerNorm(new int[] {4, 3, 6}, 2), new int[] {4, 3, 6},
                        MemoryFormat.CONTIGUOUS),
                new Case("LN over L", () -> new LayerNorm(new int[] {6}, EPS, true),
                        Float64Reference.layerNorm(new int[] {4, 3, 6}, 1), new int[] {4, 3, 6},
                        MemoryFormat.CONTIGUOUS),
                new Case("GN(2) (N,C,H,W)", () -> new GroupNorm(2, 4, EPS, true),
                        Float64Reference.groupNorm(new int[] {3, 4, 3, 4}, 2), new int[] {3, 4, 3, 4},
                        MemoryFormat.CONTIGUOUS),
                new Case("GN(3) channels-last", () -> new GroupNorm(3, 6, EPS, true),
                        Float64Reference.groupNorm(new int[] {2, 6, 3, 3}, 3), new int[] {2, 6, 3, 3},
                        MemoryFormat.CHANNELS_LAST),
                new Case("IN (N,C,L) affine", () -> new InstanceNorm(3, NormOptions.INSTANCE_NORM.withAffine(true)),
                        Float64Reference.instanceNorm(new int[] {3, 3, 8}), new int[] {3, 3, 8},
                        MemoryFormat.CONTIGUOUS),
                new Case("IN (N,C,H,W) affine", () -> new InstanceNorm(2, NormOptions.INSTANCE_NORM.withAffine(true)),
                        Float64Reference.instanceNorm(new int[] {2, 2, 3, 4}), new int[] {2, 2, 3, 4},
                        MemoryFormat.CONTIGUOUS));
    }

    private static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }

    @Test
    void forwardAndBackwardMatchTheDefinitionAndCentralDifferences() {
        for (Case cs : cases()) {
            int[] shape = cs.shape();
            int numel = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
            int c = shape[1];
            int s = numel / (shape[0] * c);
            float[] xv = gaussian(1, numel, 1.5, 0.7);
            float[] dyv = gaussian(2, numel, 1.0, 0.0);
            float[] mv = mask(3, numel / c, s);
            NormLayer layer = cs.layer().get();
            float[] w = layer.weight().data();
            float[] b = layer.bias().data();
            System.arraycopy(gaussian(4, w.length, 0.3, 1.0), 0, w, 0, w.length);
            System.arraycopy(gaussian(5, b.length, 0.3, 0.0), 0, b, 0, b.length);
            Tensor x = Tensor.of(xv.clone(), shape).to(cs.format());
            Tensor m = Tensor.of(mv.clone(), io.github.batchnorm4j.tensor.Shapes.without(shape, 1));
            float[] y = layer.forward(x, m).toContiguousArray();
            float[] dx = layer.backward(Tensor.of(dyv.clone(), shape).to(cs.format())).toContiguousArray();
            double[] xd = toDouble(xv);
            double[] wd = toDouble(w);
            double[] bd = toDouble(b);
            Ref ref = reference(cs.grouping(), xd, mv, c, s, wd, bd);
            for (int i = 0; i < numel; i++) {
                assertEquals(ref.y()[i], y[i], 1e-5 * Math.max(1, Math.abs(ref.y()[i])), cs.name() + ": y at " + i);
            }
            // L = Σ y · dy; central differences of the float64 definition
            double[] dyd = toDouble(dyv);
            java.util.function.DoubleSupplier loss = () -> Float64Reference.dot(
                    reference(cs.grouping(), xd, mv, c, s, wd, bd).y(), dyd);
            for (int i = 0; i < numel; i++) {
                double num = centralDifference(xd, i, loss);
                assertEquals(num, dx[i], 2e-4 * Math.max(1, Math.abs(num)), cs.name() + ": dx at " + i
                        + (valid(mv, i, c, s) ? " (valid)" : " (masked)"));
            }
            float[] dg = layer.weight().grad().data();
            float[] dbt = layer.bias().grad().data();
            for (int j = 0; j < wd.length; j++) {
                double num = centralDifference(wd, j, loss);
                assertEquals(num, dg[j], 2e-4 * Math.max(1, Math.abs(num)), cs.name() + ": dgamma at " + j);
                num = centralDifference(bd, j, loss);
                assertEquals(num, dbt[j], 2e-4 * Math.max(1, Math.abs(num)), cs.name() + ": dbeta at " + j);
            }
        }
    }

    /** {@code (L(v_i + h) - L(v_i - h)) / 2h} in double, {@code v} restored afterwards. */
    private static double centralDifference(double[] v, int i, java.util.function.DoubleSupplier loss) {
        double h = 1e-5;
        double keep = v[i];
        v[i] = keep + h;
        double up = loss.getAsDouble();
        v[i] = keep - h;
        double dn = loss.getAsDouble();
        v[i] = keep;
        return (up - dn) / (2 * h);
    }

    @Test
    void maskedPositionsGetOnlyTheDirectTermOfTheGradient() {
        BatchNorm bn = new BatchNorm(2, NormOptions.BATCH_NORM.withAffine(false));
        Tensor x = Tensor.of(gaussian(7, 6 * 2, 1, 0), 6, 2);
        float[] mv = {1, 1, 0, 1, 0, 1};
        bn.forward(x, Tensor.of(mv, 6));
        float[] dy = gaussian(8, 12, 1, 0);
        float[] dx = bn.backward(Tensor.of(dy.clone(), 6, 2)).data();
        double[] invStd = bn.lastSaved().invStd();
        for (int i : new int[] {2, 4}) {
            for (int ch = 0; ch < 2; ch++) {
                assertEquals(dy[i * 2 + ch] * invStd[ch], dx[i * 2 + ch], 1e-6, "masked row " + i);
            }
        }
    }

    @Test
    void runningStatisticsAreCountWeightedOverTheValidValues() {
        int[] shape = {4, 3, 5};
        float[] xv = gaussian(11, 60, 2, 1);
        float[] mv = mask(12, 20, 5);
        for (boolean instance : new boolean[] {false, true}) {
            NormLayer layer = instance ? new InstanceNorm(3, NormOptions.BATCH_NORM.withMomentum(0.3))
                    : new BatchNorm(3, NormOptions.BATCH_NORM.withMomentum(0.3));
            layer.forward(Tensor.of(xv.clone(), shape), Tensor.of(mv.clone(), 4, 5));
            Grouping g = instance ? Float64Reference.instanceNorm(shape) : Float64Reference.batchNorm(shape);
            Ref ref = reference(g, toDouble(xv), mv, 3, 5, null, null);
            double[] rm = new double[3];
            double[] rv = {1, 1, 1};
            double[] bm = new double[3];
            double[] bv = new double[3];
            int reps = g.numStats() / 3;
            for (int k = 0; k < g.numStats(); k++) {
                bm[k % 3] += ref.mean()[k] / reps;
                bv[k % 3] += ref.var()[k] * ref.count()[k] / (ref.count()[k] - 1) / reps; // unbiased, valid count
            }
            Tensor runMean = layer.namedBuffers().get("running_mean");
            Tensor runVar = layer.namedBuffers().get("running_var");
            for (int ch = 0; ch < 3; ch++) {
                assertEquals(0.7 * rm[ch] + 0.3 * bm[ch], runMean.data()[ch], 1e-6, "running mean " + ch);
                assertEquals(0.7 * rv[ch] + 0.3 * bv[ch], runVar.data()[ch], 1e-6, "running var " + ch);
            }
        }
    }

    @Test
    void invalidPositionsNeverReachTheStatistics() {
        // NaN at every masked position: outputs at the valid positions and the running statistics stay finite.
        float[] xv = gaussian(21, 8 * 3, 1, 0);
        float[] mv = {1, 0, 1, 1, 0, 1, 0, 1};
        for (int i = 0; i < 8; i++) {
            for (int ch = 0; mv[i] == 0 && ch < 3; ch++) {
                xv[i * 3 + ch] = Float.NaN;
            }
        }
        BatchNorm bn = new BatchNorm(3);
        float[] y = bn.forward(Tensor.of(xv, 8, 3), Tensor.of(mv, 8)).data();
        for (int i = 0; i < 8; i++) {
            for (int ch = 0; mv[i] == 1 && ch < 3; ch++) {
                assertTrue(Float.isFinite(y[i * 3 + ch]), "valid row " + i);
            }
        }
        for (float v : bn.runningMean().data()) {
            assertTrue(Float.isFinite(v));
        }
        for (float v : bn.runningVar().data()) {
            assertTrue(Float.isFinite(v));
        }
    }

    @Test
    void errorsNameWhatIsWrong() {
        BatchNorm bn = new BatchNorm(3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> bn.forward(Tensor.zeros(4, 3), Tensor.of(new float[] {0, 1, 0, 0}, 4)));
        assertEquals("Expected at least 2 valid values (mask = 1) in every channel when training, got 1 in channel 0"
                + " (input of shape [4, 3])", e.getMessage());
        assertEquals(0, bn.numBatchesTracked(), "a rejected batch changes nothing");
        InstanceNorm in = new InstanceNorm(2);
        e = assertThrows(IllegalArgumentException.class, () -> in.forward(Tensor.zeros(2, 2, 3),
                Tensor.of(new float[] {1, 1, 0, 0, 1, 0}, 2, 3)));
        assertEquals("Expected at least 2 valid values (mask = 1) in every channel of every sample when training, got"
                + " 1 in channel 0 of sample 1 (input of shape [2, 2, 3])", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> bn.forward(Tensor.zeros(4, 3, 2), Tensor.zeros(4)));
        assertEquals("Expected mask of shape [4, 2] (the input's shape without the channel dimension) for input of"
                + " shape [4, 3, 2], got [4]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> bn.forward(Tensor.zeros(4, 3), Tensor.of(new float[] {1, 1, 0.5f, 1}, 4)));
        assertEquals("Expected mask values 0 or 1, got 0.5 at index 2", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new GhostBatchNorm(3, 2).forward(Tensor.zeros(4, 3),
                Tensor.full(1f, 4)));
        assertEquals("Expected no mask for GhostBatchNorm (BatchNorm, SyncBatchNorm, LayerNorm, GroupNorm and"
                + " InstanceNorm take one), got a mask of shape [4]", e.getMessage());
    }

    @Test
    void aFullyValidMaskIsTheUnmaskedLayer() {
        int[] shape = {3, 4, 5, 2};
        float[] xv = gaussian(31, 120, 1.3, 0.2);
        BatchNorm a = new BatchNorm(4);
        BatchNorm b = new BatchNorm(4);
        float[] ya = a.forward(Tensor.of(xv.clone(), shape)).data();
        float[] yb = b.forward(Tensor.of(xv.clone(), shape), Tensor.full(1f, 3, 5, 2)).data();
        for (int i = 0; i < ya.length; i++) {
            assertEquals(ya[i], yb[i], 1e-6, "y at " + i);
        }
        for (int ch = 0; ch < 4; ch++) {
            assertEquals(a.runningVar().data()[ch], b.runningVar().data()[ch], 1e-6);
        }
    }

    @Test
    void maskedSyncBatchNormOverRanksEqualsOneProcess() {
        int[] shape = {11, 3, 4};
        float[] xv = gaussian(41, 132, 1.7, -0.4);
        float[] dyv = gaussian(42, 132, 1, 0);
        float[] mv = mask(43, 44, 4);
        BatchNorm single = new BatchNorm(3);
        float[] y = single.forward(Tensor.of(xv.clone(), shape), Tensor.of(mv.clone(), 11, 4)).data().clone();
        float[] dx = single.backward(Tensor.of(dyv.clone(), shape)).data().clone();
        for (int[] split : new int[][] {{6, 5}, {4, 0, 7}}) {
            int[] start = new int[split.length + 1];
            for (int r = 0; r < split.length; r++) {
                start[r + 1] = start[r] + split[r];
            }
            List<float[][]> out = ThreadCommunicator.run(split.length, Duration.ofSeconds(30), comm -> {
                int from = start[comm.rank()];
                int to = start[comm.rank() + 1];
                SyncBatchNorm sync = new SyncBatchNorm(3, comm);
                Tensor xs = Tensor.of(Arrays.copyOfRange(xv, from * 12, to * 12), to - from, 3, 4);
                Tensor ms = Tensor.of(Arrays.copyOfRange(mv, from * 4, to * 4), to - from, 4);
                float[] ys = sync.forward(xs, ms).data().clone();
                Tensor dys = Tensor.of(Arrays.copyOfRange(dyv, from * 12, to * 12), to - from, 3, 4);
                float[] dxs = sync.backward(dys).data().clone();
                return new float[][] {ys, dxs, sync.runningMean().data().clone(), sync.runningVar().data().clone(),
                    sync.weight().grad().data().clone()};
            });
            float[] dGammaSum = new float[3];
            for (int r = 0; r < split.length; r++) {
                float[][] o = out.get(r);
                for (int i = 0; i < o[0].length; i++) {
                    assertEquals(y[start[r] * 12 + i], o[0][i], 1e-5, "y of rank " + r);
                    assertEquals(dx[start[r] * 12 + i], o[1][i], 1e-5, "dx of rank " + r);
                }
                for (int ch = 0; ch < 3; ch++) {
                    assertEquals(single.runningMean().data()[ch], o[2][ch], 1e-6, "running mean of rank " + r);
                    assertEquals(single.runningVar().data()[ch], o[3][ch], 1e-6, "running var of rank " + r);
                    dGammaSum[ch] += o[4][ch];
                }
            }
            for (int ch = 0; ch < 3; ch++) {
                assertEquals(single.weight().grad().data()[ch], dGammaSum[ch], 1e-5, "sum of dgamma");
            }
        }
    }
}
