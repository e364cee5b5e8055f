package io.github.batchnorm4j.nn.norm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.github.batchnorm4j.nn.LongState;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.Parameter;
import io.github.batchnorm4j.tensor.MemoryFormat;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every normalization layer reuses its output and input-gradient tensors from call to call (overwritten each
 * time; a new shape gets new ones), and reuse does not change the numbers: at each step of a sequence that changes
 * the batch size and the mode, the reused layer gives bit for bit what a fresh layer (new buffers) with the same
 * state gives, for the output, the input gradient, the parameter gradients and the state after the step.
 */
class NormBufferReuseTest {
    /** Batch size and mode of each step: a new shape in between, and an eval step. */
    private static final int[] BATCH = {5, 3, 5, 5, 5};
    private static final boolean[] TRAINING = {true, true, true, false, true};

    static List<Arguments> layers() {
        List<Arguments> args = new ArrayList<>();
        for (MemoryFormat format : MemoryFormat.values()) {
            NormLayerZoo.layers().forEach((name, layer) -> args.add(Arguments.of(name, layer, format)));
        }
        return args;
    }

    @ParameterizedTest(name = "{0}, {2}")
    @MethodSource("layers")
    void outputsAndGradientsAreReusedAndStillCorrect(String name, Supplier<Module> build, MemoryFormat format) {
        Module reused = build.get().reuseBuffers(true); // fresh (below) keeps the default: new results per call
        Tensor[] y = new Tensor[BATCH.length];
        Tensor[] dx = new Tensor[BATCH.length];
        for (int step = 0; step < BATCH.length; step++) {
            Tensor x = NormLayerZoo.input(10 + step, 3.0, BATCH[step], format);
            Tensor dy = NormLayerZoo.input(20 + step, 0.0, BATCH[step], format);
            Module fresh = build.get();
            copyState(reused, fresh);
            reused.train(TRAINING[step]);
            fresh.train(TRAINING[step]);
            reused.zeroGrad();
            y[step] = reused.forward(x);
            dx[step] = reused.backward(dy);
            String at = name + ", step " + step;
            assertArrayEquals(fresh.forward(x).data(), y[step].data(), at + ": output");
            assertArrayEquals(fresh.backward(dy).data(), dx[step].data(), at + ": input gradient");
            assertSameState(fresh, reused, at);
        }
        assertNotSame(y[0], y[1], name + ": another shape gets its own output");
        assertSame(y[2], y[3], name + ": output reused (train, then eval)");
        assertSame(y[3], y[4], name + ": output reused (eval, then train)");
        assertSame(dx[2], dx[4], name + ": input gradient reused");
    }

    /** Copies parameters, buffers and counters (not gradients) from {@code from} into {@code to}. */
    private static void copyState(Module from, Module to) {
        Map<String, Parameter> params = to.namedParameters();
        from.namedParameters().forEach((k, p) -> System.arraycopy(p.data(), 0, params.get(k).data(), 0,
                p.data().length));
        Map<String, Tensor> buffers = to.namedBuffers();
        from.namedBuffers().forEach((k, b) -> System.arraycopy(b.data(), 0, buffers.get(k).data(), 0, b.numel()));
        Map<String, LongState> counters = to.namedLongBuffers();
        from.namedLongBuffers().forEach((k, s) -> counters.get(k).set(s.get()));
    }

    private static void assertSameState(Module expected, Module actual, String at) {
        Map<String, Parameter> params = actual.namedParameters();
        expected.namedParameters().forEach((k, p) -> assertArrayEquals(p.grad().data(), params.get(k).grad().data(),
                at + ": gradient of " + k));
        Map<String, Tensor> buffers = actual.namedBuffers();
        expected.namedBuffers().forEach((k, b) -> assertArrayEquals(b.data(), buffers.get(k).data(), at + ": " + k));
        Map<String, LongState> counters = actual.namedLongBuffers();
        expected.namedLongBuffers().forEach((k, s) -> assertEquals(s.get(), counters.get(k).get(), at + ": " + k));
    }
}
