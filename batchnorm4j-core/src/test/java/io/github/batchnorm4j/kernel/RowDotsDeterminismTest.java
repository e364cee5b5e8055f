package io.github.batchnorm4j.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/**
 * The vector RowDots must give the same bits in interpreted and in compiled code, or a training run with a
 * convolution differs from one JVM to the next with the same seed (it did, while the lanes were summed by
 * {@code reduceLanes}, whose order the JIT chooses). The test pins the exact arithmetic: per lane a chain of
 * fused multiply-adds over q = lane, lane + V, ..., the lanes added in order, then the scalar tail; and it
 * repeats the call until the JIT has compiled it, comparing every result bit for bit.
 */
class RowDotsDeterminismTest {
    private static final int V = FloatVector.SPECIES_PREFERRED.length();

    /** The documented arithmetic of RowDots for one dot product, in scalar code. */
    private static float dot(float[] a, int ar, float[] b, int br, int len) {
        int bound = len - len % V;
        float t = 0;
        for (int lane = 0; lane < V; lane++) {
            float s = 0;
            for (int q = lane; q < bound; q += V) {
                s = Math.fma(a[ar + q], b[br + q], s);
            }
            t += s;
        }
        for (int q = bound; q < len; q++) {
            t += a[ar + q] * b[br + q];
        }
        return t;
    }

    @Test
    void equalsItsDocumentedScalarArithmeticBitForBitBeforeAndAfterCompilation() {
        SplittableRandom rng = new SplittableRandom(3);
        int[][] sizes = {{1, 1, 1}, {2, 3, 7}, {3, 4, 8}, {2, 5, 9}, {1, 9, 33}, {4, 6, 100}, {16, 9, 784}};
        float[][] as = new float[sizes.length][], bs = new float[sizes.length][], cs = new float[sizes.length][];
        int[][] rows = new int[sizes.length][];
        float[][] expected = new float[sizes.length][];
        for (int k = 0; k < sizes.length; k++) {
            int m = sizes[k][0], n = sizes[k][1], len = sizes[k][2];
            as[k] = random(rng, 1 + m * len);
            bs[k] = random(rng, n * len + 3);
            rows[k] = new int[n];
            for (int j = 0; j < n; j++) {
                rows[k][j] = j * len + rng.nextInt(4);
            }
            cs[k] = random(rng, m * n);
            expected[k] = cs[k].clone();
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    expected[k][i * n + j] += dot(as[k], 1 + i * len, bs[k], rows[k][j], len);
                }
            }
        }
        // Enough calls for C1 and C2 to compile accumulate (the JIT's thresholds are ~10^4 invocations/loops).
        for (int rep = 0; rep < 20_000; rep++) {
            int k = rep % sizes.length;
            int m = sizes[k][0], n = sizes[k][1], len = sizes[k][2];
            float[] c = cs[k].clone();
            VectorRowDots.accumulate(m, n, len, as[k], 1, len, bs[k], rows[k], c, 0, n);
            for (int i = 0; i < c.length; i++) {
                if (Float.floatToRawIntBits(c[i]) != Float.floatToRawIntBits(expected[k][i])) {
                    assertEquals(expected[k][i], c[i], 0f, "call " + rep + ", m=" + m + " n=" + n + " len=" + len
                            + ", element " + i);
                }
            }
        }
    }

    private static float[] random(SplittableRandom rng, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (rng.nextDouble() * 2 - 1);
        }
        return v;
    }
}
