package io.github.batchnorm4j.functional;

import io.github.batchnorm4j.kernel.NormGeometry;
import io.github.batchnorm4j.tensor.MemoryFormat;
import io.github.batchnorm4j.tensor.Tensor;

/**
 * Reusable per-layer buffers for {@link NormCore}: the statistics a forward saves (mean, invStd, M2) and the
 * backward's reductions, so that a layer called again and again with the same geometry allocates nothing.
 *
 * <p>Contract: the {@link NormSaved} returned by a forward that used a workspace refers to the workspace's
 * arrays, so it stays valid only until the next forward with the same workspace. That is exactly how a module
 * uses it (its backward always belongs to its last forward); callers who keep several NormSaved alive must not
 * share a workspace between them. A workspace is not thread-safe: one per layer.
 *
 * <p>It also holds the output of the forward and the gradients of the backward: a tensor returned by a call
 * that used a workspace is overwritten by the next call of the same kind, unless {@link #reuseResults} is off (what
 * a layer sets when it has not opted into buffer reuse); copy it to keep it. The small records a call returns ({@link NormGeometry}, {@link NormSaved},
 * {@link NormResult}, {@link NormGradients}) are immutable and reused while their contents are the same.
 */
public final class NormWorkspace {
    /** Scratch slots for layout conversions (see {@link #inFormat}). */
    static final int INPUT = 0;
    static final int GRAD_OUTPUT = 1;
    static final int RESULT = 2;
    /** The residual of a fused forward, or the output a fused backward gates by, in another format. */
    static final int RESIDUAL = 3;

    private double[] mean = new double[0];
    private double[] invStd = new double[0];
    private double[] m2 = new double[0];
    private double[] sumDxhat = new double[0];
    private double[] sumDxhatXhat = new double[0];
    private double[] dGamma = new double[0];
    private double[] dBeta = new double[0];
    private double[] normMean = new double[0];
    private double[] normInvStd = new double[0];
    private double[] sums = new double[0];
    private final double[] count = new double[1];
    private double[] maskCounts = new double[0];
    private float[] gated = new float[0];

    private Tensor output;
    private Tensor gradInput;
    private boolean reuseResults = true;
    private Tensor gradWeight;
    private Tensor gradBias;
    private final Tensor[] scratch = new Tensor[4];

    private NormGeometry geometry;
    private NormSaved saved;
    private NormResult result;
    private NormGradients gradients;

    /** Sizes the per-statistic arrays for {@code g} (exact length {@code g.k()}); reuses them when it fits. */
    void prepare(NormGeometry g) {
        int k = g.k();
        if (mean.length != k) {
            mean = new double[k];
            invStd = new double[k];
            m2 = new double[k];
            sumDxhat = new double[k];
            sumDxhatXhat = new double[k];
            normMean = new double[k];
            normInvStd = new double[k];
            sums = new double[2 * k];
            maskCounts = new double[k];
        }
        int affine = g.affineSize();
        if (dGamma.length != affine) {
            dGamma = new double[affine];
            dBeta = new double[affine];
        }
    }

    double[] mean() {
        return mean;
    }

    double[] invStd() {
        return invStd;
    }

    double[] m2() {
        return m2;
    }

    /** The statistics a transform makes the batch normalise with (length k). */
    double[] normMean() {
        return normMean;
    }

    double[] normInvStd() {
        return normInvStd;
    }

    /** The two backward reductions packed into one message for a combine (length 2k). */
    double[] sums() {
        return sums;
    }

    /** Valid values per statistic of a masked forward (length k). */
    double[] maskCounts() {
        return maskCounts;
    }

    /** One count, the message of a single block's combine. */
    double[] count() {
        return count;
    }

    double[] sumDxhat() {
        return sumDxhat;
    }

    double[] sumDxhatXhat() {
        return sumDxhatXhat;
    }

    /** Zeroed affine-gradient accumulators of length {@code g.affineSize()}. */
    double[] dGamma() {
        java.util.Arrays.fill(dGamma, 0.0);
        return dGamma;
    }

    double[] dBeta() {
        java.util.Arrays.fill(dBeta, 0.0);
        return dBeta;
    }

    /** The affine-gradient accumulators as the last backward left them (not zeroed). */
    double[] dGammaSums() {
        return dGamma;
    }

    double[] dBetaSums() {
        return dBeta;
    }

    /** {@code new NormGeometry(a, k, d, kMod, p, q)}, or the previous one when it is that geometry. */
    NormGeometry geometry(int a, int k, int d, int kMod, int p, int q) {
        NormGeometry g = geometry;
        if (g == null || g.a() != a || g.k() != k || g.d() != d || g.kMod() != kMod || g.p() != p || g.q() != q) {
            g = new NormGeometry(a, k, d, kMod, p, q);
            geometry = g;
        }
        return g;
    }

    /** The saved statistics of a forward over {@code g}, held in this workspace's mean and invStd arrays. */
    NormSaved saved(NormGeometry g, boolean batchStats, MemoryFormat storage) {
        return saved(g, batchStats, storage, g.count(), null);
    }

    /** The same, behind {@code count} values per statistic that were combined through {@code combine}. */
    NormSaved saved(NormGeometry g, boolean batchStats, MemoryFormat storage, double count, StatsCombine combine) {
        return saved(g, batchStats, storage, count, combine, null);
    }

    /** The same for a masked forward ({@code mask} non-null). */
    NormSaved saved(NormGeometry g, boolean batchStats, MemoryFormat storage, double count, StatsCombine combine,
                    NormSaved.Mask mask) {
        NormSaved s = saved;
        if (s == null || s.geometry() != g || s.mean() != mean || s.invStd() != invStd
                || s.batchStats() != batchStats || s.storage() != storage || s.count() != count
                || s.combine() != combine || !java.util.Objects.equals(s.mask(), mask)) {
            s = new NormSaved(g, mean, invStd, batchStats, storage, count, combine, mask);
            saved = s;
        }
        return s;
    }

    NormResult result(Tensor y, NormSaved s) {
        NormResult r = result;
        if (r == null || r.output() != y || r.saved() != s) {
            r = new NormResult(y, s);
            result = r;
        }
        return r;
    }

    NormGradients gradients(Tensor dx, Tensor dWeight, Tensor dBias) {
        NormGradients g = gradients;
        if (g == null || g.input() != dx || g.weight() != dWeight || g.bias() != dBias) {
            g = new NormGradients(dx, dWeight, dBias);
            gradients = g;
        }
        return g;
    }

    /**
     * Whether {@link #output} and {@link #gradInput} hand out the same tensor again (true, the default of a
     * workspace) or a new one each call (false: what a layer that does not opt into buffer reuse needs, so that a
     * result its caller keeps is never overwritten). Scratch, statistics and the gamma/beta gradients are reused
     * either way. Returns this.
     */
    public NormWorkspace reuseResults(boolean on) {
        reuseResults = on;
        return this;
    }

    /** Scratch for a ReLU-gated gradient of {@code n} values (contents undefined). */
    float[] gated(int n) {
        if (gated.length != n) {
            gated = new float[n];
        }
        return gated;
    }

    /** A tensor shaped and laid out like {@code x} for the forward's output (contents undefined). */
    public Tensor output(Tensor x) {
        output = like(reuseResults ? output : null, x, x.format());
        return output;
    }

    /** A tensor shaped and laid out like {@code x} for the input gradient (contents undefined). */
    public Tensor gradInput(Tensor x) {
        gradInput = like(reuseResults ? gradInput : null, x, x.format());
        return gradInput;
    }

    /**
     * A tensor for dgamma ({@code which = 0}) or dbeta (1), contents undefined: shaped like {@code weight}, or
     * {@code [size]} when it is null.
     */
    Tensor affineGrad(int which, Tensor weight, int size) {
        Tensor t = which == 0 ? gradWeight : gradBias;
        boolean fits = t != null && (weight != null ? t.sameShape(weight) : t.rank() == 1 && t.dim(0) == size);
        if (!fits) {
            t = Functional.affineZeros(weight, size);
        }
        if (which == 0) {
            gradWeight = t;
        } else {
            gradBias = t;
        }
        return t;
    }

    /**
     * {@code t} in memory format {@code format}: {@code t} itself when it is stored so, otherwise its values
     * permuted into scratch buffer {@code slot} (overwritten by the next use of that slot).
     */
    Tensor inFormat(int slot, Tensor t, MemoryFormat format) {
        return t.format() == format ? t : t.copyTo(scratch(slot, t, format));
    }

    /**
     * A backward's {@code gradOutput} in memory format {@code format}: itself when it is stored so, otherwise a
     * permuted copy in this workspace (overwritten by the next backward that uses the workspace).
     */
    public Tensor gradientIn(Tensor gradOutput, MemoryFormat format) {
        return inFormat(GRAD_OUTPUT, gradOutput, format);
    }

    /** Scratch buffer {@code slot}, shaped like {@code x} and stored in {@code format} (contents undefined). */
    Tensor scratch(int slot, Tensor x, MemoryFormat format) {
        scratch[slot] = like(scratch[slot], x, format);
        return scratch[slot];
    }

    private static Tensor like(Tensor t, Tensor x, MemoryFormat format) {
        return t != null && t.format() == format && t.sameShape(x) && t != x
                ? t : Tensor.zeros(format, x.shape());
    }
}
