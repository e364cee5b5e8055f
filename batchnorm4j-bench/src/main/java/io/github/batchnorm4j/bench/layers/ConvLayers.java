package io.github.batchnorm4j.bench.layers;

import io.github.batchnorm4j.kernel.WorkerPool;
import io.github.batchnorm4j.nn.Conv2d;
import io.github.batchnorm4j.tensor.Tensor;

/**
 * Conv2d(3x3, stride 1, padding 1, bias) forward and backward of the benchmark CNN's four layers, batch 128; best
 * wall time over 8 timed repetitions after 4 warm-up ones. The first layer computes no input gradient (as
 * PyTorch for an input without requires_grad).
 * Run: java --add-modules jdk.incubator.vector -cp batchnorm4j-cli/target/bn4j.jar io.github.batchnorm4j.bench.layers.ConvLayers THREADS
 */
public final class ConvLayers {
    public static void main(String[] a) {
        WorkerPool.setThreads(Integer.parseInt(a[0]));
        int[][] layers = {{1, 32, 28}, {32, 32, 28}, {32, 64, 14}, {64, 64, 14}};
        for (int[] l : layers) {
            Conv2d c = new Conv2d(l[0], l[1], 3, 1, 1, true, new java.util.SplittableRandom(1));
            c.setInputGradient(l[0] != 1);
            c.reuseBuffers(true); // as the trainer runs it
            Tensor x = Tensor.full(0.3f, 128, l[0], l[2], l[2]);
            Tensor g = Tensor.full(0.1f, 128, l[1], l[2], l[2]);
            double bf = 1e9, bb = 1e9;
            for (int r = 0; r < 12; r++) {
                long t0 = System.nanoTime();
                c.forward(x);
                long t1 = System.nanoTime();
                c.backward(g);
                long t2 = System.nanoTime();
                if (r >= 4) {
                    bf = Math.min(bf, (t1 - t0) / 1e6);
                    bb = Math.min(bb, (t2 - t1) / 1e6);
                }
            }
            System.out.printf("bn4j  conv %2d->%2d %dx%d: fwd %6.2f ms  bwd %6.2f ms%n", l[0], l[1], l[2], l[2], bf, bb);
        }
    }
}
