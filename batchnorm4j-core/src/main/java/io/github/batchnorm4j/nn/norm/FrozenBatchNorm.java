package io.github.batchnorm4j.nn.norm;

import io.github.batchnorm4j.functional.Functional;
import io.github.batchnorm4j.functional.NormResult;
import io.github.batchnorm4j.functional.NormSaved;
import io.github.batchnorm4j.functional.NormWorkspace;
import io.github.batchnorm4j.nn.LongState;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.Map;

/**
 * BatchNorm with everything fixed: {@code y = (x - running_mean) / sqrt(running_var + eps) * weight + bias} per
 * channel, in training mode as in eval mode, for fine-tuning with small batches (as torchvision's
 * {@code FrozenBatchNorm2d}). {@code weight}, {@code bias}, {@code running_mean} and {@code running_var} are
 * buffers, not parameters, so no optimizer changes them; the output equals a BatchNorm's eval output bit for
 * bit. The backward gives only the input gradient {@code dx = dy * weight / sqrt(running_var + eps)}.
 * {@code eps} is the source layer's (always &gt; 0, never dropped). {@code num_batches_tracked} is kept (copied,
 * never incremented) so that the state keys are exactly BatchNorm's and checkpoints load either way. As the other
 * normalization layers, its results are new per call unless it opted into buffer reuse ({@link #reuseBuffers}).
 */
public class FrozenBatchNorm extends Module {
    private final int numFeatures;
    private final double eps;
    private final Tensor weight;
    private final Tensor bias;
    private final Tensor runningMean;
    private final Tensor runningVar;
    private final LongState numBatchesTracked;
    private Tensor lastInput;
    private NormSaved saved;
    /** The output, input gradient and statistics buffers, reused by every call (overwritten: copy to keep). */
    private final NormWorkspace workspace = new NormWorkspace();

    /** Identity statistics (mean 0, variance 1, weight 1, bias 0); load a state to use it. */
    public FrozenBatchNorm(int numFeatures, double eps) {
        Functional.checkEps(eps);
        this.numFeatures = BatchNorm.checkFeatures(numFeatures);
        this.eps = eps;
        this.weight = registerBuffer("weight", Tensor.full(1f, numFeatures));
        this.bias = registerBuffer("bias", Tensor.zeros(numFeatures));
        this.runningMean = registerBuffer("running_mean", Tensor.zeros(numFeatures));
        this.runningVar = registerBuffer("running_var", Tensor.full(1f, numFeatures));
        this.numBatchesTracked = registerLongBuffer("num_batches_tracked");
    }

    /**
     * A frozen copy of {@code bn}'s eval-mode function (its affine, or 1 and 0 without one, its running
     * statistics and eps). The values are copied: later changes to {@code bn} do not affect the copy.
     */
    public static FrozenBatchNorm from(BatchNorm bn, String name) {
        if (!bn.options().trackRunningStats()) {
            throw new IllegalArgumentException("Expected a BatchNorm with running statistics to freeze, got '" + name
                    + "' with track_running_stats=false");
        }
        FrozenBatchNorm f = new FrozenBatchNorm(bn.numFeatures(), bn.options().eps());
        int c = bn.numFeatures();
        if (bn.weight() != null) {
            System.arraycopy(bn.weight().data(), 0, f.weight.data(), 0, c);
            System.arraycopy(bn.bias().data(), 0, f.bias.data(), 0, c);
        }
        System.arraycopy(bn.runningMean().data(), 0, f.runningMean.data(), 0, c);
        System.arraycopy(bn.runningVar().data(), 0, f.runningVar.data(), 0, c);
        f.numBatchesTracked.set(bn.numBatchesTracked());
        f.train(bn.isTraining());
        return f;
    }

    /**
     * Replaces, in place, every {@link BatchNorm} (including {@link BatchRenorm} and {@link GhostBatchNorm}, whose
     * eval functions are BatchNorm's) in the tree under {@code model} by its {@link FrozenBatchNorm}, and returns
     * the model; when {@code model} itself is a BatchNorm, returns its frozen copy. State keys stay the same;
     * {@code weight}/{@code bias} become buffers, so the optimizer must be created after freezing.
     *
     * @throws IllegalArgumentException naming the first layer without running statistics (nothing is changed)
     */
    public static Module freezeBatchNorm(Module model) {
        if (model instanceof BatchNorm bn) {
            return from(bn, "");
        }
        checkFreezable(model, "");
        replaceIn(model);
        return model;
    }

    private static void checkFreezable(Module m, String prefix) {
        for (Map.Entry<String, Module> e : m.children().entrySet()) {
            String name = prefix + e.getKey();
            if (e.getValue() instanceof BatchNorm bn) {
                if (!bn.options().trackRunningStats()) {
                    throw new IllegalArgumentException("Expected BatchNorm layers with running statistics to freeze,"
                            + " got '" + name + "' with track_running_stats=false");
                }
            } else {
                checkFreezable(e.getValue(), name + ".");
            }
        }
    }

    private static void replaceIn(Module m) {
        for (Map.Entry<String, Module> e : new java.util.LinkedHashMap<>(m.children()).entrySet()) {
            if (e.getValue() instanceof BatchNorm bn) {
                m.replaceChild(e.getKey(), from(bn, e.getKey()));
            } else {
                replaceIn(e.getValue());
            }
        }
    }

    @Override
    public Tensor forward(Tensor x) {
        Functional.checkRank(x, 2, 5, "[N, C, ...]");
        NormLayer.checkChannels(x, numFeatures);
        // Always the running statistics, whatever the mode: that is what "frozen" means.
        NormResult r = Functional.batchNorm(x, runningMean, runningVar, weight, bias, false, 0, eps,
                workspace.reuseResults(reusesBuffers()));
        lastInput = x;
        saved = r.saved();
        return r.output();
    }

    @Override
    public Tensor backward(Tensor gradOutput) {
        if (saved == null) {
            throw new IllegalStateException("backward called before forward on FrozenBatchNorm");
        }
        return Functional.normBackward(saved, lastInput, null, gradOutput, weight, false, null,
                workspace.reuseResults(reusesBuffers())).input();
    }

    public int numFeatures() {
        return numFeatures;
    }

    public double eps() {
        return eps;
    }

    public Tensor weight() {
        return weight;
    }

    public Tensor bias() {
        return bias;
    }

    public Tensor runningMean() {
        return runningMean;
    }

    public Tensor runningVar() {
        return runningVar;
    }

    /** The source layer's count, kept for state-dict compatibility (a frozen layer never counts). */
    public long numBatchesTracked() {
        return numBatchesTracked.get();
    }
}
