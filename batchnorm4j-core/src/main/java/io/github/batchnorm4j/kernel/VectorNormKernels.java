package io.github.batchnorm4j.kernel;

import java.util.Arrays;

/**
 * The Vector API kernels ({@code jdk.incubator.vector}); the SIMD loops live in {@link SlabBody} and
 * {@link RowBody}, this class splits the work and folds the statistics into per-element coefficients.
 *
 * <p><b>Two walks.</b> When {@code d > 1} ("slab" geometries: NCHW BatchNorm, InstanceNorm, GroupNorm, LayerNorm)
 * each statistic is a set of contiguous runs, and one task owns whole statistics: the fused forward computes a
 * statistic and normalises its values right away, while they are still in cache, and the fused backward does
 * the two reductions and then {@code dx} the same way. When {@code d = 1} ("row" geometries: channels-last
 * BatchNorm, BatchNorm1d) rows are cut into fixed chunks of rows; each chunk writes per-channel partial sums,
 * which are combined in chunk order, and the elementwise pass runs per chunk with per-channel coefficients.
 * Tasks are fixed by the problem size ({@link #TASK_ELEMS}), never by the thread count, and every reduction runs
 * in a fixed order, so results are bit-identical for any number of threads. Small problems form one task and run
 * on the calling thread without a hand-off or an allocation.
 *
 * <p><b>Numerics.</b> Statistics use a shift {@code s} (the first value of the statistic):
 * {@code S1 = Σ(x - s)}, {@code S2 = Σ(x - s)²}, with {@code x} widened to double so {@code x - s} is exact and
 * only the double sums round; {@code mean = s + S1/M}, {@code M2 = S2 - S1²/M}. Where the shift was poor
 * ({@code S1²/M > 0.9 S2}: the first value far out in the tail) the statistic is summed again around the mean,
 * so the cancellation never costs more than one digit of double. The backward reductions likewise use
 * {@code x - mean} in double. The elementwise step computes {@code t = x - float(mean)} in float
 * first and folds the residual {@code mean - float(mean)} into the shift: {@code y = fma(t, scale, shift)}.
 * {@code E[x²] - E[x]²} is never formed in float.
 */
public final class VectorNormKernels implements NormKernels {
    public static final VectorNormKernels INSTANCE = new VectorNormKernels();

    /** Elements per task: a statistic group or a chunk of rows (128 KiB of floats, an L2-sized unit). */
    static final int TASK_ELEMS = 1 << 15;
    /**
     * Elements per task of a purely elementwise pass (normalisation with known statistics, the row walk's dx):
     * larger, since the result does not depend on the split, so that each thread streams longer runs.
     */
    static final int ELEMENTWISE_TASK_ELEMS = 1 << 17;
    /** Columns per task in the per-element gamma gradient (LayerNorm-like geometries). */
    private static final int COL_BLOCK = 256;
    private static final double POOR_SHIFT = 0.9;
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private VectorNormKernels() {}

    /** The SIMD width this JVM uses, in floats (for logs and benchmarks). */
    public static int lanes() {
        return SlabBody.F.length();
    }

    // ---------------------------------------------------------------- forward

    @Override
    public void stats(float[] x, int xOff, NormGeometry g, double[] mean, double[] m2) {
        if (g.k() == 0) {
            return;
        }
        if (g.count() == 0) {
            Arrays.fill(mean, 0, g.k(), 0.0);
            Arrays.fill(m2, 0, g.k(), 0.0);
        } else if (g.d() == 1) {
            rowStats(x, xOff, g, mean, m2, SCRATCH.get());
        } else {
            int per = statsPerTask(g), nt = ceilDiv(g.k(), per);
            if (nt == 1) {
                slabStatsRange(0, g.k(), x, xOff, g, mean, m2);
            } else {
                WorkerPool.parallelFor(nt, t -> slabStatsRange(t * per, Math.min(g.k(), t * per + per), x, xOff, g,
                        mean, m2));
            }
        }
    }

    @Override
    public void normalize(float[] x, int xOff, float[] y, int yOff, NormGeometry g, double[] mean, double[] invStd,
                          float[] gamma, float[] beta) {
        normalizeFused(x, xOff, g, mean, invStd, gamma, beta, null, 0, false, y, yOff);
    }

    @Override
    public void normalizeFused(float[] x, int xOff, NormGeometry g, double[] mean, double[] invStd, float[] gamma,
                               float[] beta, float[] residual, int rOff, boolean relu, float[] y, int yOff) {
        if (g.numel() == 0) {
            return;
        }
        if (g.d() == 1) {
            Scratch s = SCRATCH.get();
            int k = g.k();
            float[] m = s.f(0, k), sc = s.f(1, k), sh = s.f(2, k);
            rowCoefficients(g, mean, invStd, gamma, beta, m, sc, sh);
            rowAffineAll(x, xOff, y, yOff, g, m, sc, sh, residual, rOff, relu);
        } else {
            // With the statistics known, walk memory in storage order (slab (i, c) after (i, c - 1)): plain
            // streams for the prefetchers, as opposed to the statistic-major walk the fused forward needs.
            int slabs = g.a() * g.k();
            int per = Math.max(1, ELEMENTWISE_TASK_ELEMS / g.d()), nt = ceilDiv(slabs, per);
            if (nt == 1) {
                slabNormalizeRange(0, slabs, x, xOff, y, yOff, g, mean, invStd, gamma, beta, residual, rOff, relu);
            } else {
                WorkerPool.parallelFor(nt, t -> slabNormalizeRange(t * per, Math.min(slabs, t * per + per), x, xOff,
                        y, yOff, g, mean, invStd, gamma, beta, residual, rOff, relu));
            }
        }
    }

    @Override
    public void trainForward(float[] x, int xOff, NormGeometry g, double eps, double[] mean, double[] m2,
                             double[] invStd, float[] gamma, float[] beta, float[] residual, int rOff, boolean relu,
                             float[] y, int yOff) {
        if (g.k() == 0) {
            return;
        }
        if (g.d() == 1 || g.count() == 0) {
            stats(x, xOff, g, mean, m2);
            double count = g.count();
            for (int c = 0; c < g.k(); c++) {
                invStd[c] = 1.0 / Math.sqrt(m2[c] / count + eps);
            }
            normalizeFused(x, xOff, g, mean, invStd, gamma, beta, residual, rOff, relu, y, yOff);
            return;
        }
        int per = statsPerTask(g), nt = ceilDiv(g.k(), per);
        if (nt == 1) {
            slabTrainRange(0, g.k(), x, xOff, g, eps, mean, m2, invStd, gamma, beta, residual, rOff, relu, y, yOff);
        } else {
            WorkerPool.parallelFor(nt, t -> slabTrainRange(t * per, Math.min(g.k(), t * per + per), x, xOff, g, eps,
                    mean, m2, invStd, gamma, beta, residual, rOff, relu, y, yOff));
        }
    }

    private static void slabStatsRange(int c0, int c1, float[] x, int xOff, NormGeometry g, double[] mean,
                                       double[] m2) {
        for (int c = c0; c < c1; c++) {
            slabStat(x, xOff, g, c, mean, m2);
        }
    }

    private static void slabTrainRange(int c0, int c1, float[] x, int xOff, NormGeometry g, double eps,
                                       double[] mean, double[] m2, double[] invStd, float[] gamma, float[] beta,
                                       float[] res, int rOff, boolean relu, float[] y, int yOff) {
        double count = g.count();
        for (int c = c0; c < c1; c++) {
            slabStat(x, xOff, g, c, mean, m2);
            invStd[c] = 1.0 / Math.sqrt(m2[c] / count + eps);
            slabNormalize(x, xOff, y, yOff, g, c, mean[c], invStd[c], gamma, beta, res, rOff, relu);
        }
    }

    /** Mean and M2 of statistic {@code c} of a slab geometry (see the class comment for the shift). */
    private static void slabStat(float[] x, int xOff, NormGeometry g, int c, double[] mean, double[] m2) {
        int d = g.d(), stride = g.k() * d, a = g.a();
        double count = g.count();
        int o = xOff + c * d;
        double s = x[o];
        SlabBody.shiftedSums(x, o, a, stride, d, s, mean, m2, c);
        double mu = s + mean[c] / count;
        if (Double.isNaN(mu)) {
            // An infinity (Inf - Inf in the shifted sums) or a NaN: plain sums give PyTorch's answer, a mean of
            // +-Inf with a NaN variance for infinities, NaN for NaN.
            SlabBody.shiftedSums(x, o, a, stride, d, 0.0, mean, m2, c);
            mu = mean[c] / count;
        } else if (poorShift(mean[c], m2[c], count)) {
            double centre = mu;
            SlabBody.shiftedSums(x, o, a, stride, d, centre, mean, m2, c);
            mu = centre + mean[c] / count;
        }
        double v = m2[c] - mean[c] * mean[c] / count;
        mean[c] = mu;
        m2[c] = v < 0 ? 0.0 : v;
    }

    private static boolean poorShift(double s1, double s2, double count) {
        return s1 * s1 / count > POOR_SHIFT * s2;
    }

    /** Slabs {@code [s0, s1)} in storage order: slab {@code s} is sample {@code s / k} of statistic {@code s % k}. */
    private static void slabNormalizeRange(int s0, int s1, float[] x, int xOff, float[] y, int yOff, NormGeometry g,
                                           double[] mean, double[] invStd, float[] gamma, float[] beta, float[] res,
                                           int rOff, boolean relu) {
        int k = g.k();
        for (int s = s0; s < s1; s++) {
            int c = s % k;
            normalizeSlabs(x, xOff, y, yOff, g, c, s / k, s / k + 1, mean[c], invStd[c], gamma, beta, res, rOff,
                    relu);
        }
    }

    /** {@code y = act(xhat * gamma + beta [+ res])} over the values of statistic {@code c}. */
    private static void slabNormalize(float[] x, int xOff, float[] y, int yOff, NormGeometry g, int c, double mu,
                                      double is, float[] gamma, float[] beta, float[] res, int rOff, boolean relu) {
        normalizeSlabs(x, xOff, y, yOff, g, c, 0, g.a(), mu, is, gamma, beta, res, rOff, relu);
    }

    /** The same over samples {@code [i0, i1)} of statistic {@code c}. */
    private static void normalizeSlabs(float[] x, int xOff, float[] y, int yOff, NormGeometry g, int c, int i0,
                                       int i1, double mu, double is, float[] gamma, float[] beta, float[] res,
                                       int rOff, boolean relu) {
        int k = g.k(), d = g.d(), p = g.p(), q = g.q();
        int aff = (c % g.kMod()) * p;
        float mF = (float) mu;
        double r = mu - mF;
        boolean noAffine = gamma == null && beta == null;
        boolean perElement = !noAffine && q == 1 && p > 1;
        for (int i = i0; i < i1; i++) {
            int base = (i * k + c) * d;
            if (noAffine) {
                SlabBody.affine(x, xOff + base, y, yOff + base, d, mF, (float) is, (float) (-r * is), res, rOff + base,
                        relu);
            } else if (perElement) {
                SlabBody.affineVec(x, xOff + base, y, yOff + base, d, mF, (float) is, (float) (-r * is), gamma, beta,
                        aff, res, rOff + base, relu);
            } else {
                for (int pp = 0; pp < p; pp++) {
                    double sc = is * (gamma == null ? 1.0 : gamma[aff + pp]);
                    double sh = (beta == null ? 0.0 : beta[aff + pp]) - r * sc;
                    int o = base + pp * q;
                    SlabBody.affine(x, xOff + o, y, yOff + o, q, mF, (float) sc, (float) sh, res, rOff + o, relu);
                }
            }
        }
    }

    /** Row geometry: per-chunk shifted sums, combined in chunk order. */
    private static void rowStats(float[] x, int xOff, NormGeometry g, double[] mean, double[] m2, Scratch s) {
        int a = g.a(), k = g.k();
        int rpc = rowsPerChunk(k), nch = ceilDiv(a, rpc);
        double[] sh = s.d(2, k);
        for (int c = 0; c < k; c++) {
            sh[c] = x[xOff + c]; // the first row: the shift
        }
        double[] p1 = s.d(0, nch * k), p2 = s.d(1, nch * k);
        if (nch == 1) {
            rowSumsChunk(0, x, xOff, a, k, rpc, sh, p1, p2);
        } else {
            WorkerPool.parallelFor(nch, ch -> rowSumsChunk(ch, x, xOff, a, k, rpc, sh, p1, p2));
        }
        Arrays.fill(mean, 0, k, 0.0);
        Arrays.fill(m2, 0, k, 0.0);
        for (int ch = 0; ch < nch; ch++) {
            for (int c = 0; c < k; c++) {
                mean[c] += p1[ch * k + c];
                m2[c] += p2[ch * k + c];
            }
        }
        double count = g.count();
        for (int c = 0; c < k; c++) {
            double mu = sh[c] + mean[c] / count;
            boolean nonFinite = Double.isNaN(mu); // see slabStat: re-sum unshifted
            if (nonFinite || poorShift(mean[c], m2[c], count)) {
                double centre = nonFinite ? 0.0 : mu, t1 = 0, t2 = 0;
                for (int r = 0; r < a; r++) {
                    double t = x[xOff + r * k + c] - centre;
                    t1 += t;
                    t2 += t * t;
                }
                mean[c] = t1;
                m2[c] = t2;
                mu = centre + t1 / count;
            }
            double v = m2[c] - mean[c] * mean[c] / count;
            mean[c] = mu;
            m2[c] = v < 0 ? 0.0 : v;
        }
    }

    private static void rowSumsChunk(int ch, float[] x, int xOff, int a, int k, int rpc, double[] sh, double[] p1,
                                     double[] p2) {
        Arrays.fill(p1, ch * k, ch * k + k, 0.0);
        Arrays.fill(p2, ch * k, ch * k + k, 0.0);
        RowBody.shiftedSums(x, xOff, ch * rpc, Math.min(a, ch * rpc + rpc), k, sh, p1, p2, ch * k);
    }

    /** Per channel: {@code m = float(mean)}, {@code sc = invStd * gamma}, {@code sh = beta - (mean - m) * sc}. */
    private static void rowCoefficients(NormGeometry g, double[] mean, double[] invStd, float[] gamma, float[] beta,
                                        float[] m, float[] sc, float[] sh) {
        int kMod = g.kMod();
        for (int c = 0; c < g.k(); c++) {
            float mF = (float) mean[c];
            double s = invStd[c] * (gamma == null ? 1.0 : gamma[c % kMod]);
            m[c] = mF;
            sc[c] = (float) s;
            sh[c] = (float) ((beta == null ? 0.0 : beta[c % kMod]) - (mean[c] - mF) * s);
        }
    }

    private static void rowAffineAll(float[] x, int xOff, float[] y, int yOff, NormGeometry g, float[] m, float[] sc,
                                     float[] sh, float[] res, int rOff, boolean relu) {
        int a = g.a(), k = g.k();
        int rpc = Math.max(1, ELEMENTWISE_TASK_ELEMS / Math.max(1, k)), nch = ceilDiv(a, rpc);
        if (nch == 1) {
            RowBody.affine(x, xOff, y, yOff, 0, a, k, m, sc, sh, res, rOff, relu);
        } else {
            WorkerPool.parallelFor(nch, ch -> RowBody.affine(x, xOff, y, yOff, ch * rpc, Math.min(a, ch * rpc + rpc),
                    k, m, sc, sh, res, rOff, relu));
        }
    }

    // ---------------------------------------------------------------- backward

    @Override
    public void backwardReduce(float[] dy, int dyOff, float[] x, int xOff, NormGeometry g, double[] mean,
                               double[] invStd, float[] gamma, double[] sumDxhat, double[] sumDxhatXhat,
                               double[] dGamma, double[] dBeta) {
        backwardImpl(dy, dyOff, x, xOff, g, mean, invStd, gamma, true, null, 0, null, 0, sumDxhat, sumDxhatXhat,
                dGamma, dBeta, 0, true, null, 0);
    }

    @Override
    public void backwardElementwise(float[] dy, int dyOff, float[] x, int xOff, NormGeometry g, double[] mean,
                                    double[] invStd, float[] gamma, double[] sumDxhat, double[] sumDxhatXhat,
                                    double count, boolean batchStats, float[] dx, int dxOff) {
        backwardImpl(dy, dyOff, x, xOff, g, mean, invStd, gamma, batchStats, null, 0, null, 0, sumDxhat,
                sumDxhatXhat, null, null, count, false, dx, dxOff);
    }

    @Override
    public void backward(float[] dy, int dyOff, float[] x, int xOff, NormGeometry g, double[] mean, double[] invStd,
                         float[] gamma, boolean batchStats, float[] yOut, int yOutOff, float[] dResidual, int drOff,
                         double[] sumDxhat, double[] sumDxhatXhat, double[] dGamma, double[] dBeta, float[] dx,
                         int dxOff) {
        backwardImpl(dy, dyOff, x, xOff, g, mean, invStd, gamma, batchStats, yOut, yOutOff, dResidual, drOff,
                sumDxhat, sumDxhatXhat, dGamma, dBeta, g.count(), batchStats || dGamma != null || dBeta != null, dx,
                dxOff);
    }

    /**
     * The backward in one place: with {@code reduce} the reductions are computed (into {@code sumDxhat},
     * {@code sumDxhatXhat} and the affine gradients), otherwise the given ones are used (backwardElementwise,
     * after a possible all-reduce); with {@code dx == null} there is no elementwise pass (backwardReduce).
     */
    private static void backwardImpl(float[] dy, int dyOff, float[] x, int xOff, NormGeometry g, double[] mean,
                                     double[] invStd, float[] gamma, boolean batchStats, float[] ym, int ymOff,
                                     float[] dr, int drOff, double[] sumDxhat, double[] sumDxhatXhat,
                                     double[] dGamma, double[] dBeta, double count, boolean reduce, float[] dx,
                                     int dxOff) {
        if (g.numel() == 0) {
            if (reduce) {
                Arrays.fill(sumDxhat, 0, g.k(), 0.0);
                Arrays.fill(sumDxhatXhat, 0, g.k(), 0.0);
            }
            return;
        }
        Scratch s = SCRATCH.get();
        if (g.d() == 1) {
            rowBackward(s, dy, dyOff, x, xOff, g, mean, invStd, gamma, batchStats, ym, ymOff, dr, drOff, sumDxhat,
                    sumDxhatXhat, dGamma, dBeta, count, reduce, dx, dxOff);
        } else {
            slabBackward(s, dy, dyOff, x, xOff, g, mean, invStd, gamma, batchStats, ym, ymOff, dr, drOff, sumDxhat,
                    sumDxhatXhat, dGamma, dBeta, count, reduce, dx, dxOff);
        }
    }

    private static void slabBackward(Scratch s, float[] dy, int dyOff, float[] x, int xOff, NormGeometry g,
                                     double[] mean, double[] invStd, float[] gamma, boolean batchStats, float[] ym,
                                     int ymOff, float[] dr, int drOff, double[] sumDxhat, double[] sumDxhatXhat,
                                     double[] dGamma, double[] dBeta, double count, boolean reduce, float[] dx,
                                     int dxOff) {
        int k = g.k(), p = g.p();
        boolean perElement = g.q() == 1 && p > 1;
        double[] p1 = s.d(0, k * p), p2 = s.d(1, k * p);
        SlabTask task = s.task.set(dy, dyOff, x, xOff, g, mean, invStd, gamma, batchStats, ym, ymOff, dr, drOff,
                sumDxhat, sumDxhatXhat, count, reduce, dx, dxOff, p1, p2, perElement);
        int per = statsPerTask(g), nt = ceilDiv(k, per);
        try {
            if (nt == 1) {
                task.range(0, k);
            } else {
                WorkerPool.parallelFor(nt, t -> task.range(t * per, Math.min(k, t * per + per)));
            }
        } finally {
            task.clear(); // the thread's task must not keep the caller's arrays alive
        }
        if (reduce && (dGamma != null || dBeta != null)) {
            if (perElement) {
                columnAffineGrads(dy, dyOff, x, xOff, ym, ymOff, g, mean, invStd, dGamma, dBeta);
            } else {
                int kMod = g.kMod();
                for (int c = 0; c < k; c++) {
                    double is = invStd[c];
                    int aff = (c % kMod) * p;
                    for (int pp = 0; pp < p; pp++) {
                        double s1 = p1[c * p + pp], s2 = p2[c * p + pp];
                        if (dGamma != null) {
                            dGamma[aff + pp] += is * s2;
                        }
                        if (dBeta != null) {
                            dBeta[aff + pp] += s1;
                        }
                    }
                }
            }
        }
    }

    /**
     * One backward over slab statistics; holds the arguments so that a task is a method call, not a capture. One
     * per thread (in its {@link Scratch}), set for each call, so that a backward allocates no task object.
     */
    private static final class SlabTask {
        private float[] dy;
        private int dyOff;
        private float[] x;
        private int xOff;
        private NormGeometry g;
        private double[] mean;
        private double[] invStd;
        private float[] gamma;
        private boolean batchStats;
        private float[] ym;
        private int ymOff;
        private float[] dr;
        private int drOff;
        private double[] sumDxhat;
        private double[] sumDxhatXhat;
        private double count;
        private boolean reduce;
        private float[] dx;
        private int dxOff;
        private double[] p1;
        private double[] p2;
        private boolean perElement;

        SlabTask set(float[] dy, int dyOff, float[] x, int xOff, NormGeometry g, double[] mean, double[] invStd,
                     float[] gamma, boolean batchStats, float[] ym, int ymOff, float[] dr, int drOff,
                     double[] sumDxhat, double[] sumDxhatXhat, double count, boolean reduce, float[] dx, int dxOff,
                     double[] p1, double[] p2, boolean perElement) {
            this.dy = dy;
            this.dyOff = dyOff;
            this.x = x;
            this.xOff = xOff;
            this.g = g;
            this.mean = mean;
            this.invStd = invStd;
            this.gamma = gamma;
            this.batchStats = batchStats;
            this.ym = ym;
            this.ymOff = ymOff;
            this.dr = dr;
            this.drOff = drOff;
            this.sumDxhat = sumDxhat;
            this.sumDxhatXhat = sumDxhatXhat;
            this.count = count;
            this.reduce = reduce;
            this.dx = dx;
            this.dxOff = dxOff;
            this.p1 = p1;
            this.p2 = p2;
            this.perElement = perElement;
            return this;
        }

        void clear() {
            set(null, 0, null, 0, null, null, null, null, false, null, 0, null, 0, null, null, 0, false, null, 0, null,
                    null, false);
        }

        void range(int c0, int c1) {
            for (int c = c0; c < c1; c++) {
                if (reduce) {
                    reduce(c);
                }
                if (dx != null) {
                    elementwise(c);
                }
            }
        }

        private void reduce(int c) {
            int a = g.a(), k = g.k(), d = g.d(), p = g.p(), q = g.q();
            int aff = (c % g.kMod()) * p;
            double mu = mean[c], is = invStd[c];
            double sDx = 0, sT = 0;
            if (perElement) {
                sumDxhat[c] = 0;
                sumDxhatXhat[c] = 0;
                for (int i = 0; i < a; i++) {
                    int base = (i * k + c) * d;
                    SlabBody.reduceRunVec(dy, dyOff + base, x, xOff + base, ym, ymOff + base, d, mu, gamma, aff,
                            sumDxhat, sumDxhatXhat, c);
                }
                sDx = sumDxhat[c];
                sT = sumDxhatXhat[c];
            } else {
                Arrays.fill(p1, c * p, c * p + p, 0.0);
                Arrays.fill(p2, c * p, c * p + p, 0.0);
                for (int i = 0; i < a; i++) {
                    int base = (i * k + c) * d;
                    for (int pp = 0; pp < p; pp++) {
                        int o = base + pp * q;
                        SlabBody.reduceRun(dy, dyOff + o, x, xOff + o, ym, ymOff + o, q, mu, p1, p2, c * p + pp);
                    }
                }
                for (int pp = 0; pp < p; pp++) {
                    double gm = gamma == null ? 1.0 : gamma[aff + pp];
                    sDx += gm * p1[c * p + pp];
                    sT += gm * p2[c * p + pp];
                }
            }
            sumDxhat[c] = sDx;
            sumDxhatXhat[c] = is * sT;
        }

        private void elementwise(int c) {
            int a = g.a(), k = g.k(), d = g.d(), p = g.p(), q = g.q();
            int aff = (c % g.kMod()) * p;
            double mu = mean[c], is = invStd[c];
            float mF = (float) mu;
            double r = mu - mF;
            double mD = batchStats ? sumDxhat[c] / count : 0.0;
            double mDX = batchStats ? sumDxhatXhat[c] / count : 0.0;
            if (batchStats && count == 1) {
                // One value per statistic: y does not depend on x, dx is exactly 0; the float terms below would
                // leave rounding times invStd (up to 1/sqrt(eps)) instead of cancelling.
                is = 0;
                mD = 0;
                mDX = 0;
            }
            // dx = is*g*dy' - is*mD - is*xhat*mDX with xhat = (t - r)*is, t = x - mF
            double cb = -is * is * mDX;
            double cc = -is * mD + is * is * r * mDX;
            for (int i = 0; i < a; i++) {
                int base = (i * k + c) * d;
                if (gamma == null) {
                    SlabBody.dxRun(dy, dyOff + base, x, xOff + base, ym, ymOff + base, dx, dxOff + base, dr,
                            drOff + base, d, mF, (float) is, (float) cb, (float) cc);
                } else if (perElement) {
                    SlabBody.dxRunVec(dy, dyOff + base, x, xOff + base, ym, ymOff + base, dx, dxOff + base, dr,
                            drOff + base, d, mF, (float) is, (float) cb, (float) cc, gamma, aff);
                } else {
                    for (int pp = 0; pp < p; pp++) {
                        int o = base + pp * q;
                        SlabBody.dxRun(dy, dyOff + o, x, xOff + o, ym, ymOff + o, dx, dxOff + o, dr, drOff + o, q,
                                mF, (float) (is * gamma[aff + pp]), (float) cb, (float) cc);
                    }
                }
            }
        }
    }

    /**
     * dGamma/dBeta where gamma changes every element ({@code q = 1, p > 1}): tasks own blocks of affine columns
     * and walk every statistic in order, so each column is summed in a fixed order.
     */
    private static void columnAffineGrads(float[] dy, int dyOff, float[] x, int xOff, float[] ym, int ymOff,
                                          NormGeometry g, double[] mean, double[] invStd, double[] dGamma,
                                          double[] dBeta) {
        int p = g.p(), nt = ceilDiv(p, COL_BLOCK);
        if (nt == 1 || g.numel() < TASK_ELEMS) {
            for (int t = 0; t < nt; t++) {
                columnBlock(t, dy, dyOff, x, xOff, ym, ymOff, g, mean, invStd, dGamma, dBeta);
            }
        } else {
            WorkerPool.parallelFor(nt, t -> columnBlock(t, dy, dyOff, x, xOff, ym, ymOff, g, mean, invStd, dGamma,
                    dBeta));
        }
    }

    private static void columnBlock(int t, float[] dy, int dyOff, float[] x, int xOff, float[] ym, int ymOff,
                                    NormGeometry g, double[] mean, double[] invStd, double[] dGamma, double[] dBeta) {
        int a = g.a(), k = g.k(), d = g.d(), p = g.p(), kMod = g.kMod();
        int j0 = t * COL_BLOCK, j1 = Math.min(p, j0 + COL_BLOCK);
        for (int c = 0; c < k; c++) {
            int aff = (c % kMod) * p;
            double mu = mean[c], is = invStd[c];
            float mF = (float) mu;
            float isF = (float) is, shF = (float) (-(mu - mF) * is);
            for (int i = 0; i < a; i++) {
                int base = (i * k + c) * d;
                for (int j = j0; j < j1; j++) {
                    float gy = ym == null ? dy[dyOff + base + j] : SlabBody.gate(dy[dyOff + base + j], ym,
                            ymOff + base + j);
                    float xh = Math.fma(x[xOff + base + j] - mF, isF, shF);
                    if (dBeta != null) {
                        dBeta[aff + j] += gy;
                    }
                    if (dGamma != null) {
                        dGamma[aff + j] += (double) gy * xh;
                    }
                }
            }
        }
    }

    private static void rowBackward(Scratch s, float[] dy, int dyOff, float[] x, int xOff, NormGeometry g,
                                    double[] mean, double[] invStd, float[] gamma, boolean batchStats, float[] ym,
                                    int ymOff, float[] dr, int drOff, double[] sumDxhat, double[] sumDxhatXhat,
                                    double[] dGamma, double[] dBeta, double count, boolean reduce, float[] dx,
                                    int dxOff) {
        int a = g.a(), k = g.k(), kMod = g.kMod();
        int rpc = rowsPerChunk(k), nch = ceilDiv(a, rpc);
        float[] m = s.f(0, k);
        for (int c = 0; c < k; c++) {
            m[c] = (float) mean[c];
        }
        if (reduce) {
            double[] p1 = s.d(0, nch * k), p2 = s.d(1, nch * k);
            if (nch == 1) {
                rowReduceChunk(0, dy, dyOff, x, xOff, ym, ymOff, a, k, rpc, mean, p1, p2);
            } else {
                WorkerPool.parallelFor(nch, ch -> rowReduceChunk(ch, dy, dyOff, x, xOff, ym, ymOff, a, k, rpc, mean,
                        p1, p2));
            }
            for (int c = 0; c < k; c++) {
                double s1 = 0, s2 = 0;
                for (int ch = 0; ch < nch; ch++) {
                    s1 += p1[ch * k + c];
                    s2 += p2[ch * k + c];
                }
                double is = invStd[c];
                double gm = gamma == null ? 1.0 : gamma[c % kMod];
                double sDyXhat = is * s2;
                sumDxhat[c] = gm * s1;
                sumDxhatXhat[c] = gm * sDyXhat;
                if (dGamma != null) {
                    dGamma[c % kMod] += sDyXhat;
                }
                if (dBeta != null) {
                    dBeta[c % kMod] += s1;
                }
            }
        }
        if (dx == null) {
            return;
        }
        float[] ca = s.f(1, k), cb = s.f(2, k), cc = s.f(3, k);
        for (int c = 0; c < k; c++) {
            boolean constant = batchStats && count == 1; // y does not depend on x: dx is exactly 0
            double is = constant ? 0.0 : invStd[c], r = mean[c] - m[c];
            double mD = batchStats && !constant ? sumDxhat[c] / count : 0.0;
            double mDX = batchStats && !constant ? sumDxhatXhat[c] / count : 0.0;
            ca[c] = (float) (is * (gamma == null ? 1.0 : gamma[c % kMod]));
            cb[c] = (float) (-is * is * mDX);
            cc[c] = (float) (-is * mD + is * is * r * mDX);
        }
        int epc = Math.max(1, ELEMENTWISE_TASK_ELEMS / Math.max(1, k)), nex = ceilDiv(a, epc);
        if (nex == 1) {
            RowBody.dx(dy, dyOff, x, xOff, ym, ymOff, dx, dxOff, dr, drOff, 0, a, k, m, ca, cb, cc);
        } else {
            WorkerPool.parallelFor(nex, ch -> RowBody.dx(dy, dyOff, x, xOff, ym, ymOff, dx, dxOff, dr, drOff,
                    ch * epc, Math.min(a, ch * epc + epc), k, m, ca, cb, cc));
        }
    }

    private static void rowReduceChunk(int ch, float[] dy, int dyOff, float[] x, int xOff, float[] ym, int ymOff,
                                       int a, int k, int rpc, double[] m, double[] p1, double[] p2) {
        Arrays.fill(p1, ch * k, ch * k + k, 0.0);
        Arrays.fill(p2, ch * k, ch * k + k, 0.0);
        RowBody.reduce(dy, dyOff, x, xOff, ym, ymOff, ch * rpc, Math.min(a, ch * rpc + rpc), k, m, p1, p2, ch * k);
    }

    // ---------------------------------------------------------------- sizing and scratch

    /** Statistics per task in slab geometries: enough that a task holds about {@link #TASK_ELEMS} values. */
    static int statsPerTask(NormGeometry g) {
        return (int) Math.max(1, Math.min(g.k(), TASK_ELEMS / Math.max(1, g.count())));
    }

    static int rowsPerChunk(int k) {
        return Math.max(1, TASK_ELEMS / Math.max(1, k));
    }

    private static int ceilDiv(int n, int per) {
        return n == 0 ? 0 : (n + per - 1) / per;
    }

    /** Grow-only per-thread scratch: partial sums and per-channel coefficients, reused across calls. */
    private static final class Scratch {
        private final float[][] f = new float[4][0];
        private final double[][] d = new double[3][0];
        private final SlabTask task = new SlabTask();

        float[] f(int i, int n) {
            if (f[i].length < n) {
                f[i] = new float[n];
            }
            return f[i];
        }

        double[] d(int i, int n) {
            if (d[i].length < n) {
                d[i] = new double[n];
            }
            return d[i];
        }
    }
}
