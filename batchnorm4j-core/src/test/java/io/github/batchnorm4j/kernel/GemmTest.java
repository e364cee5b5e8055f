package io.github.batchnorm4j.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link Gemm#sgemm} against the double-accumulating reference, over odd sizes and every transpose pair. */
class GemmTest {
    private static final int[] SIZES = {1, 3, 7, 8, 9, 13, 33, 70};

    @Test
    void matchesReferenceOverOddSizesAndTransposes() {
        SplittableRandom rng = new SplittableRandom(1);
        for (int m : SIZES) {
            for (int n : SIZES) {
                for (int k : new int[] {1, 5, 64, 97, 300}) {
                    for (int t = 0; t < 4; t++) {
                        check(rng, t >= 2, (t & 1) == 1, m, n, k, 1f, 0f, 0, 0);
                    }
                }
            }
        }
    }

    @Test
    void alphaBetaOffsetsAndPaddedLeadingDimensions() {
        SplittableRandom rng = new SplittableRandom(2);
        for (int t = 0; t < 4; t++) {
            check(rng, t >= 2, (t & 1) == 1, 37, 45, 270, 0.5f, 0f, 3, 5);
            check(rng, t >= 2, (t & 1) == 1, 37, 45, 270, -1.5f, 1f, 3, 5);
            check(rng, t >= 2, (t & 1) == 1, 129, 300, 513, 1f, 0.25f, 1, 2);
            check(rng, t >= 2, (t & 1) == 1, 16, 64, 8, 2f, -2f, 0, 0);
        }
    }

    @Test
    void betaZeroIgnoresNaNInC() {
        float[] a = {1, 2};
        float[] b = {3, 4};
        float[] c = {Float.NaN};
        Gemm.sgemm(false, false, 1, 1, 2, 1f, a, 0, 2, b, 0, 1, 0f, c, 0, 1);
        assertEquals(11f, c[0]);
        Gemm.sgemm(false, false, 1, 1, 0, 1f, a, 0, 2, b, 0, 1, 0f, c, 0, 1);
        assertEquals(0f, c[0]);
    }

    @Test
    void bitIdenticalForOneAndTwoThreads() {
        SplittableRandom rng = new SplittableRandom(3);
        int m = 300, n = 520, k = 700;
        float[] a = random(rng, m * k);
        float[] b = random(rng, k * n);
        int saved = WorkerPool.threads();
        try {
            for (int t = 0; t < 4; t++) {
                boolean ta = t >= 2, tb = (t & 1) == 1;
                float[] c1 = new float[m * n];
                float[] c2 = new float[m * n];
                WorkerPool.setThreads(1);
                Gemm.sgemm(ta, tb, m, n, k, 1f, a, 0, ta ? m : k, b, 0, tb ? k : n, 0f, c1, 0, n);
                WorkerPool.setThreads(2);
                Gemm.sgemm(ta, tb, m, n, k, 1f, a, 0, ta ? m : k, b, 0, tb ? k : n, 0f, c2, 0, n);
                assertArrayEquals(c1, c2);
            }
        } finally {
            WorkerPool.setThreads(saved);
        }
    }

    @Test
    void rejectsArraysTooSmallAndBadLeadingDimensions() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
                Gemm.sgemm(false, false, 2, 3, 4, 1f, new float[7], 0, 4, new float[12], 0, 3, 0f, new float[6], 0, 3));
        assertEquals("Expected A (2x4, offset 0, leading dimension 4) to fit in an array of 8 values, got 7",
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () ->
                Gemm.sgemm(false, true, 2, 3, 4, 1f, new float[8], 0, 4, new float[12], 0, 3, 0f, new float[6], 0, 3));
        assertEquals("Expected leading dimension of B >= 4, got 3", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () ->
                Gemm.sgemm(false, false, -1, 3, 4, 1f, new float[8], 0, 4, new float[12], 0, 3, 0f, new float[6], 0, 3));
        assertEquals("Expected m, n, k >= 0, got m=-1, n=3, k=4", e.getMessage());
    }

    private static void check(SplittableRandom rng, boolean ta, boolean tb, int m, int n, int k, float alpha,
                              float beta, int off, int pad) {
        int lda = (ta ? m : k) + pad;
        int ldb = (tb ? k : n) + pad;
        int ldc = n + pad;
        float[] a = random(rng, off + (ta ? k : m) * lda);
        float[] b = random(rng, off + (tb ? n : k) * ldb);
        float[] c = random(rng, off + m * ldc);
        float[] expected = c.clone();
        Gemm.sgemmReference(ta, tb, m, n, k, alpha, a, off, lda, b, off, ldb, beta, expected, off, ldc);
        Gemm.sgemm(ta, tb, m, n, k, alpha, a, off, lda, b, off, ldb, beta, c, off, ldc);
        for (int i = 0; i < c.length; i++) {
            boolean inside = i >= off && (i - off) % ldc < n && (i - off) / ldc < m;
            // float products summed in float: error grows like sqrt(k) * eps * sum|a*b| (about k/4 here)
            double tol = inside ? 2e-6 * k * Math.max(1, Math.abs(alpha)) + 1e-6 : 0;
            double err = Math.abs(c[i] - expected[i]);
            if (!(err <= tol)) {
                org.junit.jupiter.api.Assertions.fail("m=" + m + " n=" + n + " k=" + k + " transA=" + ta + " transB=" + tb
                        + " at " + (i - off) + ": expected " + expected[i] + ", got " + c[i]);
            }
        }
    }

    private static float[] random(SplittableRandom rng, int size) {
        float[] x = new float[size];
        for (int i = 0; i < size; i++) {
            x[i] = (float) rng.nextDouble(-1, 1);
        }
        return x;
    }
}
