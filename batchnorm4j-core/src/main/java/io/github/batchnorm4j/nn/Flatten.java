package io.github.batchnorm4j.nn;

import io.github.batchnorm4j.tensor.MemoryFormat;
import io.github.batchnorm4j.tensor.Tensor;

/**
 * {@code (N, d1, d2, ...) -> (N, d1*d2*...)} in logical (NCHW) order, like {@code torch.flatten(x, 1)}. A
 * contiguous input is viewed, not copied; a channels-last input is first converted to contiguous order.
 */
public final class Flatten extends Module {
    private int[] inputShape;

    @Override
    public Tensor forward(Tensor x) {
        if (x.rank() < 1) {
            throw Buffers.badInput(this, "[N, ...]", x);
        }
        inputShape = x.shape();
        int n = x.dim(0);
        int rest = io.github.batchnorm4j.tensor.Shapes.product(inputShape, 1, inputShape.length);
        return x.to(MemoryFormat.CONTIGUOUS).reshape(n, rest);
    }

    @Override
    public Tensor backward(Tensor gradOutput) {
        if (inputShape == null) {
            throw new IllegalStateException(this + ": backward called before forward");
        }
        int n = inputShape[0];
        int rest = io.github.batchnorm4j.tensor.Shapes.product(inputShape, 1, inputShape.length);
        if (gradOutput.rank() != 2 || gradOutput.dim(0) != n || gradOutput.dim(1) != rest) {
            throw new IllegalArgumentException(this + ": expected gradient of shape [" + n + ", " + rest + "], got "
                    + gradOutput.shapeString());
        }
        return gradOutput.reshape(inputShape);
    }

    @Override
    public String toString() {
        return "Flatten()";
    }
}
