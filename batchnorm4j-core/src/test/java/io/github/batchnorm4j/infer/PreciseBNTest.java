package io.github.batchnorm4j.infer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.tensor.MemoryFormat;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PreciseBNTest {
    private static final double EPS = 1e-5;

    /** Children "0", "1", ... applied in order (a test-local container, independent of nn.Sequential). */
    static final class Chain extends Module {
        private final List<Module> layers = new ArrayList<>();

        Chain(Module... ms) {
            for (Module m : ms) {
                layers.add(registerModule(Integer.toString(layers.size()), m));
            }
        }

        @Override
        public Tensor forward(Tensor x) {
            for (Module m : layers) {
                x = m.forward(x);
            }
            return x;
        }

        @Override
        public Tensor backward(Tensor g) {
            throw new UnsupportedOperationException();
        }
    }

    /** y = 2 tanh(x) + 0.5, elementwise: makes the second BN's input depend non-linearly on the first's stats. */
    static final class TanhShift extends Module {
        static double f(double x) {
            return 2 * Math.tanh(x) + 0.5;
        }

        @Override
        public Tensor forward(Tensor x) {
            Tensor y = x.zerosLike();
            float[] a = x.data(), b = y.data();
            for (int i = 0; i < a.length; i++) {
                b[i] = (float) f(a[i]);
            }
            return y;
        }

        @Override
        public Tensor backward(Tensor g) {
            throw new UnsupportedOperationException();
        }
    }

    private static BatchNorm bn(int c, SplittableRandom r) {
        BatchNorm b = new BatchNorm(c);
        for (int i = 0; i < c; i++) {
            b.weight().data()[i] = (float) (0.5 + r.nextDouble());
            b.bias().data()[i] = (float) (r.nextDouble() - 0.5);
            b.runningMean().data()[i] = 5f; // stale values that must be replaced
            b.runningVar().data()[i] = 9f;
        }
        b.setNumBatchesTracked(17);
        return b;
    }

    /** Batches of different sizes and different per-batch offsets, so per-batch weighting matters. */
    private static List<Tensor> batches(int[] sizes, int c, int h, int w, SplittableRandom r) {
        List<Tensor> out = new ArrayList<>();
        for (int b = 0; b < sizes.length; b++) {
            float[] d = new float[sizes[b] * c * h * w];
            for (int i = 0; i < d.length; i++) {
                int ch = (i / (h * w)) % c;
                d[i] = (float) (0.8 * b - 0.3 * ch + (1 + ch) * r.nextGaussian());
            }
            out.add(h * w == 1 && h == 1 ? Tensor.of(d, sizes[b], c) : Tensor.of(d, sizes[b], c, h, w));
        }
        return out;
    }

    /** Naive double reference: per-channel mean and unbiased variance of (N, C, S) values given as [n][c][s]. */
    private static double[][] stats(double[][][] v) {
        int c = v[0].length;
        double[] mean = new double[c], var = new double[c];
        long count = 0;
        for (double[][] sample : v) {
            count += sample[0].length;
        }
        for (int ch = 0; ch < c; ch++) {
            double s = 0;
            for (double[][] sample : v) {
                for (double x : sample[ch]) {
                    s += x;
                }
            }
            mean[ch] = s / count;
            double q = 0;
            for (double[][] sample : v) {
                for (double x : sample[ch]) {
                    q += (x - mean[ch]) * (x - mean[ch]);
                }
            }
            var[ch] = q / (count - 1);
        }
        return new double[][] {mean, var};
    }

    private static double[][][] toNested(List<Tensor> batches) {
        List<double[][]> rows = new ArrayList<>();
        for (Tensor t : batches) {
            int n = t.dim(0), c = t.dim(1), s = t.spatialSize();
            float[] d = t.toContiguousArray();
            for (int i = 0; i < n; i++) {
                double[][] sample = new double[c][s];
                for (int ch = 0; ch < c; ch++) {
                    for (int j = 0; j < s; j++) {
                        sample[ch][j] = d[(i * c + ch) * s + j];
                    }
                }
                rows.add(sample);
            }
        }
        return rows.toArray(new double[0][][]);
    }

    private static void assertStats(double[][] expected, BatchNorm b) {
        for (int ch = 0; ch < expected[0].length; ch++) {
            double sd = Math.sqrt(expected[1][ch]);
            assertEquals(expected[0][ch], b.runningMean().data()[ch], 1e-6 * (Math.abs(expected[0][ch]) + sd),
                    "mean of channel " + ch);
            assertEquals(expected[1][ch], b.runningVar().data()[ch], 1e-5 * expected[1][ch], "var of channel " + ch);
        }
    }

    private static void checkTwoLayers(int h, int w, MemoryFormat format) {
        SplittableRandom r = new SplittableRandom(7);
        int c = 3;
        BatchNorm bn1 = bn(c, r);
        BatchNorm bn2 = bn(c, r);
        Chain model = new Chain(bn1, new TanhShift(), bn2);
        float[] g1 = bn1.weight().data().clone(), b2 = bn2.bias().data().clone();
        List<Tensor> data = batches(new int[] {7, 2, 11, 4}, c, h, w, r);
        List<Tensor> fed = new ArrayList<>();
        for (Tensor t : data) {
            fed.add(t.rank() == 4 ? t.to(format) : t);
        }

        PreciseBN.Report report = PreciseBN.recalibrate(model, fed, 3);

        List<Tensor> used = data.subList(0, 3);
        double[][][] x = toNested(used);
        double[][] s1 = stats(x);
        assertStats(s1, bn1);
        // The exact input of bn2 in eval mode: bn1 with its recalibrated (float) statistics, then TanhShift.
        double[][][] z = new double[x.length][c][];
        for (int i = 0; i < x.length; i++) {
            for (int ch = 0; ch < c; ch++) {
                double m = bn1.runningMean().data()[ch], v = bn1.runningVar().data()[ch];
                double gam = bn1.weight().data()[ch], bet = bn1.bias().data()[ch];
                z[i][ch] = new double[x[i][ch].length];
                for (int j = 0; j < z[i][ch].length; j++) {
                    z[i][ch][j] = TanhShift.f((x[i][ch][j] - m) / Math.sqrt(v + EPS) * gam + bet);
                }
            }
        }
        assertStats(stats(z), bn2);

        long perChannel = 20L * h * w;
        assertEquals(List.of("0", "2"), report.layers());
        assertEquals(3, report.batches());
        assertEquals(perChannel, report.valuesPerChannel().get("0"));
        // Nothing else changed: parameters, num_batches_tracked and the training flag.
        assertArrayEquals(g1, bn1.weight().data());
        assertArrayEquals(b2, bn2.bias().data());
        assertEquals(17, bn1.numBatchesTracked());
        assertTrue(model.isTraining());
    }

    @Test
    void matchesExactFullDataStatisticsForFeatures() {
        checkTwoLayers(1, 1, MemoryFormat.CONTIGUOUS);
    }

    @Test
    void matchesExactFullDataStatisticsForImagesNchw() {
        checkTwoLayers(5, 4, MemoryFormat.CONTIGUOUS);
    }

    @Test
    void matchesExactFullDataStatisticsForImagesChannelsLast() {
        checkTwoLayers(5, 4, MemoryFormat.CHANNELS_LAST);
    }

    /** The data is built so that an equal-weight average of batch means is measurably wrong. */
    @Test
    void equalWeightBatchAverageWouldBeWrongHere() {
        SplittableRandom r = new SplittableRandom(7);
        List<Tensor> data = batches(new int[] {7, 2, 11}, 3, 1, 1, r);
        double exact = stats(toNested(data))[0][0];
        double avg = 0;
        for (Tensor t : data) {
            avg += stats(toNested(List.of(t)))[0][0] / data.size();
        }
        assertTrue(Math.abs(exact - avg) > 0.05, "exact " + exact + " vs equal-weight " + avg);
    }

    @Test
    void rejectsBadArguments() {
        BatchNorm b = new BatchNorm(2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PreciseBN.recalibrate(b, List.of(Tensor.zeros(4, 2)), 0));
        assertEquals("Expected maxBatches >= 1, got 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PreciseBN.recalibrate(b, List.of(), 3));
        assertEquals("Expected at least one batch for PreciseBN, got none", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> PreciseBN.recalibrate(b, List.of(Tensor.zeros(1, 2)), 3));
        assertEquals("Expected at least 2 values per channel to estimate the variance of (root), got 1",
                e.getMessage());
    }
}
