package io.github.batchnorm4j.nn.norm;

import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/** A test container: children "0", "1", ... run in order, looked up by name so replaceChild takes effect. */
public final class Chain extends Module {
    public Chain(Module... layers) {
        for (int i = 0; i < layers.length; i++) {
            registerModule(Integer.toString(i), layers[i]);
        }
    }

    @Override
    public Tensor forward(Tensor x) {
        for (Module m : children().values()) {
            x = m.forward(x);
        }
        return x;
    }

    @Override
    public Tensor backward(Tensor g) {
        List<Module> list = new ArrayList<>(children().values());
        for (int i = list.size() - 1; i >= 0; i--) {
            g = list.get(i).backward(g);
        }
        return g;
    }
}
