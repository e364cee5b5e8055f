package io.github.batchnorm4j.infer;

import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.tensor.Tensor;

/**
 * A residual unit {@code y = relu(body(x) + shortcut(x))}, the shape of a ResNet basic block once its
 * normalizations are folded ({@link Fold}); {@code shortcut} null means the identity. Inference only.
 * Children: {@code body}, and {@code shortcut} when present.
 */
public final class Residual extends Module {
    private final Module body;
    private final Module shortcut;

    public Residual(Module body, Module shortcut) {
        this.body = registerModule("body", body);
        this.shortcut = shortcut == null ? null : registerModule("shortcut", shortcut);
    }

    public Module body() {
        return body;
    }

    /** The shortcut branch, or null for the identity. */
    public Module shortcut() {
        return shortcut;
    }

    @Override
    public Tensor forward(Tensor x) {
        Tensor a = body.forward(x);
        Tensor s = shortcut == null ? x : shortcut.forward(x);
        if (!java.util.Arrays.equals(a.shape(), s.shape())) {
            throw new IllegalArgumentException("Expected the residual branches to agree in shape, got body "
                    + a.shapeString() + " and shortcut " + s.shapeString());
        }
        s = s.to(a.format());
        Tensor y = a.zerosLike();
        float[] pa = a.data(), ps = s.data(), py = y.data();
        for (int i = 0; i < py.length; i++) {
            float v = pa[i] + ps[i];
            py[i] = Math.max(v, 0f);
        }
        return y;
    }

    @Override
    public Tensor backward(Tensor gradOutput) {
        throw new UnsupportedOperationException("Residual is an inference layer produced by Fold; it has no backward");
    }
}
