package io.github.batchnorm4j.kernel;

/**
 * The normalization kernels, split at the points where SyncBN inserts a collective:
 * {@link #stats} (local) → combine → {@link #normalize}; {@link #backwardReduce} (local) → all-reduce →
 * {@link #backwardElementwise}. Kernels trust their caller: shapes are checked by the functional layer, only
 * {@code assert}s here. All reductions run in a fixed order per statistic, so results do not depend on threads.
 *
 * <p>Notation for one statistic {@code k}: {@code M = g.count()}, {@code xhat = (x - mean[k]) * invStd[k]},
 * {@code j = (k % kMod) * p + p'} the affine index, {@code dxhat = dy * gamma[j]} (gamma = 1 when null).
 */
public interface NormKernels {

    /** Per statistic k: {@code mean[k] = Σx / M} and {@code m2[k] = Σ(x - mean)²}, accumulated in double. */
    void stats(float[] x, int xOff, NormGeometry g, double[] mean, double[] m2);

    /** {@code y = xhat * gamma[j] + beta[j]}; gamma and beta may be null (1 and 0). {@code y} may alias {@code x}. */
    void normalize(float[] x, int xOff, float[] y, int yOff, NormGeometry g,
                   double[] mean, double[] invStd, float[] gamma, float[] beta);

    /**
     * Per statistic: {@code sumDxhat[k] = Σ dxhat} and {@code sumDxhatXhat[k] = Σ dxhat * xhat}; per affine
     * index (when the arrays are non-null) adds {@code dGamma[j] += Σ dy * xhat} and {@code dBeta[j] += Σ dy}.
     */
    void backwardReduce(float[] dy, int dyOff, float[] x, int xOff, NormGeometry g, double[] mean, double[] invStd,
                        float[] gamma, double[] sumDxhat, double[] sumDxhatXhat, double[] dGamma, double[] dBeta);

    /**
     * The input gradient. With batch statistics ({@code batchStats}):
     * {@code dx = invStd * (dxhat - sumDxhat/count - xhat * sumDxhatXhat/count)}, where {@code count} is the
     * (possibly global) number of values behind each statistic; otherwise (fixed statistics)
     * {@code dx = dxhat * invStd}.
     */
    void backwardElementwise(float[] dy, int dyOff, float[] x, int xOff, NormGeometry g, double[] mean,
                             double[] invStd, float[] gamma, double[] sumDxhat, double[] sumDxhatXhat, double count,
                             boolean batchStats, float[] dx, int dxOff);
}
