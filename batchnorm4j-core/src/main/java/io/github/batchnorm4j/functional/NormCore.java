package io.github.batchnorm4j.functional;

import io.github.batchnorm4j.kernel.Kernels;
import io.github.batchnorm4j.kernel.NormGeometry;
import io.github.batchnorm4j.kernel.NormKernels;
import io.github.batchnorm4j.tensor.MemoryFormat;

/**
 * The one normalization core behind BN, LN, GN and IN: no validation (the {@link Functional} facade does that),
 * only the sequence statistics → (running update) → elementwise, and its backward. Training forwards go through
 * the kernels' fused {@link NormKernels#trainForward}; backwards through the fused {@link NormKernels#backward}.
 * The optional epilogue (residual add, ReLU) is what {@link Fused} exposes.
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
        return forward(x, y, g, batchStats, runningMean, runningVar, factor, eps, gamma, beta, null, false, null);
    }

    /**
     * Forward with the fused epilogue {@code y = act(bn(x) [+ residual])} ({@code act} = ReLU when {@code relu};
     * {@code residual} has the layout of {@code x}, or null) and optional reusable buffers ({@code ws}, may be
     * null: then the saved statistics are fresh arrays).
     */
    public static NormSaved forward(float[] x, float[] y, NormGeometry g, boolean batchStats,
                                    float[] runningMean, float[] runningVar, double factor, double eps,
                                    float[] gamma, float[] beta, float[] residual, boolean relu, NormWorkspace ws) {
        return forward(x, y, g, batchStats, runningMean, runningVar, factor, eps, gamma, beta, residual, relu, ws,
                null);
    }

    /** The same, recording in the result the memory format ({@code storage}) the geometry addresses. */
    static NormSaved forward(float[] x, float[] y, NormGeometry g, boolean batchStats, float[] runningMean,
                             float[] runningVar, double factor, double eps, float[] gamma, float[] beta,
                             float[] residual, boolean relu, NormWorkspace ws, MemoryFormat storage) {
        NormKernels kern = Kernels.norm();
        int k = g.k();
        if (ws != null) {
            ws.prepare(g);
        }
        double[] mean = ws == null ? new double[k] : ws.mean();
        double[] invStd = ws == null ? new double[k] : ws.invStd();
        if (batchStats) {
            double[] m2 = ws == null ? new double[k] : ws.m2();
            // M2 is a sum of squares in double: never negative except through NaN, which propagates.
            kern.trainForward(x, 0, g, eps, mean, m2, invStd, gamma, beta, residual, 0, relu, y, 0);
            if (runningMean != null) {
                updateRunning(g, mean, m2, runningMean, runningVar, factor);
            }
        } else {
            int kMod = g.kMod();
            for (int c = 0; c < k; c++) {
                mean[c] = runningMean[c % kMod];
                invStd[c] = 1.0 / Math.sqrt((double) runningVar[c % kMod] + eps);
            }
            kern.normalizeFused(x, 0, g, mean, invStd, gamma, beta, residual, 0, relu, y, 0);
        }
        return ws == null ? new NormSaved(g, mean, invStd, batchStats, storage) : ws.saved(g, batchStats, storage);
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
        backward(s, x, dy, gamma, null, dx, null, dGamma, dBeta, null);
    }

    /**
     * Backward of the fused forward: when {@code yOut} (that forward's output) is non-null the gradient is gated
     * by the ReLU ({@code yOut > 0}); {@code dResidual}, when non-null, receives the gated gradient (the gradient
     * of the residual input). {@code ws} (may be null) supplies the reduction buffers.
     */
    public static void backward(NormSaved s, float[] x, float[] dy, float[] gamma, float[] yOut, float[] dx,
                                float[] dResidual, float[] dGamma, float[] dBeta, NormWorkspace ws) {
        NormKernels kern = Kernels.norm();
        NormGeometry g = s.geometry();
        int k = g.k();
        if (ws != null) {
            ws.prepare(g);
        }
        double[] sumDxhat = ws == null ? new double[k] : ws.sumDxhat();
        double[] sumDxhatXhat = ws == null ? new double[k] : ws.sumDxhatXhat();
        double[] dg = dGamma == null ? null : ws == null ? new double[g.affineSize()] : ws.dGamma();
        double[] db = dBeta == null ? null : ws == null ? new double[g.affineSize()] : ws.dBeta();
        kern.backward(dy, 0, x, 0, g, s.mean(), s.invStd(), gamma, s.batchStats(), yOut, 0, dResidual, 0,
                sumDxhat, sumDxhatXhat, dg, db, dx, 0);
        for (int j = 0; dg != null && j < dg.length; j++) {
            dGamma[j] = (float) dg[j];
        }
        for (int j = 0; db != null && j < db.length; j++) {
            dBeta[j] = (float) db[j];
        }
    }
}
