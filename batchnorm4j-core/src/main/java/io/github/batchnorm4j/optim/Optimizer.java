package io.github.batchnorm4j.optim;

import io.github.batchnorm4j.nn.Parameter;
import io.github.batchnorm4j.tensor.Tensor;
import java.io.IOException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A first-order optimizer over named parameters (the model's {@code namedParameters()}). {@link #step()} applies
 * one update from the accumulated gradients at the current learning rate ({@link #setLr}, set by the trainer from
 * an {@link LrSchedule}). Weight decay is skipped for the names in {@code noDecay} (see {@link NoDecay}).
 *
 * <p>The per-parameter state (momentum buffers, moments) is exposed by name as
 * {@code <parameter>.<slot>} tensors so that checkpoints can save and restore it exactly.
 */
public abstract class Optimizer {
    protected final Map<String, Parameter> params;
    protected final Set<String> noDecay;
    protected final double weightDecay;
    private double lr;
    private long steps;

    protected Optimizer(Map<String, Parameter> params, double lr, double weightDecay, Set<String> noDecay) {
        if (!(lr >= 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("Expected a learning rate >= 0, got " + lr);
        }
        if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
            throw new IllegalArgumentException("Expected weight decay >= 0, got " + weightDecay);
        }
        for (String n : noDecay) {
            if (!params.containsKey(n)) {
                throw new IllegalArgumentException("Expected no-decay names among the parameters, got unknown '"
                        + n + "'");
            }
        }
        this.params = new LinkedHashMap<>(params);
        this.lr = lr;
        this.weightDecay = weightDecay;
        this.noDecay = Set.copyOf(noDecay);
    }

    /** Applies one update to every parameter; counts the step. */
    public final void step() {
        steps++;
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            double wd = noDecay.contains(e.getKey()) ? 0 : weightDecay;
            update(e.getKey(), e.getValue(), wd, steps);
        }
    }

    /** Updates one parameter; {@code t} is the 1-based step count (Adam's bias correction needs it). */
    protected abstract void update(String name, Parameter p, double weightDecay, long t);

    public void zeroGrad() {
        for (Parameter p : params.values()) {
            p.zeroGrad();
        }
    }

    public double lr() {
        return lr;
    }

    public void setLr(double lr) {
        this.lr = lr;
    }

    /** Number of steps taken (restored from checkpoints). */
    public long steps() {
        return steps;
    }

    /** A short name stored in checkpoints ({@code sgd}, {@code adam}, {@code adamw}). */
    public abstract String kind();

    /** The state tensors by {@code <parameter>.<slot>} name (live views, not copies); empty before the first step. */
    public abstract Map<String, Tensor> state();

    /**
     * Restores the state written by {@link #state()} and the step count. Every slot of every parameter must be
     * present with the parameter's shape, or nothing at all (a checkpoint taken before the first step).
     */
    public void loadState(Map<String, float[]> state, long stepCount) throws IOException {
        Map<String, Tensor> mine = slotsFor(stepCount > 0);
        for (String k : state.keySet()) {
            if (!mine.containsKey(k)) {
                throw new IOException("Expected optimizer state " + mine.keySet() + ", got unexpected '" + k + "'");
            }
        }
        for (Map.Entry<String, Tensor> e : mine.entrySet()) {
            float[] src = state.get(e.getKey());
            if (src == null) {
                throw new IOException("Expected optimizer state '" + e.getKey() + "', got none");
            }
            if (src.length != e.getValue().numel()) {
                throw new IOException("Expected " + e.getValue().numel() + " values for optimizer state '"
                        + e.getKey() + "', got " + src.length);
            }
            System.arraycopy(src, 0, e.getValue().data(), 0, src.length);
        }
        this.steps = stepCount;
    }

    /** Allocates (when {@code allocate}) and returns the state slots; empty map when not allocating. */
    protected abstract Map<String, Tensor> slotsFor(boolean allocate);

    protected static Map<String, Tensor> view(Map<String, Tensor> m) {
        return Collections.unmodifiableMap(m);
    }
}
