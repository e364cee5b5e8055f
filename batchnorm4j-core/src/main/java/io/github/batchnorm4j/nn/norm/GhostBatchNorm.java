package io.github.batchnorm4j.nn.norm;

import io.github.batchnorm4j.functional.Functional;
import io.github.batchnorm4j.functional.NormGradients;
import io.github.batchnorm4j.functional.NormResult;
import io.github.batchnorm4j.functional.NormSaved;
import io.github.batchnorm4j.functional.NormWorkspace;
import io.github.batchnorm4j.tensor.Tensor;

/**
 * Ghost Batch Normalization (Hoffer, Hubara &amp; Soudry, 2017): in training, the batch of {@code N} samples is
 * split, in order, into virtual ("ghost") batches of {@code ghostBatchSize} samples, and each is normalised
 * with its own statistics exactly as {@link BatchNorm} would normalise it alone. When {@code N} is not a
 * multiple, the last virtual batch holds the remaining {@code N mod ghostBatchSize} samples; a virtual batch
 * with a single value per channel is rejected (its variance is undefined), before any state changes.
 *
 * <p><b>Running statistics:</b> one BatchNorm update per virtual batch, applied in order, so a batch of
 * {@code v} virtual batches is exactly {@code v} consecutive BatchNorm training steps on the slices:
 * {@code running = (1 - m) * running + m * stats_j} for {@code j = 1..v}, and {@code num_batches_tracked} grows
 * by {@code v} (with {@code momentum = null}, {@code m = 1 / num_batches_tracked} per virtual batch). With a
 * constant momentum the batch therefore moves the running statistics by {@code 1 - (1 - m)^v} in total, as if
 * each virtual batch were a step; choose the momentum per virtual batch. Eval mode is BatchNorm's eval.
 * With {@code ghostBatchSize >= N} it is BatchNorm exactly.
 */
public class GhostBatchNorm extends BatchNorm {
    private final int ghostBatchSize;
    private Tensor lastInput;
    private int lastVirtualBatches;
    // Per virtual batch j, reused from call to call (grown when a batch has more virtual batches): the copy of
    // its samples, of their gradient, BatchNorm's workspace (statistics, output, gradients) and saved statistics.
    private Tensor[] slices = new Tensor[0];
    private Tensor[] gradSlices = new Tensor[0];
    private NormWorkspace[] sliceWorkspaces = new NormWorkspace[0];
    private NormSaved[] saved = new NormSaved[0];

    public GhostBatchNorm(int numFeatures, int ghostBatchSize) {
        this(numFeatures, ghostBatchSize, NormOptions.BATCH_NORM);
    }

    public GhostBatchNorm(int numFeatures, int ghostBatchSize, NormOptions options) {
        super(numFeatures, options);
        if (ghostBatchSize <= 0) {
            throw new IllegalArgumentException("Expected ghost_batch_size > 0, got ghost_batch_size=" + ghostBatchSize);
        }
        this.ghostBatchSize = ghostBatchSize;
    }

    public int ghostBatchSize() {
        return ghostBatchSize;
    }

    /** Number of virtual batches a batch of {@code n} samples is split into. */
    public int virtualBatches(int n) {
        return (n + ghostBatchSize - 1) / ghostBatchSize;
    }

    @Override
    public Tensor forward(Tensor x) {
        if (!useBatchStatistics(isTraining(), options().trackRunningStats())) {
            lastInput = null;
            return super.forward(x);
        }
        Functional.checkRank(x, 2, 5, "[N, C, ...]");
        checkChannels(x, numFeatures());
        int n = x.dim(0);
        int v = virtualBatches(n);
        int lastSize = n - (v - 1) * ghostBatchSize;
        // Checked before the first virtual batch updates anything: a rejected batch changes no state.
        if (n > 0 && (long) lastSize * x.spatialSize() == 1) {
            throw new IllegalArgumentException("Expected more than 1 value per channel in every virtual batch when "
                    + "training, got a last virtual batch of 1 sample (batch " + n + ", ghost_batch_size "
                    + ghostBatchSize + ") for input size " + x.shapeString());
        }
        boolean update = isTraining() && options().trackRunningStats();
        Tensor rm = update ? runningMean() : null;
        Tensor rv = update ? runningVar() : null;
        Tensor y = workspace().output(x); // every element is written: the virtual batches tile the batch
        grow(v);
        for (int j = 0; j < v; j++) {
            // Each virtual batch runs BatchNorm's own training forward on a copy of its samples, so that the
            // sequential-BatchNorm semantics hold bit for bit whatever the kernels do inside.
            Tensor xs = slice(x, j, slices);
            double factor = 0;
            if (update) {
                Double mom = options().momentum();
                factor = mom == null ? 1.0 / (numBatchesTracked() + 1) : mom;
            }
            NormResult r = Functional.batchNorm(xs, rm, rv, weightValue(), biasValue(), true, factor,
                    options().eps(), sliceWorkspaces[j]);
            if (update) {
                setNumBatchesTracked(numBatchesTracked() + 1);
            }
            System.arraycopy(r.output().data(), 0, y.data(), offset(x, j), xs.numel());
            saved[j] = r.saved();
        }
        lastInput = x;
        lastVirtualBatches = v;
        return y;
    }

    /** Makes room for {@code v} virtual batches (each keeps its buffers from call to call). */
    private void grow(int v) {
        if (sliceWorkspaces.length < v) {
            int old = sliceWorkspaces.length;
            slices = java.util.Arrays.copyOf(slices, v);
            gradSlices = java.util.Arrays.copyOf(gradSlices, v);
            saved = java.util.Arrays.copyOf(saved, v);
            sliceWorkspaces = java.util.Arrays.copyOf(sliceWorkspaces, v);
            for (int j = old; j < v; j++) {
                sliceWorkspaces[j] = new NormWorkspace();
            }
        }
    }

    /**
     * Samples {@code [j * K, min((j + 1) * K, N))} of x, copied (whole samples are contiguous in both formats)
     * into {@code buffers[j]}, which is replaced when it does not have the slice's shape and format.
     */
    private Tensor slice(Tensor x, int j, Tensor[] buffers) {
        int n = x.dim(0);
        int from = j * ghostBatchSize;
        int size = Math.min(ghostBatchSize, n - from);
        Tensor b = buffers[j];
        if (b == null || !isSlice(b, x, size)) {
            int[] shape = x.shape();
            shape[0] = size;
            b = Tensor.zeros(x.format(), shape);
            buffers[j] = b;
        }
        System.arraycopy(x.data(), offset(x, j), b.data(), 0, b.numel());
        return b;
    }

    /** Whether {@code b} is laid out as {@code size} samples of x. */
    private static boolean isSlice(Tensor b, Tensor x, int size) {
        if (b.format() != x.format() || b.rank() != x.rank() || b.dim(0) != size) {
            return false;
        }
        for (int i = 1; i < x.rank(); i++) {
            if (b.dim(i) != x.dim(i)) {
                return false;
            }
        }
        return true;
    }

    private int offset(Tensor x, int j) {
        return j * ghostBatchSize * (x.numel() / x.dim(0));
    }

    /**
     * The concatenation of BatchNorm's input gradients of the virtual batches; the affine gradients are added
     * once per virtual batch, as consecutive BatchNorm backwards would add them.
     */
    @Override
    public Tensor backward(Tensor gradOutput) {
        if (lastInput == null) {
            return super.backward(gradOutput);
        }
        Tensor x = lastInput;
        Functional.checkGradientShape(x, gradOutput);
        Tensor dy = workspace().gradientIn(gradOutput, x.format());
        Tensor dx = workspace().gradInput(x); // every element is written
        boolean affine = weight() != null;
        for (int j = 0; j < lastVirtualBatches; j++) {
            NormGradients g = Functional.normBackward(saved[j], slices[j], slice(dy, j, gradSlices), weightValue(),
                    affine, sliceWorkspaces[j]);
            System.arraycopy(g.input().data(), 0, dx.data(), offset(x, j), slices[j].numel());
            if (affine) {
                weight().accumulate(g.weight());
                bias().accumulate(g.bias());
            }
        }
        return dx;
    }
}
