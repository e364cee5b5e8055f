package io.github.batchnorm4j.cli;

import io.github.batchnorm4j.bench.InferBench;
import io.github.batchnorm4j.bench.OnnxRuntimeComparison;
import io.github.batchnorm4j.io.Json;
import io.github.batchnorm4j.kernel.WorkerPool;
import io.github.batchnorm4j.models.Models;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.train.TrainedModel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bn4j bench infer}: eval-mode inference speed ({@link InferBench}, {@link OnnxRuntimeComparison}); this
 * command parses the options and prints. Without {@code --checkpoint}, {@code --json} or
 * {@code --vs-onnxruntime} it prints the table of a built-in architecture with BN, BN folded and without BN; with
 * any of them it measures one folded model (of the checkpoint, else the built-in one with random weights).
 */
@Command(name = "infer", mixinStandardHelpOptions = true,
        description = {"Measure eval-mode inference. By default: images/s with BN, BN folded",
            "and without BN. With --checkpoint, --json or --vs-onnxruntime: the median",
            "time per batch of one model served folded (Predictor), optionally beside",
            "ONNX Runtime running the exported ONNX file in the same run."})
public final class InferBenchCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = "cnn", description = "mlp | cnn | resnet (default: ${DEFAULT-VALUE})")
    String model;

    @Option(names = "--checkpoint", paramLabel = "PATH",
            description = "a model written by bn4j train (run folder or .safetensors): measure it, folded")
    Path checkpoint;

    @Option(names = "--batch-size", defaultValue = "64", description = "(default: ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--threads", defaultValue = "1", description = "worker threads (default: ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--rounds", defaultValue = "15", description = "interleaved rounds; the median counts")
    int rounds;

    @Option(names = "--min-ms", defaultValue = "300", description = "minimum time per variant and round (ms)")
    int minMs;

    @Option(names = "--json", description = "print one JSON object (median_ms of the folded model)")
    boolean json;

    @Option(names = "--vs-onnxruntime",
            description = "also run the exported ONNX file in ONNX Runtime, interleaved; report the ratio")
    boolean vsOnnxRuntime;

    @Override
    public Integer call() {
        if (threads < 1 || batchSize < 1 || rounds < 1 || minMs < 1) {
            System.err.println("bn4j bench infer: Expected --threads, --batch-size, --rounds and --min-ms >= 1, got "
                    + threads + ", " + batchSize + ", " + rounds + ", " + minMs);
            return 1;
        }
        if (vsOnnxRuntime && !OnnxRuntimeComparison.available()) {
            System.err.println("bn4j bench infer: --vs-onnxruntime: Expected ONNX Runtime's Java API on the class"
                    + " path (the ./bn4j launcher adds Maven's copy of com.microsoft.onnxruntime:onnxruntime), got"
                    + " none");
            return 1;
        }
        WorkerPool.setThreads(threads);
        if (checkpoint == null && !json && !vsOnnxRuntime) {
            try {
                System.out.print(InferBench.run(model, batchSize, threads, rounds, minMs).markdown());
            } catch (IllegalArgumentException e) {
                System.err.println("bn4j bench infer: --model: " + e.getMessage());
                return 1;
            }
            return 0;
        }
        Module served;
        int[] input;
        String label;
        try {
            if (checkpoint != null) {
                TrainedModel m = Models.load(checkpoint);
                served = m.model();
                input = m.input();
                label = checkpoint.toString();
            } else {
                served = InferBench.builtIn(model);
                input = InferBench.builtInInput(model);
                label = model;
            }
        } catch (IOException | IllegalArgumentException e) {
            System.err.println("bn4j bench infer: " + (checkpoint != null ? "--checkpoint " + checkpoint : "--model")
                    + ": " + e.getMessage());
            return 1;
        }
        if (vsOnnxRuntime) {
            OnnxRuntimeComparison.Result r = OnnxRuntimeComparison.run(label, served, input, batchSize, threads,
                    rounds, minMs);
            System.out.println(json ? r.json() : String.format(Locale.ROOT, "bench infer %s, batch %d, %d thread(s),"
                            + " folded: ours %.4f ms, ONNX Runtime %s %.4f ms; throughput ours/ONNX Runtime %.2f"
                            + " (outputs agree to %.1e)", label, batchSize, threads, r.oursMedianMs(),
                    r.ortVersion(), r.ortMedianMs(), r.throughputRatio(), r.agreement()));
            return 0;
        }
        double ms = InferBench.medianMs(served, input, batchSize, rounds, minMs);
        System.out.println(json ? String.format(Locale.ROOT, "{\"model\": %s, \"batch_size\": %d, \"threads\": %d,"
                        + " \"rounds\": %d, \"median_ms\": %.5f, \"images_per_s\": %.1f}", Json.quote(label), batchSize,
                threads, rounds, ms, batchSize * 1e3 / ms)
                : String.format(Locale.ROOT, "bench infer %s, batch %d, %d thread(s), folded: %.4f ms per batch"
                        + " (%.1f images/s)", label, batchSize, threads, ms, batchSize * 1e3 / ms));
        return 0;
    }
}
