package io.github.batchnorm4j.models;

import io.github.batchnorm4j.nn.BasicBlock;
import io.github.batchnorm4j.nn.Conv2d;
import io.github.batchnorm4j.nn.Flatten;
import io.github.batchnorm4j.nn.GlobalAvgPool2d;
import io.github.batchnorm4j.nn.Linear;
import io.github.batchnorm4j.nn.MaxPool2d;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.ReLU;
import io.github.batchnorm4j.nn.Sequential;
import java.util.function.IntFunction;
import java.util.random.RandomGenerator;

/** The convolutional models of {@link ModelFactory} ({@code cnn} and {@code resnet}); see there for the layouts. */
final class ConvNets {
    private ConvNets() {}

    static Module cnn(ModelSpec s, RandomGenerator rng, IntFunction<? extends Module> bn) {
        int[] in = s.input();
        boolean bias = s.norm().equals("none");
        Sequential seq = new Sequential();
        int c = in[0];
        int[] outs = {s.width(), s.width(), 2 * s.width(), 2 * s.width()};
        for (int i = 0; i < 4; i++) {
            Conv2d conv = seq.add(new Conv2d(c, outs[i], 3, 1, 1, bias, rng)).size() == 1
                    ? (Conv2d) seq.get(0) : null;
            if (conv != null) {
                conv.setInputGradient(false); // nothing needs the gradient of the images
            }
            if (!s.norm().equals("none")) {
                seq.add(ModelFactory.norm(s.norm(), outs[i], true, bn));
            }
            seq.add(ModelFactory.activation(s.activation()));
            c = outs[i];
            if (i % 2 == 1) {
                seq.add(new MaxPool2d(2, 2));
            }
        }
        seq.add(new Flatten());
        seq.add(new Linear(c * (in[1] / 4) * (in[2] / 4), s.classes(), true, rng));
        return seq;
    }

    static Module resnet(ModelSpec s, RandomGenerator rng, IntFunction<? extends Module> bn) {
        int w = s.width();
        boolean none = s.norm().equals("none");
        IntFunction<Module> norm = ch -> ModelFactory.norm(s.norm(), ch, true, bn);
        Sequential seq = new Sequential(new Conv2d(s.input()[0], w, 3, 1, 1, none, rng).setInputGradient(false));
        if (!none) {
            seq.add(norm.apply(w));
        }
        seq.add(new ReLU());
        seq.add(new BasicBlock(w, w, 1, norm, rng));
        seq.add(new BasicBlock(w, 2 * w, 2, norm, rng));
        seq.add(new BasicBlock(2 * w, 4 * w, 2, norm, rng));
        seq.add(new GlobalAvgPool2d());
        seq.add(new Linear(4 * w, s.classes(), true, rng));
        return seq;
    }
}
