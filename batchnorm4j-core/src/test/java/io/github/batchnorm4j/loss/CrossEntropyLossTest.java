package io.github.batchnorm4j.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.batchnorm4j.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class CrossEntropyLossTest {
    /** The textbook formula in double: -log(exp(x_t) / sum exp(x_k)), fine for moderate logits. */
    private static double reference(double[] x, int n, int k, int[] t) {
        double total = 0;
        for (int i = 0; i < n; i++) {
            double sum = 0;
            for (int j = 0; j < k; j++) {
                sum += Math.exp(x[i * k + j]);
            }
            total += -Math.log(Math.exp(x[i * k + t[i]]) / sum);
        }
        return total / n;
    }

    @Test
    void lossAndGradientMatchCentralDifferences() {
        SplittableRandom rng = new SplittableRandom(1);
        for (int[] s : new int[][] {{1, 1}, {1, 2}, {3, 7}, {9, 10}, {33, 13}}) {
            int n = s[0], k = s[1];
            float[] logits = new float[n * k];
            int[] t = new int[n];
            for (int i = 0; i < logits.length; i++) {
                logits[i] = (float) rng.nextDouble(-5, 5);
            }
            for (int i = 0; i < n; i++) {
                t[i] = rng.nextInt(k);
            }
            CrossEntropyLoss loss = new CrossEntropyLoss();
            double[] xd = new double[logits.length];
            for (int i = 0; i < xd.length; i++) {
                xd[i] = logits[i];
            }
            assertEquals(reference(xd, n, k, t), loss.forward(Tensor.of(logits, n, k), t), 1e-12);
            float[] g = loss.backward().data();
            for (int i = 0; i < xd.length; i++) {
                double keep = xd[i];
                double h = 1e-6;
                xd[i] = keep + h;
                double plus = reference(xd, n, k, t);
                xd[i] = keep - h;
                double minus = reference(xd, n, k, t);
                xd[i] = keep;
                assertEquals((plus - minus) / (2 * h), g[i], 2e-7, "n=" + n + " k=" + k + " at " + i);
            }
        }
    }

    @Test
    void stableForHugeLogits() {
        CrossEntropyLoss loss = new CrossEntropyLoss();
        // log(1 + e^-1000) = 0 in double; the naive formula gives NaN (inf/inf)
        assertEquals(0.0, loss.forward(Tensor.of(new float[] {1000f, 0f}, 1, 2), new int[] {0}), 0);
        assertEquals(1000.0, loss.forward(Tensor.of(new float[] {1000f, 0f}, 1, 2), new int[] {1}), 0);
        assertEquals(Math.log(2) + 3e4, loss.forward(Tensor.of(new float[] {-3e4f, 0f, 0f, 0f}, 2, 2),
                new int[] {0, 1}) * 2, 1e-9);
        assertEquals(-0.5f, loss.backward().data()[0] + 0f, 0);
    }

    @Test
    void countsCorrectArgmax() {
        CrossEntropyLoss loss = new CrossEntropyLoss();
        loss.forward(Tensor.of(new float[] {1, 2, 3, 3, 2, 1, 0, 5, 5}, 3, 3), new int[] {2, 0, 2});
        assertEquals(2, loss.correct(), "ties go to the first maximum, as torch.argmax");
    }

    @Test
    void rejectsBadTargetsAndShapes() {
        CrossEntropyLoss loss = new CrossEntropyLoss();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> loss.forward(Tensor.zeros(2, 3), new int[] {0, 3}));
        assertEquals("CrossEntropyLoss: expected targets in [0, 3), got 3 at index 1", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> loss.forward(Tensor.zeros(2, 3), new int[] {0}));
        assertEquals("CrossEntropyLoss: expected 2 targets for logits of shape [2, 3], got 1", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> loss.forward(Tensor.zeros(6), new int[] {0}));
        assertEquals("CrossEntropyLoss: expected logits of shape [N, K], got [6]", e.getMessage());
    }
}
