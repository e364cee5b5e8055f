package io.github.batchnorm4j.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API implementation of {@link RowDots} ({@code C[i][j] += sum_q A[i][q] * B_j[q]}). Each dot
 * product is a vector sum over q in a fixed order, so results do not depend on threads.
 *
 * <p>The lanes of each vector sum are added in lane order by scalar code, not by {@code reduceLanes}: the order in
 * which {@code reduceLanes(ADD)} adds float lanes is unspecified and differs between interpreted and compiled
 * code, which made training runs with a convolution differ from one JVM to the next (same seed).
 */
final class VectorRowDots {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int V = S.length();

    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[V]);

    private VectorRowDots() {}

    /** The lanes of {@code v} summed in lane order (deterministic, unlike {@code reduceLanes}). */
    static float sumLanes(FloatVector v, float[] lanes) {
        v.intoArray(lanes, 0);
        float t = 0;
        for (int i = 0; i < V; i++) {
            t += lanes[i];
        }
        return t;
    }

    static void accumulate(int m, int n, int len, float[] a, int aOff, int lda, float[] b, int[] bRows,
                           float[] c, int cOff, int ldc) {
        int bound = len - len % V;
        float[] lanes = LANES.get();
        for (int i = 0; i < m; i++) {
            int ar = aOff + i * lda;
            int ci = cOff + i * ldc;
            int j = 0;
            for (; j + 4 <= n; j += 4) {
                int b0 = bRows[j], b1 = bRows[j + 1], b2 = bRows[j + 2], b3 = bRows[j + 3];
                FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
                for (int q = 0; q < bound; q += V) {
                    FloatVector x = FloatVector.fromArray(S, a, ar + q);
                    s0 = x.fma(FloatVector.fromArray(S, b, b0 + q), s0);
                    s1 = x.fma(FloatVector.fromArray(S, b, b1 + q), s1);
                    s2 = x.fma(FloatVector.fromArray(S, b, b2 + q), s2);
                    s3 = x.fma(FloatVector.fromArray(S, b, b3 + q), s3);
                }
                float t0 = sumLanes(s0, lanes), t1 = sumLanes(s1, lanes);
                float t2 = sumLanes(s2, lanes), t3 = sumLanes(s3, lanes);
                for (int q = bound; q < len; q++) {
                    float x = a[ar + q];
                    t0 += x * b[b0 + q];
                    t1 += x * b[b1 + q];
                    t2 += x * b[b2 + q];
                    t3 += x * b[b3 + q];
                }
                c[ci + j] += t0;
                c[ci + j + 1] += t1;
                c[ci + j + 2] += t2;
                c[ci + j + 3] += t3;
            }
            for (; j < n; j++) {
                int b0 = bRows[j];
                FloatVector s0 = FloatVector.zero(S);
                for (int q = 0; q < bound; q += V) {
                    s0 = FloatVector.fromArray(S, a, ar + q).fma(FloatVector.fromArray(S, b, b0 + q), s0);
                }
                float t0 = sumLanes(s0, lanes);
                for (int q = bound; q < len; q++) {
                    t0 += a[ar + q] * b[b0 + q];
                }
                c[ci + j] += t0;
            }
        }
    }
}
