package io.github.batchnorm4j.nn.norm;

import static io.github.batchnorm4j.reference.TestArrays.GRAD_TOL;
import static io.github.batchnorm4j.reference.TestArrays.OUTPUT_TOL;
import static io.github.batchnorm4j.reference.TestArrays.assertClose;
import static io.github.batchnorm4j.reference.TestArrays.toDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.reference.Float64Reference;
import io.github.batchnorm4j.reference.Float64Reference.Backward;
import io.github.batchnorm4j.reference.Float64Reference.Forward;
import io.github.batchnorm4j.reference.Float64Reference.Grouping;
import io.github.batchnorm4j.reference.TestArrays;
import io.github.batchnorm4j.tensor.MemoryFormat;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The behavioural contracts of the normalization layers, one test per contract. */
class NormSemanticsTest {
    private final SplittableRandom rnd = new SplittableRandom(20260101);

    private Tensor randn(double offset, double scale, int... shape) {
        return Tensor.of(TestArrays.gaussian(rnd, Float64Reference.numel(shape), offset, scale), shape);
    }

    private static double[] batchMean(Tensor x) {
        Grouping g = Float64Reference.batchNorm(x.shape());
        return Float64Reference.mean(g, toDouble(x.toContiguousArray()));
    }

    /** Unbiased per-channel variance of a BatchNorm batch. */
    private static double[] batchUnbiasedVar(Tensor x) {
        Grouping g = Float64Reference.batchNorm(x.shape());
        double[] xd = toDouble(x.toContiguousArray());
        double[] v = Float64Reference.variance(g, xd, Float64Reference.mean(g, xd));
        for (int c = 0; c < v.length; c++) {
            v[c] = v[c] * g.count() / (g.count() - 1);
        }
        return v;
    }

    private static void assertWithinOneUlp(String what, double expected, float actual) {
        float e = (float) expected;
        assertTrue(Math.abs(actual - e) <= Math.ulp(e), what + ": expected " + e + " (1 ulp), got " + actual);
    }

    @Test
    void runningStatisticsFollowTheExactEmaFormulaOverSeveralSteps() {
        double m = 0.3;
        BatchNorm bn = new BatchNorm(3, NormOptions.BATCH_NORM.withMomentum(m));
        double[] chainMean = {0, 0, 0};
        double[] chainVar = {1, 1, 1};
        for (int step = 1; step <= 5; step++) {
            float[] before = bn.runningMean().data().clone();
            float[] beforeVar = bn.runningVar().data().clone();
            Tensor x = randn(2.0 * step, step, 4, 3, 5);
            bn.forward(x);
            double[] mean = batchMean(x);
            double[] var = batchUnbiasedVar(x);
            for (int c = 0; c < 3; c++) {
                // One step from the stored float values: the formula rounded once to float.
                assertWithinOneUlp("running_mean step " + step, (1 - m) * before[c] + m * mean[c],
                        bn.runningMean().data()[c]);
                assertWithinOneUlp("running_var step " + step, (1 - m) * beforeVar[c] + m * var[c],
                        bn.runningVar().data()[c]);
                chainMean[c] = (1 - m) * chainMean[c] + m * mean[c];
                chainVar[c] = (1 - m) * chainVar[c] + m * var[c];
            }
            assertEquals(step, bn.numBatchesTracked());
        }
        // The whole chain in double: float storage only adds rounding.
        assertClose("running_mean after 5 steps", chainMean, bn.runningMean().data(), 1e-6);
        assertClose("running_var after 5 steps", chainVar, bn.runningVar().data(), 1e-6);
    }

    @Test
    void nullMomentumGivesTheCumulativeAverageOfBatchStatistics() {
        BatchNorm bn = new BatchNorm(4, NormOptions.BATCH_NORM.withMomentum(null));
        double[] sumMean = new double[4];
        double[] sumVar = new double[4];
        int batches = 6;
        for (int b = 0; b < batches; b++) {
            Tensor x = randn(b - 3.0, 1 + b, 3, 4, 7);
            bn.forward(x);
            double[] mean = batchMean(x);
            double[] var = batchUnbiasedVar(x);
            for (int c = 0; c < 4; c++) {
                sumMean[c] += mean[c];
                sumVar[c] += var[c];
            }
            double[] avgMean = sumMean.clone();
            double[] avgVar = sumVar.clone();
            for (int c = 0; c < 4; c++) {
                avgMean[c] /= b + 1;
                avgVar[c] /= b + 1;
            }
            assertClose("running_mean after " + (b + 1) + " batches", avgMean, bn.runningMean().data(), 1e-6);
            assertClose("running_var after " + (b + 1) + " batches", avgVar, bn.runningVar().data(), 1e-6);
            assertEquals(b + 1, bn.numBatchesTracked());
        }
    }

    @Test
    void numBatchesTrackedCountsOnlyAcceptedTrainingBatchesWithTracking() {
        BatchNorm bn = new BatchNorm(3);
        bn.forward(randn(0, 1, 2, 3));
        bn.forward(randn(0, 1, 2, 3, 4));
        assertEquals(2, bn.numBatchesTracked());
        float[] mean = bn.runningMean().data().clone();
        float[] var = bn.runningVar().data().clone();
        // Rejected batches: one value per channel, wrong channel count, wrong rank.
        assertThrows(IllegalArgumentException.class, () -> bn.forward(randn(0, 1, 1, 3)));
        assertThrows(IllegalArgumentException.class, () -> bn.forward(randn(0, 1, 2, 4)));
        assertThrows(IllegalArgumentException.class, () -> bn.forward(randn(0, 1, 3)));
        assertEquals(2, bn.numBatchesTracked());
        assertArrayEquals(mean, bn.runningMean().data());
        assertArrayEquals(var, bn.runningVar().data());
        bn.eval();
        bn.forward(randn(0, 1, 2, 3));
        assertEquals(2, bn.numBatchesTracked(), "eval does not count");
        assertArrayEquals(mean, bn.runningMean().data(), "eval does not update");

        BatchNorm untracked = new BatchNorm(3, NormOptions.BATCH_NORM.withTrackRunningStats(false));
        untracked.forward(randn(0, 1, 2, 3));
        assertEquals(-1, untracked.numBatchesTracked());
        assertTrue(untracked.namedLongBuffers().isEmpty());
        assertTrue(untracked.namedBuffers().isEmpty());

        InstanceNorm in = new InstanceNorm(3, NormOptions.BATCH_NORM);
        in.forward(randn(0, 1, 2, 3, 5));
        assertThrows(IllegalArgumentException.class, () -> in.forward(randn(0, 1, 2, 3, 1)));
        in.eval();
        in.forward(randn(0, 1, 2, 3, 5));
        assertEquals(1, in.numBatchesTracked());
    }

    @Test
    void evalNormalisesWithTheRunningStatistics() {
        BatchNorm bn = new BatchNorm(3);
        float[] rm = {1.5f, -2f, 100f};
        float[] rv = {0.25f, 4f, 9f};
        System.arraycopy(rm, 0, bn.runningMean().data(), 0, 3);
        System.arraycopy(rv, 0, bn.runningVar().data(), 0, 3);
        float[] gamma = {2f, -1f, 0.5f};
        float[] beta = {0.1f, 0.2f, 0.3f};
        System.arraycopy(gamma, 0, bn.weight().data(), 0, 3);
        System.arraycopy(beta, 0, bn.bias().data(), 0, 3);
        bn.eval();
        Tensor x = randn(1, 3, 4, 3, 2);
        Tensor y = bn.forward(x).copy(); // the layer reuses its output buffer: keep a copy
        double[] expected = new double[x.numel()];
        for (int i = 0; i < expected.length; i++) {
            int c = (i / 2) % 3;
            expected[i] = (x.data()[i] - (double) rm[c]) / Math.sqrt(rv[c] + 1e-5) * gamma[c] + beta[c];
        }
        assertClose("eval output", expected, y.data(), OUTPUT_TOL);
        // Per sample: the first sample alone gives the same output as inside the batch.
        Tensor first = Tensor.of(java.util.Arrays.copyOf(x.data(), 6), 1, 3, 2);
        float[] alone = bn.forward(first).data();
        assertArrayEquals(java.util.Arrays.copyOf(y.data(), 6), alone);
    }

    @Test
    void evalWithoutTrackingUsesBatchStatistics() {
        BatchNorm bn = new BatchNorm(5, NormOptions.BATCH_NORM.withTrackRunningStats(false));
        Tensor x = randn(3, 2, 4, 5, 6);
        float[] train = bn.forward(x).data().clone(); // the next forward overwrites the layer's output buffer
        bn.eval();
        float[] eval = bn.forward(x).data();
        assertArrayEquals(train, eval);
        Forward f = Float64Reference.forwardBatch(Float64Reference.batchNorm(x.shape()), toDouble(x.data()), null,
                null, 1e-5);
        assertClose("eval output with batch statistics", f.y(), eval, OUTPUT_TOL);
        // The gradient flows through the batch statistics in eval too: dx sums to zero per channel.
        float[] dx = bn.backward(Tensor.full(1f, 4, 5, 6)).data();
        for (float v : dx) {
            assertEquals(0, v, 1e-5, "dx of a constant upstream gradient through batch statistics");
        }
    }

    @Test
    void momentumOneThenEvalNormalisesWithTheUnbiasedVariance() {
        BatchNorm bn = new BatchNorm(3, NormOptions.BATCH_NORM.withMomentum(1.0));
        Tensor x = randn(-1, 3, 2, 3, 4);
        bn.forward(x);
        bn.eval();
        float[] y = bn.forward(x).data();
        double[] mean = batchMean(x);
        double[] var = batchUnbiasedVar(x);
        double[] expected = new double[y.length];
        for (int i = 0; i < y.length; i++) {
            int c = (i / 4) % 3;
            expected[i] = (x.data()[i] - mean[c]) / Math.sqrt(var[c] + 1e-5);
        }
        assertClose("eval output after momentum=1", expected, y, OUTPUT_TOL);
    }

    @Test
    void layerNormOverChwEqualsGroupNormWithOneGroup() {
        int n = 3, c = 4, h = 5, w = 6;
        LayerNorm ln = new LayerNorm(c, h, w);
        GroupNorm gn = new GroupNorm(1, c);
        float[] gamma = TestArrays.uniform(rnd, c, 0.5, 1.5);
        float[] beta = TestArrays.gaussian(rnd, c, 0, 1);
        System.arraycopy(gamma, 0, gn.weight().data(), 0, c);
        System.arraycopy(beta, 0, gn.bias().data(), 0, c);
        for (int i = 0; i < c * h * w; i++) { // LN's elementwise affine set to GN's per-channel one
            ln.weight().data()[i] = gamma[i / (h * w)];
            ln.bias().data()[i] = beta[i / (h * w)];
        }
        Tensor x = randn(1e4, 2, n, c, h, w);
        Tensor dy = randn(0, 1, n, c, h, w);
        assertClose("LN vs GN(1) output", toDouble(gn.forward(x).data()), ln.forward(x).data(), 1e-6);
        assertClose("LN vs GN(1) dx", toDouble(gn.backward(dy).data()), ln.backward(dy).data(), 1e-6);
        double[] lnDGamma = new double[c];
        double[] lnDBeta = new double[c];
        for (int i = 0; i < c * h * w; i++) {
            lnDGamma[i / (h * w)] += ln.weight().grad().data()[i];
            lnDBeta[i / (h * w)] += ln.bias().grad().data()[i];
        }
        assertClose("GN(1) dgamma vs LN dgamma summed over H, W", lnDGamma, gn.weight().grad().data(), 1e-5);
        assertClose("GN(1) dbeta vs LN dbeta summed over H, W", lnDBeta, gn.bias().grad().data(), 1e-5);
    }

    @Test
    void instanceNormEqualsGroupNormWithOneChannelPerGroup() {
        int c = 7;
        InstanceNorm in = new InstanceNorm(c, NormOptions.INSTANCE_NORM.withAffine(true));
        GroupNorm gn = new GroupNorm(c, c);
        float[] gamma = TestArrays.uniform(rnd, c, -1.5, 1.5);
        float[] beta = TestArrays.gaussian(rnd, c, 0, 1);
        for (NormLayer l : new NormLayer[] {in, gn}) {
            System.arraycopy(gamma, 0, l.weight().data(), 0, c);
            System.arraycopy(beta, 0, l.bias().data(), 0, c);
        }
        Tensor x = randn(5, 3, 2, c, 3, 5);
        Tensor dy = randn(0, 1, 2, c, 3, 5);
        assertClose("IN vs GN(C) output", toDouble(gn.forward(x).data()), in.forward(x).data(), 1e-6);
        assertClose("IN vs GN(C) dx", toDouble(gn.backward(dy).data()), in.backward(dy).data(), 1e-6);
        assertClose("IN vs GN(C) dgamma", toDouble(gn.weight().grad().data()), in.weight().grad().data(), 1e-6);
        assertClose("IN vs GN(C) dbeta", toDouble(gn.bias().grad().data()), in.bias().grad().data(), 1e-6);
    }

    @Test
    void batchOfTwoWithOneFeatureNormalisesToPlusMinusOne() {
        BatchNorm bn = new BatchNorm(1);
        float[] y = bn.forward(Tensor.of(new float[] {3f, 7f}, 2, 1)).data();
        // (x - 5) / sqrt(4 + eps): ±1 up to eps.
        double expected = 2 / Math.sqrt(4 + 1e-5);
        assertEquals(-expected, y[0], 1e-7);
        assertEquals(expected, y[1], 1e-7);
        assertEquals(1.0, Math.abs(y[0]), 2e-6);
    }

    @ParameterizedTest(name = "offset {0}")
    @ValueSource(doubles = {1e2, 1e4, 1e6, 1e8})
    void constantChannelNormalisesToZeroAtAnyOffset(double offset) {
        int n = 4, c = 2, s = 9;
        float[] x = TestArrays.gaussian(rnd, n * c * s, 0, 1);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < s; j++) {
                x[(i * c) * s + j] = (float) offset; // channel 0 constant
            }
        }
        for (NormLayer layer : new NormLayer[] {new BatchNorm(c),
                new InstanceNorm(c, NormOptions.INSTANCE_NORM.withAffine(true)), new GroupNorm(c, c)}) {
            layer.bias().data()[0] = 0.25f;
            Tensor xt = Tensor.of(x.clone(), n, c, s);
            float[] y = layer.forward(xt).data();
            float[] dx = layer.backward(randn(0, 1, n, c, s)).data();
            String what = layer.getClass().getSimpleName() + " at offset " + offset;
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < s; j++) {
                    assertEquals(0.25f, y[(i * c) * s + j], what + ": constant channel gives beta");
                }
            }
            for (int i = 0; i < y.length; i++) {
                assertTrue(Float.isFinite(y[i]) && Float.isFinite(dx[i]), what + ": non-finite at " + i);
            }
            assertTrue(Float.isFinite(layer.weight().grad().data()[0]), what + ": dgamma finite");
        }
        BatchNorm bn = new BatchNorm(c);
        bn.forward(Tensor.of(x.clone(), n, c, s));
        assertEquals((float) (0.1 * offset), bn.runningMean().data()[0], Math.ulp((float) (0.1 * offset)));
        assertEquals(0.9f, bn.runningVar().data()[0], "running variance of a constant channel: 0.9 * 1 + 0.1 * 0");
    }

    @ParameterizedTest(name = "scale {0}")
    @ValueSource(doubles = {1e30, 1e36})
    void hugeMagnitudesDoNotOverflow(double scale) {
        int[] shape = {3, 2, 5};
        Tensor x = randn(0, scale, shape);
        BatchNorm bn = new BatchNorm(2);
        Tensor y = bn.forward(x);
        Tensor dy = randn(0, 1, shape);
        Tensor dx = bn.backward(dy);
        Grouping g = Float64Reference.batchNorm(shape);
        double[] xd = toDouble(x.data());
        Forward f = Float64Reference.forwardBatch(g, xd, null, null, 1e-5);
        Backward b = Float64Reference.backward(g, xd, toDouble(dy.data()), f.mean(), f.var(), null, 1e-5, true,
                true);
        assertClose("y at |x| ~ " + scale, f.y(), y.data(), OUTPUT_TOL);
        assertClose("dx at |x| ~ " + scale, b.dx(), dx.data(), GRAD_TOL);
        assertClose("dgamma at |x| ~ " + scale, b.dGamma(), bn.weight().grad().data(), GRAD_TOL);
        // The unbiased variance ~ scale² exceeds float: the running variance saturates to +Infinity, as a float
        // buffer must (PyTorch's float32 buffer does the same); the mean stays finite.
        double[] mean = f.mean();
        for (int c = 0; c < 2; c++) {
            assertEquals((float) (0.1 * mean[c]), bn.runningMean().data()[c], Math.ulp((float) (0.1 * mean[c])));
            assertEquals(Float.POSITIVE_INFINITY, bn.runningVar().data()[c]);
        }
    }

    @Test
    void nanInTrainingPoisonsOnlyItsChannelIncludingItsRunningStatistics() {
        BatchNorm bn = new BatchNorm(3);
        Tensor x = randn(0, 1, 2, 3, 4);
        x.data()[5] = Float.NaN; // sample 0, channel 1
        float[] y = bn.forward(x).data();
        for (int i = 0; i < y.length; i++) {
            int c = (i / 4) % 3;
            assertEquals(c == 1, Float.isNaN(y[i]), "NaN exactly in channel 1 at " + i);
        }
        // As PyTorch: the NaN reaches running_mean/var of its channel (here stated, not hidden); others are updated.
        assertTrue(Float.isNaN(bn.runningMean().data()[1]));
        assertTrue(Float.isNaN(bn.runningVar().data()[1]));
        assertTrue(Float.isFinite(bn.runningMean().data()[0]) && Float.isFinite(bn.runningVar().data()[2]));
        assertEquals(1, bn.numBatchesTracked());
        float[] dx = bn.backward(randn(0, 1, 2, 3, 4)).data();
        for (int i = 0; i < dx.length; i++) {
            assertEquals((i / 4) % 3 == 1, Float.isNaN(dx[i]), "dx NaN exactly in channel 1 at " + i);
        }
    }

    @Test
    void infinityInTrainingGivesNanChannelInfiniteRunningMeanAndNanRunningVar() {
        BatchNorm bn = new BatchNorm(2);
        Tensor x = randn(0, 1, 3, 2);
        x.data()[0] = Float.POSITIVE_INFINITY; // channel 0
        float[] y = bn.forward(x).data();
        for (int i = 0; i < y.length; i++) {
            assertEquals(i % 2 == 0, Float.isNaN(y[i]), "NaN exactly in channel 0 at " + i);
        }
        // PyTorch 1.13 gives the same: running_mean = inf (0.9·0 + 0.1·inf), running_var = nan (inf - inf).
        assertEquals(Float.POSITIVE_INFINITY, bn.runningMean().data()[0]);
        assertTrue(Float.isNaN(bn.runningVar().data()[0]));
        assertTrue(Float.isFinite(bn.runningMean().data()[1]) && Float.isFinite(bn.runningVar().data()[1]));
    }

    @Test
    void nanInEvalStaysElementwiseAndLeavesRunningStatisticsAlone() {
        BatchNorm bn = new BatchNorm(2);
        bn.eval();
        Tensor x = randn(0, 1, 3, 2);
        x.data()[2] = Float.NaN;
        x.data()[3] = Float.NEGATIVE_INFINITY;
        float[] y = bn.forward(x).data();
        assertTrue(Float.isNaN(y[2]));
        assertEquals(Float.NEGATIVE_INFINITY, y[3]);
        for (int i : new int[] {0, 1, 4, 5}) {
            assertTrue(Float.isFinite(y[i]));
        }
        assertArrayEquals(new float[] {0, 0}, bn.runningMean().data());
        assertArrayEquals(new float[] {1, 1}, bn.runningVar().data());
    }

    @Test
    void nanInLayerNormAndGroupNormStaysInItsRowOrGroup() {
        Tensor x = randn(0, 1, 2, 4, 3);
        x.data()[1] = Float.NaN; // sample 0, channel 0
        float[] ln = new LayerNorm(4, 3).forward(x).data();
        float[] gn = new GroupNorm(2, 4).forward(x).data();
        for (int i = 0; i < x.numel(); i++) {
            assertEquals(i < 12, Float.isNaN(ln[i]), "LayerNorm: NaN exactly in sample 0 at " + i);
            assertEquals(i < 6, Float.isNaN(gn[i]), "GroupNorm: NaN exactly in sample 0, group 0 at " + i);
        }
    }

    @Test
    void instanceNormRunningStatisticsAverageThePerInstanceStatistics() {
        int n = 3, c = 2, s = 6;
        InstanceNorm in = new InstanceNorm(c, NormOptions.INSTANCE_NORM.withTrackRunningStats(true));
        Tensor x = randn(4, 2, n, c, s);
        in.forward(x);
        Grouping g = Float64Reference.instanceNorm(x.shape());
        double[] xd = toDouble(x.data());
        double[] mean = Float64Reference.mean(g, xd);
        double[] var = Float64Reference.variance(g, xd, mean);
        double[] em = {0, 0};
        double[] ev = {1, 1};
        for (int ch = 0; ch < c; ch++) {
            double am = 0, av = 0;
            for (int i = 0; i < n; i++) {
                am += mean[i * c + ch] / n;
                av += var[i * c + ch] * s / (s - 1) / n;
            }
            em[ch] = 0.9 * em[ch] + 0.1 * am;
            ev[ch] = 0.9 * ev[ch] + 0.1 * av;
        }
        assertClose("IN running_mean", em, in.runningMean().data(), 1e-6);
        assertClose("IN running_var", ev, in.runningVar().data(), 1e-6);
        assertEquals(1, in.numBatchesTracked());
        // Eval normalises each instance with the running (not its own) statistics.
        in.eval();
        float[] y = in.forward(x).data();
        double[] expected = new double[y.length];
        for (int i = 0; i < y.length; i++) {
            int ch = (i / s) % c;
            expected[i] = (xd[i] - in.runningMean().data()[ch]) / Math.sqrt(in.runningVar().data()[ch] + 1e-5);
        }
        assertClose("IN eval output", expected, y, OUTPUT_TOL);
        // With running statistics one spatial element is fine in eval (it is only rejected in training).
        float[] one = in.forward(Tensor.of(new float[] {3f, -1f}, 1, 2, 1)).data();
        for (int ch = 0; ch < c; ch++) {
            double e = ((ch == 0 ? 3 : -1) - in.runningMean().data()[ch])
                    / Math.sqrt(in.runningVar().data()[ch] + 1e-5);
            assertEquals(e, one[ch], 1e-5 * Math.max(1, Math.abs(e)));
        }
    }

    @Test
    void instanceNormWithoutTrackingUsesInstanceStatisticsInEval() {
        InstanceNorm in = new InstanceNorm(3);
        assertNull(in.weight());
        assertNull(in.runningMean());
        Tensor x = randn(2, 3, 2, 3, 5);
        float[] train = in.forward(x).data().clone(); // the next forward overwrites the layer's output buffer
        in.eval();
        assertArrayEquals(train, in.forward(x).data());
    }

    @Test
    void channelsLastOutputEqualsContiguousOutput() {
        int[] shape = {3, 6, 5, 7};
        Tensor x = randn(1e4, 2, shape);
        Tensor dy = randn(0, 1, shape);
        NormLayer[][] pairs = {
            {new BatchNorm(6), new BatchNorm(6)},
            {new InstanceNorm(6, NormOptions.BATCH_NORM), new InstanceNorm(6, NormOptions.BATCH_NORM)},
            {new GroupNorm(3, 6), new GroupNorm(3, 6)},
            {new LayerNorm(5, 7), new LayerNorm(5, 7)},
        };
        for (NormLayer[] p : pairs) {
            String what = p[0].getClass().getSimpleName();
            for (boolean training : new boolean[] {true, false}) {
                p[0].train(training);
                p[1].train(training);
                p[0].zeroGrad();
                p[1].zeroGrad();
                Tensor yc = p[0].forward(x);
                Tensor yl = p[1].forward(x.to(MemoryFormat.CHANNELS_LAST));
                assertEquals(MemoryFormat.CHANNELS_LAST, yl.format());
                // Summation order differs between layouts (double sums), so equal up to float rounding.
                assertClose(what + " output", toDouble(yc.data()), yl.toContiguousArray(), 1e-6);
                Tensor dxl = p[1].backward(dy.to(MemoryFormat.CHANNELS_LAST));
                assertEquals(MemoryFormat.CHANNELS_LAST, dxl.format());
                assertClose(what + " dx", toDouble(p[0].backward(dy).data()), dxl.toContiguousArray(), 1e-5);
                assertClose(what + " dgamma", toDouble(p[0].weight().grad().data()), p[1].weight().grad().data(),
                        1e-5);
                for (String buf : p[0].namedBuffers().keySet()) {
                    assertClose(what + " " + buf, toDouble(p[0].namedBuffers().get(buf).data()),
                            p[1].namedBuffers().get(buf).data(), 1e-6);
                }
            }
        }
    }

    @Test
    void emptyBatchLeavesRunningStatisticsUnchanged() {
        // As PyTorch: an empty batch gives an empty output and does not move the running statistics (it still
        // counts in num_batches_tracked, which PyTorch increments before normalising).
        BatchNorm bn = new BatchNorm(3);
        Tensor y = bn.forward(Tensor.zeros(0, 3, 4));
        assertArrayEquals(new int[] {0, 3, 4}, y.shape());
        assertArrayEquals(new float[] {0, 0, 0}, bn.runningMean().data());
        assertArrayEquals(new float[] {1, 1, 1}, bn.runningVar().data());
        assertEquals(1, bn.numBatchesTracked());
        assertArrayEquals(new int[] {0, 3, 4}, bn.backward(Tensor.zeros(0, 3, 4)).shape());
        assertArrayEquals(new float[] {0, 0, 0}, bn.weight().grad().data());

        InstanceNorm in = new InstanceNorm(3, NormOptions.BATCH_NORM);
        in.forward(Tensor.zeros(0, 3, 4));
        assertArrayEquals(new float[] {0, 0, 0}, in.runningMean().data());
        assertArrayEquals(new float[] {1, 1, 1}, in.runningVar().data());
    }
}
