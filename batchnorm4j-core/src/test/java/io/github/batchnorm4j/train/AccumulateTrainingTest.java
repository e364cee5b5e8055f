package io.github.batchnorm4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.data.DataLocator;
import io.github.batchnorm4j.kernel.WorkerPool;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --accumulate K} in the real trainer: 4 micro-batches of 16 per optimizer step against one batch of 64.
 * Without batch statistics (GroupNorm) the two runs are the same training (the accumulated gradient is the big
 * batch's mean gradient); with BatchNorm the running statistics of the first layer after one step are the big
 * batch's (one update, the merged statistics) while the weights differ, because each micro-batch is normalised
 * with its own statistics.
 */
class AccumulateTrainingTest {
    @TempDir
    Path dir;

    private final int threadsBefore = WorkerPool.threads();

    @AfterEach
    void restoreThreads() {
        WorkerPool.setThreads(threadsBefore);
    }

    private static RunConfig config(String norm, int batch, int accumulate, long steps, String data) {
        return new RunConfig("mlp", norm, "relu", 12, "sgd", 0.1, 0.9, false, 1e-3, true, "cosine", 2, 10, 0.5, batch,
                0, steps, 7, 40, true, data, accumulate);
    }

    private Module train(String norm, int batch, int accumulate, long steps, Path data, String name)
            throws IOException {
        TrainingRun run = TrainingRun.create(config(norm, batch, accumulate, steps, data.toString()),
                DataLocator.read(data), dir.resolve(name), null, false, 1, 0);
        run.trainer().fit();
        return run.model();
    }

    /** Parameters and float buffers by name. */
    private static Map<String, Tensor> state(Module m) {
        Map<String, Tensor> out = new java.util.LinkedHashMap<>();
        m.namedParameters().forEach((k, p) -> out.put(k, p.value()));
        out.putAll(m.namedBuffers());
        return out;
    }

    private static double maxDiff(Map<String, Tensor> a, Map<String, Tensor> b) {
        double d = 0;
        for (String k : a.keySet()) {
            float[] x = a.get(k).data();
            float[] y = b.get(k).data();
            for (int i = 0; i < x.length; i++) {
                d = Math.max(d, Math.abs(x[i] - y[i]));
            }
        }
        return d;
    }

    @Test
    void withoutBatchStatisticsAccumulationIsTheBigBatch() throws IOException {
        WorkerPool.setThreads(1);
        Path data = TrainerTest.synthetic(dir.resolve("data"), 300, 20);
        Module big = train("gn", 64, 1, 3, data, "big");
        Module acc = train("gn", 16, 4, 3, data, "acc");
        double d = maxDiff(state(big), state(acc));
        assertTrue(d <= 1e-5, "max weight difference after 3 steps " + d);
    }

    @Test
    void batchNormRunningStatisticsAreTheBigBatchsButTheForwardIsNot() throws IOException {
        WorkerPool.setThreads(1);
        Path data = TrainerTest.synthetic(dir.resolve("data"), 300, 20);
        Module big = train("bn", 64, 1, 1, data, "big");
        Module acc = train("bn", 16, 4, 1, data, "acc");
        Map<String, Tensor> a = state(big);
        Map<String, Tensor> b = state(acc);
        String first = a.keySet().stream().filter(k -> k.endsWith("running_mean")).findFirst().orElseThrow();
        String prefix = first.substring(0, first.length() - "running_mean".length());
        // The first BatchNorm sees the same inputs in both runs (same initial weights, per-sample layers before it).
        for (String k : new String[] {"running_mean", "running_var"}) {
            float[] x = a.get(prefix + k).data();
            float[] y = b.get(prefix + k).data();
            for (int i = 0; i < x.length; i++) {
                assertEquals(x[i], y[i], 1e-6 * Math.max(1, Math.abs(x[i])), prefix + k + "[" + i + "]");
            }
        }
        acc.namedLongBuffers().forEach((k, v) -> assertEquals(1, v.get(), k + ": one update per optimizer step"));
        double d = maxDiff(a, b);
        assertTrue(d > 1e-4, "each micro-batch is normalised with its own statistics, so the weights must differ"
                + " from the big batch's; max difference " + d);
    }
}
