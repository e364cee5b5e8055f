package io.github.batchnorm4j.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API ({@code jdk.incubator.vector}) implementation of {@link DenseKernels}: {@link VectorGemm},
 * {@link VectorRowDots} and the ReLU loops. Loading this class without the module fails, which is why only
 * {@link Kernels} names it.
 */
public final class VectorDenseKernels implements DenseKernels {
    /** The one instance. */
    public static final VectorDenseKernels INSTANCE = new VectorDenseKernels();
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private VectorDenseKernels() {}

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
                     float[] b, int bOff, int ldb, int[] bRows, float beta, float[] c, int cOff, int ldc,
                     Gemm.PackedA packed) {
        VectorGemm.run(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, bRows, beta, c, cOff, ldc, packed);
    }

    @Override
    public void rowDots(int m, int n, int len, float[] a, int aOff, int lda, float[] b, int[] bRows, float[] c,
                        int cOff, int ldc) {
        VectorRowDots.accumulate(m, n, len, a, aOff, lda, b, bRows, c, cOff, ldc);
    }

    // A branchy scalar loop mispredicts on half of random signs, hence the vector compare and blend.
    @Override
    public void relu(float[] x, float[] y, int from, int to) {
        int i = from;
        for (int bound = from + S.loopBound(to - from); i < bound; i += S.length()) {
            FloatVector.fromArray(S, x, i).lanewise(VectorOperators.MAX, 0f).intoArray(y, i);
        }
        for (; i < to; i++) {
            y[i] = Math.max(x[i], 0f);
        }
    }

    @Override
    public void reluBackward(float[] y, float[] dy, float[] dx, int from, int to) {
        int i = from;
        FloatVector zero = FloatVector.zero(S);
        for (int bound = from + S.loopBound(to - from); i < bound; i += S.length()) {
            FloatVector v = FloatVector.fromArray(S, y, i);
            zero.blend(FloatVector.fromArray(S, dy, i), v.compare(VectorOperators.GT, 0f)).intoArray(dx, i);
        }
        for (; i < to; i++) {
            dx[i] = y[i] > 0f ? dy[i] : 0f;
        }
    }

    @Override
    public void taps(float[] x, int[] offsets, float[] w, int wOff, int taps, float bias, boolean relu, float[] y,
                     int yOff, int n) {
        int i = 0;
        int step = 2 * S.length(); // two independent accumulators hide the FMA latency
        for (int bound = n - step; i <= bound; i += step) {
            FloatVector a0 = FloatVector.broadcast(S, bias), a1 = a0;
            for (int t = 0; t < taps; t++) {
                FloatVector wt = FloatVector.broadcast(S, w[wOff + t]);
                int o = offsets[t] + i;
                a0 = wt.fma(FloatVector.fromArray(S, x, o), a0);
                a1 = wt.fma(FloatVector.fromArray(S, x, o + S.length()), a1);
            }
            if (relu) {
                a0 = a0.lanewise(VectorOperators.MAX, 0f);
                a1 = a1.lanewise(VectorOperators.MAX, 0f);
            }
            a0.intoArray(y, yOff + i);
            a1.intoArray(y, yOff + i + S.length());
        }
        for (; i < n; i++) {
            float acc = bias;
            for (int t = 0; t < taps; t++) {
                acc = Math.fma(w[wOff + t], x[offsets[t] + i], acc);
            }
            y[yOff + i] = relu ? Math.max(acc, 0f) : acc;
        }
    }

    // The transforms run as passes of four-row combinations through a per-thread scratch block: one method with
    // all 64 vector operations of a tile exceeds what the JIT inlines, and its vectors would then be boxed.
    private static final ThreadLocal<float[]> WINOGRAD_SCRATCH = new ThreadLocal<>();

    private static float[] winogradScratch(int size) {
        return Scratch.floats(WINOGRAD_SCRATCH, size);
    }

    @Override
    public void winogradInput(float[] p, int p00, int p01, int p10, int p11, int row, float[] v, int vOff, int vs,
                              int n) {
        float[] t = winogradScratch(16 * n);
        for (int c = 0; c < 4; c++) { // column c of B^T d: rows r = 0..3 of the patch, component (r % 2, c % 2)
            int top = (c % 2 == 0 ? p00 : p01) + c / 2, bottom = (c % 2 == 0 ? p10 : p11) + c / 2;
            bt(p, top, bottom, top + row, bottom + row, t, c * n, (4 + c) * n, (8 + c) * n, (12 + c) * n, n);
        }
        for (int r = 0; r < 4; r++) { // row r of (B^T d) B
            int o = vOff + 4 * r * vs;
            bt(t, 4 * r * n, (4 * r + 1) * n, (4 * r + 2) * n, (4 * r + 3) * n, v, o, o + vs, o + 2 * vs, o + 3 * vs,
                    n);
        }
    }

    /** {@code (d0, d1, d2, d3) = (s0 - s2, s1 + s2, s2 - s1, s1 - s3)} over {@code n} lanes: one B^T pass. */
    private static void bt(float[] s, int s0, int s1, int s2, int s3, float[] d, int d0, int d1, int d2, int d3,
                           int n) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += S.length()) {
            FloatVector a = FloatVector.fromArray(S, s, s0 + i), b = FloatVector.fromArray(S, s, s1 + i);
            FloatVector c = FloatVector.fromArray(S, s, s2 + i), e = FloatVector.fromArray(S, s, s3 + i);
            a.sub(c).intoArray(d, d0 + i);
            b.add(c).intoArray(d, d1 + i);
            c.sub(b).intoArray(d, d2 + i);
            b.sub(e).intoArray(d, d3 + i);
        }
        for (; i < n; i++) {
            float a = s[s0 + i], b = s[s1 + i], c = s[s2 + i], e = s[s3 + i];
            d[d0 + i] = a - c;
            d[d1 + i] = b + c;
            d[d2 + i] = c - b;
            d[d3 + i] = b - e;
        }
    }

    @Override
    public void winogradOutput(float[] m, int mOff, int ms, int n, float bias, boolean relu, boolean pool, float[] y,
                               int yOff, int ys) {
        float[] t = winogradScratch(12 * n);
        for (int c = 0; c < 4; c++) { // column c of A^T M into rows 0 and 1 of the scratch
            int o = mOff + c * ms;
            at(m, o, o + 4 * ms, o + 8 * ms, o + 12 * ms, false, 0f, false, t, c * n, (4 + c) * n, n);
        }
        for (int a = 0; a < 2; a++) { // row a of (A^T M) A
            int o = 4 * a * n;
            if (pool) {
                at(t, o, o + n, o + 2 * n, o + 3 * n, true, bias, relu, t, (8 + 2 * a) * n, (9 + 2 * a) * n, n);
            } else {
                at(t, o, o + n, o + 2 * n, o + 3 * n, true, bias, relu, y, yOff + 2 * a * ys,
                        yOff + (2 * a + 1) * ys, n);
            }
        }
        if (pool) {
            int i = 0;
            for (int bound = S.loopBound(n); i < bound; i += S.length()) {
                FloatVector y00 = FloatVector.fromArray(S, t, 8 * n + i), y01 = FloatVector.fromArray(S, t, 9 * n + i);
                FloatVector y10 = FloatVector.fromArray(S, t, 10 * n + i);
                FloatVector y11 = FloatVector.fromArray(S, t, 11 * n + i);
                y00.lanewise(VectorOperators.MAX, y01).lanewise(VectorOperators.MAX,
                        y10.lanewise(VectorOperators.MAX, y11)).intoArray(y, yOff + i);
            }
            for (; i < n; i++) {
                y[yOff + i] = Math.max(Math.max(t[8 * n + i], t[9 * n + i]), Math.max(t[10 * n + i], t[11 * n + i]));
            }
        }
    }

    /**
     * {@code d0 = s0 + s1 + s2}, {@code d1 = s1 - s2 - s3} over {@code n} lanes, then {@code + bias} when
     * {@code addBias} and ReLU when {@code relu}: one A^T pass.
     */
    private static void at(float[] s, int s0, int s1, int s2, int s3, boolean addBias, float bias, boolean relu,
                           float[] d, int d0, int d1, int n) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += S.length()) {
            FloatVector a = FloatVector.fromArray(S, s, s0 + i), b = FloatVector.fromArray(S, s, s1 + i);
            FloatVector c = FloatVector.fromArray(S, s, s2 + i), e = FloatVector.fromArray(S, s, s3 + i);
            FloatVector x0 = a.add(b).add(c), x1 = b.sub(c).sub(e);
            if (addBias) {
                x0 = x0.add(bias);
                x1 = x1.add(bias);
            }
            if (relu) {
                x0 = x0.lanewise(VectorOperators.MAX, 0f);
                x1 = x1.lanewise(VectorOperators.MAX, 0f);
            }
            x0.intoArray(d, d0 + i);
            x1.intoArray(d, d1 + i);
        }
        for (; i < n; i++) {
            float a = s[s0 + i], b = s[s1 + i], c = s[s2 + i], e = s[s3 + i];
            float x0 = a + b + c, x1 = b - c - e;
            if (addBias) {
                x0 += bias;
                x1 += bias;
            }
            if (relu) {
                x0 = Math.max(x0, 0f);
                x1 = Math.max(x1, 0f);
            }
            d[d0 + i] = x0;
            d[d1 + i] = x1;
        }
    }

    @Override
    public String toString() {
        return "VectorDenseKernels(" + S.length() + " lanes)";
    }
}
