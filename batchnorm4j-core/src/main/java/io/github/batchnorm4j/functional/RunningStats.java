package io.github.batchnorm4j.functional;

import io.github.batchnorm4j.kernel.NormGeometry;
import io.github.batchnorm4j.nn.LongState;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.Objects;

/**
 * The running statistics of one normalization layer and the one place their update rule lives: running mean
 * and variance {@code [C]}, {@code num_batches_tracked}, and the momentum.
 *
 * <p><b>Update</b>, once per training batch: {@code running = (1 - m) * running + m * batch}, where the batch
 * values are the mean and the <em>unbiased</em> variance {@code M2 / (n - 1)}, and {@code m} is the momentum, or
 * {@code 1 / num_batches_tracked} (after the increment) when the momentum is null: a cumulative average. Where
 * several statistics share one running entry (InstanceNorm: one per instance of a channel) the batch value is
 * their average, as PyTorch does. With the {@link VarianceRule#SIGMA} rule (Batch Renormalization's running
 * sigma) the variance entry instead follows {@code sigma += m * (sigma_B - sigma)} with
 * {@code sigma = sqrt(running_var + eps)} and the biased {@code sigma_B}, stored as {@code sigma² - eps}.
 *
 * <p><b>Accumulation</b> ({@link #beginAccumulation}/{@link #commitAccumulation}): between the two calls the
 * batches' statistics are merged (count-weighted, {@link Moments#merge}) instead of applied, and the commit makes
 * one update with the merged statistics: the update the concatenated batch would have made.
 *
 * <p>Instances are mutable (the modules update theirs in place, allocating nothing); {@link #copy} gives an
 * independent one, which is what the stateless {@link Functional#batchNorm(Tensor, Tensor, Tensor, RunningStats)}
 * returns.
 */
public final class RunningStats {
    /** What the running variance entry averages. */
    public enum VarianceRule {
        /** The unbiased batch variance (PyTorch's BatchNorm). */
        VARIANCE,
        /** The batch standard deviation {@code sigma_B = sqrt(var_B + eps)} (Batch Renormalization's paper). */
        SIGMA
    }

    private final Tensor mean;
    private final Tensor var;
    private final LongState tracked;
    private final Double momentum;
    private final VarianceRule rule;
    private boolean accumulating;
    private double pendingCount;
    private double[] pendingMean = new double[0];
    private double[] pendingM2 = new double[0];
    private double[] pendingInvStd = new double[0];

    /**
     * Wraps existing buffers (a module's registered {@code running_mean}, {@code running_var},
     * {@code num_batches_tracked}); they are updated in place.
     */
    public RunningStats(Tensor mean, Tensor var, LongState tracked, Double momentum, VarianceRule rule) {
        this.mean = Objects.requireNonNull(mean, "mean");
        this.var = Objects.requireNonNull(var, "var");
        this.tracked = Objects.requireNonNull(tracked, "tracked");
        if (mean.rank() != 1 || !mean.sameShape(var)) {
            throw new IllegalArgumentException("Expected running mean and variance of one shape [C], got "
                    + mean.shapeString() + " and " + var.shapeString());
        }
        if (momentum != null) {
            Functional.checkMomentum(momentum);
        }
        this.momentum = momentum;
        this.rule = Objects.requireNonNull(rule, "rule");
    }

    /** Fresh statistics for {@code channels} channels: mean 0, variance 1, no batch seen. */
    public static RunningStats initial(int channels, Double momentum) {
        return new RunningStats(Tensor.zeros(channels), Tensor.full(1f, channels), new LongState(), momentum,
                VarianceRule.VARIANCE);
    }

    /** An independent copy (values, count, momentum, rule; not an accumulation in progress). */
    public RunningStats copy() {
        LongState t = new LongState();
        t.set(tracked.get());
        return new RunningStats(mean.copy(), var.copy(), t, momentum, rule);
    }

    public Tensor mean() {
        return mean;
    }

    public Tensor var() {
        return var;
    }

    public long numBatchesTracked() {
        return tracked.get();
    }

    /** Sets {@code num_batches_tracked} (a checkpoint's value, or a schedule's step). */
    public void setNumBatchesTracked(long n) {
        tracked.set(n);
    }

    /** Null for a cumulative average. */
    public Double momentum() {
        return momentum;
    }

    public VarianceRule rule() {
        return rule;
    }

    public int channels() {
        return mean.dim(0);
    }

    /** The weight of the next batch in the update: the momentum, or {@code 1 / (num_batches_tracked + 1)}. */
    public double factor() {
        return momentum == null ? 1.0 / (tracked.get() + 1) : momentum;
    }

    /**
     * One batch's update from the statistics of geometry {@code g} (entry {@code c} averages statistics
     * {@code c, c + kMod, ...}): {@code mean}, {@code m2} and the {@code count} behind each; {@code invStd}
     * ({@code 1/sqrt(M2/count + eps)}) is read by the {@link VarianceRule#SIGMA} rule only. Increments
     * {@code num_batches_tracked}, or, while accumulating, merges into the pending statistics.
     */
    void update(NormGeometry g, double[] batchMean, double[] m2, double count, double[] invStd, double eps) {
        update(g, batchMean, m2, count, null, invStd, eps);
    }

    /** The same with a count per statistic ({@code counts}, non-null: a masked batch) instead of one count. */
    void update(NormGeometry g, double[] batchMean, double[] m2, double count, double[] counts, double[] invStd,
                double eps) {
        if (accumulating) {
            pend(g, batchMean, m2, counts == null ? count : counts[0]); // BatchNorm: every channel has one count
            return;
        }
        blend(mean.data(), var.data(), factor(), g, batchMean, m2, count, counts,
                rule == VarianceRule.SIGMA ? invStd : null, eps);
        tracked.increment();
    }

    /**
     * A training batch without values: the buffers stay as they are (there are no statistics), but the batch
     * counts, as in PyTorch, whose module increments {@code num_batches_tracked} before normalising. Nothing
     * while accumulating (the commit counts the step).
     */
    void countEmpty() {
        if (!accumulating) {
            tracked.increment();
        }
    }

    /**
     * {@code running = (1 - f) * running + f * batch} over geometry {@code g}: the running update, written once.
     * {@code counts} (may be null) gives the values behind each statistic where they differ (a masked batch). With
     * {@code invStd} non-null the variance entry follows the sigma rule instead (see the class comment).
     */
    static void blend(float[] rm, float[] rv, double f, NormGeometry g, double[] batchMean, double[] m2,
                      double count, double[] counts, double[] invStd, double eps) {
        int kMod = g.kMod();
        int reps = g.k() / kMod;
        for (int c = 0; c < kMod; c++) {
            double bm = 0, bv = 0;
            for (int r = 0; r < reps; r++) {
                bm += batchMean[r * kMod + c];
                bv += m2[r * kMod + c] / ((counts == null ? count : counts[r * kMod + c]) - 1);
            }
            bm /= reps;
            bv /= reps;
            rm[c] = (float) ((1 - f) * rm[c] + f * bm);
            if (invStd == null) {
                rv[c] = (float) ((1 - f) * rv[c] + f * bv);
            } else {
                double sigma = Math.sqrt((double) rv[c] + eps);
                double s = sigma + f * (1.0 / invStd[c] - sigma);
                rv[c] = (float) Math.max(0.0, s * s - eps);
            }
        }
    }

    /**
     * From now on, batches' statistics are merged instead of applied, until {@link #commitAccumulation}. Needs
     * one statistic per running entry (BatchNorm), not InstanceNorm's per-instance statistics.
     */
    public void beginAccumulation() {
        accumulating = true;
        pendingCount = 0;
    }

    /** Whether an accumulation is in progress. */
    public boolean accumulating() {
        return accumulating;
    }

    /**
     * Ends the accumulation: one update with the merged statistics of the batches seen since
     * {@link #beginAccumulation} (none when they held no values, or fewer than 2), and one increment of
     * {@code num_batches_tracked}.
     */
    public void commitAccumulation(double eps) {
        if (!accumulating) {
            throw new IllegalStateException("commitAccumulation without beginAccumulation");
        }
        accumulating = false;
        if (pendingCount < 2) {
            return;
        }
        int c = channels();
        double[] inv = null;
        if (rule == VarianceRule.SIGMA) {
            inv = pendingInvStd;
            Moments.invStd(pendingM2, pendingCount, eps, inv, c);
        }
        blend(mean.data(), var.data(), factor(), NormGeometry.perChannel(1, c, 1), pendingMean, pendingM2,
                pendingCount, null, inv, eps);
        tracked.increment();
    }

    private void pend(NormGeometry g, double[] batchMean, double[] m2, double count) {
        int c = channels();
        if (g.k() != c || g.kMod() != c) {
            throw new IllegalStateException("Expected one statistic per running entry to accumulate (BatchNorm), got "
                    + g.k() + " statistics for " + c + " entries");
        }
        if (pendingMean.length != c) {
            pendingMean = new double[c];
            pendingM2 = new double[c];
            pendingInvStd = new double[c];
        }
        pendingCount = Moments.merge(pendingCount, pendingMean, pendingM2, 0, count, batchMean, 0, m2, 0, c);
    }
}
