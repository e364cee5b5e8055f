package io.github.batchnorm4j.reference;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.SplittableRandom;

/** Seeded test data, float/double conversions and the golden-style tolerance comparison. */
public final class TestArrays {
    /** Tolerance for outputs and statistics: {@code 1e-5 * max(1, max|expected|)}. */
    public static final double OUTPUT_TOL = 1e-5;
    /** Tolerance for gradients: {@code 1e-4 * max(1, max|expected|)}. */
    public static final double GRAD_TOL = 1e-4;

    private TestArrays() {}

    /** {@code n} floats {@code offset + scale * N(0,1)}. */
    public static float[] gaussian(SplittableRandom rnd, int n, double offset, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (offset + scale * gaussian(rnd));
        }
        return a;
    }

    /** {@code n} floats uniform in {@code [lo, hi)}. */
    public static float[] uniform(SplittableRandom rnd, int n, double lo, double hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (lo + (hi - lo) * rnd.nextDouble());
        }
        return a;
    }

    public static double gaussian(SplittableRandom rnd) {
        // Box-Muller: SplittableRandom has no nextGaussian of its own on every JDK we target.
        double u = 1.0 - rnd.nextDouble();
        double v = rnd.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }

    public static double[] toDouble(float[] a) {
        if (a == null) {
            return null;
        }
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }

    /** {@code [N][C][S]} to {@code [N][S][C]}. */
    public static double[] toChannelsLast(double[] a, int n, int c, int s) {
        double[] out = new double[a.length];
        for (int i = 0; i < n; i++) {
            for (int ch = 0; ch < c; ch++) {
                for (int j = 0; j < s; j++) {
                    out[(i * s + j) * c + ch] = a[(i * c + ch) * s + j];
                }
            }
        }
        return out;
    }

    /** {@code [N][S][C]} to {@code [N][C][S]}. */
    public static double[] fromChannelsLast(double[] a, int n, int c, int s) {
        double[] out = new double[a.length];
        for (int i = 0; i < n; i++) {
            for (int ch = 0; ch < c; ch++) {
                for (int j = 0; j < s; j++) {
                    out[(i * c + ch) * s + j] = a[(i * s + j) * c + ch];
                }
            }
        }
        return out;
    }

    public static double maxAbs(double[] a) {
        double m = 0;
        for (double v : a) {
            if (Double.isFinite(v)) {
                m = Math.max(m, Math.abs(v));
            }
        }
        return m;
    }

    /**
     * Every {@code actual[i]} within {@code rel * max(1, max|expected|)} of {@code expected[i]}; a NaN expected
     * needs a NaN actual, an infinite one the same infinity.
     */
    public static void assertClose(String what, double[] expected, float[] actual, double rel) {
        assertClose(what, expected, toDouble(actual), 0, rel);
    }

    /** As {@link #assertClose(String, double[], float[], double)} on {@code actual[off ..]}. */
    public static void assertClose(String what, double[] expected, float[] actual, int off, double rel) {
        assertClose(what, expected, toDouble(actual), off, rel);
    }

    /** As {@link #assertClose(String, double[], float[], double)} on {@code actual[off ..]}. */
    public static void assertClose(String what, double[] expected, double[] actual, int off, double rel) {
        if (actual.length - off < expected.length) {
            fail(what + ": expected " + expected.length + " values, got " + (actual.length - off));
        }
        double tol = rel * Math.max(1, maxAbs(expected));
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i], a = actual[off + i];
            boolean ok = Double.isNaN(e) ? Double.isNaN(a)
                    : Double.isInfinite(e) ? e == a
                    : Math.abs(a - e) <= tol;
            if (!ok) {
                fail(what + "[" + i + "]: expected " + e + ", got " + a + " (tolerance " + tol + ", "
                        + expected.length + " values)");
            }
        }
    }
}
