package io.github.batchnorm4j.nn.norm;

import io.github.batchnorm4j.functional.Functional;
import io.github.batchnorm4j.tensor.Tensor;

/**
 * Group Normalization (Wu &amp; He, 2018) of {@code (N, C, ...)} input: the {@code C} channels split into
 * {@code numGroups} groups; per sample and group {@code y = (x - mean) / sqrt(var + eps)} (biased variance over
 * the group's {@code C/G · spatial} values), then a per-channel affine {@code gamma_c, beta_c}. Identical in
 * training and eval: there are no running statistics, so batch size does not matter.
 */
public class GroupNorm extends NormLayer {
    private final int numGroups;
    private final int numChannels;
    private final double eps;

    public GroupNorm(int numGroups, int numChannels) {
        this(numGroups, numChannels, 1e-5, true);
    }

    public GroupNorm(int numGroups, int numChannels, double eps, boolean affine) {
        super(new int[] {checkGroups(numGroups, numChannels)}, affine);
        Functional.checkEps(eps);
        this.numGroups = numGroups;
        this.numChannels = numChannels;
        this.eps = eps;
    }

    private static int checkGroups(int groups, int channels) {
        Functional.checkGroups(channels, groups);
        return channels;
    }

    @Override
    public Tensor forward(Tensor x) {
        Functional.checkRank(x, 2, 5, "[N, C, ...]");
        checkChannels(x, numChannels);
        return remember(x, Functional.groupNorm(x, numGroups, weightValue(), biasValue(), eps,
                workspace()));
    }

    @Override
    Tensor forwardMasked(Tensor x, Tensor mask) {
        Functional.checkRank(x, 2, 5, "[N, C, ...]");
        checkChannels(x, numChannels);
        return remember(x, Functional.groupNorm(x, mask, numGroups, weightValue(), biasValue(), eps, workspace()));
    }

    public int numGroups() {
        return numGroups;
    }

    public int numChannels() {
        return numChannels;
    }

    public double eps() {
        return eps;
    }
}
