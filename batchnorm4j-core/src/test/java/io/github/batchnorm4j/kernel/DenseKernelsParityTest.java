package io.github.batchnorm4j.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The scalar dense kernels against the vector ones and both against float64 references, over odd sizes.
 *
 * <p>GEMM: both reduce each element of C by a chain of fused multiply-adds in increasing p, so they must agree
 * bit for bit wherever the vector code takes that path: every element when {@code beta == 0} and
 * {@code k <= KC}, and every element when all register blocks are full ({@code m % MR == 0},
 * {@code n % NR == 0}). Elsewhere the vector edge tiles round a partial sum separately, and both are held to the
 * classical bound for a float sum of {@code k + 2} rounded terms: {@code |c - exact| <= (k + 4) * 2^-24 *
 * (sum_p |alpha * A[i][p] * B[p][j]| + |beta * C[i][j]|)}. RowDots: the vector lanes are summed in float (same
 * bound), the scalar one in double (one rounding to float, plus {@code len * 2^-52} of the magnitude). ReLU:
 * bit for bit, NaN, signed zeros and infinities included; the Winograd transforms and the
 * shifted sums ({@link Taps}) bit for bit too.
 */
class DenseKernelsParityTest {
    private static final DenseKernels VEC = VectorDenseKernels.INSTANCE;
    private static final DenseKernels SCA = ScalarDenseKernels.INSTANCE;
    private static final double U = 0x1p-24;

    @Test
    void gemmScalarEqualsVectorOnTheSharedPathAndBothMeetTheBoundElsewhere() {
        SplittableRandom rng = new SplittableRandom(11);
        int[] ms = {1, 3, 8, 13, 16, 37, 129};
        int[] ns = {1, 5, 7, VectorGemm.NR - 1, VectorGemm.NR, 2 * VectorGemm.NR, 45, 8 * VectorGemm.NR + 3};
        int[] ks = {1, 2, 9, 97, 256, 300, 513};
        float[][] alphaBeta = {{1f, 0f}, {0.5f, 1f}, {-1.5f, -0.75f}};
        int cases = 0;
        for (int m : ms) {
            for (int n : ns) {
                for (int k : ks) {
                    for (int t = 0; t < 4; t++) {
                        float[] ab = alphaBeta[(m + n + k + t) % alphaBeta.length];
                        gemmCase(rng, t >= 2, (t & 1) == 1, m, n, k, ab[0], ab[1], (m + k) % 3, (n * k) % 2);
                        cases++;
                    }
                }
            }
        }
        assertTrue(cases > 1000);
    }

    @Test
    void gemmWithRowStartsAndPackedAMatchesAcrossImplementations() {
        SplittableRandom rng = new SplittableRandom(12);
        for (int m : new int[] {1, 7, 8, 130, 200}) {
            for (int n : new int[] {1, 9, 50}) {
                for (int k : new int[] {3, 27, 257, 600}) {
                    for (boolean ta : new boolean[] {false, true}) {
                        float[] a = random(rng, m * k);
                        float[] b = random(rng, k * n + 7);
                        int[] rows = new int[k];
                        for (int p = 0; p < k; p++) {
                            rows[p] = rng.nextInt(k * n + 7 - n + 1);
                        }
                        float[] c0 = random(rng, m * n);
                        float beta = (m + k) % 2 == 0 ? 0f : 0.5f;
                        int lda = ta ? m : k;
                        Gemm.PackedA packed = Gemm.pack(ta, m, k, 0.75f, a, 0, lda, null);
                        float[] sRows = c0.clone(), sPacked = c0.clone(), vRows = c0.clone(), vPacked = c0.clone();
                        SCA.gemm(ta, false, m, n, k, 0.75f, a, 0, lda, b, 0, 0, rows, beta, sRows, 0, n, null);
                        SCA.gemm(false, false, m, n, k, 1f, null, 0, 1, b, 0, 0, rows, beta, sPacked, 0, n, packed);
                        VEC.gemm(ta, false, m, n, k, 0.75f, a, 0, lda, b, 0, 0, rows, beta, vRows, 0, n, null);
                        VEC.gemm(false, false, m, n, k, 1f, null, 0, 1, b, 0, 0, rows, beta, vPacked, 0, n, packed);
                        String at = "m=" + m + " n=" + n + " k=" + k + " transA=" + ta;
                        // The scalar kernel reads a packed A exactly as the unpacked one: same bits.
                        assertArrayEquals(sRows, sPacked, "scalar packed vs unpacked, " + at);
                        assertArrayEquals(vRows, vPacked, "vector packed vs unpacked, " + at);
                        // Row starts against the same product on the gathered matrix (float64 reference).
                        float[] plain = new float[k * n];
                        for (int p = 0; p < k; p++) {
                            System.arraycopy(b, rows[p], plain, p * n, n);
                        }
                        double[] exact = new double[m * n];
                        double[] mag = new double[m * n];
                        reference(ta, false, m, n, k, 0.75f, a, 0, lda, plain, 0, n, beta, c0, 0, n, exact, mag);
                        for (int i = 0; i < m * n; i++) {
                            within(exact[i], mag[i], k, sRows[i], "scalar rows " + at + " at " + i);
                            within(exact[i], mag[i], k, vRows[i], "vector rows " + at + " at " + i);
                        }
                        if (beta == 0f && k <= Gemm.KC) {
                            assertArrayEquals(vRows, sRows, "scalar vs vector, " + at);
                        }
                    }
                }
            }
        }
    }

    @Test
    void scalarGemmIsBitIdenticalForOneAndFourThreadsAndIgnoresNanInCWhenBetaIsZero() {
        SplittableRandom rng = new SplittableRandom(13);
        int m = 211, n = 173, k = 301;
        float[] a = random(rng, m * k);
        float[] b = random(rng, k * n);
        int saved = WorkerPool.threads();
        try {
            for (int t = 0; t < 4; t++) {
                boolean ta = t >= 2, tb = (t & 1) == 1;
                float[] c1 = new float[m * n];
                float[] c4 = new float[m * n];
                java.util.Arrays.fill(c1, Float.NaN);
                java.util.Arrays.fill(c4, Float.NaN);
                WorkerPool.setThreads(1);
                SCA.gemm(ta, tb, m, n, k, 1f, a, 0, ta ? m : k, b, 0, tb ? k : n, null, 0f, c1, 0, n, null);
                WorkerPool.setThreads(4);
                SCA.gemm(ta, tb, m, n, k, 1f, a, 0, ta ? m : k, b, 0, tb ? k : n, null, 0f, c4, 0, n, null);
                assertArrayEquals(c1, c4);
                for (float v : c1) {
                    assertTrue(Float.isFinite(v), "beta = 0 must not read C");
                }
            }
        } finally {
            WorkerPool.setThreads(saved);
        }
    }

    @Test
    void rowDotsScalarAndVectorMeetTheirBounds() {
        SplittableRandom rng = new SplittableRandom(14);
        for (int m : new int[] {1, 3, 8, 17}) {
            for (int n : new int[] {1, 4, 7, 9}) {
                for (int len : new int[] {1, 7, 15, 16, 17, 97, 784}) {
                    float[] a = random(rng, 2 + m * len);
                    float[] b = random(rng, 2 * len + n * 3);
                    int[] rows = new int[n];
                    for (int j = 0; j < n; j++) {
                        rows[j] = rng.nextInt(b.length - len + 1);
                    }
                    float[] c0 = random(rng, m * n);
                    float[] s = c0.clone(), v = c0.clone();
                    SCA.rowDots(m, n, len, a, 2, len, b, rows, s, 0, n);
                    VEC.rowDots(m, n, len, a, 2, len, b, rows, v, 0, n);
                    for (int i = 0; i < m; i++) {
                        for (int j = 0; j < n; j++) {
                            double exact = c0[i * n + j], mag = Math.abs(c0[i * n + j]);
                            for (int q = 0; q < len; q++) {
                                double t = (double) a[2 + i * len + q] * b[rows[j] + q];
                                exact += t;
                                mag += Math.abs(t);
                            }
                            String at = "m=" + m + " n=" + n + " len=" + len + " at " + i + "," + j;
                            double sErr = Math.abs(s[i * n + j] - exact);
                            assertTrue(sErr <= U * Math.abs(exact) + (len + 1) * 0x1p-52 * mag + Float.MIN_NORMAL,
                                    "scalar " + at + ": error " + sErr);
                            within(exact, mag, len, v[i * n + j], "vector " + at);
                        }
                    }
                }
            }
        }
    }

    @Test
    void reluForwardAndBackwardAreBitIdentical() {
        SplittableRandom rng = new SplittableRandom(15);
        float[] special = {Float.NaN, -0f, 0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE,
                -Float.MIN_VALUE};
        for (int len : new int[] {1, 3, 7, 8, 15, 16, 17, 31, 33, 100, 1001}) {
            float[] x = random(rng, len + 5);
            float[] dy = random(rng, len + 5);
            for (int i = 0; i < x.length; i += 3) {
                x[i] = special[i % special.length];
            }
            for (int from : new int[] {0, 1, 3}) {
                int to = from + len;
                float[] ys = new float[x.length], yv = new float[x.length];
                SCA.relu(x, ys, from, to);
                VEC.relu(x, yv, from, to);
                assertBits(ys, yv, "relu len=" + len + " from=" + from);
                for (int i = from; i < to; i++) {
                    float expected = Float.isNaN(x[i]) ? Float.NaN : x[i] > 0 ? x[i] : 0f;
                    assertEquals(Float.floatToIntBits(expected), Float.floatToIntBits(ys[i]), "relu(" + x[i] + ")");
                }
                float[] ds = new float[x.length], dv = new float[x.length];
                SCA.reluBackward(ys, dy, ds, from, to);
                VEC.reluBackward(ys, dy, dv, from, to);
                assertBits(ds, dv, "relu backward len=" + len + " from=" + from);
                for (int i = from; i < to; i++) {
                    assertEquals(ys[i] > 0 ? dy[i] : 0f, ds[i], 0f);
                }
            }
        }
    }

    private static void gemmCase(SplittableRandom rng, boolean ta, boolean tb, int m, int n, int k, float alpha,
                                 float beta, int off, int pad) {
        int lda = (ta ? m : k) + pad;
        int ldb = (tb ? k : n) + pad;
        int ldc = n + pad;
        float[] a = random(rng, off + (ta ? k : m) * lda);
        float[] b = random(rng, off + (tb ? n : k) * ldb);
        float[] c0 = random(rng, off + m * ldc);
        float[] s = c0.clone(), v = c0.clone();
        SCA.gemm(ta, tb, m, n, k, alpha, a, off, lda, b, off, ldb, null, beta, s, off, ldc, null);
        VEC.gemm(ta, tb, m, n, k, alpha, a, off, lda, b, off, ldb, null, beta, v, off, ldc, null);
        double[] exact = new double[c0.length];
        double[] mag = new double[c0.length];
        reference(ta, tb, m, n, k, alpha, a, off, lda, b, off, ldb, beta, c0, off, ldc, exact, mag);
        String at = "m=" + m + " n=" + n + " k=" + k + " transA=" + ta + " transB=" + tb + " alpha=" + alpha
                + " beta=" + beta;
        boolean shared = (beta == 0f && k <= Gemm.KC) || (m % Gemm.MR == 0 && n % VectorGemm.NR == 0);
        for (int i = 0; i < c0.length; i++) {
            boolean inside = i >= off && (i - off) % ldc < n && (i - off) / ldc < m;
            if (!inside) {
                assertEquals(Float.floatToRawIntBits(c0[i]), Float.floatToRawIntBits(s[i]), "scalar wrote outside C");
                continue;
            }
            if (shared && Float.floatToRawIntBits(s[i]) != Float.floatToRawIntBits(v[i])) {
                fail("scalar and vector differ at " + (i - off) + " (" + at + "): " + s[i] + " vs " + v[i]);
            }
            within(exact[i], mag[i], k, s[i], "scalar " + at + " at " + (i - off));
            within(exact[i], mag[i], k, v[i], "vector " + at + " at " + (i - off));
        }
    }

    /** float64 {@code alpha * op(A) op(B) + beta * C} and the magnitude {@code sum|alpha a b| + |beta c|}. */
    private static void reference(boolean ta, boolean tb, int m, int n, int k, float alpha, float[] a, int aOff,
                                  int lda, float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc,
                                  double[] exact, double[] mag) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                int ci = cOff + i * ldc + j;
                double s = beta == 0f ? 0 : (double) beta * c[ci];
                double g = Math.abs(s);
                for (int p = 0; p < k; p++) {
                    double t = (double) alpha * (ta ? a[aOff + p * lda + i] : a[aOff + i * lda + p])
                            * (tb ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j]);
                    s += t;
                    g += Math.abs(t);
                }
                exact[ci] = s;
                mag[ci] = g;
            }
        }
    }

    private static void within(double exact, double mag, int terms, float got, String what) {
        double err = Math.abs(got - exact);
        double bound = (terms + 4) * U * mag + Float.MIN_NORMAL;
        if (!(err <= bound)) {
            fail(what + ": expected " + exact + ", got " + got + " (error " + err + " > bound " + bound + ")");
        }
    }

    private static void assertBits(float[] expected, float[] got, String what) {
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(got[i])) {
                fail(what + " at " + i + ": " + expected[i] + " vs " + got[i]);
            }
        }
    }

    /** Winograd transforms: the same additions in the same order in both, so bit for bit, at every tail length. */
    @Test
    void winogradTransformsAgreeBitForBit() {
        SplittableRandom rng = new SplittableRandom(13);
        for (int n = 1; n <= 70; n += (n < 20 ? 1 : 7)) {
            int row = 1 + rng.nextInt(20);
            int comp = n + row + 3;
            float[] p = random(rng, 4 * comp + 5);
            p[rng.nextInt(p.length)] = -0f;
            int vs = n + rng.nextInt(4);
            float[] v1 = random(rng, 16 * vs + 3), v2 = v1.clone();
            VEC.winogradInput(p, 1, 1 + comp, 1 + 2 * comp, 1 + 3 * comp, row, v1, 2, vs, n);
            SCA.winogradInput(p, 1, 1 + comp, 1 + 2 * comp, 1 + 3 * comp, row, v2, 2, vs, n);
            assertArrayEquals(v2, v1, "input transform, n=" + n);
            float[] m = random(rng, 16 * vs + 3);
            for (boolean relu : new boolean[] {false, true}) {
                for (boolean pool : new boolean[] {false, true}) {
                    float bias = (float) rng.nextDouble(-0.5, 0.5);
                    float[] y1 = random(rng, 4 * vs + 2), y2 = y1.clone();
                    VEC.winogradOutput(m, 1, vs, n, bias, relu, pool, y1, 2, vs);
                    SCA.winogradOutput(m, 1, vs, n, bias, relu, pool, y2, 2, vs);
                    assertArrayEquals(y2, y1, "output transform, n=" + n + " relu=" + relu + " pool=" + pool);
                }
            }
        }
    }

    /** Shifted sums: the same chain of fused multiply-adds in both, so bit for bit, at every tail length. */
    @Test
    void tapsAgreeBitForBitAndMatchTheDefinition() {
        SplittableRandom rng = new SplittableRandom(14);
        for (int n = 1; n <= 80; n += (n < 40 ? 1 : 9)) {
            int taps = 1 + rng.nextInt(27);
            float[] x = random(rng, n + 60);
            int[] offsets = new int[taps + 2];
            for (int t = 0; t < offsets.length; t++) {
                offsets[t] = rng.nextInt(61);
            }
            float[] w = random(rng, taps + 3);
            float bias = (float) rng.nextDouble(-1, 1);
            boolean relu = n % 2 == 0;
            float[] y1 = random(rng, n + 4), y2 = y1.clone();
            VEC.taps(x, offsets, w, 2, taps, bias, relu, y1, 3, n - 3 > 0 ? n - 3 : n);
            SCA.taps(x, offsets, w, 2, taps, bias, relu, y2, 3, n - 3 > 0 ? n - 3 : n);
            assertArrayEquals(y2, y1, "n=" + n + " taps=" + taps);
            for (int i = 0; i < (n - 3 > 0 ? n - 3 : n); i++) {
                double exact = bias, scale = Math.abs(bias);
                for (int t = 0; t < taps; t++) {
                    exact += (double) w[2 + t] * x[offsets[t] + i];
                    scale += Math.abs((double) w[2 + t] * x[offsets[t] + i]);
                }
                exact = relu ? Math.max(exact, 0) : exact;
                assertEquals(exact, y1[3 + i], (taps + 2) * U * scale, "n=" + n + " i=" + i);
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
