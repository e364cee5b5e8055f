package io.github.batchnorm4j.nn.norm;

import io.github.batchnorm4j.functional.Functional;
import io.github.batchnorm4j.functional.NormGradients;
import io.github.batchnorm4j.functional.NormSaved;
import io.github.batchnorm4j.functional.RunningStats;
import io.github.batchnorm4j.functional.StatsTransform;
import io.github.batchnorm4j.tensor.Tensor;

/**
 * Batch Renormalization (Ioffe, 2017): BatchNorm whose training output is corrected towards the running
 * statistics, so that training and inference compute the same function even for small or non-i.i.d. batches.
 *
 * <p>Training, per channel, with batch mean {@code mu_B}, {@code sigma_B = sqrt(var_B + eps)} (biased
 * variance) and the running statistics <em>before</em> this step's update, {@code mu = running_mean},
 * {@code sigma = sqrt(running_var + eps)}:
 * <pre>
 *   r = clip(sigma_B / sigma, 1 / rmax, rmax)      d = clip((mu_B - mu) / sigma, -dmax, dmax)
 *   y = gamma * ((x - mu_B) / sigma_B * r + d) + beta
 * </pre>
 * {@code r} and {@code d} are constants for the backward pass (the paper's stop-gradient), so the input
 * gradient is BatchNorm's with {@code gamma} replaced by {@code gamma * r}, and
 * {@code dgamma = sum(dy * (xhat_B * r + d))}. With {@code rmax = 1, dmax = 0} (r = 1, d = 0) every output,
 * gradient and running statistic equals {@link BatchNorm}'s bit for bit.
 *
 * <p>By default ({@link RunningSigma#VARIANCE}) the running statistics are updated exactly as BatchNorm's
 * ({@code momentum}, unbiased variance, {@code num_batches_tracked}) and the paper's "sigma" is
 * {@code sqrt(running_var + eps)}. With {@link RunningSigma#SIGMA} the running sigma follows the paper's rule
 * {@code sigma <- sigma + momentum * (sigma_B - sigma)} (an average of standard deviations, not of variances, with
 * the biased {@code sigma_B} including eps); it is stored as {@code running_var = sigma^2 - eps}, so that eval mode,
 * folding, export and checkpoints, which all read {@code sqrt(running_var + eps)}, use exactly that sigma. The
 * running mean is BatchNorm's in both modes. The limits follow
 * {@link RenormSchedule}s indexed by the training step, which is {@code num_batches_tracked} before the update
 * (so a checkpoint resumes the schedule). Eval mode is BatchNorm's eval. Running statistics are required.
 */
public class BatchRenorm extends BatchNorm {
    /** How the running sigma is averaged over steps. */
    public enum RunningSigma {
        /** As BatchNorm: an average of the unbiased batch variances (PyTorch's convention; the default). */
        VARIANCE,
        /** As the paper (Ioffe 2017, Alg. 1): an average of the batch standard deviations sigma_B. */
        SIGMA
    }

    private final RenormSchedule rmax;
    private final RunningSigma runningSigma;
    private final RenormSchedule dmax;
    // What the last training forward used; backward reads them (lastInput is null after an eval forward).
    private Tensor lastInput;
    private NormSaved lastSaved;
    private boolean trained;
    // Per-channel buffers, reused by every training step (the channel count is fixed): no per-step allocation.
    private final double[] lastR;
    private final double[] lastD;
    /** gamma * r for the backward. */
    private final Tensor gammaR;
    /** The limits of the current training forward (read by {@link #apply}). */
    private double stepRmax = Double.NaN;
    private double stepDmax = Double.NaN;
    private double lastRmax = Double.NaN;
    private double lastDmax = Double.NaN;
    private final StatsTransform renorm = this::renorm;

    /** BatchNorm defaults with the paper's schedules ({@link RenormSchedule#paperRmax}, {@link RenormSchedule#paperDmax}). */
    public BatchRenorm(int numFeatures) {
        this(numFeatures, NormOptions.BATCH_NORM, RenormSchedule.paperRmax(), RenormSchedule.paperDmax());
    }

    public BatchRenorm(int numFeatures, NormOptions options, RenormSchedule rmax, RenormSchedule dmax) {
        this(numFeatures, options, rmax, dmax, RunningSigma.VARIANCE);
    }

    public BatchRenorm(int numFeatures, NormOptions options, RenormSchedule rmax, RenormSchedule dmax,
                       RunningSigma runningSigma) {
        super(numFeatures, checkOptions(options), java.util.Objects.requireNonNull(runningSigma, "runningSigma")
                == RunningSigma.SIGMA ? RunningStats.VarianceRule.SIGMA : RunningStats.VarianceRule.VARIANCE);
        for (double v : new double[] {rmax.from(), rmax.to()}) {
            if (!(v >= 1)) {
                throw new IllegalArgumentException("Expected rmax >= 1, got rmax=" + v);
            }
        }
        for (double v : new double[] {dmax.from(), dmax.to()}) {
            if (!(v >= 0)) {
                throw new IllegalArgumentException("Expected dmax >= 0, got dmax=" + v);
            }
        }
        this.rmax = rmax;
        this.dmax = dmax;
        this.runningSigma = runningSigma;
        lastR = new double[numFeatures];
        lastD = new double[numFeatures];
        gammaR = Tensor.zeros(numFeatures);
    }

    private static NormOptions checkOptions(NormOptions options) {
        if (!options.trackRunningStats()) {
            throw new IllegalArgumentException(
                    "Expected track_running_stats=true for BatchRenorm (r and d need running statistics), got false");
        }
        return options;
    }

    /**
     * BatchNorm's pipeline with this layer as the transform: (global) batch statistics, then r and d against the
     * running statistics before this step's update, then the running update, then one normalize pass.
     */
    @Override
    public Tensor forward(Tensor x) {
        if (!isTraining()) {
            lastInput = null;
            return super.forward(x);
        }
        long step = numBatchesTracked(); // the schedules' step: before the update
        stepRmax = rmax.at(step);
        stepDmax = dmax.at(step);
        Tensor y = super.forward(x);
        lastInput = x;
        lastSaved = lastSaved();
        trained = true;
        lastRmax = stepRmax;
        lastDmax = stepDmax;
        return y;
    }

    @Override
    StatsTransform transform() {
        return renorm;
    }

    /**
     * The transform phase: {@code r = clip(sigma_B / sigma, 1/rmax, rmax)},
     * {@code d = clip((mu_B - mu) / sigma, -dmax, dmax)} against the running statistics {@code before} (not yet
     * updated), and the statistics that make one normalize pass compute {@code (x - mu_B)/sigma_B * r + d}.
     */
    private void renorm(double[] mean, double[] invStd, RunningStats before, double eps, double[] normMean,
                        double[] normInvStd, int channels) {
        float[] runMean = before.mean().data();
        float[] runVar = before.var().data();
        for (int ch = 0; ch < channels; ch++) {
            double sigmaB = 1.0 / invStd[ch];
            double sigma = Math.sqrt((double) runVar[ch] + eps);
            double r = clip(sigmaB / sigma, 1.0 / stepRmax, stepRmax);
            double d = clip((mean[ch] - runMean[ch]) / sigma, -stepDmax, stepDmax);
            lastR[ch] = r;
            lastD[ch] = d;
            // (x - mu_B) * invStd * r + d  ==  (x - (mu_B - d * sigma_B / r)) * (invStd * r)
            normMean[ch] = mean[ch] - d * sigmaB / r;
            normInvStd[ch] = invStd[ch] * r;
        }
    }

    private static double clip(double v, double lo, double hi) {
        return Math.max(lo, Math.min(hi, v));
    }

    /** A mask would change the statistics this layer's r/d or virtual batches are defined by: refused. */
    @Override
    Tensor forwardMasked(Tensor x, Tensor mask) {
        throw new IllegalArgumentException("Expected no mask for BatchRenorm (BatchNorm, SyncBatchNorm, LayerNorm,"
                + " GroupNorm and InstanceNorm take one), got a mask of shape " + mask.shapeString());
    }

    @Override
    public Tensor backward(Tensor gradOutput) {
        if (lastInput == null) {
            return super.backward(gradOutput); // eval forward: BatchNorm with running statistics
        }
        int c = lastR.length;
        Tensor w = weightValue();
        // With r and d constant, y = (gamma * r) * xhat_B + (gamma * d + beta): BatchNorm's backward with gamma * r
        // (through BatchNorm's own backward code, combined over the group when synchronized), whose affine
        // gradients are sum(dy * xhat_B) and sum(dy).
        float[] gr = gammaR.data();
        for (int ch = 0; ch < c; ch++) {
            gr[ch] = (float) ((w == null ? 1.0 : w.data()[ch]) * lastR[ch]);
        }
        boolean affine = weight() != null;
        NormGradients g = Functional.normBackward(lastSaved, lastInput, null, gradOutput, gammaR, affine, null,
                workspace());
        if (affine) {
            float[] dGamma = g.weight().data();
            float[] dBeta = g.bias().data();
            for (int ch = 0; ch < c; ch++) {
                if (lastR[ch] != 1 || lastD[ch] != 0) {
                    dGamma[ch] = (float) (lastR[ch] * dGamma[ch] + lastD[ch] * (double) dBeta[ch]);
                }
            }
            weight().accumulate(g.weight());
            bias().accumulate(g.bias());
        }
        return g.input();
    }

    public RunningSigma runningSigma() {
        return runningSigma;
    }

    public RenormSchedule rmaxSchedule() {
        return rmax;
    }

    public RenormSchedule dmaxSchedule() {
        return dmax;
    }

    /** The r of each channel in the last training forward (a copy), or null. */
    public double[] lastR() {
        return trained ? lastR.clone() : null;
    }

    /** The d of each channel in the last training forward (a copy), or null. */
    public double[] lastD() {
        return trained ? lastD.clone() : null;
    }

    /** The rmax and dmax used by the last training forward (NaN before any). */
    public double lastRmax() {
        return lastRmax;
    }

    public double lastDmax() {
        return lastDmax;
    }
}
