package io.github.batchnorm4j.functional;

import io.github.batchnorm4j.kernel.NormGeometry;
import io.github.batchnorm4j.tensor.MemoryFormat;

/**
 * What a normalization forward keeps for its backward: the geometry, the statistics it normalised with
 * ({@code mean}, {@code invStd = 1/sqrt(var + eps)}, one per statistic) and whether they were batch statistics
 * (then the gradient flows through them) or fixed running statistics. {@code storage} is the memory format the
 * geometry addresses (GroupNorm, LayerNorm and InstanceNorm work on a contiguous copy of channels-last input).
 * {@code count} is the number of values behind each statistic (the whole group's when they were combined) and
 * {@code combine} the combine the backward's reductions go through (null: this process only).
 */
public record NormSaved(NormGeometry geometry, double[] mean, double[] invStd, boolean batchStats,
                        MemoryFormat storage, double count, StatsCombine combine) {

    /** Statistics of this process's values only. */
    public NormSaved(NormGeometry geometry, double[] mean, double[] invStd, boolean batchStats, MemoryFormat storage) {
        this(geometry, mean, invStd, batchStats, storage, geometry.count(), null);
    }
}
