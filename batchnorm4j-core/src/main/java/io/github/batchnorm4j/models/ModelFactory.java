package io.github.batchnorm4j.models;

import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.Sequential;
import io.github.batchnorm4j.train.NormVariantConfig;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.IntFunction;
import java.util.random.RandomGenerator;

/**
 * Builds the built-in training models, the model files {@code mlp.json}, {@code cnn.json} and {@code resnet.json}
 * shipped as resources ({@link ModelFile#builtin}), as {@link Sequential}s whose state keys are those of the same
 * {@code nn.Sequential} in PyTorch ({@code tools/interop/models.py} builds the twin):
 * <ul>
 * <li>{@code mlp}: Flatten, three times [Linear(in, w), norm, activation], Linear(w, classes);</li>
 * <li>{@code cnn}: [conv3x3(c→w), norm, act] ×2, MaxPool 2x2, [conv3x3(→2w), norm, act] ×2, MaxPool 2x2, Flatten,
 *     Linear(2w·H/4·W/4, classes) (w = 32 on 28x28 gives the 3136→10 head);</li>
 * <li>{@code resnet}: conv3x3(c→w), norm, ReLU, BasicBlock(w, w), BasicBlock(w, 2w, stride 2),
 *     BasicBlock(2w, 4w, stride 2), global average pool, Linear(4w, classes).</li>
 * </ul>
 * With {@code norm none} no norm layer is inserted and linear/conv layers get a bias; with a norm they have none (the
 * norm's beta makes it redundant). Norms: {@code bn} BatchNorm; {@code brn} BatchRenorm; {@code ghost}
 * GhostBatchNorm (settings from the factory, else {@link NormVariantConfig#DEFAULT}); {@code ln} LayerNorm over
 * the features (MLP) or GroupNorm(1, C) over (C, H, W) with per-channel affine (convolutional nets); {@code gn}
 * GroupNorm with the largest of 8, 4, 2, 1 groups dividing the channels.
 */
public final class ModelFactory {
    private ModelFactory() {}

    public static Module build(ModelSpec spec, RandomGenerator rng) {
        return build(spec, rng, null);
    }

    /**
     * Builds {@code spec}; {@code bnFactory}, when not null, makes the BatchNorm layers for {@code norm bn},
     * {@code brn} or {@code ghost} (the benchmark passes a timed subclass), called with the channel count.
     */
    public static Module build(ModelSpec spec, RandomGenerator rng, IntFunction<? extends Module> bnFactory) {
        return modelFile(spec).build(new ModelBuilder.Options(spec.input(), spec.classes(), rng,
                NormVariantConfig.DEFAULT, bnFactory)).model();
    }

    /** The built-in model file of {@code spec} with its variables and input filled in. */
    public static ModelFile modelFile(ModelSpec spec) {
        return ModelFile.builtin(spec.model()).withVariables(variables(spec.norm(), spec.activation(), spec.width(),
                spec.classes())).withInput(spec.input());
    }

    /** The variables of the built-in model files ({@code ${norm}}, {@code ${activation}}, ...). */
    public static Map<String, Object> variables(String norm, String activation, int width, int classes) {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("norm", norm);
        v.put("activation", activation);
        v.put("width", (long) width);
        v.put("classes", (long) classes);
        return v;
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
}
