package io.github.batchnorm4j.functional;

import io.github.batchnorm4j.kernel.Kernels;
import io.github.batchnorm4j.kernel.NormGeometry;
import io.github.batchnorm4j.kernel.NormKernels;

/**
 * The one normalization core behind BN, LN, GN and IN: no validation (the {@link Functional} facade does that),
 * only the sequence statistics → (running update) → elementwise, and its backward.
 */
public final class NormCore {
    private NormCore() {}

    /**
     * Forward over one geometry.
     *
     * @param batchStats   normalise with the statistics of {@code x} (else with the running statistics)
     * @param runningMean  running mean per {@code k % kMod}, updated in place when {@code batchStats}; may be null
     * @param runningVar   running (unbiased) variance, same indexing; null exactly when runningMean is
     * @param factor       weight of the new batch in the running update: {@code new = (1-f)*old + f*batch}
     */
    public static NormSaved forward(float[] x, float[] y, NormGeometry g, boolean batchStats,
                                    float[] runningMean, float[] runningVar, double factor, double eps,
                                    float[] gamma, float[] beta) {
        NormKernels kern = Kernels.norm();
        int k = g.k();
        double[] mean = new double[k];
        double[] invStd = new double[k];
        if (batchStats) {
            double[] m2 = new double[k];
            kern.stats(x, 0, g, mean, m2);
            double count = g.count();
            for (int c = 0; c < k; c++) {
                // M2 is a sum of squares in double: never negative except through NaN, which propagates.
                invStd[c] = 1.0 / Math.sqrt(m2[c] / count + eps);
            }
            if (runningMean != null) {
                updateRunning(g, mean, m2, runningMean, runningVar, factor);
            }
        } else {
            int kMod = g.kMod();
            for (int c = 0; c < k; c++) {
                mean[c] = runningMean[c % kMod];
                invStd[c] = 1.0 / Math.sqrt((double) runningVar[c % kMod] + eps);
            }
        }
        kern.normalize(x, 0, y, 0, g, mean, invStd, gamma, beta);
        return new NormSaved(g, mean, invStd, batchStats, null);
    }

    /**
     * {@code running = (1 - f) * running + f * batch} with the unbiased batch variance {@code M2 / (count - 1)}.
     * Where several statistics share one running entry (InstanceNorm: one per instance of a channel), the batch
     * value is their average, as PyTorch does.
     */
    static void updateRunning(NormGeometry g, double[] mean, double[] m2, float[] runningMean, float[] runningVar,
                              double factor) {
        int kMod = g.kMod();
        int reps = g.k() / kMod;
        double count = g.count();
        for (int c = 0; c < kMod; c++) {
            double bm = 0, bv = 0;
            for (int r = 0; r < reps; r++) {
                bm += mean[r * kMod + c];
                bv += m2[r * kMod + c] / (count - 1);
            }
            bm /= reps;
            bv /= reps;
            runningMean[c] = (float) ((1 - factor) * runningMean[c] + factor * bm);
            runningVar[c] = (float) ((1 - factor) * runningVar[c] + factor * bv);
        }
    }

    /**
     * Backward: fills {@code dx} and, when non-null, {@code dGamma}/{@code dBeta} (overwritten, float copies of
     * double sums).
     */
    public static void backward(NormSaved s, float[] x, float[] dy, float[] gamma, float[] dx,
                                float[] dGamma, float[] dBeta) {
        NormKernels kern = Kernels.norm();
        NormGeometry g = s.geometry();
        int k = g.k();
        double[] sumDxhat = new double[k];
        double[] sumDxhatXhat = new double[k];
        double[] dg = dGamma == null ? null : new double[g.affineSize()];
        double[] db = dBeta == null ? null : new double[g.affineSize()];
        kern.backwardReduce(dy, 0, x, 0, g, s.mean(), s.invStd(), gamma, sumDxhat, sumDxhatXhat, dg, db);
        kern.backwardElementwise(dy, 0, x, 0, g, s.mean(), s.invStd(), gamma, sumDxhat, sumDxhatXhat,
                g.count(), s.batchStats(), dx, 0);
        for (int j = 0; dg != null && j < dg.length; j++) {
            dGamma[j] = (float) dg[j];
        }
        for (int j = 0; db != null && j < db.length; j++) {
            dBeta[j] = (float) db[j];
        }
    }
}
