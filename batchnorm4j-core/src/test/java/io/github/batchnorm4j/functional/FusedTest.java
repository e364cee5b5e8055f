package io.github.batchnorm4j.functional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.batchnorm4j.kernel.Kernels;
import io.github.batchnorm4j.kernel.NormKernels;
import io.github.batchnorm4j.kernel.ScalarNormKernels;
import io.github.batchnorm4j.kernel.VectorNormKernels;
import io.github.batchnorm4j.tensor.MemoryFormat;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Fused BN+ReLU and BN+add+ReLU, forward and backward, against composing {@link Functional#batchNorm}, the add and
 * ReLU (and, backward, the ReLU gate followed by {@link Functional#normBackward}); with the vector kernels and
 * with the scalar kernels' default fused methods; NCHW, channels-last and (N,C); training and eval.
 */
class FusedTest {
    private final NormKernels before = Kernels.norm();

    @AfterEach
    void restore() {
        Kernels.setNorm(before);
    }

    static Stream<Arguments> cases() {
        Stream.Builder<Arguments> b = Stream.builder();
        int[][] shapes = {{2, 3, 5, 7}, {3, 9, 4, 4}, {6, 5}, {4, 17, 11}};
        for (NormKernels k : new NormKernels[] {VectorNormKernels.INSTANCE, ScalarNormKernels.INSTANCE}) {
            for (int[] s : shapes) {
                for (boolean cl : new boolean[] {false, true}) {
                    if (cl && s.length != 4) {
                        continue;
                    }
                    for (boolean training : new boolean[] {true, false}) {
                        b.add(Arguments.of(k.getClass().getSimpleName(), s, cl, training));
                    }
                }
            }
        }
        return b.build();
    }

    @ParameterizedTest(name = "{0} {1} channelsLast={2} training={3}")
    @MethodSource("cases")
    void fusedEqualsComposition(String kernels, int[] shape, boolean channelsLast, boolean training) {
        Kernels.setNorm(kernels.startsWith("Vector") ? VectorNormKernels.INSTANCE : ScalarNormKernels.INSTANCE);
        SplittableRandom r = new SplittableRandom(7);
        MemoryFormat fmt = channelsLast ? MemoryFormat.CHANNELS_LAST : MemoryFormat.CONTIGUOUS;
        Tensor x = random(r, shape, 1.5f, 0.3f).to(fmt);
        Tensor residual = random(r, shape, 1f, 0f); // contiguous even when x is channels-last
        Tensor dy = random(r, shape, 1f, 0f).to(fmt);
        int c = shape[1];
        Tensor w = random(r, new int[] {c}, 0.5f, 1f), b = random(r, new int[] {c}, 0.5f, 0f);
        Tensor rm1 = random(r, new int[] {c}, 0.2f, 0f), rv1 = random(r, new int[] {c}, 0.1f, 1f);
        Tensor rm2 = rm1.copy(), rv2 = rv1.copy(), rm3 = rm1.copy(), rv3 = rv1.copy();

        // BN + ReLU
        NormResult ref = Functional.batchNorm(x, rm1, rv1, w, b, training, 0.1, 1e-5);
        Tensor refY = relu(ref.output(), null);
        NormResult fused = Fused.batchNormRelu(x, rm2, rv2, w, b, training, 0.1, 1e-5, new NormWorkspace());
        assertClose("relu forward", refY, fused.output());
        assertArrayEquals(rm1.data(), rm2.data(), "running mean update");
        assertArrayEquals(rv1.data(), rv2.data(), "running var update");
        Tensor gated = gate(dy, refY);
        NormGradients refG = Functional.normBackward(ref.saved(), x, gated, w, true);
        NormGradients fg = Fused.batchNormReluBackward(fused.saved(), x, fused.output(), dy, w, true, null);
        assertClose("relu dx", refG.input(), fg.input());
        assertClose("relu dweight", refG.weight(), fg.weight());
        assertClose("relu dbias", refG.bias(), fg.bias());

        // BN + add + ReLU
        Tensor refY2 = relu(ref.output(), residual);
        NormResult fused2 = Fused.batchNormAddRelu(x, residual, rm3, rv3, w, b, training, 0.1, 1e-5, null);
        assertClose("add+relu forward", refY2, fused2.output());
        Tensor gated2 = gate(dy, refY2);
        NormGradients refG2 = Functional.normBackward(ref.saved(), x, gated2, w, true);
        Fused.AddGradients fg2 = Fused.batchNormAddReluBackward(fused2.saved(), x, fused2.output(), dy, w, true,
                new NormWorkspace());
        assertClose("add+relu dx", refG2.input(), fg2.input());
        assertClose("add+relu dresidual", gated2, fg2.residual());
        assertClose("add+relu dweight", refG2.weight(), fg2.weight());
        assertClose("add+relu dbias", refG2.bias(), fg2.bias());
        assertEquals(x.format(), fg2.input().format());
        assertEquals(x.format(), fg2.residual().format());
    }

    @Test
    void residualOfTheWrongShapeIsRejected() {
        Tensor x = Tensor.zeros(2, 3, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Fused.batchNormAddRelu(x,
                Tensor.zeros(2, 3, 5), null, null, null, null, true, 0.1, 1e-5, null));
        assertEquals("Expected residual of shape [2, 3, 4], got [2, 3, 5]", e.getMessage());
        IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class, () -> Fused.batchNormAddRelu(x,
                null, null, null, null, null, true, 0.1, 1e-5, null));
        assertEquals("Expected a residual tensor of shape [2, 3, 4], got null", e2.getMessage());
    }

    @Test
    void gradientOfTheWrongShapeIsRejected() {
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2);
        NormResult r = Fused.batchNormRelu(x, null, null, null, null, true, 0.1, 1e-5, null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Fused.batchNormReluBackward(r.saved(), x, r.output(), Tensor.zeros(4), null, false, null));
        assertEquals("Expected gradient of shape [2, 2], got [4]", e.getMessage());
    }

    private static Tensor random(SplittableRandom r, int[] shape, float scale, float offset) {
        Tensor t = Tensor.zeros(shape);
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) {
            d[i] = offset + scale * (float) r.nextGaussian();
        }
        return t;
    }

    /** relu(y + residual) in float, in the format of y. */
    private static Tensor relu(Tensor y, Tensor residual) {
        Tensor out = y.copy();
        float[] o = out.data();
        float[] res = residual == null ? null : residual.to(y.format()).data();
        for (int i = 0; i < o.length; i++) {
            float v = res == null ? o[i] : o[i] + res[i];
            o[i] = Math.max(v, 0f);
        }
        return out;
    }

    /** The ReLU gradient: dy where the output is positive. */
    private static Tensor gate(Tensor dy, Tensor out) {
        Tensor g = dy.copy();
        float[] o = out.to(dy.format()).data();
        float[] d = g.data();
        for (int i = 0; i < d.length; i++) {
            d[i] = o[i] > 0 ? d[i] : 0f;
        }
        return g;
    }

    private static void assertClose(String what, Tensor exp, Tensor act) {
        assertArrayEquals(exp.shape(), act.shape(), what + " shape");
        float[] e = exp.toContiguousArray(), a = act.toContiguousArray();
        double scale = 1;
        for (float v : e) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < e.length; i++) {
            if (!(Math.abs(e[i] - a[i]) <= 1e-5 * scale)) {
                fail(what + "[" + i + "]: expected " + e[i] + ", got " + a[i]);
            }
        }
    }
}
