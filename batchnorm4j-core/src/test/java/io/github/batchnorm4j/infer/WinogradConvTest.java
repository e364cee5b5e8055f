package io.github.batchnorm4j.infer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.kernel.WorkerPool;
import io.github.batchnorm4j.nn.Conv2d;
import io.github.batchnorm4j.nn.MaxPool2d;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The Winograd step against a float64 direct convolution (+ ReLU, + 2x2 max pool) over odd sizes and channel
 * counts, one and several blocks per image, several images per block with a partial last group, the odd-size pool
 * and small-image fallbacks; and bit-identical results for one and two threads.
 */
class WinogradConvTest {
    private static final double TOL = 1e-5;

    /** {@code relu?(conv(x) + b)}, then a floor-mode 2x2 max pool when {@code pool}, in double. */
    private static double[] reference(Conv2d conv, Tensor x, boolean relu, boolean pool) {
        int n = x.dim(0), h = x.dim(2), w = x.dim(3), cout = conv.outChannels();
        double[] y = DirectConvTest.reference(conv, x, relu);
        if (!pool) {
            return y;
        }
        int ho = h / 2, wo = w / 2;
        double[] p = new double[n * cout * ho * wo];
        for (int sc = 0; sc < n * cout; sc++) {
            for (int oy = 0; oy < ho; oy++) {
                for (int ox = 0; ox < wo; ox++) {
                    double m = Double.NEGATIVE_INFINITY;
                    for (int a = 0; a < 2; a++) {
                        for (int b = 0; b < 2; b++) {
                            m = Math.max(m, y[(sc * h + 2 * oy + a) * w + 2 * ox + b]);
                        }
                    }
                    p[(sc * ho + oy) * wo + ox] = m;
                }
            }
        }
        return p;
    }

    private static Tensor input(long seed, int... shape) {
        SplittableRandom r = new SplittableRandom(seed);
        Tensor t = Tensor.zeros(shape);
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) {
            d[i] = (float) r.nextGaussian();
        }
        return t;
    }

    private static void check(int cin, int cout, int h, int w, int n, boolean bias, boolean relu, boolean pool,
                              int blockTiles) {
        Conv2d conv = new Conv2d(cin, cout, 3, 1, 1, bias, new SplittableRandom(cin * 31L + cout));
        WinogradConv step = new WinogradConv(conv, relu, pool ? new MaxPool2d(2) : null, blockTiles);
        Tensor x = input(h * 7L + w, n, cin, h, w);
        double[] expected = reference(conv, x, relu, pool);
        for (int call = 0; call < 2; call++) { // the second call reuses the buffers
            float[] got = step.run(x).toContiguousArray();
            double diff = 0, scale = 0;
            assertTrue(got.length == expected.length, "size " + got.length + " vs " + expected.length);
            for (int i = 0; i < got.length; i++) {
                diff = Math.max(diff, Math.abs(got[i] - expected[i]));
                scale = Math.max(scale, Math.abs(expected[i]));
            }
            String what = cin + "->" + cout + " " + h + "x" + w + " n=" + n + " relu=" + relu + " pool=" + pool
                    + " block=" + blockTiles;
            assertTrue(diff <= TOL * scale, what + ": relative error " + diff / scale);
        }
    }

    @Test
    void equalsTheDirectConvolution() {
        check(8, 5, 12, 12, 3, true, true, false, 0);
        check(9, 17, 13, 15, 2, false, false, false, 16);  // several blocks per image, odd sizes
        check(17, 33, 16, 14, 5, true, true, true, 0);     // pooled, five images in one block
        check(8, 4, 12, 12, 5, true, false, false, 100);   // two images per block, a partial last group
        check(8, 4, 20, 12, 3, false, true, true, 64);     // pooled over two blocks per image
        check(12, 7, 13, 13, 4, true, true, true, 0);      // odd size: the pool runs on its own
        check(10, 3, 9, 20, 2, true, true, true, 0);       // below MIN_SIZE: the direct convolution
        check(8, 3, 30, 29, 1, true, false, false, 0);
    }

    @Test
    void sameBitsForAnyThreadCount() {
        Conv2d conv = new Conv2d(16, 16, 3, 1, 1, true, new SplittableRandom(5));
        Tensor x = input(9, 7, 16, 14, 14);
        int before = WorkerPool.threads();
        try {
            WorkerPool.setThreads(1);
            float[] one = new WinogradConv(conv, true, new MaxPool2d(2), 48).run(x).toContiguousArray();
            WorkerPool.setThreads(2);
            float[] two = new WinogradConv(conv, true, new MaxPool2d(2), 48).run(x).toContiguousArray();
            assertArrayEquals(one, two);
        } finally {
            WorkerPool.setThreads(before);
        }
    }

    @Test
    void eligibilityAndBadInput() {
        SplittableRandom r = new SplittableRandom(1);
        assertFalse(WinogradConv.eligible(new Conv2d(4, 8, 3, 1, 1, false, r)));
        assertFalse(WinogradConv.eligible(new Conv2d(8, 8, 3, 2, 1, false, r)));
        assertFalse(WinogradConv.eligible(new Conv2d(8, 8, 5, 1, 2, false, r)));
        Conv2d conv = new Conv2d(8, 8, 3, 1, 1, false, r);
        assertTrue(WinogradConv.eligible(conv));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new WinogradConv(conv, true, null).run(Tensor.zeros(2, 3, 12, 12)));
        assertTrue(e.getMessage().contains("[2, 3, 12, 12]"), e.getMessage());
    }
}
