package io.github.batchnorm4j.bench.layers;

import io.github.batchnorm4j.kernel.WorkerPool;
import io.github.batchnorm4j.loss.CrossEntropyLoss;
import io.github.batchnorm4j.nn.*;
import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.tensor.Tensor;

/**
 * One training step (forward, loss, backward, zero_grad; no optimizer) of the benchmark CNN, batch 128:
 * 4 x (conv3x3 pad 1 + BN + ReLU), max-pool 2x2 after the 2nd and 4th, Linear(3136 -> 10). Channels 1-32-32-64-64.
 * Prints the wall time per layer (mean of the timed steps) and the best wall time of a whole step.
 * Run: java --add-modules jdk.incubator.vector -cp batchnorm4j-cli/target/bn4j.jar io.github.batchnorm4j.bench.layers.CnnStep THREADS
 */
public final class CnnStep {
    public static void main(String[] a) {
        WorkerPool.setThreads(Integer.parseInt(a[0]));
        var r = new java.util.SplittableRandom(1);
        Sequential s = new Sequential(new Conv2d(1, 32, 3, 1, 1, true, r).setInputGradient(false), new BatchNorm(32),
                new ReLU(), new Conv2d(32, 32, 3, 1, 1, true, r), new BatchNorm(32), new ReLU(), new MaxPool2d(2),
                new Conv2d(32, 64, 3, 1, 1, true, r), new BatchNorm(64), new ReLU(), new Conv2d(64, 64, 3, 1, 1, true, r),
                new BatchNorm(64), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(3136, 10, true, r));
        s.reuseBuffers(true); // as the trainer runs it
        Tensor x = Tensor.zeros(128, 1, 28, 28);
        for (int i = 0; i < x.numel(); i++) {
            x.data()[i] = (float) r.nextDouble();
        }
        int[] t = new int[128];
        for (int i = 0; i < 128; i++) {
            t[i] = i % 10;
        }
        CrossEntropyLoss loss = new CrossEntropyLoss();
        int warm = 5, timed = 10;
        double[] f = new double[s.size()], b = new double[s.size()];
        double best = 1e9;
        for (int it = 0; it < warm + timed; it++) {
            long w0 = System.nanoTime();
            Tensor h = x;
            for (int i = 0; i < s.size(); i++) {
                long t0 = System.nanoTime();
                h = s.get(i).forward(h);
                f[i] += it >= warm ? (System.nanoTime() - t0) / 1e6 / timed : 0;
            }
            loss.forward(h, t);
            Tensor g = loss.backward();
            for (int i = s.size() - 1; i >= 0 && g != null; i--) {
                long t0 = System.nanoTime();
                g = s.get(i).backward(g);
                b[i] += it >= warm ? (System.nanoTime() - t0) / 1e6 / timed : 0;
            }
            s.zeroGrad();
            if (it >= warm) {
                best = Math.min(best, (System.nanoTime() - w0) / 1e6);
            }
        }
        for (int i = 0; i < s.size(); i++) {
            String name = s.get(i) instanceof BatchNorm bn ? "BatchNorm(" + bn.numFeatures() + ")" : s.get(i).toString();
            System.out.printf("  %-76s fwd %6.2f ms  bwd %6.2f ms%n", name, f[i], b[i]);
        }
        System.out.printf("bn4j CNN step (batch 128, threads %s): best %.1f ms%n", a[0], best);
    }
}
