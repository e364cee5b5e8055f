package io.github.batchnorm4j.optim;

import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.nn.norm.GroupNorm;
import io.github.batchnorm4j.nn.norm.InstanceNorm;
import io.github.batchnorm4j.nn.norm.LayerNorm;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Chooses the parameters exempt from weight decay: the affine gamma/beta of every normalization layer and every
 * parameter named {@code bias}. Decaying gamma towards 0 shrinks a normalised activation and biases carry no
 * scale, so the usual recipe (e.g. Goyal et al., 2017) leaves both alone.
 */
public final class NoDecay {
    private NoDecay() {}

    /** Names, as in {@code model.namedParameters()}, of norm-layer parameters and biases. */
    public static Set<String> normAndBias(Module model) {
        Set<String> out = new LinkedHashSet<>();
        collect(model, "", out);
        return out;
    }

    private static void collect(Module m, String prefix, Set<String> out) {
        boolean norm = m instanceof BatchNorm || m instanceof LayerNorm || m instanceof GroupNorm
                || m instanceof InstanceNorm;
        for (Map.Entry<String, ?> e : m.namedParameters().entrySet()) {
            String name = e.getKey();
            if (name.contains(".")) {
                continue; // belongs to a child, handled there
            }
            if (norm || name.equals("bias")) {
                out.add(prefix + name);
            }
        }
        for (Map.Entry<String, Module> c : m.children().entrySet()) {
            collect(c.getValue(), prefix + c.getKey() + ".", out);
        }
    }
}
