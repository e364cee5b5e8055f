package io.github.batchnorm4j.nn.norm;

import io.github.batchnorm4j.functional.Functional;

/**
 * Options of a normalization layer, validated on construction.
 *
 * @param eps               added to the variance before the square root; must be &gt; 0
 * @param momentum          weight of the <em>new</em> batch in the running update
 *                          {@code running = (1 - momentum) * running + momentum * batch} (PyTorch's convention;
 *                          Keras and ONNX use {@code 1 - momentum}); {@code null} means a cumulative average,
 *                          {@code momentum = 1 / numBatchesTracked}
 * @param affine            learn a per-channel gamma (init 1) and beta (init 0)
 * @param trackRunningStats keep running mean/variance buffers and use them in eval mode
 */
public record NormOptions(double eps, Double momentum, boolean affine, boolean trackRunningStats) {
    /** BatchNorm's defaults: eps 1e-5, momentum 0.1, affine, running statistics tracked. */
    public static final NormOptions BATCH_NORM = new NormOptions(1e-5, 0.1, true, true);
    /** InstanceNorm's defaults (as PyTorch): no affine, no running statistics. */
    public static final NormOptions INSTANCE_NORM = new NormOptions(1e-5, 0.1, false, false);

    public NormOptions {
        Functional.checkEps(eps);
        if (momentum != null) {
            Functional.checkMomentum(momentum);
        }
    }

    public NormOptions withEps(double newEps) {
        return new NormOptions(newEps, momentum, affine, trackRunningStats);
    }

    public NormOptions withMomentum(Double newMomentum) {
        return new NormOptions(eps, newMomentum, affine, trackRunningStats);
    }

    public NormOptions withAffine(boolean newAffine) {
        return new NormOptions(eps, momentum, newAffine, trackRunningStats);
    }

    public NormOptions withTrackRunningStats(boolean track) {
        return new NormOptions(eps, momentum, affine, track);
    }
}
