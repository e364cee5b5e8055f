package io.github.batchnorm4j.infer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.kernel.WorkerPool;
import io.github.batchnorm4j.nn.Conv2d;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The direct few-weight convolution against a float64 reference over kernel sizes, paddings and odd image sizes,
 * with and without bias and ReLU; bit-identical for one and two threads; the shape errors of Conv2d.
 */
class DirectConvTest {
    private static final double TOL = 1e-5;

    /** {@code relu?(conv(x) + b)} of a stride-1 convolution, in double (also WinogradConvTest's reference). */
    static double[] reference(Conv2d conv, Tensor x, boolean relu) {
        int n = x.dim(0), cin = x.dim(1), h = x.dim(2), w = x.dim(3);
        int k = conv.kernelSize(), p = conv.padding(), cout = conv.outChannels();
        int ho = h + 2 * p - k + 1, wo = w + 2 * p - k + 1;
        float[] xs = x.toContiguousArray(), ws = conv.weight().value().toContiguousArray();
        float[] bs = conv.bias() == null ? new float[cout] : conv.bias().value().toContiguousArray();
        double[] y = new double[n * cout * ho * wo];
        for (int s = 0; s < n; s++) {
            for (int co = 0; co < cout; co++) {
                for (int oy = 0; oy < ho; oy++) {
                    for (int ox = 0; ox < wo; ox++) {
                        double acc = bs[co];
                        for (int ci = 0; ci < cin; ci++) {
                            for (int ky = 0; ky < k; ky++) {
                                for (int kx = 0; kx < k; kx++) {
                                    int iy = oy + ky - p, ix = ox + kx - p;
                                    if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                                        acc += (double) ws[((co * cin + ci) * k + ky) * k + kx]
                                                * xs[((s * cin + ci) * h + iy) * w + ix];
                                    }
                                }
                            }
                        }
                        y[((s * cout + co) * ho + oy) * wo + ox] = relu ? Math.max(acc, 0) : acc;
                    }
                }
            }
        }
        return y;
    }

    @Test
    void equalsTheDirectSum() {
        int[][] cases = { // cin, cout, k, padding, h, w, n
            {1, 32, 3, 1, 28, 28, 3}, {3, 5, 3, 1, 9, 13, 2}, {1, 4, 5, 2, 7, 6, 2}, {2, 3, 3, 0, 5, 8, 1},
            {1, 2, 1, 0, 4, 3, 2}, {3, 7, 3, 2, 3, 3, 2}, {1, 6, 5, 0, 5, 5, 1},
        };
        SplittableRandom r = new SplittableRandom(4);
        for (int[] c : cases) {
            for (boolean bias : new boolean[] {true, false}) {
                for (boolean relu : new boolean[] {true, false}) {
                    Conv2d conv = new Conv2d(c[0], c[1], c[2], 1, c[3], bias, r);
                    DirectConv step = new DirectConv(conv, relu);
                    Tensor x = TestModels.input(r.nextLong(), c[6], c[0], c[4], c[5]);
                    double[] expected = reference(conv, x, relu);
                    for (int call = 0; call < 2; call++) {
                        float[] got = step.run(x).toContiguousArray();
                        assertTrue(got.length == expected.length);
                        double diff = 0, scale = 0;
                        for (int i = 0; i < got.length; i++) {
                            diff = Math.max(diff, Math.abs(got[i] - expected[i]));
                            scale = Math.max(scale, Math.abs(expected[i]));
                        }
                        assertTrue(diff <= TOL * scale, java.util.Arrays.toString(c) + " bias=" + bias + " relu="
                                + relu + ": relative error " + diff / scale);
                    }
                }
            }
        }
    }

    @Test
    void sameBitsForAnyThreadCountAndCheckedShapes() {
        Conv2d conv = new Conv2d(1, 8, 3, 1, 1, true, new SplittableRandom(2));
        Tensor x = TestModels.input(3, 5, 1, 12, 11);
        int before = WorkerPool.threads();
        try {
            WorkerPool.setThreads(1);
            float[] one = new DirectConv(conv, true).run(x).toContiguousArray();
            WorkerPool.setThreads(2);
            float[] two = new DirectConv(conv, true).run(x).toContiguousArray();
            assertArrayEquals(one, two);
        } finally {
            WorkerPool.setThreads(before);
        }
        assertTrue(DirectConv.eligible(conv));
        assertFalse(DirectConv.eligible(new Conv2d(4, 8, 3, 1, 1, false, new SplittableRandom(1))));
        assertFalse(DirectConv.eligible(new Conv2d(1, 8, 3, 2, 1, false, new SplittableRandom(1))));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new DirectConv(conv, false).run(Tensor.zeros(2, 3, 12, 12)));
        assertTrue(e.getMessage().contains("[2, 3, 12, 12]"), e.getMessage());
    }
}
