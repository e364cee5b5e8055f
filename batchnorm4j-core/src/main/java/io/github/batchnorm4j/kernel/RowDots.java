package io.github.batchnorm4j.kernel;

/**
 * {@code C += A * B^T} where both operands are read along their rows: {@code C[i][j] += sum_q A[i][q] * B_j[q]}
 * for {@code i < m, j < n, q < len}, with {@code A[i][q] = a[aOff + i*lda + q]}, row {@code j} of B starting at
 * {@code bRows[j]} and {@code C[i][j] = c[cOff + i*ldc + j]}. For products with very few columns (a convolution's
 * weight gradient when {@code Cin*k*k} is small) this beats {@link Gemm}, whose packed panels would be mostly
 * padding.
 *
 * <p>Each call goes, once, to the implementation {@link Kernels#dense()} selected at start-up: the Vector API one
 * ({@link VectorRowDots}, vector partial sums added in lane order) or the scalar one (a double accumulator per dot
 * product). Both sum in a fixed order, so results do not depend on threads.
 */
public final class RowDots {
    private RowDots() {}

    /** {@code C[i][j] += sum_q A[i][q] * B_j[q]}; the caller guarantees the offsets are within the arrays. */
    public static void accumulate(int m, int n, int len, float[] a, int aOff, int lda, float[] b, int[] bRows,
                                  float[] c, int cOff, int ldc) {
        Kernels.dense().rowDots(m, n, len, a, aOff, lda, b, bRows, c, cOff, ldc);
    }
}
