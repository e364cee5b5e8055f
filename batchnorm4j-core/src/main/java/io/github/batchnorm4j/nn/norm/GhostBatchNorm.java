package io.github.batchnorm4j.nn.norm;

import io.github.batchnorm4j.functional.Functional;
import io.github.batchnorm4j.kernel.Kernels;
import io.github.batchnorm4j.kernel.NormGeometry;
import io.github.batchnorm4j.kernel.NormKernels;
import io.github.batchnorm4j.tensor.Tensor;

/**
 * Ghost Batch Normalization (Hoffer, Hubara &amp; Soudry, 2017): in training, the batch of {@code N} samples is
 * split, in order, into virtual ("ghost") batches of {@code ghostBatchSize} samples, and each is normalised
 * with its own statistics exactly as {@link BatchNorm} would normalise it alone. When {@code N} is not a
 * multiple, the last virtual batch holds the remaining {@code N mod ghostBatchSize} samples; a virtual batch
 * with a single value per channel is rejected (its variance is undefined), before any state changes.
 *
 * <p><b>Running statistics:</b> one BatchNorm update per virtual batch, applied in order, so a batch of
 * {@code v} virtual batches is exactly {@code v} consecutive BatchNorm training steps on the slices:
 * {@code running = (1 - m) * running + m * stats_j} for {@code j = 1..v}, and {@code num_batches_tracked} grows
 * by {@code v} (with {@code momentum = null}, {@code m = 1 / num_batches_tracked} per virtual batch). With a
 * constant momentum the batch therefore moves the running statistics by {@code 1 - (1 - m)^v} in total, as if
 * each virtual batch were a step; choose the momentum per virtual batch. Eval mode is BatchNorm's eval.
 * With {@code ghostBatchSize >= N} it is BatchNorm exactly.
 */
public class GhostBatchNorm extends BatchNorm {
    private final int ghostBatchSize;
    private Tensor lastInput;
    private NormGeometry[] lastGeometry;
    private double[][] lastMean;
    private double[][] lastInvStd;

    public GhostBatchNorm(int numFeatures, int ghostBatchSize) {
        this(numFeatures, ghostBatchSize, NormOptions.BATCH_NORM);
    }

    public GhostBatchNorm(int numFeatures, int ghostBatchSize, NormOptions options) {
        super(numFeatures, options);
        if (ghostBatchSize <= 0) {
            throw new IllegalArgumentException("Expected ghost_batch_size > 0, got ghost_batch_size=" + ghostBatchSize);
        }
        this.ghostBatchSize = ghostBatchSize;
    }

    public int ghostBatchSize() {
        return ghostBatchSize;
    }

    /** Number of virtual batches a batch of {@code n} samples is split into. */
    public int virtualBatches(int n) {
        return (n + ghostBatchSize - 1) / ghostBatchSize;
    }

    @Override
    public Tensor forward(Tensor x) {
        if (!useBatchStatistics(isTraining(), options().trackRunningStats())) {
            lastInput = null;
            return super.forward(x);
        }
        Functional.checkRank(x, 2, 5, "[N, C, ...]");
        checkChannels(x, numFeatures());
        int n = x.dim(0), c = x.dim(1);
        int v = virtualBatches(n);
        int lastSize = n - (v - 1) * ghostBatchSize;
        if (n > 0 && (long) lastSize * x.spatialSize() == 1) {
            throw new IllegalArgumentException("Expected more than 1 value per channel in every virtual batch when "
                    + "training, got a last virtual batch of 1 sample (batch " + n + ", ghost_batch_size "
                    + ghostBatchSize + ") for input size " + x.shapeString());
        }
        boolean update = isTraining() && options().trackRunningStats();
        NormKernels kern = Kernels.norm();
        Tensor y = x.zerosLike();
        Tensor w = weightValue();
        Tensor b = biasValue();
        float[] gamma = w == null ? null : w.data();
        float[] beta = b == null ? null : b.data();
        double eps = options().eps();
        NormGeometry[] geoms = new NormGeometry[v];
        double[][] means = new double[v][];
        double[][] invStds = new double[v][];
        for (int j = 0; j < v; j++) {
            int start = j * ghostBatchSize;
            int size = Math.min(ghostBatchSize, n - start);
            NormGeometry g = BnGeometry.of(x, size);
            int off = BnGeometry.sampleOffset(x, start);
            double[] mean = new double[c];
            double[] m2 = new double[c];
            double[] invStd = new double[c];
            kern.stats(x.data(), off, g, mean, m2);
            double count = g.count();
            for (int ch = 0; ch < c; ch++) {
                invStd[ch] = 1.0 / Math.sqrt(m2[ch] / count + eps);
            }
            if (update) {
                Double mom = options().momentum();
                double factor = mom == null ? 1.0 / (numBatchesTracked() + 1) : mom;
                BnGeometry.updateRunning(mean, m2, count, runningMean().data(), runningVar().data(), factor);
                setNumBatchesTracked(numBatchesTracked() + 1);
            }
            kern.normalize(x.data(), off, y.data(), off, g, mean, invStd, gamma, beta);
            geoms[j] = g;
            means[j] = mean;
            invStds[j] = invStd;
        }
        lastInput = x;
        lastGeometry = geoms;
        lastMean = means;
        lastInvStd = invStds;
        return y;
    }

    @Override
    public Tensor backward(Tensor gradOutput) {
        if (lastInput == null) {
            return super.backward(gradOutput);
        }
        Tensor x = lastInput;
        if (!java.util.Arrays.equals(x.shape(), gradOutput.shape())) {
            throw new IllegalArgumentException("Expected gradient of shape " + x.shapeString() + ", got "
                    + gradOutput.shapeString());
        }
        Tensor dy = gradOutput.to(x.format());
        int c = x.dim(1);
        Tensor w = weightValue();
        float[] gamma = w == null ? null : w.data();
        boolean affine = weight() != null;
        double[] dg = affine ? new double[c] : null; // the kernels add into these, across virtual batches
        double[] db = affine ? new double[c] : null;
        double[] sumDxhat = new double[c];
        double[] sumDxhatXhat = new double[c];
        Tensor dx = x.zerosLike();
        NormKernels kern = Kernels.norm();
        for (int j = 0; j < lastGeometry.length; j++) {
            NormGeometry g = lastGeometry[j];
            int off = BnGeometry.sampleOffset(x, j * ghostBatchSize);
            kern.backwardReduce(dy.data(), off, x.data(), off, g, lastMean[j], lastInvStd[j], gamma, sumDxhat,
                    sumDxhatXhat, dg, db);
            kern.backwardElementwise(dy.data(), off, x.data(), off, g, lastMean[j], lastInvStd[j], gamma, sumDxhat,
                    sumDxhatXhat, g.count(), true, dx.data(), off);
        }
        if (affine) {
            float[] dGamma = new float[c];
            float[] dBeta = new float[c];
            for (int ch = 0; ch < c; ch++) {
                dGamma[ch] = (float) dg[ch];
                dBeta[ch] = (float) db[ch];
            }
            weight().accumulate(Tensor.of(dGamma, c));
            bias().accumulate(Tensor.of(dBeta, c));
        }
        return dx;
    }
}
