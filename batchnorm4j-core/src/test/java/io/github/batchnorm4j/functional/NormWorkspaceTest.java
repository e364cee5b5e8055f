package io.github.batchnorm4j.functional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.github.batchnorm4j.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** A workspace changes where the buffers live, never the results; its statistics arrays are reused. */
class NormWorkspaceTest {
    @Test
    void workspaceGivesTheSameResultsAndReusesItsArrays() {
        SplittableRandom r = new SplittableRandom(3);
        NormWorkspace ws = new NormWorkspace();
        NormSaved first = null;
        for (int step = 0; step < 3; step++) {
            Tensor x = Tensor.zeros(4, 6, 3, 5), dy = Tensor.zeros(4, 6, 3, 5), w = Tensor.zeros(6);
            for (int i = 0; i < x.numel(); i++) {
                x.data()[i] = (float) (step + r.nextGaussian());
                dy.data()[i] = (float) r.nextGaussian();
            }
            for (int i = 0; i < 6; i++) {
                w.data()[i] = (float) (1 + 0.1 * r.nextGaussian());
            }
            NormResult plain = Functional.batchNorm(x, null, null, w, null, true, 0.1, 1e-5);
            NormResult reused = Functional.batchNorm(x, null, null, w, null, true, 0.1, 1e-5, ws);
            assertArrayEquals(plain.output().data(), reused.output().data());
            NormGradients g1 = Functional.normBackward(plain.saved(), x, dy, w, true);
            NormGradients g2 = Functional.normBackward(reused.saved(), x, dy, w, true, ws);
            assertArrayEquals(g1.input().data(), g2.input().data());
            assertArrayEquals(g1.weight().data(), g2.weight().data());
            assertArrayEquals(g1.bias().data(), g2.bias().data());
            if (first == null) {
                first = reused.saved();
            } else {
                assertSame(first.mean(), reused.saved().mean(), "mean array reused");
                assertSame(first.invStd(), reused.saved().invStd(), "invStd array reused");
            }
        }
    }
}
