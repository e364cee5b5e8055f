package io.github.batchnorm4j.kernel;

/**
 * Single-precision matrix multiply {@code C = alpha * op(A) * op(B) + beta * C} on row-major arrays, where
 * {@code op(A)} is {@code m x k} and {@code op(B)} is {@code k x n}: {@code C[i][j] = alpha * sum_p opA[i][p] *
 * opB[p][j] + beta * C[i][j]}.
 *
 * <p>This class checks the arguments and hands each call, once, to the implementation {@link Kernels#dense()}
 * selected at start-up: the Vector API one ({@link VectorGemm}: packed panels, a register-blocked micro-kernel)
 * or the scalar one ({@link ScalarGemm}) when {@code jdk.incubator.vector} is not available. Both reduce every
 * element of C in a fixed order, so results do not depend on the number of threads. {@code beta == 0}
 * overwrites C without reading it (NaN in C does not propagate), as BLAS does.
 */
public final class Gemm {
    /** Rows of a packed A panel (and of the vector micro-kernel). */
    static final int MR = 8;
    /** Depth of one packed block (A panel + B panel of the micro-kernel fit in L1). */
    static final int KC = 256;
    /** Rows of C per task (multiple of MR; the packed A slice stays in L2). */
    static final int MC = 128;

    private Gemm() {}

    /**
     * {@code C[i][j] = alpha * sum_p opA[i][p] * opB[p][j] + beta * C[i][j]} for {@code i < m, j < n}.
     * {@code opA[i][p]} is {@code a[aOff + i*lda + p]}, or {@code a[aOff + p*lda + i]} when {@code transA};
     * {@code opB[p][j]} is {@code b[bOff + p*ldb + j]}, or {@code b[bOff + j*ldb + p]} when {@code transB};
     * {@code C[i][j]} is {@code c[cOff + i*ldc + j]}.
     */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                             float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                             float beta, float[] c, int cOff, int ldc) {
        checkArgs(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        run(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, null, beta, c, cOff, ldc, null);
    }

    /**
     * The same product with B given by row starts instead of a leading dimension: {@code opB[p][j]} is
     * {@code b[bRows[p] + j]}, or {@code b[bRows[j] + p]} when {@code transB}. Convolutions use it to read
     * shifted windows of a padded image as the rows of an implicit im2col matrix, without building it.
     */
    public static void sgemmRows(boolean transA, boolean transB, int m, int n, int k, float alpha,
                                 float[] a, int aOff, int lda, float[] b, int[] bRows,
                                 float beta, float[] c, int cOff, int ldc) {
        checkMatrix("A", a, aOff, lda, transA ? k : m, transA ? m : k);
        checkMatrix("C", c, cOff, ldc, m, n);
        checkRows(transB, n, k, b, bRows);
        run(transA, transB, m, n, k, alpha, a, aOff, lda, b, 0, 0, bRows, beta, c, cOff, ldc, null);
    }

    /**
     * {@link #sgemmRows} with A packed beforehand by {@link #pack}: a convolution multiplies the same weights with
     * every sample, so it packs them once per call instead of once per sample.
     */
    public static void sgemmRows(PackedA a, boolean transB, int n, float[] b, int[] bRows, float beta, float[] c,
                                 int cOff, int ldc) {
        checkMatrix("C", c, cOff, ldc, a.m, n);
        checkRows(transB, n, a.k, b, bRows);
        run(false, transB, a.m, n, a.k, 1f, null, 0, 1, b, 0, 0, bRows, beta, c, cOff, ldc, a);
    }

    /** Packs {@code alpha * op(A)} ({@code m x k}) in the layout the tiles read; reuses {@code reuse}'s array. */
    public static PackedA pack(boolean transA, int m, int k, float alpha, float[] a, int aOff, int lda,
                               PackedA reuse) {
        checkMatrix("A", a, aOff, lda, transA ? k : m, transA ? m : k);
        int rowTiles = (m + MC - 1) / MC;
        int lastPanels = m == 0 ? 0 : ((m - (rowTiles - 1) * MC) + MR - 1) / MR;
        int size = ((rowTiles - 1) * (MC / MR) + lastPanels) * MR * k;
        float[] data = reuse != null && reuse.data.length >= size ? reuse.data : new float[Math.max(size, 1)];
        int kStep = kStep(k);
        for (int rt = 0; rt < rowTiles; rt++) {
            int i0 = rt * MC;
            int mc = Math.min(MC, m - i0);
            int mPanels = (mc + MR - 1) / MR;
            for (int p0 = 0; p0 < k; p0 += kStep) {
                packA(transA, a, aOff, lda, i0, mc, p0, Math.min(kStep, k - p0), alpha, data,
                        PackedA.offset(rt, mPanels, p0, k));
            }
        }
        return new PackedA(m, k, data);
    }

    /** A matrix packed by {@link #pack}: row tiles of MC rows, each a run of k blocks of MR-row panels. */
    public static final class PackedA {
        final int m;
        final int k;
        final float[] data;

        PackedA(int m, int k, float[] data) {
            this.m = m;
            this.k = k;
            this.data = data;
        }

        int offset(int rt, int mPanels, int p0) {
            return offset(rt, mPanels, p0, k);
        }

        static int offset(int rt, int mPanels, int p0, int k) {
            return rt * MC * k + mPanels * MR * p0;
        }
    }

    static int kStep(int k) {
        int blocks = Math.max(1, (k + KC - 1) / KC);
        return (k + blocks - 1) / blocks;
    }

    /** Early outs shared by both implementations, then one dispatch per call. */
    private static void run(boolean transA, boolean transB, int m, int n, int k, float alpha,
                            float[] a, int aOff, int lda, float[] b, int bOff, int ldb, int[] bRows,
                            float beta, float[] c, int cOff, int ldc, PackedA packed) {
        if (m == 0 || n == 0) {
            return;
        }
        if (k == 0 || alpha == 0f) {
            scaleC(m, n, beta, c, cOff, ldc);
            return;
        }
        Kernels.dense().gemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, bRows, beta, c, cOff, ldc,
                packed);
    }

    /** Packs {@code alpha * opA[i0..i0+mc)[p0..p0+kc)} as MR-row panels, k-major inside a panel, zero-padded. */
    static void packA(boolean transA, float[] a, int aOff, int lda, int i0, int mc, int p0, int kc,
                              float alpha, float[] pa, int paOff) {
        for (int ip = 0, i = i0; ip * MR < mc; ip++, i += MR) {
            int rows = Math.min(MR, mc - ip * MR);
            int base = paOff + ip * MR * kc;
            if (transA) {
                for (int p = 0; p < kc; p++) {
                    int src = aOff + (p0 + p) * lda + i;
                    int dst = base + p * MR;
                    for (int r = 0; r < rows; r++) {
                        pa[dst + r] = alpha * a[src + r];
                    }
                    for (int r = rows; r < MR; r++) {
                        pa[dst + r] = 0f;
                    }
                }
            } else {
                // p outer: the writes are sequential and the MR source rows stay in L1 between steps
                int src = aOff + i * lda + p0;
                for (int p = 0; p < kc; p++) {
                    int dst = base + p * MR;
                    for (int r = 0; r < rows; r++) {
                        pa[dst + r] = alpha * a[src + r * lda + p];
                    }
                    for (int r = rows; r < MR; r++) {
                        pa[dst + r] = 0f;
                    }
                }
            }
        }
    }

    static void scaleC(int m, int n, float beta, float[] c, int cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            int ci = cOff + i * ldc;
            for (int j = 0; j < n; j++) {
                c[ci + j] = beta == 0f ? 0f : beta * c[ci + j];
            }
        }
    }

    /**
     * The same product by plain loops with a double accumulator: the parity reference for tests and the
     * benchmark's sanity check.
     */
    public static void sgemmReference(boolean transA, boolean transB, int m, int n, int k, float alpha,
                                      float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                      float beta, float[] c, int cOff, int ldc) {
        checkArgs(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    float av = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                    float bv = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
                    s += (double) av * bv;
                }
                int ci = cOff + i * ldc + j;
                c[ci] = (float) (alpha * s + (beta == 0f ? 0.0 : (double) beta * c[ci]));
            }
        }
    }

    private static void checkRows(boolean transB, int n, int k, float[] b, int[] bRows) {
        int rows = transB ? n : k;
        int len = transB ? k : n;
        if (bRows.length < rows) {
            throw new IllegalArgumentException("Expected " + rows + " row starts for B, got " + bRows.length);
        }
        for (int r = 0; r < rows; r++) {
            if (bRows[r] < 0 || (long) bRows[r] + len > b.length) {
                throw new IllegalArgumentException("Expected row " + r + " of B (start " + bRows[r] + ", length "
                        + len + ") within an array of " + b.length + " values, got end " + ((long) bRows[r] + len));
            }
        }
    }

    private static void checkArgs(boolean transA, boolean transB, int m, int n, int k, float[] a, int aOff,
                                  int lda, float[] b, int bOff, int ldb, float[] c, int cOff, int ldc) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("Expected m, n, k >= 0, got m=" + m + ", n=" + n + ", k=" + k);
        }
        checkMatrix("A", a, aOff, lda, transA ? k : m, transA ? m : k);
        checkMatrix("B", b, bOff, ldb, transB ? n : k, transB ? k : n);
        checkMatrix("C", c, cOff, ldc, m, n);
    }

    /** A stored block of {@code rows x cols} with leading dimension {@code ld} must fit in the array. */
    private static void checkMatrix(String name, float[] x, int off, int ld, int rows, int cols) {
        if (ld < Math.max(1, cols)) {
            throw new IllegalArgumentException("Expected leading dimension of " + name + " >= " + Math.max(1, cols)
                    + ", got " + ld);
        }
        long last = rows == 0 || cols == 0 ? off : off + (long) (rows - 1) * ld + cols;
        if (off < 0 || last > x.length) {
            throw new IllegalArgumentException("Expected " + name + " (" + rows + "x" + cols + ", offset " + off
                    + ", leading dimension " + ld + ") to fit in an array of " + last + " values, got "
                    + x.length);
        }
    }

}
