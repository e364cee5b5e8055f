package io.github.batchnorm4j.nn.norm;

import io.github.batchnorm4j.functional.Functional;
import io.github.batchnorm4j.functional.VirtualBatches;
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
 *
 * <p><b>Synchronized</b> ({@link SyncBatchNorm#convert}): the virtual batches are those of the global batch (all
 * ranks' rows in rank order), so a virtual batch may span ranks; statistics, running updates and gradients are
 * exactly those of one process with the global batch ({@link VirtualBatches}).
 */
public class GhostBatchNorm extends BatchNorm {
    private final VirtualBatches batches;
    private boolean lastTraining;

    public GhostBatchNorm(int numFeatures, int ghostBatchSize) {
        this(numFeatures, ghostBatchSize, NormOptions.BATCH_NORM);
    }

    public GhostBatchNorm(int numFeatures, int ghostBatchSize, NormOptions options) {
        super(numFeatures, options);
        this.batches = new VirtualBatches(ghostBatchSize);
    }

    public int ghostBatchSize() {
        return batches.size();
    }

    /** Number of virtual batches a batch of {@code n} samples is split into. */
    public int virtualBatches(int n) {
        return batches.virtualBatches(n);
    }

    @Override
    public Tensor forward(Tensor x) {
        lastTraining = false;
        if (!useBatchStatistics(isTraining(), options().trackRunningStats())) {
            return super.forward(x);
        }
        Functional.checkRank(x, 2, 5, "[N, C, ...]");
        checkChannels(x, numFeatures());
        Tensor y = batches.forward(x, weightValue(), biasValue(), isTraining() ? runningStats() : null,
                options().eps(), isTraining() ? combine() : null, workspace());
        lastTraining = true;
        return y;
    }

    /**
     * The concatenation of BatchNorm's input gradients of the virtual batches; the affine gradients are added
     * once per virtual batch, as consecutive BatchNorm backwards would add them.
     */
    /** A mask would change the statistics this layer's r/d or virtual batches are defined by: refused. */
    @Override
    Tensor forwardMasked(Tensor x, Tensor mask) {
        throw new IllegalArgumentException("Expected no mask for GhostBatchNorm (BatchNorm, SyncBatchNorm, LayerNorm,"
                + " GroupNorm and InstanceNorm take one), got a mask of shape " + mask.shapeString());
    }

    @Override
    public Tensor backward(Tensor gradOutput) {
        if (!lastTraining) {
            return super.backward(gradOutput);
        }
        boolean affine = weight() != null;
        return batches.backward(gradOutput, weightValue(), affine ? weight().grad().data() : null,
                affine ? bias().grad().data() : null, workspace());
    }
}
