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

    /**
     * Fused training forward: {@link #stats}, then {@code invStd[k] = 1/sqrt(m2[k]/count + eps)}, then
     * {@code y = act(xhat * gamma[j] + beta[j] [+ residual])} where {@code act} is ReLU when {@code relu} and the
     * residual (same layout as {@code x}, may be null) is added before it. Fills {@code mean}, {@code m2} and
     * {@code invStd}. Implementations may normalise each statistic while its values are still in cache.
     */
    default void trainForward(float[] x, int xOff, NormGeometry g, double eps, double[] mean, double[] m2,
                              double[] invStd, float[] gamma, float[] beta, float[] residual, int rOff, boolean relu,
                              float[] y, int yOff) {
        stats(x, xOff, g, mean, m2);
        double count = g.count();
        for (int c = 0; c < g.k(); c++) {
            invStd[c] = 1.0 / Math.sqrt(m2[c] / count + eps);
        }
        normalizeFused(x, xOff, g, mean, invStd, gamma, beta, residual, rOff, relu, y, yOff);
    }

    /**
     * {@link #normalize} followed by the optional residual add and ReLU:
     * {@code y = act(xhat * gamma[j] + beta[j] [+ residual])}. {@code y} may alias {@code x}.
     */
    default void normalizeFused(float[] x, int xOff, NormGeometry g, double[] mean, double[] invStd, float[] gamma,
                                float[] beta, float[] residual, int rOff, boolean relu, float[] y, int yOff) {
        normalize(x, xOff, y, yOff, g, mean, invStd, gamma, beta);
        if (residual != null || relu) {
            long n = g.numel();
            for (int i = 0; i < n; i++) {
                float v = y[yOff + i];
                if (residual != null) {
                    v += residual[rOff + i];
                }
                y[yOff + i] = relu ? Math.max(v, 0f) : v;
            }
        }
    }

    /**
     * Fused backward on one process: {@link #backwardReduce} then {@link #backwardElementwise} with
     * {@code count = g.count()}. When {@code yOut} (the forward output of a fused BN+ReLU or BN+add+ReLU) is
     * non-null the incoming gradient is first gated, {@code dy' = yOut > 0 ? dy : 0}; {@code dResidual}, when
     * non-null, receives {@code dy'} (the gradient of the residual input). {@code sumDxhat}/{@code sumDxhatXhat}
     * are scratch of length k that hold the reductions afterwards; dGamma/dBeta are added to as in
     * {@link #backwardReduce}.
     */
    default void backward(float[] dy, int dyOff, float[] x, int xOff, NormGeometry g, double[] mean,
                          double[] invStd, float[] gamma, boolean batchStats, float[] yOut, int yOutOff,
                          float[] dResidual, int drOff, double[] sumDxhat, double[] sumDxhatXhat, double[] dGamma,
                          double[] dBeta, float[] dx, int dxOff) {
        float[] gy = dy;
        int gyOff = dyOff;
        int n = (int) g.numel();
        if (yOut != null) {
            // The gated gradient lives in dResidual (it is the residual's gradient) or else in dx, without an
            // allocation: this requires a backwardElementwise that reads dy[i] before it writes dx[i] (as the
            // scalar kernels do); implementations that cannot must override this method.
            gy = dResidual != null ? dResidual : dx;
            gyOff = dResidual != null ? drOff : dxOff;
            for (int i = 0; i < n; i++) {
                gy[gyOff + i] = yOut[yOutOff + i] > 0f ? dy[dyOff + i] : 0f;
            }
        } else if (dResidual != null) {
            System.arraycopy(dy, dyOff, dResidual, drOff, n);
        }
        backwardReduce(gy, gyOff, x, xOff, g, mean, invStd, gamma, sumDxhat, sumDxhatXhat, dGamma, dBeta);
        backwardElementwise(gy, gyOff, x, xOff, g, mean, invStd, gamma, sumDxhat, sumDxhatXhat, g.count(),
                batchStats, dx, dxOff);
    }
}
