package io.github.batchnorm4j.functional;

import io.github.batchnorm4j.kernel.NormGeometry;
import io.github.batchnorm4j.tensor.MemoryFormat;
import io.github.batchnorm4j.tensor.Shapes;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.Arrays;

/**
 * The stateless normalization API: validates shapes and options (throwing {@link IllegalArgumentException}
 * that names what was expected and what was received), picks the geometry for the layout, and runs
 * {@link NormCore}. Modules in {@code nn.norm} own the state and call these.
 */
public final class Functional {
    private Functional() {}

    /**
     * Batch normalization of {@code x} ({@code (N,C)}, {@code (N,C,L)}, {@code (N,C,H,W)} or {@code (N,C,D,H,W)},
     * contiguous or channels-last): per channel {@code y = (x - mean) / sqrt(var + eps) * weight + bias}.
     *
     * @param training     use the batch statistics (biased variance) and, when the running buffers are given,
     *                     update them in place: {@code running = (1 - momentum) * running + momentum * batch}
     *                     with the unbiased batch variance. When false, normalise with the running buffers.
     * @param runningMean  shape {@code [C]} or null; must be given when {@code training} is false
     * @param weight       gamma, shape {@code [C]}, or null
     * @param momentum     the weight of the new batch in the running update, in [0, 1]
     */
    public static NormResult batchNorm(Tensor x, Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias,
                                       boolean training, double momentum, double eps) {
        return batchNorm(x, runningMean, runningVar, weight, bias, training, momentum, eps, null);
    }

    /**
     * {@link #batchNorm(Tensor, Tensor, Tensor, Tensor, Tensor, boolean, double, double)} with reusable buffers
     * (see {@link NormWorkspace} for the lifetime of the returned {@link NormSaved}); {@code ws} may be null.
     */
    public static NormResult batchNorm(Tensor x, Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias,
                                       boolean training, double momentum, double eps, NormWorkspace ws) {
        return batchNormFused(x, null, false, runningMean, runningVar, weight, bias, training, momentum, eps, ws);
    }

    /** Batch normalization with the fused epilogue {@code act(bn(x) [+ residual])}; the entry point of {@link Fused}. */
    static NormResult batchNormFused(Tensor x, Tensor residual, boolean relu, Tensor runningMean, Tensor runningVar,
                                     Tensor weight, Tensor bias, boolean training, double momentum, double eps,
                                     NormWorkspace ws) {
        checkRank(x, 2, 5, "[N, C, ...]");
        checkEps(eps);
        checkMomentum(momentum);
        int n = x.dim(0), c = x.dim(1), s = x.spatialSize();
        checkChannels("running_mean", runningMean, c);
        checkChannels("running_var", runningVar, c);
        checkChannels("weight", weight, c);
        checkChannels("bias", bias, c);
        checkRunningPair(runningMean, runningVar);
        if (!training && runningMean == null) {
            throw new IllegalArgumentException(
                    "Expected running_mean and running_var in evaluation mode (training=false), got null");
        }
        if (training && (long) n * s == 1) {
            throw new IllegalArgumentException("Expected more than 1 value per channel when training, got input size "
                    + x.shapeString());
        }
        NormGeometry g = x.format() == MemoryFormat.CHANNELS_LAST || x.rank() == 2
                ? NormGeometry.perChannel(n * s, c, 1)
                : NormGeometry.perChannel(n, c, s);
        float[] res = null;
        if (residual != null) {
            if (!Arrays.equals(residual.shape(), x.shape())) {
                throw new IllegalArgumentException("Expected residual of shape " + x.shapeString() + ", got "
                        + residual.shapeString());
            }
            res = residual.to(x.format()).data();
        }
        Tensor y = ws == null ? x.zerosLike() : ws.output(x); // every element is written
        // An empty batch has no statistics: as PyTorch, it leaves the running buffers as they are.
        boolean skipUpdate = training && x.numel() == 0;
        NormSaved saved = NormCore.forward(x.data(), y.data(), g, training,
                skipUpdate ? null : data(runningMean), skipUpdate ? null : data(runningVar),
                momentum, eps, data(weight), data(bias), res, relu, ws);
        return new NormResult(y, withStorage(saved, x.format()));
    }

    /**
     * Group normalization of {@code x} ({@code (N, C, ...)}): statistics per sample and group of
     * {@code C / numGroups} channels, affine per channel.
     */
    public static NormResult groupNorm(Tensor x, int numGroups, Tensor weight, Tensor bias, double eps) {
        checkRank(x, 2, 5, "[N, C, ...]");
        checkEps(eps);
        int c = x.dim(1);
        checkGroups(c, numGroups);
        checkChannels("weight", weight, c);
        checkChannels("bias", bias, c);
        int n = x.dim(0), s = x.spatialSize(), cg = c / numGroups;
        NormGeometry g = new NormGeometry(1, n * numGroups, cg * s, numGroups, cg, s);
        return contiguousForward(x, g, true, null, null, 0, eps, weight, bias);
    }

    /**
     * Instance normalization of {@code x} ({@code (N,C,L)}, {@code (N,C,H,W)} or {@code (N,C,D,H,W)}): statistics
     * per sample and channel. With {@code useInputStats} the running buffers (if given) are updated with the
     * average over the batch of the per-instance statistics; without it they normalise.
     */
    public static NormResult instanceNorm(Tensor x, Tensor runningMean, Tensor runningVar, Tensor weight,
                                          Tensor bias, boolean useInputStats, double momentum, double eps) {
        checkRank(x, 3, 5, "[N, C, L], [N, C, H, W] or [N, C, D, H, W]");
        checkEps(eps);
        checkMomentum(momentum);
        int n = x.dim(0), c = x.dim(1), s = x.spatialSize();
        checkChannels("running_mean", runningMean, c);
        checkChannels("running_var", runningVar, c);
        checkChannels("weight", weight, c);
        checkChannels("bias", bias, c);
        checkRunningPair(runningMean, runningVar);
        if (!useInputStats && runningMean == null) {
            throw new IllegalArgumentException(
                    "Expected running_mean and running_var when not using input statistics, got null");
        }
        if (useInputStats && s == 1) {
            throw new IllegalArgumentException(
                    "Expected more than 1 spatial element when training, got input size " + x.shapeString());
        }
        NormGeometry g = new NormGeometry(1, n * c, s, Math.max(c, 1), 1, s);
        boolean skipUpdate = useInputStats && x.numel() == 0; // no instances: the running buffers stay as they are
        return contiguousForward(x, g, useInputStats, skipUpdate ? null : runningMean,
                skipUpdate ? null : runningVar, momentum, eps, weight, bias);
    }

    /**
     * Layer normalization over the trailing dimensions {@code normalizedShape} of {@code x}; {@code weight} and
     * {@code bias} (or null) have shape {@code normalizedShape}.
     */
    public static NormResult layerNorm(Tensor x, int[] normalizedShape, Tensor weight, Tensor bias, double eps) {
        checkEps(eps);
        int r = normalizedShape.length;
        if (r == 0) {
            throw new IllegalArgumentException("Expected a non-empty normalized_shape, got []");
        }
        int[] shape = x.shape();
        boolean ok = shape.length >= r
                && Arrays.equals(Arrays.copyOfRange(shape, shape.length - r, shape.length), normalizedShape);
        if (!ok) {
            throw new IllegalArgumentException("Expected input with shape [*, "
                    + Shapes.str(normalizedShape).substring(1) + " (normalized_shape=" + Shapes.str(normalizedShape)
                    + "), got input of shape " + x.shapeString());
        }
        for (String name : new String[] {"weight", "bias"}) {
            Tensor t = name.equals("weight") ? weight : bias;
            if (t != null && !Arrays.equals(t.shape(), normalizedShape)) {
                throw new IllegalArgumentException("Expected " + name + " of shape " + Shapes.str(normalizedShape)
                        + ", got " + t.shapeString());
            }
        }
        int m = Shapes.numel(normalizedShape);
        NormGeometry g = new NormGeometry(1, m == 0 ? 0 : x.numel() / m, m, 1, Math.max(m, 1), m == 0 ? 0 : 1);
        return contiguousForward(x, g, true, null, null, 0, eps, weight, bias);
    }

    /**
     * Backward of any of the forwards above. {@code x} is the forward's input, {@code gradOutput} the gradient of
     * its output (either memory format); {@code weight} is the gamma used in the forward (or null). Returns dx in
     * the format of {@code x}, and dweight/dbias when {@code affineGrads} (else null).
     */
    public static NormGradients normBackward(NormSaved saved, Tensor x, Tensor gradOutput, Tensor weight,
                                             boolean affineGrads) {
        return normBackward(saved, x, gradOutput, weight, affineGrads, null);
    }

    /** {@link #normBackward(NormSaved, Tensor, Tensor, Tensor, boolean)} with reusable reduction buffers. */
    public static NormGradients normBackward(NormSaved saved, Tensor x, Tensor gradOutput, Tensor weight,
                                             boolean affineGrads, NormWorkspace ws) {
        if (!Arrays.equals(x.shape(), gradOutput.shape())) {
            throw new IllegalArgumentException("Expected gradient of shape " + x.shapeString() + ", got "
                    + gradOutput.shapeString());
        }
        MemoryFormat storage = saved.storage();
        Tensor xs = x.to(storage);
        Tensor dys = gradOutput.to(storage);
        Tensor dx = ws == null ? xs.zerosLike() : ws.gradInput(xs); // every element is written
        int affine = saved.geometry().affineSize();
        int[] affineShape = weight != null ? weight.shape() : new int[] {affine};
        Tensor dGamma = !affineGrads ? null : ws == null ? Tensor.zeros(affineShape) : ws.affineGrad(0, affineShape);
        Tensor dBeta = !affineGrads ? null : ws == null ? Tensor.zeros(affineShape) : ws.affineGrad(1, affineShape);
        NormCore.backward(saved, xs.data(), dys.data(), data(weight), null, dx.data(), null, data(dGamma),
                data(dBeta), ws);
        return new NormGradients(dx.to(x.format()), dGamma, dBeta);
    }

    /** Runs a geometry defined on logical (contiguous) order, converting channels-last input and output. */
    private static NormResult contiguousForward(Tensor x, NormGeometry g, boolean batchStats, Tensor runningMean,
                                                Tensor runningVar, double factor, double eps, Tensor weight,
                                                Tensor bias) {
        Tensor xc = x.to(MemoryFormat.CONTIGUOUS);
        Tensor y = xc.zerosLike();
        NormSaved saved = NormCore.forward(xc.data(), y.data(), g, batchStats, data(runningMean), data(runningVar),
                factor, eps, data(weight), data(bias));
        return new NormResult(y.to(x.format()), withStorage(saved, MemoryFormat.CONTIGUOUS));
    }

    static NormSaved withStorage(NormSaved s, MemoryFormat storage) {
        return new NormSaved(s.geometry(), s.mean(), s.invStd(), s.batchStats(), storage);
    }

    static float[] data(Tensor t) {
        return t == null ? null : t.data();
    }

    /** Rank must lie in [min, max]; {@code expected} describes the accepted shapes. */
    public static void checkRank(Tensor x, int min, int max, String expected) {
        if (x.rank() < min || x.rank() > max) {
            throw new IllegalArgumentException("Expected " + min + "-D to " + max + "-D input " + expected + ", got "
                    + x.rank() + "-D input of shape " + x.shapeString());
        }
    }

    private static void checkRunningPair(Tensor runningMean, Tensor runningVar) {
        if ((runningMean == null) != (runningVar == null)) {
            throw new IllegalArgumentException("Expected running_mean and running_var both given or both null, got "
                    + (runningMean == null ? "only running_var" : "only running_mean"));
        }
    }

    private static void checkChannels(String name, Tensor t, int channels) {
        if (t != null && (t.rank() != 1 || t.dim(0) != channels)) {
            throw new IllegalArgumentException("Expected " + name + " of shape [" + channels + "] for input with "
                    + channels + " channels, got " + t.shapeString());
        }
    }

    /** eps must be a positive finite number (eps = 0 divides by zero on a constant channel, NaN poisons all). */
    public static void checkEps(double eps) {
        if (!(eps > 0) || Double.isInfinite(eps)) {
            throw new IllegalArgumentException("Expected a finite eps > 0, got eps=" + eps);
        }
    }

    /** The weight of the new batch in the running update must lie in [0, 1]. */
    public static void checkMomentum(double momentum) {
        if (!(momentum >= 0 && momentum <= 1)) {
            throw new IllegalArgumentException("Expected momentum in [0, 1] or null, got momentum=" + momentum);
        }
    }

    /** GroupNorm needs the channels to split evenly into groups. */
    public static void checkGroups(int channels, int groups) {
        if (groups <= 0) {
            throw new IllegalArgumentException("Expected num_groups > 0, got num_groups=" + groups);
        }
        if (channels % groups != 0) {
            throw new IllegalArgumentException("Expected num_channels divisible by num_groups, got num_channels="
                    + channels + ", num_groups=" + groups);
        }
    }
}
