package io.github.batchnorm4j.kernel;

/**
 * The scalar implementation of {@link Gemm}, arguments already checked. Each element of C is reduced exactly as
 * the vector micro-kernel reduces a full register block: it starts from 0 ({@code beta == 0}, C not read) or from
 * {@code beta * C}, then takes one fused multiply-add {@code acc = fma(alpha * opA[i][p], opB[p][j], acc)} per
 * {@code p} in increasing order. Where {@link VectorGemm} uses that path (full tiles, and every element when
 * {@code beta == 0} and {@code k <= KC}) the two agree bit for bit; its edge tiles add a separately rounded
 * partial sum instead, which differs by rounding only.
 *
 * <p>Row {@code i} of {@code alpha * op(A)} is gathered once into a per-thread buffer (from {@code a}, or from a
 * {@link Gemm.PackedA}); rows of C are independent tasks of {@link #ROWS} rows, so the result does not depend on
 * the number of threads.
 */
final class ScalarGemm {
    /** Rows of C per task. */
    static final int ROWS = 16;
    private static final ThreadLocal<float[][]> ROW = ThreadLocal.withInitial(() -> new float[][] {new float[0]});

    private ScalarGemm() {}

    static void run(boolean transA, boolean transB, int m, int n, int k, float alpha,
                    float[] a, int aOff, int lda, float[] b, int bOff, int ldb, int[] bRows,
                    float beta, float[] c, int cOff, int ldc, Gemm.PackedA packed) {
        int tasks = (m + ROWS - 1) / ROWS;
        if (2L * m * n * k < 2_000_000L || tasks == 1) {
            for (int t = 0; t < tasks; t++) {
                rows(t, transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, bRows, beta, c, cOff, ldc, packed);
            }
            return;
        }
        WorkerPool.parallelFor(tasks, t -> rows(t, transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, bRows,
                beta, c, cOff, ldc, packed));
    }

    private static void rows(int t, boolean transA, boolean transB, int m, int n, int k, float alpha,
                             float[] a, int aOff, int lda, float[] b, int bOff, int ldb, int[] bRows,
                             float beta, float[] c, int cOff, int ldc, Gemm.PackedA packed) {
        float[][] holder = ROW.get();
        if (holder[0].length < k) {
            holder[0] = new float[k];
        }
        float[] row = holder[0];
        for (int i = t * ROWS, end = Math.min(m, i + ROWS); i < end; i++) {
            if (packed != null) {
                gatherPacked(packed, i, row);
            } else if (transA) {
                for (int p = 0; p < k; p++) {
                    row[p] = alpha * a[aOff + p * lda + i];
                }
            } else {
                for (int p = 0, src = aOff + i * lda; p < k; p++) {
                    row[p] = alpha * a[src + p];
                }
            }
            int ci = cOff + i * ldc;
            for (int j = 0; j < n; j++) {
                c[ci + j] = beta == 0f ? 0f : c[ci + j] * beta;
            }
            if (transB) {
                for (int j = 0; j < n; j++) {
                    int br = bRows == null ? bOff + j * ldb : bRows[j];
                    float acc = c[ci + j];
                    for (int p = 0; p < k; p++) {
                        acc = Math.fma(row[p], b[br + p], acc);
                    }
                    c[ci + j] = acc;
                }
            } else {
                for (int p = 0; p < k; p++) {
                    int br = bRows == null ? bOff + p * ldb : bRows[p];
                    float x = row[p];
                    for (int j = 0; j < n; j++) {
                        c[ci + j] = Math.fma(x, b[br + j], c[ci + j]);
                    }
                }
            }
        }
    }

    /** Row {@code i} of a packed A (already scaled by alpha): tile {@code i / MC}, panel, k blocks of MR rows. */
    private static void gatherPacked(Gemm.PackedA packed, int i, float[] row) {
        int k = packed.k;
        int rt = i / Gemm.MC;
        int local = i - rt * Gemm.MC;
        int mc = Math.min(Gemm.MC, packed.m - rt * Gemm.MC);
        int mPanels = (mc + Gemm.MR - 1) / Gemm.MR;
        int ip = local / Gemm.MR;
        int r = local % Gemm.MR;
        int kStep = Gemm.kStep(k);
        for (int p0 = 0; p0 < k; p0 += kStep) {
            int kc = Math.min(kStep, k - p0);
            int base = packed.offset(rt, mPanels, p0) + ip * Gemm.MR * kc + r;
            for (int p = 0; p < kc; p++) {
                row[p0 + p] = packed.data[base + p * Gemm.MR];
            }
        }
    }
}
