package io.github.batchnorm4j.functional;

import io.github.batchnorm4j.kernel.Kernels;
import io.github.batchnorm4j.kernel.MaskedNormKernels;
import io.github.batchnorm4j.kernel.NormGeometry;
import io.github.batchnorm4j.kernel.NormKernels;
import io.github.batchnorm4j.tensor.MemoryFormat;
import java.util.Arrays;

/**
 * The one normalization core behind BN, LN, GN, IN and their variants, as a pipeline of phases (the split of
 * Flax's {@code _compute_stats} / {@code _normalize}):
 * <ol>
 *   <li><b>local statistics</b>: per statistic count, mean and {@code M2 = Σ(x - mean)²}, in double
 *       ({@link #statistics});</li>
 *   <li><b>combine</b>: identity, or a {@link StatsCombine} that merges them over a group (SyncBatchNorm; Ghost's
 *       virtual batches across ranks);</li>
 *   <li><b>transform</b>: identity, or a {@link StatsTransform} (Batch Renormalization's r/d);</li>
 *   <li><b>running update</b> ({@link RunningStats}) and <b>normalize</b>: the elementwise pass, one write of the
 *       output ({@link #finish}).</li>
 * </ol>
 * With neither combine nor transform the phases run as the kernels' one fused pass ({@link #trainFused}).
 * Backward mirrors it: local reductions → sum over the combine's group → elementwise ({@link #backward}). No
 * validation here (the {@link Functional} facade does that).
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
        NormWorkspace w = ws == null ? new NormWorkspace() : ws; // without one, the saved statistics are fresh
        if (!batchStats) {
            return evalForward(x, y, g, runningMean, runningVar, eps, gamma, beta, residual, relu, w, storage);
        }
        NormSaved s = trainFused(x, 0, y, 0, g, null, eps, gamma, beta, residual, relu, w, storage);
        if (runningMean != null) {
            RunningStats.blend(runningMean, runningVar, factor, g, w.mean(), w.m2(), g.count(), null, null, eps);
        }
        return s;
    }

    /** Normalises with fixed (running) statistics, indexed by {@code k % kMod}: no statistics of x. */
    static NormSaved evalForward(float[] x, float[] y, NormGeometry g, float[] runningMean, float[] runningVar,
                                 double eps, float[] gamma, float[] beta, float[] residual, boolean relu,
                                 NormWorkspace ws, MemoryFormat storage) {
        ws.prepare(g);
        double[] mean = ws.mean();
        double[] invStd = ws.invStd();
        int kMod = g.kMod();
        for (int c = 0; c < g.k(); c++) {
            mean[c] = runningMean[c % kMod];
            invStd[c] = 1.0 / Math.sqrt((double) runningVar[c % kMod] + eps);
        }
        Kernels.norm().normalizeFused(x, 0, g, mean, invStd, gamma, beta, residual, 0, relu, y, 0);
        return ws.saved(g, false, storage);
    }

    /**
     * All phases in the kernels' one fused pass (no combine, no transform): the statistics of
     * {@code x[xOff ..]}, then the running update of {@code rs} (may be null), the output written at
     * {@code y[yOff ..]}.
     */
    static NormSaved trainFused(float[] x, int xOff, float[] y, int yOff, NormGeometry g, RunningStats rs,
                                double eps, float[] gamma, float[] beta, float[] residual, boolean relu,
                                NormWorkspace ws, MemoryFormat storage) {
        ws.prepare(g);
        // M2 is a sum of squares in double: never negative except through NaN, which propagates.
        Kernels.norm().trainForward(x, xOff, g, eps, ws.mean(), ws.m2(), ws.invStd(), gamma, beta, residual, 0, relu,
                y, yOff);
        if (rs != null) {
            rs.update(g, ws.mean(), ws.m2(), g.count(), ws.invStd(), eps);
        }
        return ws.saved(g, true, storage);
    }

    /**
     * Phases 1 and 2: the local statistics of {@code x[xOff ..]} (zeros when it holds no values) into the
     * workspace's mean and M2, merged over {@code combine}'s group when it is non-null. Returns the number of
     * values behind each statistic (the group's).
     */
    static double statistics(float[] x, int xOff, NormGeometry g, StatsCombine combine, NormWorkspace ws) {
        ws.prepare(g);
        localStats(x, xOff, g, ws.mean(), ws.m2());
        double n = g.count();
        if (combine != null) {
            double[] count = ws.count();
            count[0] = n;
            combine.combine(count, ws.mean(), ws.m2(), 1, g.k());
            n = count[0];
        }
        return n;
    }

    /** Local statistics, or zeros for a geometry without values (a rank with no rows still joins the combine). */
    static void localStats(float[] x, int xOff, NormGeometry g, double[] mean, double[] m2) {
        if (g.count() > 0) {
            Kernels.norm().stats(x, xOff, g, mean, m2);
        } else {
            Arrays.fill(mean, 0, g.k(), 0.0);
            Arrays.fill(m2, 0, g.k(), 0.0);
        }
    }

    /**
     * Phases 3 and 4 after {@link #statistics} (the workspace's mean and M2 behind {@code count} values each):
     * {@code invStd}, the transform ({@code t}, may be null), the running update ({@code rs}, may be null; it
     * reads the running statistics before the update), and one normalize pass writing {@code y[yOff ..]}.
     */
    static NormSaved finish(float[] x, int xOff, float[] y, int yOff, NormGeometry g, double count,
                            RunningStats rs, StatsTransform t, double eps, float[] gamma, float[] beta,
                            StatsCombine combine, NormWorkspace ws, MemoryFormat storage) {
        return finish(x, xOff, y, yOff, g, count, rs, t, eps, gamma, beta, null, false, combine, ws, storage);
    }

    /**
     * {@link #finish} whose normalize pass also adds {@code residual} (layout of {@code x}, offset 0; may be null)
     * and applies ReLU when {@code relu}: {@code y = act(norm(x) [+ residual])}.
     */
    static NormSaved finish(float[] x, int xOff, float[] y, int yOff, NormGeometry g, double count,
                            RunningStats rs, StatsTransform t, double eps, float[] gamma, float[] beta,
                            float[] residual, boolean relu, StatsCombine combine, NormWorkspace ws,
                            MemoryFormat storage) {
        int k = g.k();
        double[] mean = ws.mean();
        double[] invStd = ws.invStd();
        Moments.invStd(ws.m2(), count, eps, invStd, k);
        double[] normMean = mean;
        double[] normInvStd = invStd;
        if (t != null) {
            normMean = ws.normMean();
            normInvStd = ws.normInvStd();
            t.apply(mean, invStd, rs, eps, normMean, normInvStd, k);
        }
        if (rs != null) {
            rs.update(g, mean, ws.m2(), count, invStd, eps);
        }
        if (g.count() > 0 && (residual != null || relu)) {
            Kernels.norm().normalizeFused(x, xOff, g, normMean, normInvStd, gamma, beta, residual, 0, relu, y, yOff);
        } else if (g.count() > 0) {
            Kernels.norm().normalize(x, xOff, y, yOff, g, normMean, normInvStd, gamma, beta);
        }
        return ws.saved(g, true, storage, count, combine);
    }

    /**
     * Phases 1 and 2 of a masked forward over a contiguous {@code x}: per statistic the count, mean and M2 of the
     * valid positions ({@link MaskedNormKernels#stats}) into the workspace, merged over {@code combine}'s group
     * when non-null (BatchNorm: one count shared by every channel).
     */
    static void maskedStatistics(float[] x, NormGeometry g, float[] mask, int channels, int spatial,
                                 StatsCombine combine, NormWorkspace ws) {
        ws.prepare(g);
        int k = g.k();
        double[] counts = ws.maskCounts();
        MaskedNormKernels.stats(x, g, mask, channels, spatial, counts, ws.mean(), ws.m2());
        if (combine != null) {
            double[] one = ws.count();
            one[0] = k == 0 ? 0 : counts[0];
            combine.combine(one, ws.mean(), ws.m2(), 1, k);
            Arrays.fill(counts, 0, k, one[0]);
        }
    }

    /**
     * Phases 3 and 4 of a masked forward after {@link #maskedStatistics}: {@code invStd} from each statistic's
     * valid count, the running update (count-weighted), and the ordinary normalize pass at every position.
     */
    static NormSaved finishMasked(float[] x, float[] y, NormGeometry g, RunningStats rs, double eps, float[] gamma,
                                  float[] beta, StatsCombine combine, float[] mask, int channels, int spatial,
                                  NormWorkspace ws) {
        int k = g.k();
        double[] counts = ws.maskCounts();
        double[] invStd = ws.invStd();
        double[] m2 = ws.m2();
        for (int c = 0; c < k; c++) {
            invStd[c] = 1.0 / Math.sqrt(m2[c] / counts[c] + eps);
        }
        if (rs != null) {
            rs.update(g, ws.mean(), m2, 0, counts, invStd, eps);
        }
        if (g.count() > 0) {
            Kernels.norm().normalize(x, 0, y, 0, g, ws.mean(), invStd, gamma, beta);
        }
        return ws.saved(g, true, MemoryFormat.CONTIGUOUS, g.count(), combine,
                new NormSaved.Mask(mask, channels, spatial, counts));
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
        backward(s, x, 0, dy, 0, gamma, yOut, dx, 0, dResidual, dGamma, dBeta, ws == null ? new NormWorkspace() : ws);
    }

    /**
     * The same on {@code x[xOff ..]}, {@code dy[dyOff ..]}, {@code dx[dxOff ..]}. Statistics combined over a
     * group ({@code s.combine()} non-null) take the split path: local reductions, one sum over the group of both
     * (packed in one message), then the elementwise pass with the group's count.
     */
    static void backward(NormSaved s, float[] x, int xOff, float[] dy, int dyOff, float[] gamma, float[] yOut,
                         float[] dx, int dxOff, float[] dResidual, float[] dGamma, float[] dBeta, NormWorkspace ws) {
        NormGeometry g = s.geometry();
        int k = g.k();
        ws.prepare(g);
        double[] sumDxhat = ws.sumDxhat();
        double[] sumDxhatXhat = ws.sumDxhatXhat();
        double[] dg = dGamma == null ? null : ws.dGamma();
        double[] db = dBeta == null ? null : ws.dBeta();
        if (s.combine() == null && s.mask() == null) {
            Kernels.norm().backward(dy, dyOff, x, xOff, g, s.mean(), s.invStd(), gamma, s.batchStats(), yOut, 0,
                    dResidual, 0, sumDxhat, sumDxhatXhat, dg, db, dx, dxOff);
            copyOut(dg, dGamma);
            copyOut(db, dBeta);
            return;
        }
        if (yOut != null) {
            // The split paths take the ReLU gate as a pass of its own: dy' = yOut > 0 ? dy : 0 (in the residual's
            // gradient when there is one, else in scratch), then the backward of the plain normalization.
            assert dyOff == 0 && xOff == 0 && dxOff == 0 : "the fused epilogue runs on whole tensors";
            int n = (int) g.numel();
            float[] gated = dResidual != null ? dResidual : ws.gated(n);
            Kernels.dense().reluBackward(yOut, dy, gated, 0, n);
            dy = gated;
        }
        if (s.mask() != null) {
            maskedBackward(s, x, dy, gamma, dx, dg, db, ws);
        } else {
            double[] sums = ws.sums();
            reduce(s, x, xOff, dy, dyOff, gamma, sums, 0, dg, db, ws);
            s.combine().sum(sums, 0, 2 * k);
            elementwise(s, x, xOff, dy, dyOff, gamma, sums, 0, dx, dxOff, ws);
        }
        copyOut(dg, dGamma);
        copyOut(db, dBeta);
    }

    /**
     * Backward of a masked forward (contiguous, offsets 0): the reductions over every position (each output
     * depends on the statistics), summed over the combine's group when there is one, then the masked elementwise
     * pass ({@link MaskedNormKernels#backwardElementwise}).
     */
    private static void maskedBackward(NormSaved s, float[] x, float[] dy, float[] gamma, float[] dx, double[] dg,
                                       double[] db, NormWorkspace ws) {
        NormGeometry g = s.geometry();
        int k = g.k();
        if (s.combine() != null) {
            double[] sums = ws.sums();
            reduce(s, x, 0, dy, 0, gamma, sums, 0, dg, db, ws);
            s.combine().sum(sums, 0, 2 * k);
            System.arraycopy(sums, 0, ws.sumDxhat(), 0, k);
            System.arraycopy(sums, k, ws.sumDxhatXhat(), 0, k);
        } else if (g.count() > 0) {
            Kernels.norm().backwardReduce(dy, 0, x, 0, g, s.mean(), s.invStd(), gamma, ws.sumDxhat(),
                    ws.sumDxhatXhat(), dg, db);
        }
        if (g.count() > 0) {
            NormSaved.Mask m = s.mask();
            MaskedNormKernels.backwardElementwise(dy, x, g, m.valid(), m.channels(), m.spatial(), s.mean(),
                    s.invStd(), gamma, ws.sumDxhat(), ws.sumDxhatXhat(), m.counts(), dx);
        }
    }

    /**
     * The local backward reductions of one forward, packed as {@code sums[off ..]} = {@code Σ dxhat} (k values)
     * then {@code Σ dxhat·xhat} (k values); zeros without values. Adds into {@code dg}/{@code db} when non-null.
     */
    static void reduce(NormSaved s, float[] x, int xOff, float[] dy, int dyOff, float[] gamma, double[] sums,
                       int off, double[] dg, double[] db, NormWorkspace ws) {
        NormGeometry g = s.geometry();
        int k = g.k();
        double[] sumDxhat = ws.sumDxhat();
        double[] sumDxhatXhat = ws.sumDxhatXhat();
        if (g.count() > 0) {
            Kernels.norm().backwardReduce(dy, dyOff, x, xOff, g, s.mean(), s.invStd(), gamma, sumDxhat, sumDxhatXhat,
                    dg, db);
        } else {
            Arrays.fill(sumDxhat, 0, k, 0.0);
            Arrays.fill(sumDxhatXhat, 0, k, 0.0);
        }
        System.arraycopy(sumDxhat, 0, sums, off, k);
        System.arraycopy(sumDxhatXhat, 0, sums, off + k, k);
    }

    /** The elementwise input gradient from the (summed) reductions {@code sums[off ..]} and {@code s.count()}. */
    static void elementwise(NormSaved s, float[] x, int xOff, float[] dy, int dyOff, float[] gamma, double[] sums,
                            int off, float[] dx, int dxOff, NormWorkspace ws) {
        NormGeometry g = s.geometry();
        int k = g.k();
        if (g.count() == 0) {
            return;
        }
        double[] sumDxhat = ws.sumDxhat();
        double[] sumDxhatXhat = ws.sumDxhatXhat();
        System.arraycopy(sums, off, sumDxhat, 0, k);
        System.arraycopy(sums, off + k, sumDxhatXhat, 0, k);
        Kernels.norm().backwardElementwise(dy, dyOff, x, xOff, g, s.mean(), s.invStd(), gamma, sumDxhat,
                sumDxhatXhat, s.count(), s.batchStats(), dx, dxOff);
    }

    /** Float copies of the double affine-gradient sums. */
    static void copyOut(double[] from, float[] to) {
        for (int j = 0; from != null && j < from.length; j++) {
            to[j] = (float) from[j];
        }
    }
}
