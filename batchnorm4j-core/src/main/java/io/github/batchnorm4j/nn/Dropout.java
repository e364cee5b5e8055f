package io.github.batchnorm4j.nn;

import io.github.batchnorm4j.tensor.Tensor;
import java.util.random.RandomGenerator;

/**
 * Inverted dropout: in training each element is kept with probability {@code 1 - p} and scaled by
 * {@code 1 / (1 - p)} (zeroed otherwise; all zero when {@code p = 1}); in eval mode it is the identity. The mask
 * is drawn from {@code rng} in element order, one {@code nextDouble()} per element, so a seed fixes it.
 */
public final class Dropout extends Module {
    private final double p;
    private final RandomGenerator rng;
    private boolean freezeMask;
    private Tensor mask;
    private Tensor output;
    private Tensor gradInput;
    private boolean lastTraining;

    public Dropout(double p, RandomGenerator rng) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("Expected dropout probability in [0, 1], got p=" + p);
        }
        this.p = p;
        this.rng = java.util.Objects.requireNonNull(rng, "rng");
    }

    public double p() {
        return p;
    }

    /**
     * With {@code true}, later training forwards reuse the last mask (when the shape matches) instead of drawing a
     * new one: the function becomes deterministic, which gradient checks need.
     */
    public Dropout freezeMask(boolean freeze) {
        this.freezeMask = freeze;
        return this;
    }

    /** The last mask (0 or {@code 1/(1-p)} per element), or null before the first training forward. */
    public Tensor mask() {
        return mask;
    }

    @Override
    public Tensor forward(Tensor x) {
        lastTraining = isTraining();
        if (!lastTraining) {
            output = x;
            return x;
        }
        boolean reuse = freezeMask && mask != null && java.util.Arrays.equals(mask.shape(), x.shape());
        if (!reuse) {
            mask = Buffers.ensureLike(mask, x);
            float scale = p == 1 ? 0f : (float) (1.0 / (1.0 - p));
            float[] m = mask.data();
            for (int i = 0; i < m.length; i++) {
                m[i] = rng.nextDouble() < p ? 0f : scale;
            }
        }
        output = Buffers.resultLike(this, output == x ? null : output, x);
        float[] xs = x.data();
        float[] m = mask.data();
        float[] y = output.data();
        for (int i = 0; i < y.length; i++) {
            y[i] = xs[i] * m[i];
        }
        return output;
    }

    @Override
    public Tensor backward(Tensor gradOutput) {
        Buffers.checkGrad(this, output, gradOutput);
        if (!lastTraining) {
            return gradOutput;
        }
        Tensor dy = gradOutput.to(mask.format());
        gradInput = Buffers.resultLike(this, gradInput, mask);
        float[] g = dy.data();
        float[] m = mask.data();
        float[] dx = gradInput.data();
        for (int i = 0; i < dx.length; i++) {
            dx[i] = g[i] * m[i];
        }
        return gradInput;
    }

    @Override
    public String toString() {
        return "Dropout(p=" + p + ")";
    }
}
