package io.github.batchnorm4j.nn.norm;

import io.github.batchnorm4j.functional.Functional;
import io.github.batchnorm4j.functional.NormGradients;
import io.github.batchnorm4j.functional.NormResult;
import io.github.batchnorm4j.functional.NormSaved;
import io.github.batchnorm4j.kernel.Kernels;
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
    private final float[] oldMean;
    private final float[] oldVar;
    private final double[] effMean;
    private final double[] effInvStd;
    /** gamma * r for the backward. */
    private final Tensor gammaR;
    private double lastRmax = Double.NaN;
    private double lastDmax = Double.NaN;

    /** BatchNorm defaults with the paper's schedules ({@link RenormSchedule#paperRmax}, {@link RenormSchedule#paperDmax}). */
    public BatchRenorm(int numFeatures) {
        this(numFeatures, NormOptions.BATCH_NORM, RenormSchedule.paperRmax(), RenormSchedule.paperDmax());
    }

    public BatchRenorm(int numFeatures, NormOptions options, RenormSchedule rmax, RenormSchedule dmax) {
        this(numFeatures, options, rmax, dmax, RunningSigma.VARIANCE);
    }

    public BatchRenorm(int numFeatures, NormOptions options, RenormSchedule rmax, RenormSchedule dmax,
                       RunningSigma runningSigma) {
        super(numFeatures, checkOptions(options));
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
        this.runningSigma = java.util.Objects.requireNonNull(runningSigma, "runningSigma");
        lastR = new double[numFeatures];
        lastD = new double[numFeatures];
        oldMean = new float[numFeatures];
        oldVar = new float[numFeatures];
        effMean = new double[numFeatures];
        effInvStd = new double[numFeatures];
        gammaR = Tensor.zeros(numFeatures);
    }

    private static NormOptions checkOptions(NormOptions options) {
        if (!options.trackRunningStats()) {
            throw new IllegalArgumentException(
                    "Expected track_running_stats=true for BatchRenorm (r and d need running statistics), got false");
        }
        return options;
    }

    @Override
    public Tensor forward(Tensor x) {
        if (!isTraining()) {
            lastInput = null;
            return super.forward(x);
        }
        Functional.checkRank(x, 2, 5, "[N, C, ...]");
        checkChannels(x, numFeatures());
        int c = x.dim(1);
        long step = numBatchesTracked();
        double rm = rmax.at(step), dm = dmax.at(step);
        double eps = options().eps();
        // r and d compare with the running statistics before this step's update.
        System.arraycopy(runningMean().data(), 0, oldMean, 0, c);
        System.arraycopy(runningVar().data(), 0, oldVar, 0, c);
        Double mom = options().momentum();
        double factor = mom == null ? 1.0 / (step + 1) : mom;
        // BatchNorm's own training forward: batch statistics, running update and the r = 1, d = 0 output, through
        // exactly the code BatchNorm runs, so that rmax = 1, dmax = 0 is BatchNorm bit for bit.
        NormResult bn = Functional.batchNorm(x, runningMean(), runningVar(), weightValue(), biasValue(), true, factor,
                eps, workspace());
        setNumBatchesTracked(step + 1);
        double[] mean = bn.saved().mean();
        double[] invStd = bn.saved().invStd();
        double[] r = lastR;
        double[] d = lastD;
        boolean identity = true;
        float[] runVar = runningVar().data();
        for (int ch = 0; ch < c; ch++) {
            double sigmaB = 1.0 / invStd[ch];
            double sigma = Math.sqrt((double) oldVar[ch] + eps);
            if (runningSigma == RunningSigma.SIGMA) { // replaces BatchNorm's variance update
                double s = sigma + factor * (sigmaB - sigma);
                runVar[ch] = (float) Math.max(0.0, s * s - eps);
            }
            r[ch] = clip(sigmaB / sigma, 1.0 / rm, rm);
            d[ch] = clip((mean[ch] - oldMean[ch]) / sigma, -dm, dm);
            identity &= r[ch] == 1 && d[ch] == 0;
            // (x - mu_B) * invStd * r + d  ==  (x - (mu_B - d * sigma_B / r)) * (invStd * r)
            effMean[ch] = mean[ch] - d[ch] * sigmaB / r[ch];
            effInvStd[ch] = invStd[ch] * r[ch];
        }
        Tensor y = bn.output();
        if (!identity) {
            Tensor w = weightValue();
            Tensor b = biasValue();
            // The saved geometry is BatchNorm's for x: the same layout the output was written in.
            Kernels.norm().normalize(x.data(), 0, y.data(), 0, bn.saved().geometry(), effMean, effInvStd,
                    w == null ? null : w.data(), b == null ? null : b.data());
        }
        lastInput = x;
        lastSaved = bn.saved();
        trained = true;
        lastRmax = rm;
        lastDmax = dm;
        return y;
    }

    private static double clip(double v, double lo, double hi) {
        return Math.max(lo, Math.min(hi, v));
    }

    @Override
    public Tensor backward(Tensor gradOutput) {
        if (lastInput == null) {
            return super.backward(gradOutput); // eval forward: BatchNorm with running statistics
        }
        int c = lastR.length;
        Tensor w = weightValue();
        // With r and d constant, y = (gamma * r) * xhat_B + (gamma * d + beta): BatchNorm's backward with gamma * r
        // (through BatchNorm's own backward code), whose affine gradients are sum(dy * xhat_B) and sum(dy).
        float[] gr = gammaR.data();
        for (int ch = 0; ch < c; ch++) {
            gr[ch] = (float) ((w == null ? 1.0 : w.data()[ch]) * lastR[ch]);
        }
        boolean affine = weight() != null;
        NormGradients g = Functional.normBackward(lastSaved, lastInput, gradOutput, gammaR, affine, workspace());
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
