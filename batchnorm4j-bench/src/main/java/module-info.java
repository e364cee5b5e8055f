/**
 * The project's benchmarks, in one place: the measurements behind {@code bn4j bench} (kernels, GEMM, training,
 * inference, SyncBatchNorm) as a library the CLI delegates to, and JMH benchmarks of the kernels
 * ({@code benchmarks.jar}). They report medians and ratios; none of them is a pass/fail test.
 */
@SuppressWarnings("requires-automatic") // JMH has no module descriptor, only a name derived from its jar
module io.github.batchnorm4j.bench {
    requires transitive io.github.batchnorm4j.core;
    requires static jdk.incubator.vector;
    // Only the JMH benchmarks (run from benchmarks.jar, which bundles JMH) need it; the CLI's benchmarks do not.
    requires static jmh.core;

    exports io.github.batchnorm4j.bench;
}
