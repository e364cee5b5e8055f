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
    public String toString() {
        return "ScalarDenseKernels";
    }
}
