package io.github.batchnorm4j.bench.layers;

import io.github.batchnorm4j.bench.InferBench;
import io.github.batchnorm4j.infer.Fold;
import io.github.batchnorm4j.kernel.WorkerPool;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.Sequential;
import io.github.batchnorm4j.tensor.Tensor;

/**
 * Where the folded built-in model's inference time goes: the mean forward time of each top-level layer over
 * max(50, 3000 / batch) timed passes after as many warm-up ones (buffers reused), for a model and batch size.
 * Run: java --add-modules jdk.incubator.vector -cp batchnorm4j-cli/target/bn4j.jar io.github.batchnorm4j.bench.layers.InferLayers MODEL BATCH THREADS
 */
public final class InferLayers {
    private InferLayers() {}

    public static void main(String[] a) {
        String model = a[0];
        int batch = Integer.parseInt(a[1]);
        WorkerPool.setThreads(Integer.parseInt(a[2]));
        Module m = Fold.fold(InferBench.builtIn(model)).reuseBuffers(true);
        Sequential s = (Sequential) m;
        int[] in = InferBench.builtInInput(model);
        Tensor x = Tensor.zeros(batch, in[0], in[1], in[2]);
        for (int i = 0; i < x.numel(); i++) {
            x.data()[i] = (float) Math.sin(i);
        }
        double[] t = new double[s.size()];
        int warm = Math.max(50, 3000 / batch), timed = warm;
        for (int it = 0; it < warm + timed; it++) {
            Tensor h = x;
            for (int i = 0; i < s.size(); i++) {
                long t0 = System.nanoTime();
                h = s.get(i).forward(h);
                if (it >= warm) {
                    t[i] += (System.nanoTime() - t0) / 1e6 / timed;
                }
            }
        }
        double total = 0;
        for (int i = 0; i < s.size(); i++) {
            total += t[i];
            System.out.printf("  %-70s %8.3f ms%n", s.get(i), t[i]);
        }
        System.out.printf("%s folded, batch %d, threads %s: %.3f ms per batch%n", model, batch, a[2], total);
    }
}
