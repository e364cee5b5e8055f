package io.github.batchnorm4j.nn;

import io.github.batchnorm4j.kernel.Kernels;

/**
 * {@code y = max(x, 0)} (NaN propagates, {@code -0} becomes {@code +0}); {@code dx = dy} where {@code y > 0}
 * (i.e. {@code x > 0}), else 0. Any shape. The loops are the library's dense kernels (vectorised when the Vector
 * API is available).
 */
public final class ReLU extends Activation {
    @Override
    void apply(float[] x, float[] y, int from, int to) {
        Kernels.dense().relu(x, y, from, to);
    }

    @Override
    void derivative(float[] y, float[] dy, float[] dx, int from, int to) {
        Kernels.dense().reluBackward(y, dy, dx, from, to);
    }
}
