package io.github.batchnorm4j.nn;

import io.github.batchnorm4j.tensor.Tensor;

/**
 * An elementwise activation whose derivative is a function of its output ({@code y}), so backward needs only the
 * last output. Works on any shape and memory format (the output keeps the input's format).
 */
abstract class Activation extends Module {
    private Tensor output;
    private Tensor gradInput;

    /** {@code y[i] = f(x[i])} for {@code i} in {@code [0, n)}. */
    abstract void apply(float[] x, float[] y, int n);

    /** {@code dx[i] = dy[i] * f'(x[i])} written in terms of {@code y[i]}. */
    abstract void derivative(float[] y, float[] dy, float[] dx, int n);

    @Override
    public Tensor forward(Tensor x) {
        output = Buffers.ensureLike(output, x);
        apply(x.data(), output.data(), x.numel());
        return output;
    }

    @Override
    public Tensor backward(Tensor gradOutput) {
        Buffers.checkGrad(this, output, gradOutput);
        Tensor dy = gradOutput.to(output.format());
        gradInput = Buffers.ensureLike(gradInput, output);
        derivative(output.data(), dy.data(), gradInput.data(), output.numel());
        return gradInput;
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "()";
    }
}
