package io.github.batchnorm4j.nn.norm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.tensor.MemoryFormat;
import io.github.batchnorm4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

class BatchRenormTest {

    /** Float64 reference of one training step, in logical (N, C, S) order. */
    static final class Ref {
        final int n, c, s;
        double[] mean, sigmaB, r, d;

        Ref(int n, int c, int s) {
            this.n = n;
            this.c = c;
            this.s = s;
        }

        /** Computes batch statistics, r and d against the running statistics given (before the update). */
        void stats(double[] x, double[] runMean, double[] runVar, double eps, double rmax, double dmax) {
            mean = new double[c];
            sigmaB = new double[c];
            r = new double[c];
            d = new double[c];
            double m = (double) n * s;
            for (int ch = 0; ch < c; ch++) {
                double sum = 0;
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < s; j++) {
                        sum += x[(i * c + ch) * s + j];
                    }
                }
                mean[ch] = sum / m;
                double sq = 0;
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < s; j++) {
                        double t = x[(i * c + ch) * s + j] - mean[ch];
                        sq += t * t;
                    }
                }
                sigmaB[ch] = Math.sqrt(sq / m + eps);
                double sigma = Math.sqrt(runVar[ch] + eps);
                r[ch] = Math.min(rmax, Math.max(1 / rmax, sigmaB[ch] / sigma));
                d[ch] = Math.min(dmax, Math.max(-dmax, (mean[ch] - runMean[ch]) / sigma));
            }
        }

        /** y with r and d held fixed (the batch mean and sigma_B are recomputed from x: they carry gradient). */
        double[] forward(double[] x, double[] gamma, double[] beta, double eps, double[] rFixed, double[] dFixed) {
            double[] saveMean = mean, saveSigma = sigmaB, saveR = r, saveD = d;
            stats(x, new double[c], onesOf(c), eps, 1, 0);
            double[] y = new double[x.length];
            for (int i = 0; i < n; i++) {
                for (int ch = 0; ch < c; ch++) {
                    for (int j = 0; j < s; j++) {
                        int o = (i * c + ch) * s + j;
                        double xhat = (x[o] - mean[ch]) / sigmaB[ch];
                        y[o] = gamma[ch] * (xhat * rFixed[ch] + dFixed[ch]) + beta[ch];
                    }
                }
            }
            mean = saveMean;
            sigmaB = saveSigma;
            r = saveR;
            d = saveD;
            return y;
        }
    }

    static double[] onesOf(int c) {
        double[] o = new double[c];
        java.util.Arrays.fill(o, 1);
        return o;
    }

    static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    @Test
    void withRmaxOneAndDmaxZeroEqualsBatchNormExactly() {
        int[][] shapes = {{5, 3}, {4, 7, 5}, {3, 8, 4, 4}, {2, 1, 97}, {6, 13, 1, 1}, {2, 9, 2, 3, 2}};
        for (int[] shape : shapes) {
            for (MemoryFormat fmt : MemoryFormat.values()) {
                if (fmt == MemoryFormat.CHANNELS_LAST && shape.length < 4) {
                    continue;
                }
                int c = shape[1];
                BatchNorm bn = new BatchNorm(c);
                BatchRenorm brn = new BatchRenorm(c, NormOptions.BATCH_NORM, RenormSchedule.constant(1),
                        RenormSchedule.constant(0));
                NormTestData.setAffine(bn, 11);
                NormTestData.setAffine(brn, 11);
                for (int step = 0; step < 3; step++) {
                    Tensor x = NormTestData.input(100 + step, fmt, shape);
                    Tensor dy = NormTestData.input(200 + step, fmt, shape);
                    bn.zeroGrad();
                    brn.zeroGrad();
                    Tensor yb = bn.forward(x);
                    Tensor yr = brn.forward(x);
                    String what = java.util.Arrays.toString(shape) + " " + fmt + " step " + step;
                    assertArrayEquals(yb.data(), yr.data(), 0f, what + " output");
                    assertArrayEquals(bn.backward(dy).data(), brn.backward(dy).data(), 0f, what + " dx");
                    assertArrayEquals(bn.weight().grad().data(), brn.weight().grad().data(), 0f, what + " dgamma");
                    assertArrayEquals(bn.bias().grad().data(), brn.bias().grad().data(), 0f, what + " dbeta");
                    assertArrayEquals(bn.runningMean().data(), brn.runningMean().data(), 0f, what + " running_mean");
                    assertArrayEquals(bn.runningVar().data(), brn.runningVar().data(), 0f, what + " running_var");
                    assertEquals(bn.numBatchesTracked(), brn.numBatchesTracked(), what + " num_batches_tracked");
                }
                bn.eval();
                brn.eval();
                Tensor x = NormTestData.input(7, fmt, shape);
                assertArrayEquals(bn.forward(x).data(), brn.forward(x).data(), 0f, "eval output");
            }
        }
    }

    @Test
    void forwardAndRunningStatisticsMatchFloat64ReferenceWithClipping() {
        int n = 3, c = 7, s = 5;
        double eps = 1e-5, rmax = 1.5, dmax = 0.5;
        BatchRenorm brn = new BatchRenorm(c, NormOptions.BATCH_NORM, RenormSchedule.constant(rmax),
                RenormSchedule.constant(dmax));
        NormTestData.setAffine(brn, 3);
        // Running statistics far from the batch's, so that r and d clip on some channels and not on others.
        float[] rm = NormTestData.vector(5, c, -2, 3);
        float[] rv = NormTestData.vector(6, c, 0.1, 6);
        System.arraycopy(rm, 0, brn.runningMean().data(), 0, c);
        System.arraycopy(rv, 0, brn.runningVar().data(), 0, c);
        Tensor x = NormTestData.input(9, MemoryFormat.CONTIGUOUS, n, c, s);
        double[] xd = NormTestData.doubles(x);
        Ref ref = new Ref(n, c, s);
        ref.stats(xd, toDouble(rm), toDouble(rv), eps, rmax, dmax);
        int clippedR = 0, clippedD = 0;
        for (int ch = 0; ch < c; ch++) {
            clippedR += Math.abs(ref.r[ch]) == rmax || ref.r[ch] == 1 / rmax ? 1 : 0;
            clippedD += Math.abs(ref.d[ch]) == dmax ? 1 : 0;
        }
        assertTrue(clippedR > 0 && clippedR < c && clippedD > 0 && clippedD < c,
                "test data must clip some channels: r " + clippedR + ", d " + clippedD);
        double[] expected = ref.forward(xd, toDouble(brn.weight().data()), toDouble(brn.bias().data()), eps,
                ref.r, ref.d);
        Tensor y = brn.forward(x);
        NormTestData.assertClose(expected, NormTestData.doubles(y), 2e-6, "output");
        NormTestData.assertClose(ref.r, brn.lastR(), 1e-12, "r");
        NormTestData.assertClose(ref.d, brn.lastD(), 1e-12, "d");
        double m = n * s;
        double[] unbiased = new double[c];
        for (int ch = 0; ch < c; ch++) {
            double sb = ref.sigmaB[ch];
            unbiased[ch] = (sb * sb - eps) * m / (m - 1);
        }
        double[] expMean = new double[c];
        double[] expVar = new double[c];
        for (int ch = 0; ch < c; ch++) {
            expMean[ch] = 0.9 * rm[ch] + 0.1 * ref.mean[ch];
            expVar[ch] = 0.9 * rv[ch] + 0.1 * unbiased[ch];
        }
        NormTestData.assertClose(expMean, toDouble(brn.runningMean().data()), 1e-6, "running_mean");
        NormTestData.assertClose(expVar, toDouble(brn.runningVar().data()), 1e-6, "running_var");
    }

    /**
     * The reproduction protocol (docs/protocol.md): with {@link BatchRenorm.RunningSigma#SIGMA} the running sigma is the average of
     * sigma_B (not of the variances), r and d compare with it, and eval mode divides by it. Checked over several
     * steps against a float64 reference, with EMA momentum and with the cumulative average.
     */
    @Test
    void paperRunningSigmaIsTheAverageOfBatchSigmas() {
        int n = 4, c = 9, s = 5;
        double eps = 1e-5, rmax = 1.4, dmax = 0.3;
        for (Double momentum : new Double[] {0.01, 0.3, null}) {
            BatchRenorm brn = new BatchRenorm(c, NormOptions.BATCH_NORM.withMomentum(momentum),
                    RenormSchedule.constant(rmax), RenormSchedule.constant(dmax), BatchRenorm.RunningSigma.SIGMA);
            NormTestData.setAffine(brn, 31);
            double[] refMean = new double[c];
            double[] refSigma = new double[c];
            java.util.Arrays.fill(refSigma, Math.sqrt(1 + eps)); // running_var starts at 1
            for (int step = 0; step < 4; step++) {
                Tensor x = NormTestData.input(40 + step, MemoryFormat.CONTIGUOUS, n, c, s);
                double[] xd = NormTestData.doubles(x);
                Ref ref = new Ref(n, c, s);
                double[] refVar = new double[c];
                for (int ch = 0; ch < c; ch++) {
                    refVar[ch] = refSigma[ch] * refSigma[ch] - eps;
                }
                ref.stats(xd, refMean, refVar, eps, rmax, dmax);
                double[] expected = ref.forward(xd, toDouble(brn.weight().data()), toDouble(brn.bias().data()), eps,
                        ref.r, ref.d);
                String what = "momentum " + momentum + " step " + step;
                NormTestData.assertClose(expected, NormTestData.doubles(brn.forward(x)), 2e-6, what + " output");
                NormTestData.assertClose(ref.r, brn.lastR(), 1e-6, what + " r");
                NormTestData.assertClose(ref.d, brn.lastD(), 1e-6, what + " d");
                double f = momentum == null ? 1.0 / (step + 1) : momentum;
                double[] sigmaNow = new double[c];
                for (int ch = 0; ch < c; ch++) {
                    refMean[ch] += f * (ref.mean[ch] - refMean[ch]);
                    refSigma[ch] += f * (ref.sigmaB[ch] - refSigma[ch]);
                    sigmaNow[ch] = Math.sqrt(brn.runningVar().data()[ch] + eps);
                }
                NormTestData.assertClose(refMean, toDouble(brn.runningMean().data()), 1e-6, what + " running_mean");
                NormTestData.assertClose(refSigma, sigmaNow, 1e-6, what + " running sigma");
            }
            brn.eval();
            Tensor x = NormTestData.input(77, MemoryFormat.CONTIGUOUS, n, c, s);
            double[] xd = NormTestData.doubles(x);
            double[] gamma = toDouble(brn.weight().data()), beta = toDouble(brn.bias().data());
            double[] expected = new double[xd.length];
            for (int i = 0; i < xd.length; i++) {
                int ch = (i / s) % c;
                expected[i] = gamma[ch] * (xd[i] - refMean[ch]) / refSigma[ch] + beta[ch];
            }
            NormTestData.assertClose(expected, NormTestData.doubles(brn.forward(x)), 2e-6,
                    "momentum " + momentum + " eval output");
        }
    }

    @Test
    void paperRunningSigmaDiffersFromTheVarianceAverage() {
        // BatchNorm's convention averages unbiased variances, the paper's averages biased sigmas: they must differ.
        BatchRenorm byVar = new BatchRenorm(3, NormOptions.BATCH_NORM, RenormSchedule.constant(1),
                RenormSchedule.constant(0));
        BatchRenorm bySigma = new BatchRenorm(3, NormOptions.BATCH_NORM, RenormSchedule.constant(1),
                RenormSchedule.constant(0), BatchRenorm.RunningSigma.SIGMA);
        assertEquals(BatchRenorm.RunningSigma.VARIANCE, byVar.runningSigma());
        assertEquals(BatchRenorm.RunningSigma.SIGMA, bySigma.runningSigma());
        for (int step = 0; step < 2; step++) {
            Tensor x = NormTestData.input(50 + step, MemoryFormat.CONTIGUOUS, 6, 3);
            // r = 1, d = 0: the training outputs are BatchNorm's in both modes, bit for bit.
            assertArrayEquals(byVar.forward(x).data(), bySigma.forward(x).data(), 0f, "output at step " + step);
        }
        assertArrayEquals(byVar.runningMean().data(), bySigma.runningMean().data(), 0f, "running_mean");
        for (int ch = 0; ch < 3; ch++) {
            assertTrue(byVar.runningVar().data()[ch] != bySigma.runningVar().data()[ch], "running_var channel " + ch);
        }
    }

    @Test
    void gradientsMatchCentralDifferencesOfFloat64Reference() {
        for (MemoryFormat fmt : MemoryFormat.values()) {
            int n = 2, c = 3, h = 2, w = 3, s = h * w;
            double eps = 1e-5, rmax = 1.3, dmax = 0.4;
            BatchRenorm brn = new BatchRenorm(c, NormOptions.BATCH_NORM, RenormSchedule.constant(rmax),
                    RenormSchedule.constant(dmax));
            NormTestData.setAffine(brn, 21);
            float[] rm = NormTestData.vector(22, c, -1, 2);
            float[] rv = NormTestData.vector(23, c, 0.2, 4);
            System.arraycopy(rm, 0, brn.runningMean().data(), 0, c);
            System.arraycopy(rv, 0, brn.runningVar().data(), 0, c);
            Tensor x = NormTestData.input(24, fmt, n, c, h, w);
            Tensor dy = NormTestData.input(25, fmt, n, c, h, w);
            double[] xd = NormTestData.doubles(x);
            double[] dyd = NormTestData.doubles(dy);
            double[] gamma = toDouble(brn.weight().data());
            double[] beta = toDouble(brn.bias().data());
            Ref ref = new Ref(n, c, s);
            ref.stats(xd, toDouble(rm), toDouble(rv), eps, rmax, dmax);
            double[] r = ref.r.clone(), d = ref.d.clone();
            brn.forward(x);
            double[] dx = NormTestData.doubles(brn.backward(dy));
            double hstep = 1e-6;
            java.util.function.ToDoubleFunction<double[][]> loss = args -> {
                double[] y = ref.forward(args[0], args[1], args[2], eps, r, d);
                double l = 0;
                for (int i = 0; i < y.length; i++) {
                    l += y[i] * dyd[i];
                }
                return l;
            };
            double[][] args = {xd, gamma, beta};
            double[][] analytic = {dx, toDouble(brn.weight().grad().data()), toDouble(brn.bias().grad().data())};
            String[] names = {"dx", "dgamma", "dbeta"};
            for (int a = 0; a < 3; a++) {
                double[] numeric = new double[args[a].length];
                for (int i = 0; i < numeric.length; i++) {
                    double keep = args[a][i];
                    args[a][i] = keep + hstep;
                    double up = loss.applyAsDouble(args);
                    args[a][i] = keep - hstep;
                    double down = loss.applyAsDouble(args);
                    args[a][i] = keep;
                    numeric[i] = (up - down) / (2 * hstep);
                }
                NormTestData.assertClose(numeric, analytic[a], 2e-4, fmt + " " + names[a]);
            }
        }
    }

    @Test
    void limitsFollowTheScheduleByTrainingStep() {
        RenormSchedule s = new RenormSchedule(1, 3, 2, 4);
        assertEquals(1.0, s.at(0));
        assertEquals(1.0, s.at(2));
        assertEquals(2.0, s.at(3));
        assertEquals(3.0, s.at(4));
        assertEquals(3.0, s.at(100));
        assertEquals(0.0, RenormSchedule.paperDmax().at(5_000));
        assertEquals(2.5, RenormSchedule.paperDmax().at(15_000));
        assertEquals(2.0, RenormSchedule.paperRmax().at(22_500));
        BatchRenorm brn = new BatchRenorm(2, NormOptions.BATCH_NORM, s, new RenormSchedule(0, 1, 1, 3));
        double[] expectR = {1, 1, 1, 2, 3, 3};
        double[] expectD = {0, 0, 0.5, 1, 1, 1};
        for (int step = 0; step < 6; step++) {
            brn.forward(NormTestData.input(step, MemoryFormat.CONTIGUOUS, 4, 2));
            assertEquals(expectR[step], brn.lastRmax(), "rmax at step " + step);
            assertEquals(expectD[step], brn.lastDmax(), "dmax at step " + step);
        }
    }

    @Test
    void rejectsBadConfiguration() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new BatchRenorm(3,
                NormOptions.BATCH_NORM, RenormSchedule.constant(0.5), RenormSchedule.constant(0)));
        assertEquals("Expected rmax >= 1, got rmax=0.5", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new BatchRenorm(3, NormOptions.BATCH_NORM,
                RenormSchedule.constant(1), RenormSchedule.constant(-1)));
        assertEquals("Expected dmax >= 0, got dmax=-1.0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new BatchRenorm(3,
                NormOptions.BATCH_NORM.withTrackRunningStats(false), RenormSchedule.constant(1),
                RenormSchedule.constant(0)));
        assertEquals("Expected track_running_stats=true for BatchRenorm (r and d need running statistics), got false",
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new RenormSchedule(1, 3, 10, 5));
        assertEquals("Expected finite limits and 0 <= start <= end, got from=1.0, to=3.0, start=10, end=5",
                e.getMessage());
        BatchRenorm brn = new BatchRenorm(3);
        e = assertThrows(IllegalArgumentException.class, () -> brn.forward(Tensor.zeros(1, 3)));
        assertEquals("Expected more than 1 value per channel when training, got input size [1, 3]", e.getMessage());
        assertEquals(0, brn.numBatchesTracked());
    }
}
