package io.github.batchnorm4j.nn;

import io.github.batchnorm4j.tensor.Tensor;

/** Returns its input unchanged (and the gradient unchanged); a placeholder, e.g. "no normalization". */
public final class Identity extends Module {
    @Override
    public Tensor forward(Tensor input) {
        return input;
    }

    @Override
    public Tensor backward(Tensor gradOutput) {
        return gradOutput;
    }

    @Override
    public String toString() {
        return "Identity()";
    }
}
