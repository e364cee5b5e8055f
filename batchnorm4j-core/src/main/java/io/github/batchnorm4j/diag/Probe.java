package io.github.batchnorm4j.diag;

import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.tensor.Tensor;

/**
 * A transparent wrapper that lets callbacks observe one layer: it runs the wrapped module (its child
 * {@code inner}, looked up at each call so that probes can nest) and reports the input, output and gradients to
 * a {@link Listener}. Probes are installed only for the duration of a training step ({@link Probes}), because
 * the extra {@code inner} level would otherwise show in state-dict names.
 */
public final class Probe extends Module {
    /** What a probe reports; {@code name} is the dotted name of the wrapped layer in the model. */
    public interface Listener {
        default void onForward(String name, Module layer, Tensor input, Tensor output) {}

        default void onBackward(String name, Module layer, Tensor gradOutput, Tensor gradInput) {}
    }

    private final String name;
    private final Listener listener;

    Probe(String name, Module inner, Listener listener) {
        this.name = name;
        this.listener = listener;
        registerModule("inner", inner);
    }

    /** The wrapped module (possibly another probe). */
    public Module inner() {
        return children().get("inner");
    }

    /** The wrapped layer itself, through nested probes. */
    public Module layer() {
        Module m = inner();
        while (m instanceof Probe p) {
            m = p.inner();
        }
        return m;
    }

    @Override
    public Tensor forward(Tensor input) {
        Tensor out = inner().forward(input);
        listener.onForward(name, layer(), input, out);
        return out;
    }

    @Override
    public Tensor backward(Tensor gradOutput) {
        Tensor gradInput = inner().backward(gradOutput);
        listener.onBackward(name, layer(), gradOutput, gradInput);
        return gradInput;
    }

    /** The wrapped module's mode: a probe must not change what the diagnostics see. */
    @Override
    public boolean isTraining() {
        return inner().isTraining();
    }
}
