package io.github.batchnorm4j.nn;

/** {@code y = max(x, 0)}; {@code dx = dy} where {@code y > 0} (i.e. {@code x > 0}), else 0. NaN propagates. */
public final class ReLU extends Activation {
    @Override
    void apply(float[] x, float[] y, int n) {
        for (int i = 0; i < n; i++) {
            float v = x[i];
            y[i] = v > 0f ? v : (v != v ? v : 0f);
        }
    }

    @Override
    void derivative(float[] y, float[] dy, float[] dx, int n) {
        for (int i = 0; i < n; i++) {
            dx[i] = y[i] > 0f ? dy[i] : 0f;
        }
    }
}
