package io.github.batchnorm4j.nn;

import io.github.batchnorm4j.tensor.Tensor;
import java.util.random.RandomGenerator;

/** Parameter initialisation shared by the layers. */
final class Init {
    private Init() {}

    /**
     * A tensor of U(-bound, bound) values drawn in row-major order. PyTorch's default for Linear and Conv2d
     * (kaiming_uniform with a = sqrt(5)) reduces to {@code bound = 1/sqrt(fan_in)} for the weight, and the bias uses
     * the same bound.
     */
    static Tensor uniform(RandomGenerator rng, double bound, int... shape) {
        Tensor t = Tensor.zeros(shape);
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) {
            d[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
        }
        return t;
    }
}
