package io.github.batchnorm4j.models;

import io.github.batchnorm4j.nn.Flatten;
import io.github.batchnorm4j.nn.Identity;
import io.github.batchnorm4j.nn.Linear;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.ReLU;
import io.github.batchnorm4j.nn.Sequential;
import io.github.batchnorm4j.nn.Sigmoid;
import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.nn.norm.GroupNorm;
import io.github.batchnorm4j.nn.norm.LayerNorm;
import java.util.function.IntFunction;
import java.util.random.RandomGenerator;

/**
 * Builds the training models as {@link Sequential}s whose state keys are those of the same {@code nn.Sequential} in
 * PyTorch ({@code tools/interop/models.py} builds the twin):
 * <ul>
 * <li>{@code mlp}: Flatten, three times [Linear(in, w), norm, activation], Linear(w, classes);</li>
 * <li>{@code cnn}: [conv3x3(c→w), norm, act] ×2, MaxPool 2x2, [conv3x3(→2w), norm, act] ×2, MaxPool 2x2, Flatten,
 *     Linear(2w·H/4·W/4, classes) (w = 32 on 28x28 gives the 3136→10 head);</li>
 * <li>{@code resnet}: conv3x3(c→w), norm, ReLU, BasicBlock(w, w), BasicBlock(w, 2w, stride 2),
 *     BasicBlock(2w, 4w, stride 2), global average pool, Linear(4w, classes).</li>
 * </ul>
 * With {@code norm none} no norm layer is inserted and linear/conv layers get a bias; with a norm they have none (the
 * norm's beta makes it redundant). Norms: {@code bn} BatchNorm; {@code ln} LayerNorm over the features (MLP) or
 * GroupNorm(1, C) over (C, H, W) with per-channel affine (convolutional nets); {@code gn} GroupNorm with the largest
 * of 8, 4, 2, 1 groups dividing the channels.
 */
public final class ModelFactory {
    private ModelFactory() {}

    public static Module build(ModelSpec spec, RandomGenerator rng) {
        return build(spec, rng, null);
    }

    /**
     * Builds {@code spec}; {@code bnFactory}, when not null, makes the BatchNorm layers for {@code norm bn} (the
     * benchmark passes a timed subclass), called with the channel count.
     */
    public static Module build(ModelSpec spec, RandomGenerator rng, IntFunction<? extends Module> bnFactory) {
        return switch (spec.model()) {
            case "mlp" -> mlp(spec, rng, bnFactory);
            case "cnn" -> ConvNets.cnn(spec, rng, bnFactory);
            default -> ConvNets.resnet(spec, rng, bnFactory);
        };
    }

    /** The number of GroupNorm groups used for {@code channels}: the largest of 8, 4, 2, 1 dividing it. */
    public static int groups(int channels) {
        for (int g : new int[] {8, 4, 2}) {
            if (channels % g == 0) {
                return g;
            }
        }
        return 1;
    }

    static Module norm(String kind, int channels, boolean spatial, IntFunction<? extends Module> bnFactory) {
        return switch (kind) {
            case "bn" -> bnFactory != null ? bnFactory.apply(channels) : new BatchNorm(channels);
            case "ln" -> spatial ? new GroupNorm(1, channels) : new LayerNorm(channels);
            case "gn" -> new GroupNorm(groups(channels), channels);
            default -> new Identity();
        };
    }

    static Module activation(String kind) {
        return kind.equals("relu") ? new ReLU() : new Sigmoid();
    }

    private static Module mlp(ModelSpec s, RandomGenerator rng, IntFunction<? extends Module> bn) {
        int[] in = s.input();
        boolean bias = s.norm().equals("none");
        Sequential seq = new Sequential(new Flatten());
        int features = in[0] * in[1] * in[2];
        for (int i = 0; i < 3; i++) {
            seq.add(new Linear(features, s.width(), bias, rng));
            if (!s.norm().equals("none")) {
                seq.add(norm(s.norm(), s.width(), false, bn));
            }
            seq.add(activation(s.activation()));
            features = s.width();
        }
        seq.add(new Linear(features, s.classes(), true, rng));
        // Nothing needs the gradient of the input images: skip that GEMM, as PyTorch does for inputs without grad.
        ((Linear) seq.get(1)).setInputGradient(false);
        return seq;
    }
}
