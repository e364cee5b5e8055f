package io.github.batchnorm4j.models;

import io.github.batchnorm4j.nn.Module;
import java.util.function.IntFunction;
import java.util.random.RandomGenerator;

final class ConvNets {
    static Module cnn(ModelSpec s, RandomGenerator rng, IntFunction<? extends Module> bn) {
        throw new UnsupportedOperationException("TEMP");
    }

    static Module resnet(ModelSpec s, RandomGenerator rng, IntFunction<? extends Module> bn) {
        throw new UnsupportedOperationException("TEMP");
    }
}
