package io.github.batchnorm4j.bench;

import io.github.batchnorm4j.io.Json;
import io.github.batchnorm4j.infer.Fold;
import io.github.batchnorm4j.infer.Predictor;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.onnx.OnnxExport;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Our serving path ({@link Predictor}) against ONNX Runtime on the very ONNX file we export from the folded
 * model: the same input, in the same run, interleaved ({@link Measure#interleaved}), one prediction per call on
 * both sides with buffers kept (ONNX Runtime's output pinned; ours returns a new tensor of the logits). Throughput ratio = ONNX Runtime's median time / ours:
 * above 1 we are faster.
 */
public final class OnnxRuntimeComparison {
    /**
     * One comparison.
     *
     * @param agreement max |ours − ONNX Runtime| / max |ours| over the outputs of the benchmark batch
     */
    public record Result(String model, int batch, int threads, int rounds, double oursMedianMs, double ortMedianMs,
                         double agreement, String ortVersion) {
        /** Our throughput over ONNX Runtime's (images/s ours / images/s theirs). */
        public double throughputRatio() {
            return ortMedianMs / oursMedianMs;
        }

        /** One JSON object. */
        public String json() {
            return String.format(Locale.ROOT, "{\"model\": %s, \"batch_size\": %d, \"threads\": %d, "
                    + "\"rounds\": %d, \"median_ms\": %.5f, \"onnxruntime_median_ms\": %.5f, "
                    + "\"throughput_ratio\": %.4f, \"max_rel_diff\": %.3e, \"onnxruntime\": %s}", Json.quote(model), batch,
                    threads, rounds, oursMedianMs, ortMedianMs, throughputRatio(), agreement, Json.quote(ortVersion));
        }
    }

    private OnnxRuntimeComparison() {}

    /** Whether ONNX Runtime's Java API is on the class or module path. */
    public static boolean available() {
        try {
            Class.forName("ai.onnxruntime.OrtEnvironment", false, OnnxRuntimeComparison.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /**
     * Compares the serving plan of {@code model} ({@link Predictor}: BN folded, Conv2d + ReLU fused) with ONNX
     * Runtime running the folded model's ONNX export ({@code bn4j export --fold}) at {@code batch}, on N(0,1)
     * inputs of shape {@code [batch, input...]}; the caller has set our thread count to {@code threads}, ONNX
     * Runtime gets as many intra-op threads. {@code model} is not changed.
     *
     * @throws IllegalStateException when ONNX Runtime is not available or fails
     */
    public static Result run(String label, Module model, int[] input, int batch, int threads, int rounds,
                             int minMs) {
        if (!available()) {
            throw new IllegalStateException("ONNX Runtime's Java API (com.microsoft.onnxruntime:onnxruntime) is not"
                    + " on the class path");
        }
        Predictor ours = Predictor.of(model);
        byte[] onnx = OnnxExport.toModel(Fold.fold(model), input, false, "bench").toByteArray();
        Tensor x = InferBench.gaussianInput(batch, input);
        Tensor expected = ours.predict(x);
        long[] inShape = Arrays.stream(x.shape()).asLongStream().toArray();
        long[] outShape = Arrays.stream(expected.shape()).asLongStream().toArray();
        try (OnnxRuntimePeer ort = new OnnxRuntimePeer(onnx, OnnxExport.INPUT, x.toContiguousArray(), inShape,
                OnnxExport.OUTPUT, outShape, threads)) {
            ort.run();
            double agreement = InferBench.maxRelativeDifference(expected, Tensor.of(ort.output(), expected.shape()));
            double[][] perRound = Measure.interleaved(List.of(() -> ours.predict(x), ort::run), rounds, minMs,
                    Math.max(minMs, 1000));
            return new Result(label, batch, threads, rounds, 1e3 / Measure.median(perRound[0]),
                    1e3 / Measure.median(perRound[1]), agreement, ort.version());
        }
    }
}
