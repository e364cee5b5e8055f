package io.github.batchnorm4j.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Vector API kernels against the float64 scalar reference over odd sizes (vector tails), misaligned offsets
 * and every geometry of the family, for each SPI method and for the fused forward/backward (with residual and
 * ReLU). Float outputs must lie within {@code 1e-5 * max(1, max|E|)} of the reference, double reductions within
 * a relative {@code 1e-9} (statistics) or {@code 1e-6} (gradient sums) of their scale.
 */
class VectorNormKernelsParityTest {
    private static final NormKernels REF = ScalarNormKernels.INSTANCE;
    private static final NormKernels VEC = VectorNormKernels.INSTANCE;
    private static final int[] CHANNELS = {1, 3, 7, 8, 9, 13, 33};
    private static final int[] SPATIAL = {1, 5, 64, 97};

    record Case(String name, NormGeometry g) {
        @Override
        public String toString() {
            return name + " " + g;
        }
    }

    static Stream<Case> geometries() {
        List<Case> cases = new ArrayList<>();
        for (int c : CHANNELS) {
            for (int s : SPATIAL) {
                cases.add(new Case("BN-NCHW", NormGeometry.perChannel(3, c, s)));
                cases.add(new Case("BN-NHWC", NormGeometry.perChannel(3 * s, c, 1)));
                cases.add(new Case("IN", new NormGeometry(1, 2 * c, s, c, 1, s)));
            }
        }
        int[][] groups = {{8, 2}, {9, 3}, {13, 13}, {33, 11}, {7, 1}};
        for (int[] cg : groups) {
            for (int s : SPATIAL) {
                int c = cg[0], gr = cg[1];
                cases.add(new Case("GN", new NormGeometry(1, 2 * gr, c / gr * s, gr, c / gr, s)));
            }
        }
        for (int m : new int[] {1, 5, 33, 64, 97}) {
            cases.add(new Case("LN", new NormGeometry(1, 7, m, 1, m, 1)));
        }
        cases.add(new Case("BN1d-60x100", NormGeometry.perChannel(60, 100, 1)));
        return cases.stream();
    }

    /** Everything one comparison needs, with data placed at odd offsets. */
    static final class Data {
        final NormGeometry g;
        final int n;
        final int xOff = 3, yOff = 1, dyOff = 5, rOff = 2;
        final float[] x, dy, res, gamma, beta;

        Data(NormGeometry g, long seed, double offset, double scale) {
            this.g = g;
            this.n = (int) g.numel();
            SplittableRandom r = new SplittableRandom(seed);
            x = new float[n + xOff + 7];
            dy = new float[n + dyOff + 3];
            res = new float[n + rOff + 1];
            for (int i = 0; i < n; i++) {
                x[xOff + i] = (float) (offset + scale * r.nextGaussian());
                dy[dyOff + i] = (float) r.nextGaussian();
                res[rOff + i] = (float) r.nextGaussian();
            }
            gamma = new float[g.affineSize()];
            beta = new float[g.affineSize()];
            for (int j = 0; j < gamma.length; j++) {
                gamma[j] = (float) (0.5 + r.nextDouble());
                beta[j] = (float) r.nextGaussian();
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("geometries")
    void statsMatchReference(Case cs) {
        Data t = new Data(cs.g(), 11, 0.5, 2.0);
        int k = cs.g().k();
        double[] em = new double[k], e2 = new double[k], am = new double[k], a2 = new double[k];
        REF.stats(t.x, t.xOff, t.g, em, e2);
        VEC.stats(t.x, t.xOff, t.g, am, a2);
        assertDoubles("mean", em, am, 1e-9);
        assertDoubles("m2", e2, a2, 1e-9);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("geometries")
    void forwardMatchesReference(Case cs) {
        Data t = new Data(cs.g(), 12, -1.0, 3.0);
        checkForward(t, t.gamma, t.beta, false, false);
        checkForward(t, t.gamma, t.beta, true, true);
        checkForward(t, null, null, false, true);
        checkForward(t, null, t.beta, true, false);
        checkForward(t, t.gamma, null, false, false);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("geometries")
    void backwardMatchesReference(Case cs) {
        Data t = new Data(cs.g(), 13, 2.0, 0.7);
        for (boolean batchStats : new boolean[] {true, false}) {
            checkBackward(t, t.gamma, batchStats, false, false, true);
            checkBackward(t, null, batchStats, false, false, false);
            checkBackward(t, t.gamma, batchStats, true, true, true);
            checkBackward(t, null, batchStats, true, false, true);
        }
        checkSplitBackward(t, t.gamma);
        checkSplitBackward(t, null);
    }

    /** The golden criterion at large offsets, where a float E[x²] - E[x]² would lose every digit. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("geometries")
    void largeOffsetsKeepFloatAccuracy(Case cs) {
        for (double offset : new double[] {1e4, 1e6}) {
            Data t = new Data(cs.g(), 14, offset, 1.0);
            checkForward(t, t.gamma, t.beta, false, false);
            checkBackward(t, t.gamma, true, false, false, true);
        }
    }

    @org.junit.jupiter.api.Test
    void poorShiftIsResummedAroundTheMean() {
        // The first value of each statistic is a far outlier: the shifted one-pass sums would cancel badly.
        for (NormGeometry g : new NormGeometry[] {NormGeometry.perChannel(4, 3, 50), NormGeometry.perChannel(200, 3, 1)}) {
            Data t = new Data(g, 15, 1e4, 1.0);
            for (int c = 0; c < g.k(); c++) {
                t.x[t.xOff + c * g.d()] = 3e5f;
            }
            int k = g.k();
            double[] em = new double[k], e2 = new double[k], am = new double[k], a2 = new double[k];
            REF.stats(t.x, t.xOff, g, em, e2);
            VEC.stats(t.x, t.xOff, g, am, a2);
            assertDoubles("mean", em, am, 1e-9);
            assertDoubles("m2", e2, a2, 1e-9);
        }
    }

    @org.junit.jupiter.api.Test
    void nanPropagatesToItsStatistic() {
        NormGeometry g = NormGeometry.perChannel(2, 3, 40);
        Data t = new Data(g, 16, 0, 1);
        t.x[t.xOff + 40 + 7] = Float.NaN; // channel 1 of sample 0
        double[] m = new double[3], m2 = new double[3], is = new double[3];
        float[] y = new float[t.n];
        VEC.trainForward(t.x, t.xOff, g, 1e-5, m, m2, is, null, null, null, 0, false, y, 0);
        assertTrue(Double.isNaN(m[1]) && Double.isNaN(y[40]), "NaN must propagate to channel 1");
        assertTrue(!Double.isNaN(m[0]) && !Double.isNaN(m[2]) && !Float.isNaN(y[0]), "other channels stay finite");
    }

    private static void checkForward(Data t, float[] gamma, float[] beta, boolean residual, boolean relu) {
        NormGeometry g = t.g;
        int k = g.k();
        double[] em = new double[k], e2 = new double[k], ei = new double[k];
        double[] am = new double[k], a2 = new double[k], ai = new double[k];
        float[] ey = new float[t.n + 4], ay = new float[t.n + 4];
        float[] res = residual ? t.res : null;
        REF.trainForward(t.x, t.xOff, g, 1e-5, em, e2, ei, gamma, beta, res, t.rOff, relu, ey, t.yOff);
        VEC.trainForward(t.x, t.xOff, g, 1e-5, am, a2, ai, gamma, beta, res, t.rOff, relu, ay, t.yOff);
        assertDoubles("mean", em, am, 1e-9);
        assertDoubles("m2", e2, a2, 1e-9);
        assertFloats("trainForward y", ey, ay, t.yOff, t.n);
        assertEquals(0f, ay[0], "wrote before its offset");
        assertEquals(0f, ay[t.n + t.yOff], "wrote past its end");
        // Eval-style normalisation with given statistics, including the split SPI method.
        float[] ey2 = new float[t.n + 4], ay2 = new float[t.n + 4];
        REF.normalizeFused(t.x, t.xOff, g, em, ei, gamma, beta, res, t.rOff, relu, ey2, t.yOff);
        VEC.normalizeFused(t.x, t.xOff, g, em, ei, gamma, beta, res, t.rOff, relu, ay2, t.yOff);
        assertFloats("normalizeFused y", ey2, ay2, t.yOff, t.n);
        float[] ey3 = new float[t.n + 4], ay3 = new float[t.n + 4];
        REF.normalize(t.x, t.xOff, ey3, t.yOff, g, em, ei, gamma, beta);
        VEC.normalize(t.x, t.xOff, ay3, t.yOff, g, em, ei, gamma, beta);
        assertFloats("normalize y", ey3, ay3, t.yOff, t.n);
    }

    private static void checkBackward(Data t, float[] gamma, boolean batchStats, boolean relu, boolean residual,
                                      boolean affineGrads) {
        NormGeometry g = t.g;
        int k = g.k();
        double[] mean = new double[k], m2 = new double[k], is = new double[k];
        float[] yOut = null;
        if (relu) {
            yOut = new float[t.n + 9];
            REF.trainForward(t.x, t.xOff, g, 1e-3, mean, m2, is, gamma, t.beta, residual ? t.res : null, t.rOff, true,
                    yOut, 9);
        } else {
            REF.trainForward(t.x, t.xOff, g, 1e-3, mean, m2, is, gamma, t.beta, null, 0, false, new float[t.n], 0);
        }
        int a = g.affineSize();
        double[] es1 = new double[k], es2 = new double[k], as1 = new double[k], as2 = new double[k];
        double[] edg = affineGrads ? new double[a] : null, edb = affineGrads ? new double[a] : null;
        double[] adg = affineGrads ? new double[a] : null, adb = affineGrads ? new double[a] : null;
        float[] edx = new float[t.n + 2], adx = new float[t.n + 2];
        float[] edr = residual ? new float[t.n + 6] : null, adr = residual ? new float[t.n + 6] : null;
        REF.backward(t.dy, t.dyOff, t.x, t.xOff, g, mean, is, gamma, batchStats, yOut, 9, edr, 6, es1, es2, edg, edb,
                edx, 2);
        VEC.backward(t.dy, t.dyOff, t.x, t.xOff, g, mean, is, gamma, batchStats, yOut, 9, adr, 6, as1, as2, adg, adb,
                adx, 2);
        assertFloats("dx", edx, adx, 2, t.n);
        if (residual) {
            assertFloats("dResidual", edr, adr, 6, t.n);
        }
        if (affineGrads) {
            assertDoubles("dGamma", edg, adg, 1e-6);
            assertDoubles("dBeta", edb, adb, 1e-6);
        }
        if (batchStats) {
            assertDoubles("sumDxhat", es1, as1, 1e-6);
            assertDoubles("sumDxhatXhat", es2, as2, 1e-6);
        }
    }

    /** The split SPI (reduce, then elementwise with a given count) as SyncBN uses it. */
    private static void checkSplitBackward(Data t, float[] gamma) {
        NormGeometry g = t.g;
        int k = g.k(), a = g.affineSize();
        double[] mean = new double[k], m2 = new double[k], is = new double[k];
        REF.trainForward(t.x, t.xOff, g, 1e-3, mean, m2, is, gamma, t.beta, null, 0, false, new float[t.n], 0);
        double[] es1 = new double[k], es2 = new double[k], as1 = new double[k], as2 = new double[k];
        double[] edg = new double[a], edb = new double[a], adg = new double[a], adb = new double[a];
        REF.backwardReduce(t.dy, t.dyOff, t.x, t.xOff, g, mean, is, gamma, es1, es2, edg, edb);
        VEC.backwardReduce(t.dy, t.dyOff, t.x, t.xOff, g, mean, is, gamma, as1, as2, adg, adb);
        assertDoubles("sumDxhat", es1, as1, 1e-6);
        assertDoubles("sumDxhatXhat", es2, as2, 1e-6);
        assertDoubles("dGamma", edg, adg, 1e-6);
        assertDoubles("dBeta", edb, adb, 1e-6);
        double globalCount = 2.5 * g.count(); // as if other ranks contributed
        float[] edx = new float[t.n], adx = new float[t.n];
        REF.backwardElementwise(t.dy, t.dyOff, t.x, t.xOff, g, mean, is, gamma, es1, es2, globalCount, true, edx, 0);
        VEC.backwardElementwise(t.dy, t.dyOff, t.x, t.xOff, g, mean, is, gamma, es1, es2, globalCount, true, adx, 0);
        assertFloats("split dx", edx, adx, 0, t.n);
    }

    static void assertFloats(String what, float[] exp, float[] act, int off, int n) {
        double scale = 1;
        for (int i = 0; i < n; i++) {
            scale = Math.max(scale, Math.abs(exp[off + i]));
        }
        for (int i = 0; i < n; i++) {
            double e = exp[off + i], a = act[off + i];
            if (!(Math.abs(e - a) <= 1e-5 * scale) && !(Double.isNaN(e) && Double.isNaN(a))) {
                fail(what + "[" + i + "]: expected " + e + ", got " + a + " (tolerance " + 1e-5 * scale + ")");
            }
        }
    }

    static void assertDoubles(String what, double[] exp, double[] act, double rel) {
        double scale = 1;
        for (double e : exp) {
            scale = Math.max(scale, Math.abs(e));
        }
        for (int i = 0; i < exp.length; i++) {
            if (!(Math.abs(exp[i] - act[i]) <= rel * scale) && !(Double.isNaN(exp[i]) && Double.isNaN(act[i]))) {
                fail(what + "[" + i + "]: expected " + exp[i] + ", got " + act[i] + " (tolerance " + rel * scale + ")");
            }
        }
    }
}
