package io.github.batchnorm4j.functional;

/**
 * The one merge of per-statistic moments: count {@code n}, mean and {@code M2 = Σ(x - mean)²}, in double. Every
 * combine of the statistics pipeline (across ranks, across virtual batches of several ranks, across accumulated
 * micro-batches) goes through {@link #merge}, so the merged statistics of any split of a batch are those of the
 * whole batch up to rounding.
 */
public final class Moments {
    private Moments() {}

    /**
     * Chan et al.'s exact pairwise update of {@code len} statistics that share one count:
     * {@code n = n_a + n_b}, {@code δ = m_b - m_a}, {@code m = m_a + δ n_b / n},
     * {@code M2 = M2_a + M2_b + δ² n_a n_b / n}. A empty side ({@code n_b = 0}) changes nothing; into an empty
     * side ({@code n_a = 0}) the other is copied. The result is written over {@code (mean, m2)} at
     * {@code aOff}; returns the merged count.
     */
    public static double merge(double n, double[] mean, double[] m2, int aOff, double nb, double[] meanB,
                               int meanOff, double[] m2B, int m2Off, int len) {
        if (nb == 0) {
            return n;
        }
        if (n == 0) {
            System.arraycopy(meanB, meanOff, mean, aOff, len);
            System.arraycopy(m2B, m2Off, m2, aOff, len);
            return nb;
        }
        double total = n + nb;
        double wb = nb / total;
        double wab = n * nb / total;
        for (int i = 0; i < len; i++) {
            double delta = meanB[meanOff + i] - mean[aOff + i];
            mean[aOff + i] += delta * wb;
            m2[aOff + i] += m2B[m2Off + i] + delta * delta * wab;
        }
        return total;
    }

    /** {@code invStd[i] = 1 / sqrt(M2[i] / count + eps)} for {@code i < k}: the biased variance of the batch. */
    static void invStd(double[] m2, double count, double eps, double[] invStd, int k) {
        for (int c = 0; c < k; c++) {
            invStd[c] = 1.0 / Math.sqrt(m2[c] / count + eps);
        }
    }
}
