package io.github.batchnorm4j.infer;

import io.github.batchnorm4j.functional.Functional;
import io.github.batchnorm4j.functional.Moments;
import io.github.batchnorm4j.tensor.Tensor;

/**
 * Exact per-channel population moments over many batches: the element count, the mean and the sum of squared
 * deviations {@code M2}, all in double. Each batch is reduced with a two-pass mean/M2
 * ({@link Functional#batchMoments}) and merged with Chan, Golub &amp; LeVeque's pairwise formula
 * ({@link Moments#merge}), so every element counts equally whatever the batch sizes:
 * <pre>
 *   n = nA + nB,  delta = meanB - meanA,
 *   mean = meanA + delta * nB / n,
 *   M2   = M2A + M2B + delta^2 * nA * nB / n
 * </pre>
 * (an equal-weight average of batch means would over-weight small batches and miss the between-batch variance).
 * Input is {@code (N, C, ...)} in either memory format.
 */
final class ChannelMoments {
    private final int channels;
    private long count;
    private final double[] mean;
    private final double[] m2;
    private final double[] batchMean;
    private final double[] batchM2;

    ChannelMoments(int channels) {
        this.channels = channels;
        this.mean = new double[channels];
        this.m2 = new double[channels];
        this.batchMean = new double[channels];
        this.batchM2 = new double[channels];
    }

    /** Adds every value of {@code x} (shape {@code (N, C, ...)}) to its channel's moments. */
    void add(Tensor x) {
        if (x.dim(1) != channels) {
            throw new IllegalArgumentException("Expected input with " + channels + " channels, got shape "
                    + x.shapeString());
        }
        // The batch's two-pass moments (the normalization pipeline's local statistics), merged exactly.
        long nb = Functional.batchMoments(x, batchMean, batchM2);
        count = (long) Moments.merge(count, mean, m2, 0, nb, batchMean, 0, batchM2, 0, channels);
    }

    long count() {
        return count;
    }

    double mean(int c) {
        return mean[c];
    }

    /** Unbiased variance {@code M2 / (count - 1)}; needs {@code count >= 2}. */
    double unbiasedVariance(int c) {
        return m2[c] / (count - 1);
    }

    /** Biased (population) variance {@code M2 / count}. */
    double biasedVariance(int c) {
        return m2[c] / count;
    }
}
