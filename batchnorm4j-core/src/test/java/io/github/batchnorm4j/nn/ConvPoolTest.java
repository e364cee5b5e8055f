package io.github.batchnorm4j.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.kernel.WorkerPool;
import io.github.batchnorm4j.tensor.MemoryFormat;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Conv2d and the pooling layers against float64 references; thread-count invariance; error messages. */
class ConvPoolTest {
    @Test
    void convMatchesReferenceOverKernelsStridesAndPadding() {
        // {n, ci, co, h, w, k, stride, pad}
        int[][] cases = {
            {2, 3, 4, 5, 5, 3, 1, 1}, {1, 1, 3, 7, 6, 3, 1, 0}, {3, 2, 5, 6, 7, 3, 2, 1}, {2, 3, 2, 5, 5, 1, 1, 0},
            {2, 4, 3, 6, 6, 1, 2, 0}, {1, 2, 2, 4, 5, 2, 2, 0}, {2, 2, 3, 3, 3, 5, 1, 2}, {1, 1, 1, 1, 1, 1, 1, 0},
            {2, 13, 9, 5, 5, 3, 1, 1}, {1, 3, 33, 9, 8, 3, 3, 2},
            // Cin*k*k >= 32: the weight gradient goes through GEMM rather than row dot products
            {2, 5, 3, 7, 7, 3, 2, 1}, {1, 40, 2, 3, 3, 1, 1, 0},
        };
        for (int[] c : cases) {
            for (boolean bias : new boolean[] {true, false}) {
                int n = c[0], ci = c[1], co = c[2], h = c[3], w = c[4], k = c[5], s = c[6], p = c[7];
                Conv2d conv = new Conv2d(ci, co, k, s, p, bias, new SplittableRandom(c[1] * 7 + c[2]));
                GradCheck.check(conv, GradCheck.randomInput(3, n, ci, h, w),
                        (x, q) -> Ref.conv2d(x, n, ci, h, w, q[0], bias ? q[1] : null, co, k, s, p), 1e-5, 5);
            }
        }
    }

    @Test
    void convAcceptsChannelsLastInput() {
        Conv2d conv = new Conv2d(3, 4, 3, 1, 1, true, new SplittableRandom(1));
        GradCheck.check(conv, GradCheck.randomInput(3, 2, 3, 5, 4).to(MemoryFormat.CHANNELS_LAST),
                (x, q) -> Ref.conv2d(x, 2, 3, 5, 4, q[0], q[1], 4, 3, 1, 1), 1e-5, 5);
    }

    @Test
    void convBitIdenticalForOneAndTwoThreads() {
        int saved = WorkerPool.threads();
        try {
            for (int stride = 1; stride <= 2; stride++) {
                checkThreadInvariance(stride);
            }
        } finally {
            WorkerPool.setThreads(saved);
        }
    }

    private static void checkThreadInvariance(int stride) {
        float[][] results = new float[4][];
        for (int t = 1; t <= 2; t++) {
            WorkerPool.setThreads(t);
            Conv2d conv = new Conv2d(8, 16, 3, stride, 1, true, new SplittableRandom(9));
            Tensor x = GradCheck.randomInput(4, 37, 8, 12, 12);
            Tensor y = conv.forward(x).copy();
            Tensor dx = conv.backward(GradCheck.randomInput(5, y.shape())).copy();
            results[0] = t == 1 ? y.data() : results[0];
            results[1] = t == 1 ? dx.data() : results[1];
            results[2] = t == 1 ? conv.weight().grad().data().clone() : results[2];
            results[3] = t == 1 ? conv.bias().grad().data().clone() : results[3];
            if (t == 2) {
                assertArrayEquals(results[0], y.data());
                assertArrayEquals(results[1], dx.data());
                assertArrayEquals(results[2], conv.weight().grad().data());
                assertArrayEquals(results[3], conv.bias().grad().data());
            }
        }
    }

    @Test
    void convInitAndStateNames() {
        Conv2d conv = new Conv2d(3, 8, 5, 1, 2, true, new SplittableRandom(1));
        assertArrayEquals(new int[] {8, 3, 5, 5}, conv.weight().value().shape());
        double bound = 1 / Math.sqrt(75);
        for (float v : conv.weight().data()) {
            if (Math.abs(v) > bound) {
                throw new AssertionError("weight " + v + " outside +-" + bound);
            }
        }
        assertEquals(java.util.List.of("weight", "bias"), java.util.List.copyOf(conv.namedParameters().keySet()));
        Conv2d first = new Conv2d(1, 2, 3, 1, 1, false, new SplittableRandom(1)).setInputGradient(false);
        first.forward(Tensor.zeros(2, 1, 4, 4));
        assertNull(first.backward(Tensor.zeros(2, 2, 4, 4)));
    }

    @Test
    void convRejectsBadInputNamingLayerAndShapes() {
        Conv2d conv = new Conv2d(3, 8, 3, 1, 1, true, new SplittableRandom(1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> conv.forward(Tensor.zeros(2, 4, 5, 5)));
        assertEquals("Conv2d(in_channels=3, out_channels=8, kernel_size=3, stride=1, padding=1): expected input of "
                + "shape [N, 3, H, W], got [2, 4, 5, 5]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> conv.forward(Tensor.zeros(2, 3, 25)));
        assertEquals("Conv2d(in_channels=3, out_channels=8, kernel_size=3, stride=1, padding=1): expected input of "
                + "shape [N, 3, H, W], got [2, 3, 25]", e.getMessage());
        Conv2d big = new Conv2d(1, 1, 5, 1, 0, true, new SplittableRandom(1));
        e = assertThrows(IllegalArgumentException.class, () -> big.forward(Tensor.zeros(1, 1, 4, 9)));
        assertEquals("Conv2d(in_channels=1, out_channels=1, kernel_size=5, stride=1, padding=0): expected input of "
                + "shape [N, 1, H, W] with H + 2*padding >= 5 and W + 2*padding >= 5, got [1, 1, 4, 9]", e.getMessage());
        conv.forward(Tensor.zeros(2, 3, 5, 5));
        e = assertThrows(IllegalArgumentException.class, () -> conv.backward(Tensor.zeros(2, 8, 5, 4)));
        assertEquals("Conv2d(in_channels=3, out_channels=8, kernel_size=3, stride=1, padding=1): expected gradient "
                + "of shape [2, 8, 5, 5], got [2, 8, 5, 4]", e.getMessage());
    }

    @Test
    void poolsMatchReference() {
        // {n, c, h, w, k, stride}
        // 2x2/2 with even and odd sizes (odd: the last row/column belongs to no window and gets 0)
        int[][] cases = {{2, 3, 4, 4, 2, 2}, {1, 2, 5, 7, 2, 2}, {2, 1, 5, 5, 3, 1}, {1, 3, 7, 6, 3, 2},
            {1, 1, 1, 1, 1, 1}, {2, 7, 9, 9, 2, 3}, {1, 2, 4, 40, 2, 2}, {1, 1, 3, 66, 2, 2}, {1, 1, 2, 67, 2, 2}};
        for (int[] c : cases) {
            int n = c[0], ch = c[1], h = c[2], w = c[3], k = c[4], s = c[5];
            GradCheck.check(new MaxPool2d(k, s), GradCheck.randomInput(1, n, ch, h, w),
                    (x, q) -> Ref.pool(x, n, ch, h, w, k, s, true), 1e-6, 2);
            GradCheck.check(new AvgPool2d(k, s), GradCheck.randomInput(1, n, ch, h, w),
                    (x, q) -> Ref.pool(x, n, ch, h, w, k, s, false), 1e-6, 2);
        }
        GradCheck.check(new GlobalAvgPool2d(), GradCheck.randomInput(1, 3, 5, 4, 7),
                (x, q) -> Ref.rowMean(x, 15, 28), 1e-6, 2);
        assertEquals(new MaxPool2d(2).stride(), 2);
    }

    @Test
    void maxPoolRoutesTiesToFirstElementIn2x2FastPath() {
        // windows full of equal values (and some NaN): the branch-free 2x2 path must pick the first one
        int w = 40;
        float[] x = new float[2 * w];
        SplittableRandom rng = new SplittableRandom(3);
        for (int i = 0; i < w; i += 2) {
            int kind = rng.nextInt(4);
            float v = kind == 3 ? Float.NaN : rng.nextInt(2);
            for (int[] at : new int[][] {{0, i}, {0, i + 1}, {1, i}, {1, i + 1}}) {
                x[at[0] * w + at[1]] = kind == 0 ? v : (rng.nextBoolean() ? v : (kind == 3 ? 0 : v - 1));
            }
        }
        MaxPool2d pool = new MaxPool2d(2);
        Tensor y = pool.forward(Tensor.of(x.clone(), 1, 1, 2, w));
        float[] g = new float[w / 2];
        java.util.Arrays.fill(g, 1f);
        float[] dx = pool.backward(Tensor.of(g, 1, 1, 1, w / 2)).data();
        for (int o = 0; o < w / 2; o++) {
            float m = y.data()[o];
            int first = -1;
            for (int at : new int[] {2 * o, 2 * o + 1, w + 2 * o, w + 2 * o + 1}) {
                if (first < 0 && (x[at] == m || (m != m && x[at] != x[at]))) {
                    first = at;
                }
            }
            for (int at : new int[] {2 * o, 2 * o + 1, w + 2 * o, w + 2 * o + 1}) {
                assertEquals(at == first ? 1f : 0f, dx[at], "window " + o + " element " + at);
            }
        }
    }

    @Test
    void maxPoolTiesPickFirstAndNaNPropagates() {
        MaxPool2d pool = new MaxPool2d(2);
        Tensor y = pool.forward(Tensor.of(new float[] {1, 1, 1, 1, Float.NaN, 0, 2, 3}, 1, 2, 2, 2));
        assertEquals(1f, y.data()[0]);
        assertEquals(Float.NaN, y.data()[1]);
        Tensor dx = pool.backward(Tensor.of(new float[] {5, 7}, 1, 2, 1, 1));
        assertArrayEquals(new float[] {5, 0, 0, 0, 7, 0, 0, 0}, dx.data());
    }

    @Test
    void poolsRejectBadInput() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new MaxPool2d(2, 2).forward(Tensor.zeros(1, 3, 1, 5)));
        assertEquals("MaxPool2d(kernel_size=2, stride=2): expected input of shape [N, C, H, W] with H >= 2 and "
                + "W >= 2, got [1, 3, 1, 5]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new AvgPool2d(3).forward(Tensor.zeros(4, 4)));
        assertEquals("AvgPool2d(kernel_size=3, stride=3): expected input of shape [N, C, H, W] with H >= 3 and "
                + "W >= 3, got [4, 4]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new GlobalAvgPool2d().forward(Tensor.zeros(4, 4)));
        assertEquals("GlobalAvgPool2d(): expected input of shape [N, C, H, W] with H, W > 0, got [4, 4]",
                e.getMessage());
    }

    @Test
    void fusedReluForwardIsReluOfTheForwardBitForBit() {
        for (int[] c : new int[][] {{3, 5, 7, 9, 1, 1}, {2, 4, 11, 6, 2, 0}, {1, 8, 28, 28, 1, 1}}) {
            Conv2d conv = new Conv2d(c[0], c[1], 3, c[4], c[5], true, new SplittableRandom(c[2]));
            Tensor x = GradCheck.randomInput(c[3], 3, c[0], c[2], c[3]);
            float[] plain = conv.forward(x).toContiguousArray();
            float[] fused = conv.forward(x, true).toContiguousArray();
            assertEquals(plain.length, fused.length);
            for (int i = 0; i < plain.length; i++) {
                assertEquals(Math.max(plain[i], 0f), fused[i], 0f, "element " + i);
            }
            boolean negative = false;
            for (float v : plain) {
                negative |= v < 0;
            }
            assertTrue(negative, "the input must exercise the ReLU");
        }
    }
}
