package io.github.batchnorm4j.nn.norm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.github.batchnorm4j.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * BatchNorm allocates nothing per call once warmed up: its output, input gradient and gamma/beta gradients are
 * the same tensors from call to call (overwritten each time), and reuse does not change the numbers.
 */
class BatchNormBufferReuseTest {
    private static Tensor random(long seed, int... shape) {
        SplittableRandom r = new SplittableRandom(seed);
        Tensor t = Tensor.zeros(shape);
        for (int i = 0; i < t.numel(); i++) {
            t.data()[i] = (float) r.nextGaussian();
        }
        return t;
    }

    @Test
    void outputsAndGradientsAreReusedAndStillCorrect() {
        BatchNorm reused = new BatchNorm(5);
        Tensor x1 = random(1, 6, 5, 3), x2 = random(2, 6, 5, 3), dy = random(3, 6, 5, 3);
        Tensor y1 = reused.forward(x1);
        Tensor dx1 = reused.backward(dy);
        float[] y2Expected;
        float[] dx2Expected;
        {
            BatchNorm fresh = new BatchNorm(5);
            fresh.forward(x1);
            fresh.backward(dy);
            y2Expected = fresh.forward(x2).data().clone();
            dx2Expected = fresh.backward(dy).data().clone();
        }
        Tensor y2 = reused.forward(x2);
        Tensor dx2 = reused.backward(dy);
        assertSame(y1, y2);
        assertSame(dx1, dx2);
        assertArrayEquals(y2Expected, y2.data());
        assertArrayEquals(dx2Expected, dx2.data());
        assertNotSame(y2, reused.forward(random(4, 2, 5, 3))); // another shape gets its own buffer
    }
}
