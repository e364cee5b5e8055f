package io.github.batchnorm4j.nn.norm;

import io.github.batchnorm4j.functional.Functional;
import io.github.batchnorm4j.kernel.Kernels;
import io.github.batchnorm4j.kernel.NormGeometry;
import io.github.batchnorm4j.kernel.NormKernels;
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
 * <p>The running statistics are updated exactly as BatchNorm's ({@code momentum}, unbiased variance,
 * {@code num_batches_tracked}); the paper's "sigma" is {@code sqrt(running_var + eps)}. The limits follow
 * {@link RenormSchedule}s indexed by the training step, which is {@code num_batches_tracked} before the update
 * (so a checkpoint resumes the schedule). Eval mode is BatchNorm's eval. Running statistics are required.
 */
public class BatchRenorm extends BatchNorm {
    private final RenormSchedule rmax;
    private final RenormSchedule dmax;
    // What the last training forward used; backward reads them (null after an eval forward).
    private Tensor lastInput;
    private NormGeometry lastGeometry;
    private double[] lastMean;
    private double[] lastInvStd;
    private double[] lastR;
    private double[] lastD;
    private double lastRmax = Double.NaN;
    private double lastDmax = Double.NaN;

    /** BatchNorm defaults with the paper's schedules ({@link RenormSchedule#paperRmax}, {@link RenormSchedule#paperDmax}). */
    public BatchRenorm(int numFeatures) {
        this(numFeatures, NormOptions.BATCH_NORM, RenormSchedule.paperRmax(), RenormSchedule.paperDmax());
    }

    public BatchRenorm(int numFeatures, NormOptions options, RenormSchedule rmax, RenormSchedule dmax) {
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
        int n = x.dim(0), c = x.dim(1);
        BnGeometry.checkTrainable(x, n);
        NormGeometry g = BnGeometry.of(x, n);
        NormKernels kern = Kernels.norm();
        double[] mean = new double[c];
        double[] m2 = new double[c];
        kern.stats(x.data(), 0, g, mean, m2);
        long step = numBatchesTracked();
        double rm = rmax.at(step), dm = dmax.at(step);
        float[] runMean = runningMean().data();
        float[] runVar = runningVar().data();
        double count = g.count();
        double eps = options().eps();
        double[] invStd = new double[c];
        double[] r = new double[c];
        double[] d = new double[c];
        double[] effMean = new double[c];
        double[] effInvStd = new double[c];
        for (int ch = 0; ch < c; ch++) {
            double sigmaB = Math.sqrt(m2[ch] / count + eps);
            invStd[ch] = 1.0 / sigmaB; // the same expression as BatchNorm's, so r = 1, d = 0 reproduces it exactly
            double sigma = Math.sqrt((double) runVar[ch] + eps);
            r[ch] = clip(sigmaB / sigma, 1.0 / rm, rm);
            d[ch] = clip((mean[ch] - runMean[ch]) / sigma, -dm, dm);
            // (x - mu_B) * invStd * r + d  ==  (x - (mu_B - d * sigma_B / r)) * (invStd * r)
            effMean[ch] = mean[ch] - d[ch] * sigmaB / r[ch];
            effInvStd[ch] = invStd[ch] * r[ch];
        }
        Tensor y = x.zerosLike();
        Tensor w = weightValue();
        Tensor b = biasValue();
        kern.normalize(x.data(), 0, y.data(), 0, g, effMean, effInvStd, w == null ? null : w.data(),
                b == null ? null : b.data());
        Double mom = options().momentum();
        double factor = mom == null ? 1.0 / (step + 1) : mom;
        BnGeometry.updateRunning(mean, m2, count, runMean, runVar, factor);
        setNumBatchesTracked(step + 1);
        lastInput = x;
        lastGeometry = g;
        lastMean = mean;
        lastInvStd = invStd;
        lastR = r;
        lastD = d;
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
        Tensor x = lastInput;
        if (!java.util.Arrays.equals(x.shape(), gradOutput.shape())) {
            throw new IllegalArgumentException("Expected gradient of shape " + x.shapeString() + ", got "
                    + gradOutput.shapeString());
        }
        Tensor dy = gradOutput.to(x.format());
        NormGeometry g = lastGeometry;
        int c = g.k();
        Tensor w = weightValue();
        // With r and d constant, y = (gamma * r) * xhat_B + (gamma * d + beta): BatchNorm's backward with gamma * r.
        float[] gammaR = new float[c];
        for (int ch = 0; ch < c; ch++) {
            gammaR[ch] = (float) ((w == null ? 1.0 : w.data()[ch]) * lastR[ch]);
        }
        boolean affine = weight() != null;
        double[] sumDxhat = new double[c];
        double[] sumDxhatXhat = new double[c];
        double[] dgB = affine ? new double[c] : null; // sum(dy * xhat_B)
        double[] db = affine ? new double[c] : null;
        NormKernels kern = Kernels.norm();
        kern.backwardReduce(dy.data(), 0, x.data(), 0, g, lastMean, lastInvStd, gammaR, sumDxhat, sumDxhatXhat,
                dgB, db);
        Tensor dx = x.zerosLike();
        kern.backwardElementwise(dy.data(), 0, x.data(), 0, g, lastMean, lastInvStd, gammaR, sumDxhat, sumDxhatXhat,
                g.count(), true, dx.data(), 0);
        if (affine) {
            float[] dGamma = new float[c];
            float[] dBeta = new float[c];
            for (int ch = 0; ch < c; ch++) {
                dGamma[ch] = (float) (lastR[ch] * dgB[ch] + lastD[ch] * db[ch]);
                dBeta[ch] = (float) db[ch];
            }
            weight().accumulate(Tensor.of(dGamma, c));
            bias().accumulate(Tensor.of(dBeta, c));
        }
        return dx;
    }

    public RenormSchedule rmaxSchedule() {
        return rmax;
    }

    public RenormSchedule dmaxSchedule() {
        return dmax;
    }

    /** The r of each channel in the last training forward (a copy), or null. */
    public double[] lastR() {
        return lastR == null ? null : lastR.clone();
    }

    /** The d of each channel in the last training forward (a copy), or null. */
    public double[] lastD() {
        return lastD == null ? null : lastD.clone();
    }

    /** The rmax and dmax used by the last training forward (NaN before any). */
    public double lastRmax() {
        return lastRmax;
    }

    public double lastDmax() {
        return lastDmax;
    }
}
