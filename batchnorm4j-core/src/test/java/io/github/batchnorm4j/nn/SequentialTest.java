package io.github.batchnorm4j.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** A small MLP with BatchNorm and sigmoid (the benchmark model's shape), in training and eval mode. */
class SequentialTest {
    private static Sequential mlp(SplittableRandom rng) {
        return new Sequential(new Linear(7, 9, true, rng), new BatchNorm(9), new Sigmoid(),
                new Linear(9, 5, true, rng), new BatchNorm(5), new Tanh(), new Linear(5, 3, true, rng));
    }

    @Test
    void stateKeysAreNumberedLikePyTorch() {
        Sequential s = mlp(new SplittableRandom(1));
        assertEquals(List.of("0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias", "4.weight", "4.bias",
                "6.weight", "6.bias"), List.copyOf(s.namedParameters().keySet()));
        assertEquals(List.of("1.running_mean", "1.running_var", "4.running_mean", "4.running_var"),
                List.copyOf(s.namedBuffers().keySet()));
        assertEquals(List.of("1.num_batches_tracked", "4.num_batches_tracked"),
                List.copyOf(s.namedLongBuffers().keySet()));
        assertEquals(7, s.size());
        assertTrue(s.get(2) instanceof Sigmoid);
    }

    @Test
    void trainAndEvalPropagate() {
        Sequential s = new Sequential(new Linear(2, 2, true, new SplittableRandom(1)), new Sequential(new BatchNorm(2)));
        s.eval();
        assertFalse(((Sequential) s.get(1)).get(0).isTraining());
        s.train();
        assertTrue(((Sequential) s.get(1)).get(0).isTraining());
        s.eval();
        s.add(new Dropout(0.5, new SplittableRandom(1)));
        assertFalse(s.get(2).isTraining(), "a child added to an eval container starts in eval mode");
    }

    @Test
    void mlpGradientsInTrainingMode() {
        Sequential s = mlp(new SplittableRandom(2));
        int n = 6;
        GradCheck.check(s, GradCheck.randomInput(3, n, 7), (x, p) -> reference(x, p, n, true, null), 1e-4, 4);
    }

    @Test
    void mlpGradientsInEvalMode() {
        Sequential s = mlp(new SplittableRandom(2));
        s.forward(GradCheck.randomInput(5, 6, 7)); // moves the running statistics away from 0 and 1
        s.eval();
        double[][] running = new double[4][];
        int i = 0;
        for (Tensor t : s.namedBuffers().values()) {
            running[i++] = GradCheck.toDouble(t.data());
        }
        GradCheck.check(s, GradCheck.randomInput(3, 4, 7), (x, p) -> reference(x, p, 4, false, running), 1e-5, 4);
    }

    private static double[] reference(double[] x, double[][] p, int n, boolean train, double[][] running) {
        double[] h = Ref.linear(x, n, 7, 9, p[0], p[1]);
        h = Ref.batchNorm(h, n, 9, 1, p[2], p[3], train, train ? null : running[0], train ? null : running[1], 1e-5);
        h = Ref.sigmoid(h);
        h = Ref.linear(h, n, 9, 5, p[4], p[5]);
        h = Ref.batchNorm(h, n, 5, 1, p[6], p[7], train, train ? null : running[2], train ? null : running[3], 1e-5);
        h = Ref.tanh(h);
        return Ref.linear(h, n, 5, 3, p[8], p[9]);
    }
}
