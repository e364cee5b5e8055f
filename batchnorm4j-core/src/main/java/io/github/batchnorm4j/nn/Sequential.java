package io.github.batchnorm4j.nn;

import io.github.batchnorm4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs its children in order; backward runs them in reverse. Children are named {@code "0"}, {@code "1"}, ...
 * so state keys read {@code 0.weight}, {@code 1.running_mean} as in PyTorch.
 */
public final class Sequential extends Module {
    private final List<Module> layers = new ArrayList<>();
    /** {@code fused[i]}: the last forward ran layer i with the ReLU at i + 1 in one pass ({@link ReluFusion}). */
    private boolean[] fused = new boolean[0];

    public Sequential(Module... layers) {
        for (Module m : layers) {
            add(m);
        }
    }

    /** Appends {@code m} as child {@code String.valueOf(size())}; returns this. */
    public Sequential add(Module m) {
        java.util.Objects.requireNonNull(m, "module");
        registerModule(String.valueOf(layers.size()), m);
        layers.add(m);
        m.train(isTraining());
        return this;
    }

    public Module get(int index) {
        return layers.get(index);
    }

    public int size() {
        return layers.size();
    }

    /**
     * Runs the layers in order; a layer that can fuse the ReLU epilogue ({@link ReluFusion}, BatchNorm) followed
     * by a {@link ReLU} runs both in its output pass (same result, one pass over memory fewer).
     */
    @Override
    public Tensor forward(Tensor input) {
        int n = layers.size();
        if (fused.length != n) {
            fused = new boolean[n];
        }
        Tensor x = input;
        for (int i = 0; i < n; i++) {
            Module m = layers.get(i);
            boolean fuse = i + 1 < n && layers.get(i + 1) instanceof ReLU && m instanceof ReluFusion f
                    && f.fusesRelu();
            fused[i] = fuse;
            if (fuse) {
                x = ((ReluFusion) m).forwardRelu(x, null);
                fused[++i] = false;
            } else {
                x = m.forward(x);
            }
        }
        return x;
    }

    @Override
    public Tensor backward(Tensor gradOutput) {
        Tensor g = gradOutput;
        for (int i = layers.size() - 1; i >= 0 && g != null; i--) {
            if (i > 0 && i - 1 < fused.length && fused[i - 1]) {
                continue; // this ReLU ran inside the layer before it, whose backward gates the gradient
            }
            g = layers.get(i).backward(g);
        }
        return g;
    }

    /** Keeps the run order in step with the registered children (probes, {@code freezeBatchNorm}). */
    @Override
    public Module replaceChild(String name, Module replacement) {
        Module old = super.replaceChild(name, replacement);
        layers.set(Integer.parseInt(name), replacement);
        return old;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Sequential(");
        for (int i = 0; i < layers.size(); i++) {
            sb.append(i > 0 ? ", " : "").append(layers.get(i));
        }
        return sb.append(')').toString();
    }
}
