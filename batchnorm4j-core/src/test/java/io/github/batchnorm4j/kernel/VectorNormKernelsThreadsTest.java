package io.github.batchnorm4j.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Work is split by problem size and every reduction runs in a fixed order, so the vector kernels give
 * bit-identical results for 1 and 2 threads (and again for 1, after the JIT has compiled everything), on
 * geometries big enough to form many tasks: NCHW, NHWC, GroupNorm and LayerNorm.
 */
class VectorNormKernelsThreadsTest {
    private final int before = WorkerPool.threads();

    @AfterEach
    void restoreThreads() {
        WorkerPool.setThreads(before);
    }

    @Test
    void resultsAreBitIdenticalForOneAndTwoThreads() {
        NormGeometry[] geometries = {
            NormGeometry.perChannel(2, 12, 3001),      // NCHW: several statistics per task, many tasks
            NormGeometry.perChannel(3000, 37, 1),      // NHWC / BatchNorm1d: many row chunks, vector tail
            new NormGeometry(1, 8, 6 * 1500, 4, 6, 1500), // GroupNorm
            new NormGeometry(1, 300, 301, 1, 301, 1),  // LayerNorm: per-element gamma, column gradients
        };
        for (NormGeometry g : geometries) {
            assertTrue(g.numel() > 2L * VectorNormKernels.TASK_ELEMS, "geometry must form several tasks: " + g);
            List<Object> one = run(g, 1);
            List<Object> two = run(g, 2);
            List<Object> oneAgain = run(g, 1);
            for (int i = 0; i < one.size(); i++) {
                assertSame(g + " output " + i, one.get(i), two.get(i));
                assertSame(g + " output " + i + " (rerun)", one.get(i), oneAgain.get(i));
            }
        }
    }

    private static void assertSame(String what, Object a, Object b) {
        if (a instanceof float[] fa) {
            assertArrayEquals(fa, (float[]) b, what);
        } else {
            assertArrayEquals((double[]) a, (double[]) b, what);
        }
    }

    /** Fused forward with residual+ReLU, then fused backward with the ReLU gate; every output collected. */
    private static List<Object> run(NormGeometry g, int threads) {
        WorkerPool.setThreads(threads);
        NormKernels v = VectorNormKernels.INSTANCE;
        int n = (int) g.numel(), k = g.k(), a = g.affineSize();
        SplittableRandom r = new SplittableRandom(42);
        float[] x = new float[n], dy = new float[n], res = new float[n], gamma = new float[a], beta = new float[a];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (100 + 3 * r.nextGaussian());
            dy[i] = (float) r.nextGaussian();
            res[i] = (float) r.nextGaussian();
        }
        for (int j = 0; j < a; j++) {
            gamma[j] = (float) (0.5 + r.nextDouble());
            beta[j] = (float) r.nextGaussian();
        }
        double[] mean = new double[k], m2 = new double[k], is = new double[k];
        float[] y = new float[n];
        v.trainForward(x, 0, g, 1e-5, mean, m2, is, gamma, beta, res, 0, true, y, 0);
        double[] s1 = new double[k], s2 = new double[k], dg = new double[a], db = new double[a];
        float[] dx = new float[n], dr = new float[n];
        v.backward(dy, 0, x, 0, g, mean, is, gamma, true, y, 0, dr, 0, s1, s2, dg, db, dx, 0);
        double[] sm = new double[k], sm2 = new double[k];
        v.stats(x, 0, g, sm, sm2);
        List<Object> out = new ArrayList<>(List.of(mean, m2, is, y, s1, s2, dg, db, dx, dr, sm, sm2));
        return out;
    }
}
