package io.github.batchnorm4j.functional;

import io.github.batchnorm4j.kernel.NormGeometry;
import io.github.batchnorm4j.tensor.MemoryFormat;

/**
 * What a normalization forward keeps for its backward: the geometry, the statistics it normalised with
 * ({@code mean}, {@code invStd = 1/sqrt(var + eps)}, one per statistic) and whether they were batch statistics
 * (then the gradient flows through them) or fixed running statistics. {@code storage} is the memory format the
 * geometry addresses (GroupNorm, LayerNorm and InstanceNorm work on a contiguous copy of channels-last input).
 * {@code count} is the number of values behind each statistic (the whole group's when they were combined) and
 * {@code combine} the combine the backward's reductions go through (null: this process only). {@code mask}, when
 * non-null, says the statistics were those of the valid positions only.
 */
public record NormSaved(NormGeometry geometry, double[] mean, double[] invStd, boolean batchStats,
                        MemoryFormat storage, double count, StatsCombine combine, Mask mask) {

    /**
     * The mask of a masked forward: {@code valid} of shape {@code [N, S...]} (see
     * {@link io.github.batchnorm4j.kernel.MaskedNormKernels}), the input's channel count and spatial size, and the
     * valid values behind each statistic ({@code counts[k]}, the group's when combined).
     */
    public record Mask(float[] valid, int channels, int spatial, double[] counts) {}

    /** Statistics of this process's values only. */
    public NormSaved(NormGeometry geometry, double[] mean, double[] invStd, boolean batchStats, MemoryFormat storage) {
        this(geometry, mean, invStd, batchStats, storage, geometry.count(), null, null);
    }

    /** Statistics of all positions, behind {@code count} values each, combined through {@code combine}. */
    public NormSaved(NormGeometry geometry, double[] mean, double[] invStd, boolean batchStats, MemoryFormat storage,
                     double count, StatsCombine combine) {
        this(geometry, mean, invStd, batchStats, storage, count, combine, null);
    }
}
