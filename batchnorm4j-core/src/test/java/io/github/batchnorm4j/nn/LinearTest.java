package io.github.batchnorm4j.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LinearTest {
    @Test
    void gradientsMatchDoubleReference() {
        for (boolean bias : new boolean[] {true, false}) {
            // one row takes the dot-product path, more rows the GEMM
            for (int[] s : new int[][] {{1, 1, 1}, {3, 7, 5}, {9, 13, 33}, {5, 70, 9}, {1, 37, 11}, {4, 131, 6},
                    {2, 3136, 10}}) {
                int n = s[0], in = s[1], out = s[2];
                Linear l = new Linear(in, out, bias, new SplittableRandom(n * 31 + in));
                GradCheck.check(l, GradCheck.randomInput(7, n, in),
                        (x, p) -> Ref.linear(x, n, in, out, p[0], bias ? p[1] : null), 1e-5, 11);
            }
        }
    }

    @Test
    void gradientsAccumulateAcrossBackwardCalls() {
        Linear l = new Linear(4, 3, true, new SplittableRandom(1));
        Tensor x = GradCheck.randomInput(2, 5, 4);
        Tensor g = GradCheck.randomInput(3, 5, 3);
        l.forward(x);
        l.backward(g);
        float[] once = l.weight().grad().data().clone();
        float[] onceB = l.bias().grad().data().clone();
        l.forward(x);
        l.backward(g);
        for (int i = 0; i < once.length; i++) {
            assertEquals(2 * once[i], l.weight().grad().data()[i], 1e-6);
        }
        for (int i = 0; i < onceB.length; i++) {
            assertEquals(2 * onceB[i], l.bias().grad().data()[i], 1e-6);
        }
    }

    @Test
    void initIsUniformWithinPyTorchBoundAndSeeded() {
        Linear a = new Linear(784, 100, true, new SplittableRandom(5));
        Linear b = new Linear(784, 100, true, new SplittableRandom(5));
        assertArrayEquals(a.weight().data(), b.weight().data());
        double bound = 1 / Math.sqrt(784);
        double maxAbs = 0;
        for (float v : a.weight().data()) {
            maxAbs = Math.max(maxAbs, Math.abs(v));
        }
        for (float v : a.bias().data()) {
            maxAbs = Math.max(maxAbs, Math.abs(v));
        }
        assertTrue(maxAbs <= bound && maxAbs > 0.95 * bound, "max |w| = " + maxAbs);
        assertEquals(java.util.List.of("weight", "bias"), java.util.List.copyOf(a.namedParameters().keySet()));
        assertArrayEquals(new int[] {100, 784}, a.weight().value().shape());
    }

    @Test
    void rejectsWrongFeatureCountNamingBothShapesAndLayer() {
        Linear l = new Linear(784, 100, true, new SplittableRandom(1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> l.forward(Tensor.zeros(60, 785)));
        assertEquals("Linear(in_features=784, out_features=100): expected input of shape [N, 784], got [60, 785]",
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> l.forward(Tensor.zeros(60, 28, 28)));
        assertEquals("Linear(in_features=784, out_features=100): expected input of shape [N, 784], got [60, 28, 28]",
                e.getMessage());
        l.forward(Tensor.zeros(2, 784));
        e = assertThrows(IllegalArgumentException.class, () -> l.backward(Tensor.zeros(2, 99)));
        assertEquals("Linear(in_features=784, out_features=100): expected gradient of shape [2, 100], got [2, 99]",
                e.getMessage());
    }

    @Test
    void inputGradientCanBeSkipped() {
        Linear l = new Linear(3, 2, true, new SplittableRandom(1)).setInputGradient(false);
        l.forward(Tensor.zeros(4, 3));
        assertNull(l.backward(Tensor.full(1f, 4, 2)));
        assertArrayEquals(new float[] {4, 4}, l.bias().grad().data());
    }
}
