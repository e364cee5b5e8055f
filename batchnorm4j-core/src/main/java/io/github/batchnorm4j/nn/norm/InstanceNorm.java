package io.github.batchnorm4j.nn.norm;

import io.github.batchnorm4j.functional.Functional;
import io.github.batchnorm4j.functional.RunningStats;
import io.github.batchnorm4j.tensor.Tensor;

/**
 * Instance Normalization (Ulyanov et al., 2016) of {@code (N,C,L)}, {@code (N,C,H,W)} or {@code (N,C,D,H,W)}
 * input: per sample and channel, over the spatial values, {@code y = (x - mean) / sqrt(var + eps)}, then the
 * optional per-channel affine. As in PyTorch, affine and running statistics are off by default. With
 * {@code trackRunningStats}, training updates {@code running = (1 - m) * running + m * batch} where
 * {@code batch} is the average over the samples of the per-instance mean and unbiased variance, and eval
 * normalises with the running statistics; without it, eval uses the instance statistics too.
 */
public class InstanceNorm extends NormLayer {
    private final int numFeatures;
    private final NormOptions options;
    private final RunningStats runningStats;

    public InstanceNorm(int numFeatures) {
        this(numFeatures, NormOptions.INSTANCE_NORM);
    }

    public InstanceNorm(int numFeatures, NormOptions options) {
        super(new int[] {BatchNorm.checkFeatures(numFeatures)}, options.affine());
        this.numFeatures = numFeatures;
        this.options = options;
        runningStats = options.trackRunningStats()
                ? registerRunningStats(numFeatures, options.momentum(), RunningStats.VarianceRule.VARIANCE) : null;
    }

    @Override
    public Tensor forward(Tensor x) {
        Functional.checkRank(x, 3, 5, "[N, C, L], [N, C, H, W] or [N, C, D, H, W]");
        checkChannels(x, numFeatures);
        boolean inputStats = BatchNorm.useBatchStatistics(isTraining(), options.trackRunningStats());
        return remember(x, Functional.instanceNorm(x, weightValue(), biasValue(), runningStats, inputStats,
                options.eps(), workspace()));
    }

    @Override
    Tensor forwardMasked(Tensor x, Tensor mask) {
        Functional.checkRank(x, 3, 5, "[N, C, L], [N, C, H, W] or [N, C, D, H, W]");
        checkChannels(x, numFeatures);
        boolean inputStats = BatchNorm.useBatchStatistics(isTraining(), options.trackRunningStats());
        return remember(x, Functional.instanceNorm(x, mask, weightValue(), biasValue(), runningStats, inputStats,
                options.eps(), workspace()));
    }

    public Tensor runningMean() {
        return runningStats == null ? null : runningStats.mean();
    }

    public Tensor runningVar() {
        return runningStats == null ? null : runningStats.var();
    }

    public long numBatchesTracked() {
        return runningStats == null ? -1 : runningStats.numBatchesTracked();
    }

    public NormOptions options() {
        return options;
    }
}
