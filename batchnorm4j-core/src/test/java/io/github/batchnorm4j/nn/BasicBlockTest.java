package io.github.batchnorm4j.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The residual block with BatchNorm inside (train and eval), with and without projection shortcut. */
class BasicBlockTest {
    private static final int N = 2;
    private static final int H = 5;

    @Test
    void stateKeysFollowTorchvision() {
        BasicBlock b = new BasicBlock(2, 4, 2, BatchNorm::new, new SplittableRandom(1));
        assertEquals(List.of("conv1.weight", "bn1.weight", "bn1.bias", "conv2.weight", "bn2.weight", "bn2.bias",
                "downsample.0.weight", "downsample.1.weight", "downsample.1.bias"),
                List.copyOf(b.namedParameters().keySet()));
        assertEquals(List.of("bn1.num_batches_tracked", "bn2.num_batches_tracked",
                "downsample.1.num_batches_tracked"), List.copyOf(b.namedLongBuffers().keySet()));
        assertNull(new BasicBlock(3, 3, 1, BatchNorm::new, new SplittableRandom(1)).downsample());
        b.eval();
        assertFalse(b.downsample().get(1).isTraining());
    }

    @Test
    void gradientsWithBatchNormInTrainingMode() {
        for (int[] c : new int[][] {{3, 3, 1}, {2, 4, 2}, {3, 5, 1}}) {
            BasicBlock b = new BasicBlock(c[0], c[1], c[2], BatchNorm::new, new SplittableRandom(c[1]));
            GradCheck.check(b, GradCheck.randomInput(4, N, c[0], H, H),
                    (x, p) -> reference(x, p, c[0], c[1], c[2], true, null), 2e-4, 6);
        }
    }

    @Test
    void gradientsWithBatchNormInEvalMode() {
        for (int[] c : new int[][] {{3, 3, 1}, {2, 4, 2}}) {
            BasicBlock b = new BasicBlock(c[0], c[1], c[2], BatchNorm::new, new SplittableRandom(c[1]));
            b.forward(GradCheck.randomInput(8, N, c[0], H, H)); // running statistics away from (0, 1)
            b.eval();
            double[][] running = b.namedBuffers().values().stream()
                    .map(t -> GradCheck.toDouble(t.data())).toArray(double[][]::new);
            GradCheck.check(b, GradCheck.randomInput(4, N, c[0], H, H),
                    (x, p) -> reference(x, p, c[0], c[1], c[2], false, running), 2e-5, 6);
        }
    }

    @Test
    void gradientsWithoutNormalization() {
        BasicBlock b = new BasicBlock(2, 3, 2, ch -> new Identity(), new SplittableRandom(3));
        GradCheck.check(b, GradCheck.randomInput(4, N, 2, H, H), (x, p) -> {
            int ho = Ref.outSize(H, 3, 2, 1);
            double[] h = Ref.relu(Ref.conv2d(x, N, 2, H, H, p[0], null, 3, 3, 2, 1));
            double[] main = Ref.conv2d(h, N, 3, ho, ho, p[1], null, 3, 3, 1, 1);
            return Ref.relu(Ref.add(main, Ref.conv2d(x, N, 2, H, H, p[2], null, 3, 1, 2, 0)));
        }, 2e-5, 6);
    }

    @Test
    void rejectsWrongChannels() {
        BasicBlock b = new BasicBlock(2, 4, 2, BatchNorm::new, new SplittableRandom(1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> b.forward(Tensor.zeros(2, 3, 8, 8)));
        assertEquals("BasicBlock(in_channels=2, out_channels=4, stride=2): expected input of shape [N, 2, H, W], got "
                + "[2, 3, 8, 8]", e.getMessage());
    }

    /** conv-bn-relu-conv-bn + shortcut, relu; running = [bn1 mean, bn1 var, bn2 mean, bn2 var, (ds mean, ds var)]. */
    private static double[] reference(double[] x, double[][] p, int ci, int co, int s, boolean train,
                                      double[][] running) {
        int ho = Ref.outSize(H, 3, s, 1);
        int sp = ho * ho;
        double[] h = Ref.conv2d(x, N, ci, H, H, p[0], null, co, 3, s, 1);
        h = Ref.batchNorm(h, N, co, sp, p[1], p[2], train, stat(running, 0), stat(running, 1), 1e-5);
        h = Ref.relu(h);
        h = Ref.conv2d(h, N, co, ho, ho, p[3], null, co, 3, 1, 1);
        h = Ref.batchNorm(h, N, co, sp, p[4], p[5], train, stat(running, 2), stat(running, 3), 1e-5);
        double[] shortcut = x;
        if (p.length > 6) {
            shortcut = Ref.conv2d(x, N, ci, H, H, p[6], null, co, 1, s, 0);
            shortcut = Ref.batchNorm(shortcut, N, co, sp, p[7], p[8], train, stat(running, 4), stat(running, 5), 1e-5);
        }
        return Ref.relu(Ref.add(h, shortcut));
    }

    private static double[] stat(double[][] running, int i) {
        return running == null ? null : running[i];
    }
}
