package io.github.batchnorm4j.nn;

/**
 * {@code y = 1 / (1 + exp(-x))}; {@code dx = dy * y * (1 - y)}. Computed per element in double with
 * {@code Math.exp}: the Vector API's EXP is evaluated differently by the interpreter and by compiled code, so a
 * vectorised sigmoid made results depend on JIT timing (and on an element's position relative to the vector
 * tail), which broke bit-identical reruns.
 */
public final class Sigmoid extends Activation {
    @Override
    void apply(float[] x, float[] y, int from, int to) {
        for (int i = from; i < to; i++) {
            y[i] = (float) (1.0 / (1.0 + Math.exp(-x[i])));
        }
    }

    @Override
    void derivative(float[] y, float[] dy, float[] dx, int from, int to) {
        for (int i = from; i < to; i++) {
            float v = y[i];
            dx[i] = dy[i] * v * (1f - v);
        }
    }
}
