package io.github.batchnorm4j.diag;

import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.tensor.Tensor;
import io.github.batchnorm4j.train.TrainerCallback;
import java.util.List;

/** A test layer and a trainer-like step for the diagnostics tests. */
final class TestModels {
    private TestModels() {}

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
