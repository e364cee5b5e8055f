package io.github.batchnorm4j.reference;

/**
 * A naive float64 reference for the normalization family, written from the definitions and independent of the
 * production code (no NormGeometry, no kernels): plain loops over the logical, contiguous order of a tensor of
 * shape {@code [N, C, spatial...]} (or any shape for LayerNorm).
 *
 * <p>A layer is described by a {@link Grouping}: the statistic and the affine parameter each element belongs to.
 * Forward: per statistic {@code s}, {@code mean_s = Σx / M}, {@code var_s = Σ(x - mean_s)² / M} (biased, two
 * passes), {@code y = (x - mean_s) / sqrt(var_s + eps) * gamma_a + beta_a}. Backward uses the chain rule as in
 * the original BatchNorm paper (through {@code dvar} and {@code dmean}), a different formulation from the
 * production kernels, and is itself checked against central differences.
 */
public final class Float64Reference {
    private Float64Reference() {}

    /**
     * Element {@code i} (logical order) is normalised with statistic {@code stat[i]} and scaled by affine entry
     * {@code affine[i]}; statistic {@code s} feeds running entry {@code runningOf[s]} (null without running
     * statistics). Every statistic covers the same number of elements.
     */
    public record Grouping(int[] stat, int[] affine, int numStats, int numAffine, int[] runningOf, int numRunning) {
        /** Number of elements behind each statistic. */
        public int count() {
            return numStats == 0 ? 0 : stat.length / numStats;
        }
    }

    /** Output and the per-statistic mean and biased variance it was normalised with. */
    public record Forward(double[] y, double[] mean, double[] var) {}

    /** Gradients of the input and of gamma/beta (null without affine parameters). */
    public record Backward(double[] dx, double[] dGamma, double[] dBeta) {}

    // ---------------------------------------------------------------- groupings

    /** BatchNorm over {@code [N, C, ...]}: one statistic per channel, over the batch and spatial positions. */
    public static Grouping batchNorm(int[] shape) {
        int n = shape[0], c = shape[1], s = spatial(shape);
        int[] stat = new int[n * c * s];
        for (int i = 0; i < n; i++) {
            for (int ch = 0; ch < c; ch++) {
                for (int j = 0; j < s; j++) {
                    stat[(i * c + ch) * s + j] = ch;
                }
            }
        }
        int[] runningOf = new int[c];
        for (int ch = 0; ch < c; ch++) {
            runningOf[ch] = ch;
        }
        return new Grouping(stat, stat.clone(), c, c, runningOf, c);
    }

    /** InstanceNorm: one statistic per sample and channel; running entry per channel. */
    public static Grouping instanceNorm(int[] shape) {
        int n = shape[0], c = shape[1], s = spatial(shape);
        int[] stat = new int[n * c * s];
        int[] affine = new int[n * c * s];
        for (int i = 0; i < n; i++) {
            for (int ch = 0; ch < c; ch++) {
                for (int j = 0; j < s; j++) {
                    stat[(i * c + ch) * s + j] = i * c + ch;
                    affine[(i * c + ch) * s + j] = ch;
                }
            }
        }
        int[] runningOf = new int[n * c];
        for (int st = 0; st < n * c; st++) {
            runningOf[st] = st % c;
        }
        return new Grouping(stat, affine, n * c, c, runningOf, c);
    }

    /** GroupNorm with {@code groups} groups of consecutive channels; affine per channel. */
    public static Grouping groupNorm(int[] shape, int groups) {
        int n = shape[0], c = shape[1], s = spatial(shape);
        int perGroup = c / groups;
        int[] stat = new int[n * c * s];
        int[] affine = new int[n * c * s];
        for (int i = 0; i < n; i++) {
            for (int ch = 0; ch < c; ch++) {
                for (int j = 0; j < s; j++) {
                    stat[(i * c + ch) * s + j] = i * groups + ch / perGroup;
                    affine[(i * c + ch) * s + j] = ch;
                }
            }
        }
        return new Grouping(stat, affine, n * groups, c, null, 0);
    }

    /** LayerNorm over the last {@code normalizedRank} dimensions; affine elementwise over them. */
    public static Grouping layerNorm(int[] shape, int normalizedRank) {
        int total = numel(shape);
        int m = 1;
        for (int i = shape.length - normalizedRank; i < shape.length; i++) {
            m *= shape[i];
        }
        int[] stat = new int[total];
        int[] affine = new int[total];
        for (int i = 0; i < total; i++) {
            stat[i] = i / m;
            affine[i] = i % m;
        }
        return new Grouping(stat, affine, total / m, m, null, 0);
    }

    // ---------------------------------------------------------------- statistics

    public static double[] mean(Grouping g, double[] x) {
        double[] sum = new double[g.numStats()];
        for (int i = 0; i < x.length; i++) {
            sum[g.stat()[i]] += x[i];
        }
        int m = g.count();
        for (int s = 0; s < sum.length; s++) {
            sum[s] /= m;
        }
        return sum;
    }

    /** Biased variance, second pass around {@code mean}. */
    public static double[] variance(Grouping g, double[] x, double[] mean) {
        double[] sq = new double[g.numStats()];
        for (int i = 0; i < x.length; i++) {
            double t = x[i] - mean[g.stat()[i]];
            sq[g.stat()[i]] += t * t;
        }
        int m = g.count();
        for (int s = 0; s < sq.length; s++) {
            sq[s] /= m;
        }
        return sq;
    }

    /** The per-statistic values of per-running-entry buffers (InstanceNorm repeats them per sample). */
    public static double[] expandRunning(Grouping g, double[] running) {
        double[] out = new double[g.numStats()];
        for (int s = 0; s < out.length; s++) {
            out[s] = running[g.runningOf()[s]];
        }
        return out;
    }

    // ---------------------------------------------------------------- forward / backward

    /** Forward with the batch statistics of {@code x}. Gamma/beta may be null (1 and 0). */
    public static Forward forwardBatch(Grouping g, double[] x, double[] gamma, double[] beta, double eps) {
        double[] mean = mean(g, x);
        double[] var = variance(g, x, mean);
        return new Forward(normalize(g, x, mean, var, gamma, beta, eps), mean, var);
    }

    /** Forward with fixed (running) statistics given per running entry. */
    public static Forward forwardFixed(Grouping g, double[] x, double[] runningMean, double[] runningVar,
                                       double[] gamma, double[] beta, double eps) {
        double[] mean = expandRunning(g, runningMean);
        double[] var = expandRunning(g, runningVar);
        return new Forward(normalize(g, x, mean, var, gamma, beta, eps), mean, var);
    }

    public static double[] normalize(Grouping g, double[] x, double[] mean, double[] var, double[] gamma,
                                     double[] beta, double eps) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            int s = g.stat()[i], a = g.affine()[i];
            double xhat = (x[i] - mean[s]) / Math.sqrt(var[s] + eps);
            y[i] = xhat * (gamma == null ? 1.0 : gamma[a]) + (beta == null ? 0.0 : beta[a]);
        }
        return y;
    }

    /**
     * Gradients for {@code dy} of a forward normalised with {@code mean}/{@code var} (per statistic). With
     * {@code batchStats} the statistics are functions of {@code x} and the gradient flows through them:
     * {@code dvar = Σ dxhat·(x-μ)·(-½)(var+eps)^(-3/2)}, {@code dμ = -Σ dxhat/σ + dvar·Σ(-2(x-μ))/M},
     * {@code dx = dxhat/σ + dvar·2(x-μ)/M + dμ/M}; otherwise {@code dx = dxhat/σ}.
     */
    public static Backward backward(Grouping g, double[] x, double[] dy, double[] mean, double[] var,
                                    double[] gamma, double eps, boolean batchStats, boolean affineGrads) {
        int ns = g.numStats();
        int m = g.count();
        double[] dxhat = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            dxhat[i] = dy[i] * (gamma == null ? 1.0 : gamma[g.affine()[i]]);
        }
        double[] dvar = new double[ns];
        double[] dmean = new double[ns];
        double[] sumCentered = new double[ns];
        if (batchStats) {
            for (int i = 0; i < x.length; i++) {
                int s = g.stat()[i];
                dvar[s] += dxhat[i] * (x[i] - mean[s]) * -0.5 * Math.pow(var[s] + eps, -1.5);
                dmean[s] += -dxhat[i] / Math.sqrt(var[s] + eps);
                sumCentered[s] += -2.0 * (x[i] - mean[s]);
            }
            for (int s = 0; s < ns; s++) {
                dmean[s] += dvar[s] * sumCentered[s] / m;
            }
        }
        double[] dx = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            int s = g.stat()[i];
            dx[i] = dxhat[i] / Math.sqrt(var[s] + eps);
            if (batchStats) {
                dx[i] += dvar[s] * 2.0 * (x[i] - mean[s]) / m + dmean[s] / m;
            }
        }
        if (!affineGrads) {
            return new Backward(dx, null, null);
        }
        double[] dGamma = new double[g.numAffine()];
        double[] dBeta = new double[g.numAffine()];
        for (int i = 0; i < x.length; i++) {
            int s = g.stat()[i], a = g.affine()[i];
            dGamma[a] += dy[i] * (x[i] - mean[s]) / Math.sqrt(var[s] + eps);
            dBeta[a] += dy[i];
        }
        return new Backward(dx, dGamma, dBeta);
    }

    /**
     * Running update in place: {@code running = (1 - factor) * running + factor * batch}, where the batch value
     * of a running entry is the average over its statistics (one for BN, N for IN) of the mean and of the
     * <em>unbiased</em> variance {@code var * M / (M - 1)}.
     */
    public static void updateRunning(Grouping g, double[] mean, double[] biasedVar, double[] runningMean,
                                     double[] runningVar, double factor) {
        int r = g.numRunning();
        double[] bm = new double[r];
        double[] bv = new double[r];
        int[] reps = new int[r];
        int m = g.count();
        for (int s = 0; s < g.numStats(); s++) {
            int e = g.runningOf()[s];
            bm[e] += mean[s];
            bv[e] += biasedVar[s] * m / (m - 1);
            reps[e]++;
        }
        for (int e = 0; e < r; e++) {
            runningMean[e] = (1 - factor) * runningMean[e] + factor * (bm[e] / reps[e]);
            runningVar[e] = (1 - factor) * runningVar[e] + factor * (bv[e] / reps[e]);
        }
    }

    /** {@code Σ y·w}, the scalar loss the gradient checks differentiate. */
    public static double dot(double[] y, double[] w) {
        double s = 0;
        for (int i = 0; i < y.length; i++) {
            s += y[i] * w[i];
        }
        return s;
    }

    // ---------------------------------------------------------------- shapes

    public static int spatial(int[] shape) {
        int s = 1;
        for (int i = 2; i < shape.length; i++) {
            s *= shape[i];
        }
        return s;
    }

    public static int numel(int[] shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }
}
