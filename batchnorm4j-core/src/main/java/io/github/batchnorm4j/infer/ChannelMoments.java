package io.github.batchnorm4j.infer;

import io.github.batchnorm4j.tensor.MemoryFormat;
import io.github.batchnorm4j.tensor.Tensor;

/**
 * Exact per-channel population moments over many batches: the element count, the mean and the sum of squared
 * deviations {@code M2}, all in double. Each batch is reduced with a two-pass mean/M2 and merged with Chan,
 * Golub &amp; LeVeque's pairwise formula, so every element counts equally whatever the batch sizes:
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
        int n = x.dim(0);
        int s = x.spatialSize();
        long nb = (long) n * s;
        if (nb == 0) {
            return;
        }
        float[] d = x.data();
        boolean channelsLast = x.format() == MemoryFormat.CHANNELS_LAST;
        java.util.Arrays.fill(batchMean, 0);
        java.util.Arrays.fill(batchM2, 0);
        // Pass 1: sums -> batch means.
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < s; j++) {
                for (int c = 0; c < channels; c++) {
                    batchMean[c] += d[index(channelsLast, i, c, j, s)];
                }
            }
        }
        for (int c = 0; c < channels; c++) {
            batchMean[c] /= nb;
        }
        // Pass 2: squared deviations from the batch mean (no cancellation as in sum(x^2) - n*mean^2).
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < s; j++) {
                for (int c = 0; c < channels; c++) {
                    double dev = d[index(channelsLast, i, c, j, s)] - batchMean[c];
                    batchM2[c] += dev * dev;
                }
            }
        }
        long total = count + nb;
        for (int c = 0; c < channels; c++) {
            double delta = batchMean[c] - mean[c];
            mean[c] += delta * nb / total;
            m2[c] += batchM2[c] + delta * delta * ((double) count * nb / total);
        }
        count = total;
    }

    private int index(boolean channelsLast, int i, int c, int j, int s) {
        return channelsLast ? (i * s + j) * channels + c : (i * channels + c) * s + j;
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
