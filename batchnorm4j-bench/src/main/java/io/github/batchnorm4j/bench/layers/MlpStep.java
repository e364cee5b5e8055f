package io.github.batchnorm4j.bench.layers;

import io.github.batchnorm4j.kernel.WorkerPool;
import io.github.batchnorm4j.loss.CrossEntropyLoss;
import io.github.batchnorm4j.nn.Linear;
import io.github.batchnorm4j.nn.Sequential;
import io.github.batchnorm4j.nn.Sigmoid;
import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.SplittableRandom;

/**
 * One training step (forward, loss, backward, no optimizer) of the MLP 784-100-100-100-10 with BN + sigmoid,
 * batch 60, buffers reused as the trainer runs it; best mean over 20 timed chunks of 100 steps after 10 warm-up
 * chunks. The twin is bench/layers/mlp_step.py.
 * Run: java --add-modules jdk.incubator.vector -cp batchnorm4j-cli/target/bn4j.jar io.github.batchnorm4j.bench.layers.MlpStep THREADS
 */
public final class MlpStep {
    private MlpStep() {}

    public static void main(String[] a) {
        WorkerPool.setThreads(Integer.parseInt(a[0]));
        SplittableRandom r = new SplittableRandom(1);
        Linear l0 = new Linear(784, 100, true, r).setInputGradient(false);
        Sequential s = new Sequential(l0, new BatchNorm(100), new Sigmoid(), new Linear(100, 100, true, r),
                new BatchNorm(100), new Sigmoid(), new Linear(100, 100, true, r), new BatchNorm(100), new Sigmoid(),
                new Linear(100, 10, true, r));
        s.reuseBuffers(true);
        Tensor x = Tensor.zeros(60, 784);
        for (int i = 0; i < x.numel(); i++) {
            x.data()[i] = (float) r.nextDouble();
        }
        int[] t = new int[60];
        for (int i = 0; i < 60; i++) {
            t[i] = i % 10;
        }
        CrossEntropyLoss loss = new CrossEntropyLoss();
        double best = 1e9;
        for (int rep = 0; rep < 30; rep++) {
            long w0 = System.nanoTime();
            for (int it = 0; it < 100; it++) {
                loss.forward(s.forward(x), t);
                s.backward(loss.backward());
                s.zeroGrad();
            }
            if (rep >= 10) {
                best = Math.min(best, (System.nanoTime() - w0) / 1e6 / 100);
            }
        }
        System.out.printf("bn4j MLP step (batch 60, threads %s): %.3f ms%n", a[0], best);
    }
}
