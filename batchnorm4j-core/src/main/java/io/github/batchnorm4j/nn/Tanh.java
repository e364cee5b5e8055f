package io.github.batchnorm4j.nn;

/**
 * {@code y = tanh(x)}; {@code dx = dy * (1 - y^2)}. {@code StrictMath.tanh} per element: the same bits in
 * interpreted and compiled code (the Vector API's TANH is not), so reruns stay bit-identical.
 */
public final class Tanh extends Activation {
    @Override
    void apply(float[] x, float[] y, int from, int to) {
        for (int i = from; i < to; i++) {
            y[i] = (float) StrictMath.tanh(x[i]);
        }
    }

    @Override
    void derivative(float[] y, float[] dy, float[] dx, int from, int to) {
        for (int i = from; i < to; i++) {
            float v = y[i];
            dx[i] = dy[i] * (1f - v * v);
        }
    }
}
