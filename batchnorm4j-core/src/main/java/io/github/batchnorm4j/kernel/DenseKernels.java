package io.github.batchnorm4j.kernel;

/**
 * The kernels outside normalization, behind one interface so that the library runs without the incubating
 * Vector API: matrix products ({@link Gemm}), row dot products ({@link RowDots}), the ReLU loops and the Winograd
 * transforms ({@link Winograd}). Two implementations exist, {@link VectorDenseKernels} and
 * {@link ScalarDenseKernels}; {@link Kernels} picks one at start-up, together with the normalization kernels.
 * Callers dispatch once per call, never inside a loop.
 *
 * <p>Arguments are checked by the public entry points ({@link Gemm}, {@link RowDots}, {@link Winograd},
 * {@link Taps}), not here.
 */
public interface DenseKernels {
    /**
     * {@code C = alpha * op(A) * op(B) + beta * C} as documented on {@link Gemm}, for {@code m, n, k > 0} and
     * {@code alpha != 0}. B is addressed by {@code bOff, ldb}, or by the row starts {@code bRows} when not null;
     * A is {@code a, aOff, lda}, or {@code packed} (already scaled by alpha, and then {@code alpha == 1}) when not
     * null.
     */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
              float[] b, int bOff, int ldb, int[] bRows, float beta, float[] c, int cOff, int ldc, Gemm.PackedA packed);

    /** {@code C[i][j] += sum_q A[i][q] * B_j[q]} as documented on {@link RowDots}. */
    void rowDots(int m, int n, int len, float[] a, int aOff, int lda, float[] b, int[] bRows, float[] c, int cOff,
                 int ldc);

    /** {@code y[i] = max(x[i], 0)} for {@code i} in {@code [from, to)} (NaN stays NaN, {@code -0} becomes {@code +0}). */
    void relu(float[] x, float[] y, int from, int to);

    /** {@code dx[i] = y[i] > 0 ? dy[i] : 0} for {@code i} in {@code [from, to)}, {@code y} being ReLU's output. */
    void reluBackward(float[] y, float[] dy, float[] dx, int from, int to);

    /** Shifted weighted sums, as documented on {@link Taps#sum}. */
    void taps(float[] x, int[] offsets, float[] w, int wOff, int taps, float bias, boolean relu, float[] y, int yOff,
              int n);

    /** Winograd F(2x2, 3x3) input transform of {@code n} tiles, as documented on {@link Winograd#input}. */
    void winogradInput(float[] p, int p00, int p01, int p10, int p11, int row, float[] v, int vOff, int vStride,
                       int n);

    /** Winograd F(2x2, 3x3) output transform of {@code n} tiles, as documented on {@link Winograd#output}. */
    void winogradOutput(float[] m, int mOff, int mStride, int n, float bias, boolean relu, boolean pool, float[] y,
                        int yOff, int yStride);
}
