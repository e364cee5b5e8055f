package io.github.batchnorm4j.nn;

import io.github.batchnorm4j.tensor.Tensor;
import java.util.Arrays;

/** A trainable tensor and its accumulated gradient (same shape; zeroed by {@link #zeroGrad()}). */
public final class Parameter {
    private final Tensor value;
    private final Tensor grad;

    public Parameter(Tensor value) {
        this.value = value;
        this.grad = value.zerosLike();
    }

    public Tensor value() {
        return value;
    }

    public Tensor grad() {
        return grad;
    }

    public float[] data() {
        return value.data();
    }

    /** Adds {@code g} (same shape) to the gradient. */
    public void accumulate(Tensor g) {
        float[] dst = grad.data();
        float[] src = g.data();
        for (int i = 0; i < dst.length; i++) {
            dst[i] += src[i];
        }
    }

    public void zeroGrad() {
        Arrays.fill(grad.data(), 0f);
    }
}
