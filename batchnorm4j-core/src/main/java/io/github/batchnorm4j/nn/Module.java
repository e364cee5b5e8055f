package io.github.batchnorm4j.nn;

import io.github.batchnorm4j.tensor.Tensor;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A layer or container with module-level backward: {@link #forward} keeps what its {@link #backward} needs,
 * {@link #backward} returns the gradient of the input and adds parameter gradients into
 * {@link Parameter#grad()}. Parameters, buffers and children are registered by name, so the state is addressed
 * with PyTorch's {@code state_dict} keys ({@code 0.weight}, {@code 1.running_mean}, ...).
 */
public abstract class Module {
    private final Map<String, Module> children = new LinkedHashMap<>();
    private final Map<String, Parameter> parameters = new LinkedHashMap<>();
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();
    private final Map<String, LongState> longBuffers = new LinkedHashMap<>();
    private boolean training = true;
    private boolean reuseBuffers;

    /** Computes the output for {@code input}; in training mode remembers what backward needs. */
    public abstract Tensor forward(Tensor input);

    /** Gradient of the input for the last forward; accumulates parameter gradients. */
    public abstract Tensor backward(Tensor gradOutput);

    /** Sets training mode here and in every child. Returns this. */
    public Module train(boolean mode) {
        training = mode;
        for (Module m : children.values()) {
            m.train(mode);
        }
        return this;
    }

    public Module train() {
        return train(true);
    }

    public Module eval() {
        return train(false);
    }

    public boolean isTraining() {
        return training;
    }

    /**
     * Opt-in buffer reuse, here and in every child (like {@link #train}). Off (the default), {@code forward} and
     * {@code backward} return tensors the caller owns: a later call never changes them, as in PyTorch and Keras.
     * On, a layer keeps the tensor it returned and fills it again on the next call with the same shape, so a
     * training loop allocates nothing per batch (the trainer, the reproduction runs and the benchmarks turn it on);
     * a result is then valid only until the next call on the same layer. Either way a layer keeps what its
     * backward needs (its input or output), so a caller must not modify a returned tensor in place before the
     * backward. The numbers are the same bit for bit. Returns this.
     */
    public Module reuseBuffers(boolean on) {
        reuseBuffers = on;
        for (Module m : children.values()) {
            m.reuseBuffers(on);
        }
        return this;
    }

    /** Whether this module reuses its result buffers ({@link #reuseBuffers}). */
    public boolean reusesBuffers() {
        return reuseBuffers;
    }

    protected final <M extends Module> M registerModule(String name, M module) {
        children.put(name, module);
        return module;
    }

    protected final Parameter registerParameter(String name, Tensor value) {
        Parameter p = new Parameter(value);
        parameters.put(name, p);
        return p;
    }

    protected final Tensor registerBuffer(String name, Tensor value) {
        buffers.put(name, value);
        return value;
    }

    protected final LongState registerLongBuffer(String name) {
        LongState s = new LongState();
        longBuffers.put(name, s);
        return s;
    }

    /** Direct children in registration order. */
    public Map<String, Module> children() {
        return Collections.unmodifiableMap(children);
    }

    /** All parameters of this module and its descendants, with dotted PyTorch names. */
    public Map<String, Parameter> namedParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        collect(this, "", out, m -> m.parameters);
        return out;
    }

    /** All float buffers (running statistics, ...) with dotted names. */
    public Map<String, Tensor> namedBuffers() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        collect(this, "", out, m -> m.buffers);
        return out;
    }

    /** All integer buffers ({@code num_batches_tracked}) with dotted names. */
    public Map<String, LongState> namedLongBuffers() {
        Map<String, LongState> out = new LinkedHashMap<>();
        collect(this, "", out, m -> m.longBuffers);
        return out;
    }

    /** Zeroes every parameter gradient. */
    public void zeroGrad() {
        for (Parameter p : namedParameters().values()) {
            p.zeroGrad();
        }
    }

    private static <T> void collect(Module m, String prefix, Map<String, T> out,
                                    java.util.function.Function<Module, Map<String, T>> own) {
        for (Map.Entry<String, T> e : own.apply(m).entrySet()) {
            out.put(prefix + e.getKey(), e.getValue());
        }
        for (Map.Entry<String, Module> c : m.children.entrySet()) {
            collect(c.getValue(), prefix + c.getKey() + ".", out, own);
        }
    }

    /**
     * Replaces the direct child registered as {@code name} by {@code replacement}, keeping its position, and
     * returns the old child. Used to convert layers in place ({@code freezeBatchNorm}) and to wrap layers for
     * observation. Containers that also keep children in fields or lists override this to update them (and call
     * {@code super}), so that forward and backward use the replacement.
     */
    public Module replaceChild(String name, Module replacement) {
        java.util.Objects.requireNonNull(replacement, "replacement");
        if (!children.containsKey(name)) {
            throw new IllegalArgumentException("Expected the name of a direct child " + children.keySet() + ", got '"
                    + name + "'");
        }
        return children.put(name, replacement);
    }
}
