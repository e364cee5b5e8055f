package io.github.batchnorm4j.diag;

import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.tensor.Tensor;
import io.github.batchnorm4j.train.TrainerCallback;
import java.util.ArrayList;
import java.util.List;

/** Minimal layers for the diagnostics tests (the checks recognise layers by class name). */
final class TestModels {
    private TestModels() {}

    /** Children "0", "1", ... in order, looked up by name so that probes take effect. */
    static final class Sequential extends Module {
        Sequential(Module... layers) {
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

    static final class ReLU extends Module {
        private Tensor last;

        @Override
        public Tensor forward(Tensor x) {
            last = x;
            Tensor y = x.zerosLike();
            for (int i = 0; i < y.numel(); i++) {
                y.data()[i] = Math.max(0f, x.data()[i]);
            }
            return y;
        }

        @Override
        public Tensor backward(Tensor g) {
            Tensor d = g.zerosLike();
            for (int i = 0; i < d.numel(); i++) {
                d.data()[i] = last.data()[i] > 0 ? g.data()[i] : 0f;
            }
            return d;
        }
    }

    /** y = factor * x. */
    static final class Scale extends Module {
        private final float factor;

        Scale(float factor) {
            this.factor = factor;
        }

        @Override
        public Tensor forward(Tensor x) {
            Tensor y = x.zerosLike();
            for (int i = 0; i < y.numel(); i++) {
                y.data()[i] = factor * x.data()[i];
            }
            return y;
        }

        @Override
        public Tensor backward(Tensor g) {
            return forward(g);
        }
    }

    /** What a trainer does around one step, calling every callback in order. */
    static Tensor step(Module model, List<? extends TrainerCallback> callbacks, long step, Tensor x, Tensor dy) {
        for (TrainerCallback c : callbacks) {
            c.beforeTrainStep(model, step, x);
        }
        Tensor y = model.forward(x);
        model.backward(dy);
        for (TrainerCallback c : callbacks) {
            c.afterTrainStep(model, step, 0.5);
        }
        return y;
    }

    static Tensor ramp(int... shape) {
        Tensor t = Tensor.zeros(shape);
        for (int i = 0; i < t.numel(); i++) {
            t.data()[i] = (float) Math.sin(0.7 * i + 0.3) * (1 + i % 5);
        }
        return t;
    }
}
