package io.github.batchnorm4j.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API implementation of {@link Gemm}: {@code C = alpha * op(A) * op(B) + beta * C}, arguments already
 * checked by {@link Gemm}.
 *
 * <p>Blocked like BLIS/GotoBLAS: C is cut into tiles of {@link #MC} rows x {@link #NT} columns, fixed by the
 * problem size. Each tile is one {@link WorkerPool} task that walks k in {@link #KC} steps, packs its slice of A
 * into {@link #MR}-row panels and its slice of B into {@code NR}-column panels ({@code NR} = three Vector API
 * registers), and runs a register-blocked {@code MR x NR} micro-kernel of {@code FloatVector.fma}. Every element
 * of C is therefore reduced in the same order whatever the number of threads: results are bit-identical for
 * 1 or many threads. Packing buffers are per thread and reused, so a call allocates nothing but the task lambda.
 *
 * <p>{@code beta == 0} overwrites C without reading it (NaN in C does not propagate), as BLAS does.
 */
final class VectorGemm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int V = S.length();
    /** Rows of the micro-kernel (the packed A panels' height, shared with the scalar implementation). */
    static final int MR = Gemm.MR;
    /** Columns of the micro-kernel: two vector registers. */
    static final int NR = 3 * V;
    /** Depth of one packed block (A panel + B panel of the micro-kernel fit in L1). */
    static final int KC = Gemm.KC;
    /** Rows of C per task (multiple of MR; the packed A slice stays in L2). */
    static final int MC = Gemm.MC;
    /** Columns of C per task (multiple of NR). */
    static final int NT = 8 * NR;

    private static final ThreadLocal<Workspace> WORK = ThreadLocal.withInitial(Workspace::new);
    private static final ThreadLocal<int[]> TRANS_STARTS = ThreadLocal.withInitial(() -> new int[NR]);

    private VectorGemm() {}

    static void run(boolean transA, boolean transB, int m, int n, int k, float alpha,
                    float[] a, int aOff, int lda, float[] b, int bOff, int ldb, int[] bRows,
                    float beta, float[] c, int cOff, int ldc, Gemm.PackedA packed) {
        if (m == 0 || n == 0) {
            return;
        }
        if (k == 0 || alpha == 0f) {
            Gemm.scaleC(m, n, beta, c, cOff, ldc);
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
                        beta, c, cOff, ldc, packed);
            }
            return;
        }
        WorkerPool.parallelFor(tasks, t -> tile(t / colTiles, t % colTiles, transA, transB, m, n, k, alpha,
                a, aOff, lda, b, bOff, ldb, bRows, beta, c, cOff, ldc, packed));
    }

    private static void tile(int rt, int ct, boolean transA, boolean transB, int m, int n, int k, float alpha,
                             float[] a, int aOff, int lda, float[] b, int bOff, int ldb, int[] bRows,
                             float beta, float[] c, int cOff, int ldc, Gemm.PackedA packed) {
        Workspace w = WORK.get();
        int i0 = rt * MC;
        int mc = Math.min(MC, m - i0);
        int j0 = ct * NT;
        int nc = Math.min(NT, n - j0);
        int mPanels = (mc + MR - 1) / MR;
        int nPanels = (nc + NR - 1) / NR;
        float[] pa = packed != null ? packed.data : w.packA(mPanels * MR * KC);
        float[] pb = w.packB(nPanels * NR * KC);
        // k is cut into equal blocks of at most KC (288 = 144 + 144, not 256 + 32): a short last block would pay
        // the C load/store of a full pass for little work.
        int kStep = Gemm.kStep(k);
        for (int p0 = 0; p0 < k; p0 += kStep) {
            int kc = Math.min(kStep, k - p0);
            int ab;
            if (packed != null) {
                ab = packed.offset(rt, mPanels, p0);
            } else {
                ab = 0;
                Gemm.packA(transA, a, aOff, lda, i0, mc, p0, kc, alpha, pa, 0);
            }
            packB(transB, b, bOff, ldb, bRows, p0, kc, j0, nc, pb);
            // First k block applies beta; later blocks add onto what the earlier ones stored.
            int mode = p0 > 0 ? ACCUMULATE : beta == 0f ? OVERWRITE : SCALE;
            for (int jp = 0; jp < nPanels; jp++) {
                int cols = Math.min(NR, nc - jp * NR);
                for (int ip = 0; ip < mPanels; ip++) {
                    int rows = Math.min(MR, mc - ip * MR);
                    int co = cOff + (i0 + ip * MR) * ldc + j0 + jp * NR;
                    if (rows == MR && cols == NR) {
                        kernel(kc, pa, ab + ip * MR * kc, pb, jp * NR * kc, c, co, ldc, mode, beta);
                    } else if (cols <= V) {
                        if (rows == MR && cols == V) {
                            kernelNarrow(kc, pa, ab + ip * MR * kc, pb, jp * NR * kc, c, co, ldc, mode, beta);
                        } else {
                            float[] tmp = w.tmp;
                            kernelNarrow(kc, pa, ab + ip * MR * kc, pb, jp * NR * kc, tmp, 0, NR, OVERWRITE, 0f);
                            storeEdge(tmp, rows, cols, c, co, ldc, mode, beta);
                        }
                    } else {
                        float[] tmp = w.tmp;
                        kernel(kc, pa, ab + ip * MR * kc, pb, jp * NR * kc, tmp, 0, NR, OVERWRITE, 0f);
                        storeEdge(tmp, rows, cols, c, co, ldc, mode, beta);
                    }
                }
            }
        }
    }

    static final int OVERWRITE = 0;
    static final int SCALE = 1;
    static final int ACCUMULATE = 2;

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
                        for (int v = 0; v < NR; v += V) {
                            FloatVector.fromArray(S, b, src + v).intoArray(pb, dst + v);
                        }
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
                // p outer: sequential writes; the NR source rows are revisited at the next p while still in L1
                int[] starts = TRANS_STARTS.get();
                for (int q = 0; q < cols; q++) {
                    starts[q] = (bRows == null ? bOff + (j + q) * ldb : bRows[j + q]) + p0;
                }
                for (int p = 0; p < kc; p++) {
                    int dst = base + p * NR;
                    for (int q = 0; q < cols; q++) {
                        pb[dst + q] = b[starts[q] + p];
                    }
                    for (int q = cols; q < NR; q++) {
                        pb[dst + q] = 0f;
                    }
                }
            }
        }
    }

    /**
     * The MR x NR register block: 24 accumulators, 3 B vectors and one broadcast A value per step. The
     * accumulators start from 0 ({@code OVERWRITE}), from C ({@code ACCUMULATE}) or from beta * C
     * ({@code SCALE}), so the epilogue is a plain store. Everything stays in one method: a helper taking vectors
     * that C2 declined to inline would box them. Generated code (one line per accumulator).
     */
    private static void kernel(int kc, float[] pa, int ao, float[] pb, int bo, float[] c, int co, int ldc,
                               int mode, float beta) {
        FloatVector c0_0, c0_1, c0_2, c1_0, c1_1, c1_2, c2_0, c2_1, c2_2, c3_0, c3_1, c3_2, c4_0, c4_1, c4_2, c5_0, c5_1, c5_2, c6_0, c6_1, c6_2, c7_0, c7_1, c7_2;
        if (mode == OVERWRITE) {
            FloatVector z = FloatVector.zero(S);
            c0_0 = z;
            c0_1 = z;
            c0_2 = z;
            c1_0 = z;
            c1_1 = z;
            c1_2 = z;
            c2_0 = z;
            c2_1 = z;
            c2_2 = z;
            c3_0 = z;
            c3_1 = z;
            c3_2 = z;
            c4_0 = z;
            c4_1 = z;
            c4_2 = z;
            c5_0 = z;
            c5_1 = z;
            c5_2 = z;
            c6_0 = z;
            c6_1 = z;
            c6_2 = z;
            c7_0 = z;
            c7_1 = z;
            c7_2 = z;
        } else {
            c0_0 = FloatVector.fromArray(S, c, co + 0 * ldc + 0 * V);
            c0_1 = FloatVector.fromArray(S, c, co + 0 * ldc + 1 * V);
            c0_2 = FloatVector.fromArray(S, c, co + 0 * ldc + 2 * V);
            c1_0 = FloatVector.fromArray(S, c, co + 1 * ldc + 0 * V);
            c1_1 = FloatVector.fromArray(S, c, co + 1 * ldc + 1 * V);
            c1_2 = FloatVector.fromArray(S, c, co + 1 * ldc + 2 * V);
            c2_0 = FloatVector.fromArray(S, c, co + 2 * ldc + 0 * V);
            c2_1 = FloatVector.fromArray(S, c, co + 2 * ldc + 1 * V);
            c2_2 = FloatVector.fromArray(S, c, co + 2 * ldc + 2 * V);
            c3_0 = FloatVector.fromArray(S, c, co + 3 * ldc + 0 * V);
            c3_1 = FloatVector.fromArray(S, c, co + 3 * ldc + 1 * V);
            c3_2 = FloatVector.fromArray(S, c, co + 3 * ldc + 2 * V);
            c4_0 = FloatVector.fromArray(S, c, co + 4 * ldc + 0 * V);
            c4_1 = FloatVector.fromArray(S, c, co + 4 * ldc + 1 * V);
            c4_2 = FloatVector.fromArray(S, c, co + 4 * ldc + 2 * V);
            c5_0 = FloatVector.fromArray(S, c, co + 5 * ldc + 0 * V);
            c5_1 = FloatVector.fromArray(S, c, co + 5 * ldc + 1 * V);
            c5_2 = FloatVector.fromArray(S, c, co + 5 * ldc + 2 * V);
            c6_0 = FloatVector.fromArray(S, c, co + 6 * ldc + 0 * V);
            c6_1 = FloatVector.fromArray(S, c, co + 6 * ldc + 1 * V);
            c6_2 = FloatVector.fromArray(S, c, co + 6 * ldc + 2 * V);
            c7_0 = FloatVector.fromArray(S, c, co + 7 * ldc + 0 * V);
            c7_1 = FloatVector.fromArray(S, c, co + 7 * ldc + 1 * V);
            c7_2 = FloatVector.fromArray(S, c, co + 7 * ldc + 2 * V);
            if (mode == SCALE) {
                FloatVector bv = FloatVector.broadcast(S, beta);
                c0_0 = c0_0.mul(bv);
                c0_1 = c0_1.mul(bv);
                c0_2 = c0_2.mul(bv);
                c1_0 = c1_0.mul(bv);
                c1_1 = c1_1.mul(bv);
                c1_2 = c1_2.mul(bv);
                c2_0 = c2_0.mul(bv);
                c2_1 = c2_1.mul(bv);
                c2_2 = c2_2.mul(bv);
                c3_0 = c3_0.mul(bv);
                c3_1 = c3_1.mul(bv);
                c3_2 = c3_2.mul(bv);
                c4_0 = c4_0.mul(bv);
                c4_1 = c4_1.mul(bv);
                c4_2 = c4_2.mul(bv);
                c5_0 = c5_0.mul(bv);
                c5_1 = c5_1.mul(bv);
                c5_2 = c5_2.mul(bv);
                c6_0 = c6_0.mul(bv);
                c6_1 = c6_1.mul(bv);
                c6_2 = c6_2.mul(bv);
                c7_0 = c7_0.mul(bv);
                c7_1 = c7_1.mul(bv);
                c7_2 = c7_2.mul(bv);
            }
        }
        for (int p = 0; p < kc; p++, ao += MR, bo += NR) {
            FloatVector b0 = FloatVector.fromArray(S, pb, bo + 0 * V);
            FloatVector b1 = FloatVector.fromArray(S, pb, bo + 1 * V);
            FloatVector b2 = FloatVector.fromArray(S, pb, bo + 2 * V);
            FloatVector x = FloatVector.broadcast(S, pa[ao + 0]);
            c0_0 = x.fma(b0, c0_0);
            c0_1 = x.fma(b1, c0_1);
            c0_2 = x.fma(b2, c0_2);
            x = FloatVector.broadcast(S, pa[ao + 1]);
            c1_0 = x.fma(b0, c1_0);
            c1_1 = x.fma(b1, c1_1);
            c1_2 = x.fma(b2, c1_2);
            x = FloatVector.broadcast(S, pa[ao + 2]);
            c2_0 = x.fma(b0, c2_0);
            c2_1 = x.fma(b1, c2_1);
            c2_2 = x.fma(b2, c2_2);
            x = FloatVector.broadcast(S, pa[ao + 3]);
            c3_0 = x.fma(b0, c3_0);
            c3_1 = x.fma(b1, c3_1);
            c3_2 = x.fma(b2, c3_2);
            x = FloatVector.broadcast(S, pa[ao + 4]);
            c4_0 = x.fma(b0, c4_0);
            c4_1 = x.fma(b1, c4_1);
            c4_2 = x.fma(b2, c4_2);
            x = FloatVector.broadcast(S, pa[ao + 5]);
            c5_0 = x.fma(b0, c5_0);
            c5_1 = x.fma(b1, c5_1);
            c5_2 = x.fma(b2, c5_2);
            x = FloatVector.broadcast(S, pa[ao + 6]);
            c6_0 = x.fma(b0, c6_0);
            c6_1 = x.fma(b1, c6_1);
            c6_2 = x.fma(b2, c6_2);
            x = FloatVector.broadcast(S, pa[ao + 7]);
            c7_0 = x.fma(b0, c7_0);
            c7_1 = x.fma(b1, c7_1);
            c7_2 = x.fma(b2, c7_2);
        }
        c0_0.intoArray(c, co + 0 * ldc + 0 * V);
        c0_1.intoArray(c, co + 0 * ldc + 1 * V);
        c0_2.intoArray(c, co + 0 * ldc + 2 * V);
        c1_0.intoArray(c, co + 1 * ldc + 0 * V);
        c1_1.intoArray(c, co + 1 * ldc + 1 * V);
        c1_2.intoArray(c, co + 1 * ldc + 2 * V);
        c2_0.intoArray(c, co + 2 * ldc + 0 * V);
        c2_1.intoArray(c, co + 2 * ldc + 1 * V);
        c2_2.intoArray(c, co + 2 * ldc + 2 * V);
        c3_0.intoArray(c, co + 3 * ldc + 0 * V);
        c3_1.intoArray(c, co + 3 * ldc + 1 * V);
        c3_2.intoArray(c, co + 3 * ldc + 2 * V);
        c4_0.intoArray(c, co + 4 * ldc + 0 * V);
        c4_1.intoArray(c, co + 4 * ldc + 1 * V);
        c4_2.intoArray(c, co + 4 * ldc + 2 * V);
        c5_0.intoArray(c, co + 5 * ldc + 0 * V);
        c5_1.intoArray(c, co + 5 * ldc + 1 * V);
        c5_2.intoArray(c, co + 5 * ldc + 2 * V);
        c6_0.intoArray(c, co + 6 * ldc + 0 * V);
        c6_1.intoArray(c, co + 6 * ldc + 1 * V);
        c6_2.intoArray(c, co + 6 * ldc + 2 * V);
        c7_0.intoArray(c, co + 7 * ldc + 0 * V);
        c7_1.intoArray(c, co + 7 * ldc + 1 * V);
        c7_2.intoArray(c, co + 7 * ldc + 2 * V);
    }

    /**
     * The MR x V block for a last column panel of at most V valid columns (n = 100 would otherwise spend a third
     * of its work on a 48-wide panel holding 4 columns). Reads the first V floats of each NR-wide packed row.
     */
    private static void kernelNarrow(int kc, float[] pa, int ao, float[] pb, int bo, float[] c, int co, int ldc,
                                     int mode, float beta) {
        FloatVector c0, c1, c2, c3, c4, c5, c6, c7;
        if (mode == OVERWRITE) {
            FloatVector z = FloatVector.zero(S);
            c0 = z;
            c1 = z;
            c2 = z;
            c3 = z;
            c4 = z;
            c5 = z;
            c6 = z;
            c7 = z;
        } else {
            c0 = FloatVector.fromArray(S, c, co + 0 * ldc);
            c1 = FloatVector.fromArray(S, c, co + 1 * ldc);
            c2 = FloatVector.fromArray(S, c, co + 2 * ldc);
            c3 = FloatVector.fromArray(S, c, co + 3 * ldc);
            c4 = FloatVector.fromArray(S, c, co + 4 * ldc);
            c5 = FloatVector.fromArray(S, c, co + 5 * ldc);
            c6 = FloatVector.fromArray(S, c, co + 6 * ldc);
            c7 = FloatVector.fromArray(S, c, co + 7 * ldc);
            if (mode == SCALE) {
                FloatVector bv = FloatVector.broadcast(S, beta);
                c0 = c0.mul(bv);
                c1 = c1.mul(bv);
                c2 = c2.mul(bv);
                c3 = c3.mul(bv);
                c4 = c4.mul(bv);
                c5 = c5.mul(bv);
                c6 = c6.mul(bv);
                c7 = c7.mul(bv);
            }
        }
        for (int p = 0; p < kc; p++, ao += MR, bo += NR) {
            FloatVector b0 = FloatVector.fromArray(S, pb, bo);
            c0 = FloatVector.broadcast(S, pa[ao + 0]).fma(b0, c0);
            c1 = FloatVector.broadcast(S, pa[ao + 1]).fma(b0, c1);
            c2 = FloatVector.broadcast(S, pa[ao + 2]).fma(b0, c2);
            c3 = FloatVector.broadcast(S, pa[ao + 3]).fma(b0, c3);
            c4 = FloatVector.broadcast(S, pa[ao + 4]).fma(b0, c4);
            c5 = FloatVector.broadcast(S, pa[ao + 5]).fma(b0, c5);
            c6 = FloatVector.broadcast(S, pa[ao + 6]).fma(b0, c6);
            c7 = FloatVector.broadcast(S, pa[ao + 7]).fma(b0, c7);
        }
        c0.intoArray(c, co + 0 * ldc);
        c1.intoArray(c, co + 1 * ldc);
        c2.intoArray(c, co + 2 * ldc);
        c3.intoArray(c, co + 3 * ldc);
        c4.intoArray(c, co + 4 * ldc);
        c5.intoArray(c, co + 5 * ldc);
        c6.intoArray(c, co + 6 * ldc);
        c7.intoArray(c, co + 7 * ldc);
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
