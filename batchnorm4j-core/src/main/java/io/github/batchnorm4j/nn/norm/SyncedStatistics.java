package io.github.batchnorm4j.nn.norm;

import io.github.batchnorm4j.dist.Communicator;
import io.github.batchnorm4j.functional.Functional;
import io.github.batchnorm4j.functional.NormWorkspace;
import io.github.batchnorm4j.kernel.Kernels;
import io.github.batchnorm4j.kernel.NormGeometry;
import io.github.batchnorm4j.kernel.NormKernels;
import io.github.batchnorm4j.nn.Parameter;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.Arrays;

/**
 * The synchronized training step of one BatchNorm layer over a {@link Communicator} group: the statistics of the
 * concatenation of all ranks' batches, computed with two collectives per step.
 *
 * <p><b>Forward.</b> Each rank computes per channel its count {@code n_r}, mean {@code m_r} and
 * {@code M2_r = Σ(x - m_r)²} ({@link NormKernels#stats}); one all-gather of {@code (n_r, m[C], M2[C])} per layer;
 * every rank merges them in rank order with Chan et al.'s exact pairwise update
 * {@code n = n_a + n_b}, {@code δ = m_b - m_a}, {@code m = m_a + δ n_b / n}, {@code M2 = M2_a + M2_b + δ² n_a n_b / n}
 * (a rank with no rows contributes {@code n_r = 0} and is skipped by the merge, but still joins the collective);
 * then normalises its own rows with the global mean and {@code 1/sqrt(M2/n + eps)} ({@link NormKernels#normalize}).
 * Running statistics use the global unbiased variance {@code M2/(n-1)}, as PyTorch's SyncBatchNorm.
 *
 * <p><b>Backward.</b> Local {@code (Σ dxhat, Σ dxhat·xhat)} per channel ({@link NormKernels#backwardReduce}), one
 * all-reduce of these 2C sums, then {@link NormKernels#backwardElementwise} with the global count. The gamma/beta
 * gradients stay local: the data-parallel gradient all-reduce sums them once over the ranks.
 */
final class SyncedStatistics {
    private final Communicator comm;
    private final int channels;
    /** The layer's workspace: its geometry, output and input-gradient buffers serve the synchronized step too. */
    private final NormWorkspace ws;
    private final double[] local;
    private final double[] gathered;
    private final double[] mean;
    private final double[] m2;
    private final double[] invStd;
    private final double[] sums;
    private final double[] sumDxhat;
    private final double[] sumDxhatXhat;
    private final double[] dGamma;
    private final double[] dBeta;
    private Tensor lastInput;
    private NormGeometry lastGeometry;
    private double globalCount;

    SyncedStatistics(Communicator comm, int channels, NormWorkspace ws) {
        this.comm = comm;
        this.channels = channels;
        this.ws = ws;
        int per = 1 + 2 * channels;
        this.local = new double[per];
        this.gathered = new double[per * comm.size()];
        this.mean = new double[channels];
        this.m2 = new double[channels];
        this.invStd = new double[channels];
        this.sums = new double[2 * channels];
        this.sumDxhat = new double[channels];
        this.sumDxhatXhat = new double[channels];
        this.dGamma = new double[channels];
        this.dBeta = new double[channels];
    }

    Communicator communicator() {
        return comm;
    }

    /** True when the last forward was synchronized, so that backward must be too. */
    boolean pending() {
        return lastInput != null;
    }

    /** The last forward was not synchronized (eval): backward is the plain BatchNorm one. */
    void forget() {
        lastInput = null;
    }

    /** The global number of values behind each channel's statistics in the last forward. */
    double globalCount() {
        return globalCount;
    }

    /**
     * Synchronized training forward.
     *
     * @param runningMean updated in place when {@code update}, with {@code runningVar}
     * @param factor      weight of the new batch in the running update
     */
    Tensor forward(Tensor x, Tensor runningMean, Tensor runningVar, Tensor gamma, Tensor beta, boolean update,
                   double factor, double eps) {
        NormKernels kern = Kernels.norm();
        NormGeometry g = Functional.batchNormGeometry(x, x.dim(0), ws);
        int c = channels;
        long count = g.count();
        if (count > 0) {
            kern.stats(x.data(), 0, g, mean, m2);
        } else {
            Arrays.fill(mean, 0.0);
            Arrays.fill(m2, 0.0);
        }
        local[0] = count;
        System.arraycopy(mean, 0, local, 1, c);
        System.arraycopy(m2, 0, local, 1 + c, c);
        comm.allGather(local, 0, local.length, gathered, 0);
        double n = merge();
        if (n <= 1) {
            throw new IllegalArgumentException("Expected more than 1 value per channel across all ranks when"
                    + " training, got " + (long) n + " (this rank's input size " + x.shapeString() + ")");
        }
        for (int ch = 0; ch < c; ch++) {
            invStd[ch] = 1.0 / Math.sqrt(m2[ch] / n + eps);
        }
        if (update) {
            float[] rm = runningMean.data();
            float[] rv = runningVar.data();
            for (int ch = 0; ch < c; ch++) {
                rm[ch] = (float) ((1 - factor) * rm[ch] + factor * mean[ch]);
                rv[ch] = (float) ((1 - factor) * rv[ch] + factor * (m2[ch] / (n - 1)));
            }
        }
        Tensor y = ws.output(x);
        if (count > 0) {
            kern.normalize(x.data(), 0, y.data(), 0, g, mean, invStd, data(gamma), data(beta));
        }
        lastInput = x;
        lastGeometry = g;
        globalCount = n;
        return y;
    }

    /** Merges the gathered (count, mean, M2) of all ranks, in rank order, into mean/m2; returns the total count. */
    private double merge() {
        int c = channels;
        int per = 1 + 2 * c;
        double n = 0;
        for (int r = 0; r < comm.size(); r++) {
            int base = r * per;
            double nb = gathered[base];
            if (nb == 0) {
                continue;
            }
            if (n == 0) {
                System.arraycopy(gathered, base + 1, mean, 0, c);
                System.arraycopy(gathered, base + 1 + c, m2, 0, c);
                n = nb;
                continue;
            }
            double total = n + nb;
            double wb = nb / total;
            double wab = n * nb / total;
            for (int ch = 0; ch < c; ch++) {
                double delta = gathered[base + 1 + ch] - mean[ch];
                mean[ch] += delta * wb;
                m2[ch] += gathered[base + 1 + c + ch] + delta * delta * wab;
            }
            n = total;
        }
        return n;
    }

    /**
     * Synchronized backward of the last forward: returns dx (in the input's memory format) and adds the local
     * gamma/beta gradients into the parameters (when non-null).
     */
    Tensor backward(Tensor gradOutput, Parameter weight, Parameter bias) {
        Tensor x = lastInput;
        Functional.checkGradientShape(x, gradOutput);
        NormKernels kern = Kernels.norm();
        NormGeometry g = lastGeometry;
        int c = channels;
        Tensor dy = ws.gradientIn(gradOutput, x.format());
        float[] gamma = weight == null ? null : weight.data();
        Arrays.fill(dGamma, 0.0);
        Arrays.fill(dBeta, 0.0);
        if (g.count() > 0) {
            kern.backwardReduce(dy.data(), 0, x.data(), 0, g, mean, invStd, gamma, sumDxhat, sumDxhatXhat,
                    weight == null ? null : dGamma, bias == null ? null : dBeta);
        } else {
            Arrays.fill(sumDxhat, 0.0);
            Arrays.fill(sumDxhatXhat, 0.0);
        }
        System.arraycopy(sumDxhat, 0, sums, 0, c);
        System.arraycopy(sumDxhatXhat, 0, sums, c, c);
        comm.allReduceSum(sums, 0, 2 * c);
        System.arraycopy(sums, 0, sumDxhat, 0, c);
        System.arraycopy(sums, c, sumDxhatXhat, 0, c);
        Tensor dx = ws.gradInput(x);
        if (g.count() > 0) {
            kern.backwardElementwise(dy.data(), 0, x.data(), 0, g, mean, invStd, gamma, sumDxhat, sumDxhatXhat,
                    globalCount, true, dx.data(), 0);
        }
        if (weight != null) {
            float[] gw = weight.grad().data();
            for (int ch = 0; ch < c; ch++) {
                gw[ch] += (float) dGamma[ch];
            }
        }
        if (bias != null) {
            float[] gb = bias.grad().data();
            for (int ch = 0; ch < c; ch++) {
                gb[ch] += (float) dBeta[ch];
            }
        }
        return dx;
    }

    private static float[] data(Tensor t) {
        return t == null ? null : t.data();
    }
}
