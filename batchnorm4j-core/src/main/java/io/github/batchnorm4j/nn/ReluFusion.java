package io.github.batchnorm4j.nn;

import io.github.batchnorm4j.tensor.Tensor;

/**
 * A layer {@code f} that can finish its forward with the ReLU after it, and the residual add before that ReLU, in
 * its own output pass: {@code relu(f(x) [+ residual])}, one write of the output instead of three passes over
 * memory. {@link Sequential} calls it for {@code f} followed by a {@link ReLU}, {@link BasicBlock} for
 * {@code relu(bn1(conv1(x)))} and {@code relu(bn2(conv2(.)) + shortcut)}; the result is that of running the
 * layers one by one (the same float operations in the same order).
 *
 * <p>After {@link #forwardRelu}, {@link Module#backward} takes the gradient of that output and returns the
 * gradient of {@code x}, gating it by the saved output ({@code y > 0}) inside its own backward pass;
 * {@link #residualGradient} then holds the gradient of {@code residual} (the gated gradient). After a plain
 * {@link Module#forward}, backward is the layer's own.
 */
public interface ReluFusion {

    /**
     * Whether {@link #forwardRelu} runs the fused pass for this layer now; when false, callers run the layer, the
     * add and the ReLU themselves.
     */
    boolean fusesRelu();

    /**
     * {@code relu(f(x) + residual)}, or {@code relu(f(x))} when {@code residual} is null; {@code residual} has the
     * shape of {@code x} (either memory format). The result has x's shape and memory format.
     */
    Tensor forwardRelu(Tensor x, Tensor residual);

    /**
     * The gradient of the residual of the last {@link #forwardRelu}, from the {@link Module#backward} that followed
     * it (the memory format of that forward's {@code x}); null when that forward had no residual.
     */
    Tensor residualGradient();
}
