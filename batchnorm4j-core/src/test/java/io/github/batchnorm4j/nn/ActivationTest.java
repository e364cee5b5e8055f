package io.github.batchnorm4j.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.tensor.MemoryFormat;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** ReLU, Sigmoid, Tanh, Identity, Flatten and Dropout against float64 references. */
class ActivationTest {
    // odd sizes so the vector loops run their scalar tails
    private static final int[][] SHAPES = {{1, 1}, {3, 7}, {2, 3, 5, 5}, {2, 13, 97}};

    @Test
    void activationsMatchReference() {
        for (int[] shape : SHAPES) {
            GradCheck.check(new ReLU(), GradCheck.randomInput(1, shape), (x, p) -> Ref.relu(x), 1e-6, 2);
            GradCheck.check(new Sigmoid(), scaled(GradCheck.randomInput(3, shape), 8), (x, p) -> Ref.sigmoid(x),
                    1e-6, 4);
            GradCheck.check(new Tanh(), scaled(GradCheck.randomInput(5, shape), 4), (x, p) -> Ref.tanh(x), 1e-6, 6);
            GradCheck.check(new Identity(), GradCheck.randomInput(7, shape), (x, p) -> x.clone(), 1e-7, 8);
        }
    }

    @Test
    void sigmoidSaturatesWithoutNaN() {
        Tensor y = new Sigmoid().forward(Tensor.of(new float[] {-1000, -100, 0, 100, 1000, -88, 88, 1, 2, 3, 4, 5,
                6, 7, 8, 9, 10}, 17));
        assertEquals(0f, y.data()[0]);
        assertEquals(0.5f, y.data()[2]);
        assertEquals(1f, y.data()[4]);
        for (float v : y.data()) {
            assertTrue(v >= 0 && v <= 1, "sigmoid out of range: " + v);
        }
    }

    @Test
    void activationKeepsChannelsLastFormat() {
        Tensor x = GradCheck.randomInput(9, 2, 3, 4, 5).to(MemoryFormat.CHANNELS_LAST);
        Tensor y = new ReLU().forward(x);
        assertEquals(MemoryFormat.CHANNELS_LAST, y.format());
        assertArrayEquals(Ref.relu(GradCheck.toDouble(x.toContiguousArray())),
                GradCheck.toDouble(y.toContiguousArray()), 0);
    }

    @Test
    void flattenViewsAndRestoresShape() {
        for (int[] shape : new int[][] {{2, 3, 4, 5}, {1, 7}, {3, 2, 9}}) {
            Flatten f = new Flatten();
            Tensor x = GradCheck.randomInput(1, shape);
            Tensor y = GradCheck.check(f, x, (v, p) -> v.clone(), 1e-7, 3);
            assertEquals(2, y.rank());
            assertEquals(shape[0], y.dim(0));
            assertArrayEquals(shape, f.backward(Tensor.zeros(y.shape())).shape());
        }
        Tensor cl = GradCheck.randomInput(4, 2, 3, 4, 5).to(MemoryFormat.CHANNELS_LAST);
        assertArrayEquals(cl.toContiguousArray(), new Flatten().forward(cl).data());
        Flatten f = new Flatten();
        f.forward(Tensor.zeros(2, 3, 4));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.backward(Tensor.zeros(2, 11)));
        assertEquals("Flatten(): expected gradient of shape [2, 12], got [2, 11]", e.getMessage());
    }

    @Test
    void dropoutWithFixedMaskMatchesReference() {
        for (double p : new double[] {0.0, 0.3, 0.5, 1.0}) {
            Dropout d = new Dropout(p, new SplittableRandom(42)).freezeMask(true);
            Tensor x = GradCheck.randomInput(2, 3, 7, 5);
            d.forward(x); // draws the mask; the check below reuses it
            float[] mask = d.mask().data().clone();
            GradCheck.check(d, x, (v, q) -> {
                double[] y = new double[v.length];
                for (int i = 0; i < v.length; i++) {
                    y[i] = v[i] * mask[i];
                }
                return y;
            }, 1e-6, 3);
            double scale = p == 1 ? 0 : 1 / (1 - p);
            int kept = 0;
            for (float m : mask) {
                assertTrue(m == 0f || m == (float) scale, "mask value " + m);
                kept += m != 0f ? 1 : 0;
            }
            if (p == 0) {
                assertEquals(mask.length, kept);
            }
            if (p == 0.5) {
                assertTrue(kept > 30 && kept < 75, "kept " + kept + " of 105");
            }
        }
    }

    @Test
    void dropoutIsIdentityInEvalAndSeeded() {
        Dropout d = new Dropout(0.5, new SplittableRandom(1));
        d.eval();
        Tensor x = GradCheck.randomInput(1, 4, 4);
        assertSame(x, d.forward(x));
        Tensor g = GradCheck.randomInput(2, 4, 4);
        assertSame(g, d.backward(g));
        Dropout a = new Dropout(0.5, new SplittableRandom(9));
        Dropout b = new Dropout(0.5, new SplittableRandom(9));
        assertArrayEquals(a.forward(x).data(), b.forward(x).data());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Dropout(1.5, new SplittableRandom(1)));
        assertEquals("Expected dropout probability in [0, 1], got p=1.5", e.getMessage());
    }

    private static Tensor scaled(Tensor t, float s) {
        for (int i = 0; i < t.numel(); i++) {
            t.data()[i] *= s;
        }
        return t;
    }
}
