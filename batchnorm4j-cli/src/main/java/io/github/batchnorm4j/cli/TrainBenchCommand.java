package io.github.batchnorm4j.cli;

import io.github.batchnorm4j.bench.TrainBench;
import io.github.batchnorm4j.kernel.WorkerPool;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bn4j bench train}: training images/s of the benchmark MLP, CNN or ResNet and BN's share of the step time. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Training throughput (images/s) of the benchmark models on synthetic data:",
            "mlp: 784-100-100-100-10, BN before each sigmoid, batch 60, SGD;",
            "cnn: 4x(conv3x3+BN+ReLU), two 2x2 max-pools, Linear(3136->10), batch 128, SGD momentum;",
            "resnet: the built-in ResNet at width 16 (3 BasicBlocks), batch 128, SGD momentum.",
            "Compare with bench/pytorch/train.py (bench/compare_train.py runs both interleaved)."})
public final class TrainBenchCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = "mlp", description = "mlp | cnn | resnet (default: ${DEFAULT-VALUE})")
    String model;

    @Option(names = "--threads", defaultValue = "1", description = "worker threads (default: ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--steps", defaultValue = "0", description = "steps per timed chunk (default: mlp 200, cnn and resnet 10)")
    int steps;

    @Option(names = "--warmup", defaultValue = "-1", description = "warm-up steps (default: one chunk, at least 20 steps)")
    int warmup;

    @Option(names = "--reps", defaultValue = "5", description = "timed chunks; the median is reported")
    int reps;

    @Option(names = "--json", description = "print one JSON object")
    boolean json;

    @Override
    public Integer call() {
        if (!model.equals("mlp") && !model.equals("cnn") && !model.equals("resnet")) {
            System.err.println("bn4j bench train: Expected --model mlp, cnn or resnet, got " + model);
            return 1;
        }
        if (threads < 1 || reps < 1 || steps < 0) {
            System.err.println("bn4j bench train: Expected --threads >= 1, --reps >= 1 and --steps >= 0, got "
                    + threads + ", " + reps + ", " + steps);
            return 1;
        }
        WorkerPool.setThreads(threads);
        int s = steps > 0 ? steps : TrainBench.defaultSteps(model);
        // Each step calls every kernel many times, so a chunk (>= 20 steps) lets the JIT settle before timing.
        TrainBench.Result r = TrainBench.run(model, threads, s, warmup >= 0 ? warmup : Math.max(20, s), reps);
        if (json) {
            System.out.printf(Locale.ROOT, "{\"model\": \"%s\", \"threads\": %d, \"batch_size\": %d,"
                    + " \"images_per_s\": %.1f, \"bn_share\": %.4f}%n", r.model(), r.threads(), r.batchSize(),
                    r.imagesPerSecond(), r.bnShare());
        } else {
            System.out.printf(Locale.ROOT, "bn4j %s: %.1f images/s, %d thread(s), batch %d, BN share %.1f%%%n",
                    r.model(), r.imagesPerSecond(), r.threads(), r.batchSize(), 100 * r.bnShare());
        }
        return 0;
    }
}
