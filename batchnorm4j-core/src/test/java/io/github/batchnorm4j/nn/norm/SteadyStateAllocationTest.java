package io.github.batchnorm4j.nn.norm;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.kernel.Kernels;
import io.github.batchnorm4j.kernel.NormKernels;
import io.github.batchnorm4j.kernel.ScalarNormKernels;
import io.github.batchnorm4j.kernel.VectorNormKernels;
import io.github.batchnorm4j.kernel.WorkerPool;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.tensor.MemoryFormat;
import io.github.batchnorm4j.tensor.Tensor;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The normalization layers allocate nothing per call in steady state: the same input shape, forward + backward
 * again and again, measured with the JVM's per-thread allocation counter
 * ({@code com.sun.management.ThreadMXBean#getCurrentThreadAllocatedBytes}). One thread, and tensors small enough
 * that the kernels take their single-task path on the calling thread (a hand-off to the pool allocates its job).
 *
 * <p>With the scalar kernels nothing allocates even in the interpreter, so the first window already shows 0. The
 * vector kernels box their vectors until the JIT has compiled them, so the test measures windows of
 * {@link #CALLS} calls after a warm-up until one allocates nothing (or {@link #MAX_NANOS} pass) and judges the best
 * window: a real per-call allocation shows in every window, compilation lag does not.
 *
 * <p>The build runs this class in a JVM of its own (see the module's pom): after the rest of the suite has run
 * the vector kernels with all their branches hot, C2 was seen to give up inlining under the small single-task path
 * and box vectors in every case here (4,320 B per call), a state of that JVM rather than of the layer measured.
 */
class SteadyStateAllocationTest {
    private static final int CALLS = 50;
    private static final int WARMUP_CALLS = 3000;
    /** Measuring stops at the first window without allocation, or after this long (the JIT may lag on 2 cores). */
    private static final long MAX_NANOS = 30_000_000_000L;
    /** Bytes per forward + backward allowed on average over the best window (the goal, and what we see, is 0). */
    private static final double BOUND = 256;

    private final int threadsBefore = WorkerPool.threads();
    private final NormKernels kernelsBefore = Kernels.norm();

    @AfterEach
    void restore() {
        WorkerPool.setThreads(threadsBefore);
        Kernels.setNorm(kernelsBefore);
    }

    private record Case(String name, Supplier<Module> layer, MemoryFormat format, boolean training) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<Arguments> layers() {
        Map<String, Supplier<Module>> zoo = NormLayerZoo.layers();
        List<Case> cases = new ArrayList<>();
        // The fused epilogues the containers call: relu(bn(x)) and relu(bn(x) + residual), training and eval.
        cases.add(new Case("BatchNorm + ReLU", () -> new Fused(zoo.get("BatchNorm").get(), false),
                MemoryFormat.CONTIGUOUS, true));
        cases.add(new Case("BatchNorm + add + ReLU", () -> new Fused(zoo.get("BatchNorm").get(), true),
                MemoryFormat.CONTIGUOUS, true));
        cases.add(new Case("BatchNorm + add + ReLU eval", () -> new Fused(zoo.get("BatchNorm").get(), true),
                MemoryFormat.CONTIGUOUS, false));
        zoo.forEach((name, layer) -> cases.add(new Case(name, layer, MemoryFormat.CONTIGUOUS, true)));
        for (String name : List.of("BatchNorm", "GroupNorm")) {
            cases.add(new Case(name + " channels-last", zoo.get(name), MemoryFormat.CHANNELS_LAST, true));
        }
        // Eval: normalisation with the running statistics, the backward without batch-statistic terms.
        for (String name : List.of("BatchNorm", "InstanceNorm", "BatchRenorm variance")) {
            cases.add(new Case(name + " eval", zoo.get(name), MemoryFormat.CONTIGUOUS, false));
        }
        List<Arguments> args = new ArrayList<>();
        for (String kernels : new String[] {"scalar", "vector"}) {
            for (Case c : cases) {
                args.add(Arguments.of(c, kernels));
            }
        }
        return args;
    }

    @ParameterizedTest(name = "{0}, {1} kernels")
    @MethodSource("layers")
    void forwardAndBackwardAllocateNothingPerCall(Case c, String kernels) {
        WorkerPool.setThreads(1);
        Kernels.setNorm(kernels.equals("scalar") ? ScalarNormKernels.INSTANCE : VectorNormKernels.INSTANCE);
        Module layer = c.layer().get().reuseBuffers(true); // the opt-in path the trainer uses
        layer.train(c.training());
        // N = 5 with ghost batches of 2: an uneven last virtual batch. Values offset so that BatchRenorm's r and d
        // are clipped (not the identity), which exercises its re-normalisation.
        Tensor x = NormLayerZoo.input(1, 3.0, 5, c.format());
        Tensor dy = NormLayerZoo.input(2, 0.0, 5, c.format());
        com.sun.management.ThreadMXBean bean = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        double best = Double.MAX_VALUE, first = -1;
        float sink = 0;
        for (int i = 0; i < WARMUP_CALLS; i++) {
            sink += step(layer, x, dy);
        }
        int windows = 0;
        for (long start = System.nanoTime(); best > 0 && System.nanoTime() - start < MAX_NANOS; windows++) {
            long before = bean.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < CALLS; i++) {
                sink += step(layer, x, dy);
            }
            double perCall = (bean.getCurrentThreadAllocatedBytes() - before) / (double) CALLS;
            first = first < 0 ? perCall : first;
            best = Math.min(best, perCall);
        }
        System.out.printf("steady-state allocation, %s kernels, %-24s first window %.1f B/call, best %.1f B/call"
                + " (%d windows; checksum %s)%n", kernels, c.name(), first, best, windows,
                Float.isFinite(sink) ? "finite" : "not finite");
        assertTrue(best < BOUND, c.name() + " with " + kernels + " kernels: " + best + " bytes per forward + backward"
                + " in the best window of " + CALLS + " calls, expected < " + BOUND);
    }

    /** Runs {@code bn.forwardRelu(x, residual)} (a fixed residual, or none) and its backward, as BasicBlock does. */
    private static final class Fused extends Module {
        private final BatchNorm bn;
        private final boolean withResidual;
        private Tensor residual;

        Fused(Module bn, boolean withResidual) {
            this.bn = registerModule("bn", (BatchNorm) bn);
            this.withResidual = withResidual;
        }

        @Override
        public Tensor forward(Tensor x) {
            if (withResidual && residual == null) {
                residual = NormLayerZoo.input(3, 0.0, x.dim(0), x.format());
            }
            return bn.forwardRelu(x, withResidual ? residual : null);
        }

        @Override
        public Tensor backward(Tensor gradOutput) {
            Tensor dx = bn.backward(gradOutput);
            if (withResidual) {
                dx.data()[0] += bn.residualGradient().data()[0]; // both are used
            }
            return dx;
        }
    }

    private static float step(Module layer, Tensor x, Tensor dy) {
        Tensor y = layer.forward(x);
        Tensor dx = layer.backward(dy);
        return y.data()[0] + dx.data()[0];
    }
}
