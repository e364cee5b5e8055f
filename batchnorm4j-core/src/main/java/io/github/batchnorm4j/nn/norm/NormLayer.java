package io.github.batchnorm4j.nn.norm;

import io.github.batchnorm4j.functional.Functional;
import io.github.batchnorm4j.functional.NormGradients;
import io.github.batchnorm4j.functional.NormResult;
import io.github.batchnorm4j.functional.NormSaved;
import io.github.batchnorm4j.functional.NormWorkspace;
import io.github.batchnorm4j.functional.RunningStats;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.Parameter;
import io.github.batchnorm4j.tensor.Tensor;

/**
 * What the normalization layers share: optional affine parameters ({@code weight} = gamma, init 1;
 * {@code bias} = beta, init 0) and the backward through the saved statistics. Subclasses only choose the
 * statistics (their geometry) and own their running state.
 *
 * <p>Buffers: the tensors {@code forward} and {@code backward} return are new for each call, unless the layer
 * opted into buffer reuse ({@link Module#reuseBuffers}): then they live in the layer's {@link NormWorkspace} and are
 * overwritten by the next call of the same kind with the same input shape, and a layer called again and again with
 * one shape allocates nothing. Statistics, scratch and the gamma/beta gradients are reused either way.
 */
abstract class NormLayer extends Module {
    private final Parameter weight;
    private final Parameter bias;
    private Tensor lastInput;
    private NormSaved saved;
    /** The output of the last forward when it had the fused ReLU epilogue (backward gates by it), else null. */
    private Tensor gate;
    private boolean gatedResidual;
    private Tensor residualGrad;
    /** Buffers reused across calls (statistics, outputs, gradients, layout scratch): see the class comment. */
    private final NormWorkspace workspace = new NormWorkspace();

    NormLayer(int[] affineShape, boolean affine) {
        this.weight = affine ? registerParameter("weight", Tensor.full(1f, affineShape)) : null;
        this.bias = affine ? registerParameter("bias", Tensor.zeros(affineShape)) : null;
    }

    /** Gamma, or null without affine parameters. */
    public Parameter weight() {
        return weight;
    }

    /** Beta, or null without affine parameters. */
    public Parameter bias() {
        return bias;
    }

    /**
     * Registers PyTorch's running-statistics buffers ({@code running_mean} 0, {@code running_var} 1,
     * {@code num_batches_tracked} 0) and returns them as the layer's {@link RunningStats}.
     */
    RunningStats registerRunningStats(int channels, Double momentum, RunningStats.VarianceRule rule) {
        return new RunningStats(registerBuffer("running_mean", Tensor.zeros(channels)),
                registerBuffer("running_var", Tensor.full(1f, channels)), registerLongBuffer("num_batches_tracked"),
                momentum, rule);
    }

    NormWorkspace workspace() {
        return workspace.reuseResults(reusesBuffers());
    }

    Tensor weightValue() {
        return weight == null ? null : weight.value();
    }

    Tensor biasValue() {
        return bias == null ? null : bias.value();
    }

    /**
     * Masked forward: the statistics (and the running update, count-weighted) are those of the positions where
     * {@code mask} is 1 (shape: x's without the channel dimension — {@code [N]} for {@code (N, C)},
     * {@code [N, L]} for {@code (N, C, L)}, {@code [N, H, W]} for images); the output is computed at every
     * position, and {@link #backward} is the exact gradient of that definition (masked positions get only the
     * direct term). A null mask is {@link #forward(Tensor)}.
     */
    public Tensor forward(Tensor x, Tensor mask) {
        return mask == null ? forward(x) : forwardMasked(x, mask);
    }

    /** The masked forward of this layer; refused by layers whose statistics do not support a mask. */
    Tensor forwardMasked(Tensor x, Tensor mask) {
        throw new IllegalArgumentException("Expected no mask for " + getClass().getSimpleName() + " (BatchNorm,"
                + " SyncBatchNorm, LayerNorm, GroupNorm and InstanceNorm take one), got a mask of shape "
                + mask.shapeString());
    }

    /** The saved statistics of the last forward (null before any). */
    NormSaved lastSaved() {
        return saved;
    }

    /** Records the forward so that backward can use it; returns the output. */
    Tensor remember(Tensor input, NormResult r) {
        return remember(input, r, false, false);
    }

    /**
     * The same for a forward with the fused ReLU epilogue when {@code relu} ({@code relu(norm(x) [+ residual])},
     * with a residual when {@code residual}): backward then gates the gradient by this output and writes the
     * residual's gradient ({@link #residualGradient()}).
     */
    Tensor remember(Tensor input, NormResult r, boolean relu, boolean residual) {
        this.lastInput = input;
        this.saved = r.saved();
        this.gate = relu ? r.output() : null;
        this.gatedResidual = residual;
        return r.output();
    }

    /**
     * The gradient of the residual from the last backward after a fused forward with a residual (see
     * {@link io.github.batchnorm4j.nn.ReluFusion#residualGradient}); null otherwise.
     */
    public Tensor residualGradient() {
        return gate == null || !gatedResidual ? null : residualGrad;
    }

    /**
     * Gradient of the input for the last forward (the input tensor must not have been modified since).
     * With batch statistics the gradient flows through the mean and variance; with running statistics it does not.
     */
    @Override
    public Tensor backward(Tensor gradOutput) {
        if (saved == null) {
            throw new IllegalStateException("backward called before forward on " + getClass().getSimpleName());
        }
        Tensor dr = null;
        if (gate != null && gatedResidual) {
            boolean keep = reusesBuffers() && residualGrad != null && residualGrad.sameShape(gate)
                    && residualGrad.format() == gate.format();
            dr = keep ? residualGrad : gate.zerosLike(); // every element is written
        }
        residualGrad = dr;
        // One call deep into the functional layer on purpose: the vector kernels below must stay within the JIT's
        // inlining depth, or their vectors are boxed.
        NormGradients g = Functional.normBackward(saved, lastInput, gate, gradOutput, weightValue(),
                weight != null, dr, workspace);
        if (weight != null) {
            weight.accumulate(g.weight());
            bias.accumulate(g.bias());
        }
        return g.input();
    }

    static void checkChannels(Tensor x, int expected) {
        if (x.rank() >= 2 && x.dim(1) != expected) {
            throw new IllegalArgumentException("Expected input with " + expected + " channels (dimension 1), got input"
                    + " of shape " + x.shapeString());
        }
    }
}
