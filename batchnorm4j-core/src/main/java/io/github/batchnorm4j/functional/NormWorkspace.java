package io.github.batchnorm4j.functional;

import io.github.batchnorm4j.kernel.NormGeometry;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.Arrays;

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
 * that used a workspace is overwritten by the next call of the same kind (the rule every layer's output buffer
 * follows); copy it to keep it.
 */
public final class NormWorkspace {
    private double[] mean = new double[0];
    private double[] invStd = new double[0];
    private double[] m2 = new double[0];
    private double[] sumDxhat = new double[0];
    private double[] sumDxhatXhat = new double[0];
    private double[] dGamma = new double[0];
    private double[] dBeta = new double[0];

    /** Sizes the per-statistic arrays for {@code g} (exact length {@code g.k()}); reuses them when it fits. */
    void prepare(NormGeometry g) {
        int k = g.k();
        if (mean.length != k) {
            mean = new double[k];
            invStd = new double[k];
            m2 = new double[k];
            sumDxhat = new double[k];
            sumDxhatXhat = new double[k];
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

    private Tensor output;
    private Tensor gradInput;
    private Tensor gradWeight;
    private Tensor gradBias;

    /** A tensor shaped and laid out like {@code x} for the forward's output (contents undefined). */
    Tensor output(Tensor x) {
        output = like(output, x);
        return output;
    }

    /** A tensor shaped and laid out like {@code x} for the input gradient (contents undefined). */
    Tensor gradInput(Tensor x) {
        gradInput = like(gradInput, x);
        return gradInput;
    }

    /** Tensors of {@code shape} for dgamma ({@code which = 0}) and dbeta (1), contents undefined. */
    Tensor affineGrad(int which, int[] shape) {
        if (which == 0) {
            gradWeight = gradWeight != null && Arrays.equals(gradWeight.shape(), shape) ? gradWeight
                    : Tensor.zeros(shape);
            return gradWeight;
        }
        gradBias = gradBias != null && Arrays.equals(gradBias.shape(), shape) ? gradBias : Tensor.zeros(shape);
        return gradBias;
    }

    private static Tensor like(Tensor t, Tensor x) {
        return t != null && t.format() == x.format() && Arrays.equals(t.shape(), x.shape()) && t != x
                ? t : x.zerosLike();
    }
}
