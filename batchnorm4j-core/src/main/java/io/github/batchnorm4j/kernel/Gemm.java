package io.github.batchnorm4j.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-precision matrix multiply {@code C = alpha * op(A) * op(B) + beta * C} on row-major arrays, where
 * {@code op(A)} is {@code m x k} and {@code op(B)} is {@code k x n}.
 *
 * <p>Blocked like BLIS/GotoBLAS: C is cut into tiles of {@link #MC} rows x {@link #NT} columns, fixed by the
 * problem size. Each tile is one {@link WorkerPool} task that walks k in {@link #KC} steps, packs its slice of A
 * into {@link #MR}-row panels and its slice of B into {@code NR}-column panels ({@code NR} = two Vector API
 * registers), and runs a register-blocked {@code MR x NR} micro-kernel of {@code FloatVector.fma}. Every element
 * of C is therefore reduced in the same order whatever the number of threads: results are bit-identical for
 * 1 or many threads. Packing buffers are per thread and reused, so a call allocates nothing but the task lambda.
 *
 * <p>{@code beta == 0} overwrites C without reading it (NaN in C does not propagate), as BLAS does.
 */
public final class Gemm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int V = S.length();
    /** Rows of the micro-kernel. */
    static final int MR = 8;
    /** Columns of the micro-kernel: two vector registers. */
    static final int NR = 2 * V;
    /** Depth of one packed block (A panel + B panel of the micro-kernel fit in L1). */
    static final int KC = 256;
    /** Rows of C per task (multiple of MR; the packed A slice stays in L2). */
    static final int MC = 128;
    /** Columns of C per task (multiple of NR). */
    static final int NT = 8 * NR;

    private static final ThreadLocal<Workspace> WORK = ThreadLocal.withInitial(Workspace::new);

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
        run(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, null, beta, c, cOff, ldc);
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
        int rows = transB ? n : k;
        int len = transB ? k : n;
        if (bRows.length < rows) {
            throw new IllegalArgumentException("Expected " + rows + " row starts for B, got " + bRows.length);
        }
        for (int r = 0; r < rows; r++) {
            if (bRows[r] < 0 || (long) bRows[r] + len > b.length) {
                throw new IllegalArgumentException("Expected row " + r + " of B (start " + bRows[r] + ", length "
                        + len + ") inside an array of " + b.length + " values, got one past its end");
            }
        }
        run(transA, transB, m, n, k, alpha, a, aOff, lda, b, 0, 0, bRows, beta, c, cOff, ldc);
    }

    private static void run(boolean transA, boolean transB, int m, int n, int k, float alpha,
                            float[] a, int aOff, int lda, float[] b, int bOff, int ldb, int[] bRows,
                            float beta, float[] c, int cOff, int ldc) {
        if (m == 0 || n == 0) {
            return;
        }
        if (k == 0 || alpha == 0f) {
            scaleC(m, n, beta, c, cOff, ldc);
            return;
        }
        int rowTiles = (m + MC - 1) / MC;
        int colTiles = (n + NT - 1) / NT;
        int tasks = rowTiles * colTiles;
        // Split by size only: small products stay on the calling thread (a hand-off would cost more).
        long flops = 2L * m * n * k;
        if (flops < 2_000_000L || tasks == 1) {
            for (int t = 0; t < tasks; t++) {
                tile(t / colTiles, t % colTiles, transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, bRows,
                        beta, c, cOff, ldc);
            }
            return;
        }
        WorkerPool.parallelFor(tasks, t -> tile(t / colTiles, t % colTiles, transA, transB, m, n, k, alpha,
                a, aOff, lda, b, bOff, ldb, bRows, beta, c, cOff, ldc));
    }

    private static void tile(int rt, int ct, boolean transA, boolean transB, int m, int n, int k, float alpha,
                             float[] a, int aOff, int lda, float[] b, int bOff, int ldb, int[] bRows,
                             float beta, float[] c, int cOff, int ldc) {
        Workspace w = WORK.get();
        int i0 = rt * MC;
        int mc = Math.min(MC, m - i0);
        int j0 = ct * NT;
        int nc = Math.min(NT, n - j0);
        int mPanels = (mc + MR - 1) / MR;
        int nPanels = (nc + NR - 1) / NR;
        float[] pa = w.packA(mPanels * MR * KC);
        float[] pb = w.packB(nPanels * NR * KC);
        for (int p0 = 0; p0 < k; p0 += KC) {
            int kc = Math.min(KC, k - p0);
            packA(transA, a, aOff, lda, i0, mc, p0, kc, alpha, pa);
            packB(transB, b, bOff, ldb, bRows, p0, kc, j0, nc, pb);
            // First k block applies beta; later blocks add onto what the earlier ones stored.
            int mode = p0 > 0 ? ACCUMULATE : beta == 0f ? OVERWRITE : SCALE;
            for (int jp = 0; jp < nPanels; jp++) {
                int cols = Math.min(NR, nc - jp * NR);
                for (int ip = 0; ip < mPanels; ip++) {
                    int rows = Math.min(MR, mc - ip * MR);
                    int co = cOff + (i0 + ip * MR) * ldc + j0 + jp * NR;
                    if (rows == MR && cols == NR) {
                        kernel(kc, pa, ip * MR * kc, pb, jp * NR * kc, c, co, ldc, mode, beta);
                    } else {
                        float[] tmp = w.tmp;
                        kernel(kc, pa, ip * MR * kc, pb, jp * NR * kc, tmp, 0, NR, OVERWRITE, 0f);
                        storeEdge(tmp, rows, cols, c, co, ldc, mode, beta);
                    }
                }
            }
        }
    }

    static final int OVERWRITE = 0;
    static final int SCALE = 1;
    static final int ACCUMULATE = 2;

    /** Packs {@code alpha * opA[i0..i0+mc)[p0..p0+kc)} as MR-row panels, k-major inside a panel, zero-padded. */
    private static void packA(boolean transA, float[] a, int aOff, int lda, int i0, int mc, int p0, int kc,
                              float alpha, float[] pa) {
        for (int ip = 0, i = i0; ip * MR < mc; ip++, i += MR) {
            int rows = Math.min(MR, mc - ip * MR);
            int base = ip * MR * kc;
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
                for (int r = 0; r < rows; r++) {
                    int src = aOff + (i + r) * lda + p0;
                    for (int p = 0; p < kc; p++) {
                        pa[base + p * MR + r] = alpha * a[src + p];
                    }
                }
                for (int r = rows; r < MR; r++) {
                    for (int p = 0; p < kc; p++) {
                        pa[base + p * MR + r] = 0f;
                    }
                }
            }
        }
    }

    /** Packs {@code opB[p0..p0+kc)[j0..j0+nc)} as NR-column panels, k-major inside a panel, zero-padded. */
    private static void packB(boolean transB, float[] b, int bOff, int ldb, int[] bRows, int p0, int kc, int j0,
                              int nc, float[] pb) {
        for (int jp = 0, j = j0; jp * NR < nc; jp++, j += NR) {
            int cols = Math.min(NR, nc - jp * NR);
            int base = jp * NR * kc;
            if (!transB) {
                for (int p = 0; p < kc; p++) {
                    int src = (bRows == null ? bOff + (p0 + p) * ldb : bRows[p0 + p]) + j;
                    int dst = base + p * NR;
                    if (cols == NR) {
                        FloatVector.fromArray(S, b, src).intoArray(pb, dst);
                        FloatVector.fromArray(S, b, src + V).intoArray(pb, dst + V);
                    } else {
                        for (int q = 0; q < cols; q++) {
                            pb[dst + q] = b[src + q];
                        }
                        for (int q = cols; q < NR; q++) {
                            pb[dst + q] = 0f;
                        }
                    }
                }
            } else {
                for (int q = 0; q < cols; q++) {
                    int src = (bRows == null ? bOff + (j + q) * ldb : bRows[j + q]) + p0;
                    for (int p = 0; p < kc; p++) {
                        pb[base + p * NR + q] = b[src + p];
                    }
                }
                for (int q = cols; q < NR; q++) {
                    for (int p = 0; p < kc; p++) {
                        pb[base + p * NR + q] = 0f;
                    }
                }
            }
        }
    }

    /**
     * The MR x NR register block: 16 accumulators, two B vectors and one broadcast A value per step. The
     * accumulators start from 0 ({@code OVERWRITE}), from C ({@code ACCUMULATE}) or from beta * C
     * ({@code SCALE}), so the epilogue is a plain store. Everything stays in one method: a helper taking vectors
     * that C2 declined to inline would box them.
     */
    private static void kernel(int kc, float[] pa, int ao, float[] pb, int bo, float[] c, int co, int ldc,
                               int mode, float beta) {
        FloatVector c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71;
        if (mode == OVERWRITE) {
            FloatVector z = FloatVector.zero(S);
            c00 = z;
            c01 = z;
            c10 = z;
            c11 = z;
            c20 = z;
            c21 = z;
            c30 = z;
            c31 = z;
            c40 = z;
            c41 = z;
            c50 = z;
            c51 = z;
            c60 = z;
            c61 = z;
            c70 = z;
            c71 = z;
        } else {
            c00 = FloatVector.fromArray(S, c, co + 0 * ldc);
            c01 = FloatVector.fromArray(S, c, co + 0 * ldc + V);
            c10 = FloatVector.fromArray(S, c, co + 1 * ldc);
            c11 = FloatVector.fromArray(S, c, co + 1 * ldc + V);
            c20 = FloatVector.fromArray(S, c, co + 2 * ldc);
            c21 = FloatVector.fromArray(S, c, co + 2 * ldc + V);
            c30 = FloatVector.fromArray(S, c, co + 3 * ldc);
            c31 = FloatVector.fromArray(S, c, co + 3 * ldc + V);
            c40 = FloatVector.fromArray(S, c, co + 4 * ldc);
            c41 = FloatVector.fromArray(S, c, co + 4 * ldc + V);
            c50 = FloatVector.fromArray(S, c, co + 5 * ldc);
            c51 = FloatVector.fromArray(S, c, co + 5 * ldc + V);
            c60 = FloatVector.fromArray(S, c, co + 6 * ldc);
            c61 = FloatVector.fromArray(S, c, co + 6 * ldc + V);
            c70 = FloatVector.fromArray(S, c, co + 7 * ldc);
            c71 = FloatVector.fromArray(S, c, co + 7 * ldc + V);
            if (mode == SCALE) {
                FloatVector bv = FloatVector.broadcast(S, beta);
                c00 = c00.mul(bv);
                c01 = c01.mul(bv);
                c10 = c10.mul(bv);
                c11 = c11.mul(bv);
                c20 = c20.mul(bv);
                c21 = c21.mul(bv);
                c30 = c30.mul(bv);
                c31 = c31.mul(bv);
                c40 = c40.mul(bv);
                c41 = c41.mul(bv);
                c50 = c50.mul(bv);
                c51 = c51.mul(bv);
                c60 = c60.mul(bv);
                c61 = c61.mul(bv);
                c70 = c70.mul(bv);
                c71 = c71.mul(bv);
            }
        }
        for (int p = 0; p < kc; p++, ao += MR, bo += NR) {
            FloatVector b0 = FloatVector.fromArray(S, pb, bo);
            FloatVector b1 = FloatVector.fromArray(S, pb, bo + V);
            FloatVector x = FloatVector.broadcast(S, pa[ao + 0]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, pa[ao + 1]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, pa[ao + 2]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, pa[ao + 3]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, pa[ao + 4]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, pa[ao + 5]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
            x = FloatVector.broadcast(S, pa[ao + 6]);
            c60 = x.fma(b0, c60);
            c61 = x.fma(b1, c61);
            x = FloatVector.broadcast(S, pa[ao + 7]);
            c70 = x.fma(b0, c70);
            c71 = x.fma(b1, c71);
        }
        c00.intoArray(c, co + 0 * ldc);
        c01.intoArray(c, co + 0 * ldc + V);
        c10.intoArray(c, co + 1 * ldc);
        c11.intoArray(c, co + 1 * ldc + V);
        c20.intoArray(c, co + 2 * ldc);
        c21.intoArray(c, co + 2 * ldc + V);
        c30.intoArray(c, co + 3 * ldc);
        c31.intoArray(c, co + 3 * ldc + V);
        c40.intoArray(c, co + 4 * ldc);
        c41.intoArray(c, co + 4 * ldc + V);
        c50.intoArray(c, co + 5 * ldc);
        c51.intoArray(c, co + 5 * ldc + V);
        c60.intoArray(c, co + 6 * ldc);
        c61.intoArray(c, co + 6 * ldc + V);
        c70.intoArray(c, co + 7 * ldc);
        c71.intoArray(c, co + 7 * ldc + V);
    }

    private static void storeEdge(float[] tmp, int rows, int cols, float[] c, int co, int ldc, int mode, float beta) {
        for (int r = 0; r < rows; r++) {
            int ci = co + r * ldc;
            int ti = r * NR;
            for (int q = 0; q < cols; q++) {
                float acc = tmp[ti + q];
                c[ci + q] = switch (mode) {
                    case OVERWRITE -> acc;
                    case ACCUMULATE -> c[ci + q] + acc;
                    default -> c[ci + q] * beta + acc;
                };
            }
        }
    }

    private static void scaleC(int m, int n, float beta, float[] c, int cOff, int ldc) {
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

    /** Per-thread packing buffers, grown on demand and then reused. */
    private static final class Workspace {
        float[] a = new float[0];
        float[] b = new float[0];
        final float[] tmp = new float[MR * NR];

        float[] packA(int size) {
            if (a.length < size) {
                a = new float[size];
            }
            return a;
        }

        float[] packB(int size) {
            if (b.length < size) {
                b = new float[size];
            }
            return b;
        }
    }
}
