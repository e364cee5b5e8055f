package io.github.batchnorm4j.kernel;

/**
 * The plain-Java implementation of {@link DenseKernels}, used when {@code jdk.incubator.vector} is not available
 * (or {@code -Dbn4j.kernels=scalar}). It needs no incubating module and is the reference the vector kernels are
 * tested against: {@link ScalarGemm} reduces each element of C with the vector micro-kernel's chain of fused
 * multiply-adds, the row dot products accumulate in double, and ReLU is the same elementwise rule.
 */
public final class ScalarDenseKernels implements DenseKernels {
    /** The one instance. */
    public static final ScalarDenseKernels INSTANCE = new ScalarDenseKernels();

    private ScalarDenseKernels() {}

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
                     float[] b, int bOff, int ldb, int[] bRows, float beta, float[] c, int cOff, int ldc,
                     Gemm.PackedA packed) {
        ScalarGemm.run(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, bRows, beta, c, cOff, ldc, packed);
    }

    /** One double accumulator per dot product, rounded once when added to C. */
    @Override
    public void rowDots(int m, int n, int len, float[] a, int aOff, int lda, float[] b, int[] bRows, float[] c,
                        int cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            int ar = aOff + i * lda;
            int ci = cOff + i * ldc;
            for (int j = 0; j < n; j++) {
                int br = bRows[j];
                double t = 0;
                for (int q = 0; q < len; q++) {
                    t += (double) a[ar + q] * b[br + q];
                }
                c[ci + j] = (float) (c[ci + j] + t);
            }
        }
    }

    @Override
    public void relu(float[] x, float[] y, int from, int to) {
        for (int i = from; i < to; i++) {
            y[i] = Math.max(x[i], 0f);
        }
    }

    @Override
    public void reluBackward(float[] y, float[] dy, float[] dx, int from, int to) {
        for (int i = from; i < to; i++) {
            dx[i] = y[i] > 0f ? dy[i] : 0f;
        }
    }

    @Override
    public void taps(float[] x, int[] offsets, float[] w, int wOff, int taps, float bias, boolean relu, float[] y,
                     int yOff, int n) {
        for (int i = 0; i < n; i++) {
            float acc = bias;
            for (int t = 0; t < taps; t++) {
                acc = Math.fma(w[wOff + t], x[offsets[t] + i], acc);
            }
            y[yOff + i] = relu ? Math.max(acc, 0f) : acc;
        }
    }

    // The vector kernels evaluate the same expressions in the same order, so the two agree bit for bit.
    @Override
    public void winogradInput(float[] p, int p00, int p01, int p10, int p11, int row, float[] v, int vOff, int vs,
                              int n) {
        for (int i = 0; i < n; i++) {
            int q = i + row;
            float d00 = p[p00 + i], d01 = p[p01 + i], d02 = p[p00 + i + 1], d03 = p[p01 + i + 1];
            float d10 = p[p10 + i], d11 = p[p11 + i], d12 = p[p10 + i + 1], d13 = p[p11 + i + 1];
            float d20 = p[p00 + q], d21 = p[p01 + q], d22 = p[p00 + q + 1], d23 = p[p01 + q + 1];
            float d30 = p[p10 + q], d31 = p[p11 + q], d32 = p[p10 + q + 1], d33 = p[p11 + q + 1];
            int o = vOff + i;
            inputRow(d00 - d20, d01 - d21, d02 - d22, d03 - d23, v, o, vs);
            inputRow(d10 + d20, d11 + d21, d12 + d22, d13 + d23, v, o + 4 * vs, vs);
            inputRow(d20 - d10, d21 - d11, d22 - d12, d23 - d13, v, o + 8 * vs, vs);
            inputRow(d10 - d30, d11 - d31, d12 - d32, d13 - d33, v, o + 12 * vs, vs);
        }
    }

    /** One row of {@code (B^T d) B}. */
    private static void inputRow(float t0, float t1, float t2, float t3, float[] v, int o, int vs) {
        v[o] = t0 - t2;
        v[o + vs] = t1 + t2;
        v[o + 2 * vs] = t2 - t1;
        v[o + 3 * vs] = t1 - t3;
    }

    @Override
    public void winogradOutput(float[] m, int mOff, int ms, int n, float bias, boolean relu, boolean pool, float[] y,
                               int yOff, int ys) {
        for (int i = 0; i < n; i++) {
            int o = mOff + i;
            float m00 = m[o], m01 = m[o + ms], m02 = m[o + 2 * ms], m03 = m[o + 3 * ms];
            float m10 = m[o + 4 * ms], m11 = m[o + 5 * ms], m12 = m[o + 6 * ms], m13 = m[o + 7 * ms];
            float m20 = m[o + 8 * ms], m21 = m[o + 9 * ms], m22 = m[o + 10 * ms], m23 = m[o + 11 * ms];
            float m30 = m[o + 12 * ms], m31 = m[o + 13 * ms], m32 = m[o + 14 * ms], m33 = m[o + 15 * ms];
            // A^T M: two rows of four
            float s00 = m00 + m10 + m20, s01 = m01 + m11 + m21, s02 = m02 + m12 + m22, s03 = m03 + m13 + m23;
            float s10 = m10 - m20 - m30, s11 = m11 - m21 - m31, s12 = m12 - m22 - m32, s13 = m13 - m23 - m33;
            float y00 = s00 + s01 + s02 + bias, y01 = s01 - s02 - s03 + bias;
            float y10 = s10 + s11 + s12 + bias, y11 = s11 - s12 - s13 + bias;
            if (relu) {
                y00 = Math.max(y00, 0f);
                y01 = Math.max(y01, 0f);
                y10 = Math.max(y10, 0f);
                y11 = Math.max(y11, 0f);
            }
            if (pool) {
                y[yOff + i] = Math.max(Math.max(y00, y01), Math.max(y10, y11));
            } else {
                y[yOff + i] = y00;
                y[yOff + ys + i] = y01;
                y[yOff + 2 * ys + i] = y10;
                y[yOff + 3 * ys + i] = y11;
            }
        }
    }

    @Override
    public String toString() {
        return "ScalarDenseKernels";
    }
}
