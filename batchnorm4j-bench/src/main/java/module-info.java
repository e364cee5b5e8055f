/**
 * The project's benchmarks, in one place: the measurements behind {@code bn4j bench} (kernels, GEMM, training,
 * inference, SyncBatchNorm) as a library the CLI delegates to, and JMH benchmarks of the kernels
 * ({@code benchmarks.jar}). They report medians and ratios; none of them is a pass/fail test.
 */
@SuppressWarnings("requires-automatic") // JMH and ONNX Runtime have no module descriptors, only module names
module io.github.batchnorm4j.bench {
    requires transitive io.github.batchnorm4j.core;
    requires io.github.batchnorm4j.onnx;
    requires static jdk.incubator.vector;
    // The peer of the inference comparison, present when it runs (bn4j bench infer --vs-onnxruntime); never a
    // dependency of the library.
    requires static com.microsoft.onnxruntime;
    // Only the JMH benchmarks (run from benchmarks.jar, which bundles JMH) need it; the CLI's benchmarks do not.
    requires static jmh.core;

    exports io.github.batchnorm4j.bench;
}
