package io.github.batchnorm4j.functional;

import io.github.batchnorm4j.kernel.NormGeometry;
import io.github.batchnorm4j.tensor.MemoryFormat;
import io.github.batchnorm4j.tensor.Shapes;
import io.github.batchnorm4j.tensor.Tensor;

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
        NormGeometry g = batchNormGeometry(x, n, ws);
        float[] res = null;
        if (residual != null) {
            if (!residual.sameShape(x)) {
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
                momentum, eps, data(weight), data(bias), res, relu, ws, x.format());
        return result(ws, y, saved);
    }

    /** The stateless batch normalization's result: output, the updated running statistics, the saved statistics. */
    public record BatchNormStep(Tensor output, RunningStats stats, NormSaved saved) {}

    /**
     * Stateless training-mode batch normalization: normalises {@code x} with its batch statistics (eps 1e-5) and
     * returns the output with {@code in}'s running statistics after this batch's update, as a new
     * {@link RunningStats}. Nothing passed in is modified.
     */
    public static BatchNormStep batchNorm(Tensor x, Tensor weight, Tensor bias, RunningStats in) {
        return batchNorm(x, weight, bias, in, true, 1e-5);
    }

    /**
     * Stateless batch normalization: in training with the batch statistics, returning {@code in} updated (a new
     * object; {@code in} itself is unchanged); in eval with {@code in}'s statistics, returning an unchanged copy.
     */
    public static BatchNormStep batchNorm(Tensor x, Tensor weight, Tensor bias, RunningStats in, boolean training,
                                          double eps) {
        java.util.Objects.requireNonNull(in, "running statistics");
        RunningStats out = in.copy();
        NormResult r = batchNorm(x, weight, bias, out, training, eps, null, null, null);
        return new BatchNormStep(r.output(), out, r.saved());
    }

    /**
     * Batch normalization through the statistics pipeline (what the BatchNorm family's modules call).
     *
     * @param rs         the running statistics: read in eval, updated in place in training; null for none (then
     *                   {@code batchStats} must be true)
     * @param batchStats normalise with the batch statistics (training, or eval without running statistics)
     * @param combine    merges the statistics over a group (null: this process's batch only)
     * @param transform  the statistics to normalise with, from the batch's and the running ones (null: the batch's)
     */
    public static NormResult batchNorm(Tensor x, Tensor weight, Tensor bias, RunningStats rs, boolean batchStats,
                                       double eps, StatsCombine combine, StatsTransform transform,
                                       NormWorkspace ws) {
        return batchNorm(x, weight, bias, rs, batchStats, eps, combine, transform, null, false, ws);
    }

    /**
     * {@link #batchNorm(Tensor, Tensor, Tensor, RunningStats, boolean, double, StatsCombine, StatsTransform,
     * NormWorkspace)} with the fused epilogue {@code y = act(bn(x) [+ residual])}: {@code residual} (shape of
     * {@code x}, either memory format; may be null) is added and ReLU applied when {@code relu}, in the normalize
     * pass. The backward is {@link #normBackward(NormSaved, Tensor, Tensor, Tensor, Tensor, boolean, Tensor,
     * NormWorkspace)} with this call's output.
     */
    public static NormResult batchNorm(Tensor x, Tensor weight, Tensor bias, RunningStats rs, boolean batchStats,
                                       double eps, StatsCombine combine, StatsTransform transform, Tensor residual,
                                       boolean relu, NormWorkspace ws) {
        checkPerChannel(x, 2, "[N, C, ...]", rs, weight, bias, eps);
        int n = x.dim(0), c = x.dim(1), s = x.spatialSize();
        if (!batchStats && rs == null) {
            throw new IllegalArgumentException(
                    "Expected running_mean and running_var in evaluation mode (training=false), got null");
        }
        if (transform != null && rs == null) {
            throw new IllegalArgumentException("Expected running statistics for a statistics transform, got null");
        }
        float[] res = residual == null ? null : residualIn(x, residual, ws);
        NormWorkspace w = ws == null ? new NormWorkspace() : ws;
        NormGeometry g = batchNormGeometry(x, n, w);
        Tensor y = ws == null ? x.zerosLike() : ws.output(x); // every element is written
        NormSaved saved;
        if (!batchStats) {
            saved = NormCore.evalForward(x.data(), y.data(), g, rs.mean().data(), rs.var().data(), eps, data(weight),
                    data(bias), res, relu, w, x.format());
        } else if (combine == null && (long) n * s == 1) {
            throw new IllegalArgumentException("Expected more than 1 value per channel when training, got input size "
                    + x.shapeString());
        } else if (combine == null && transform == null) {
            // An empty batch has no statistics: as PyTorch, it leaves the running buffers as they are.
            boolean empty = x.numel() == 0;
            saved = NormCore.trainFused(x.data(), 0, y.data(), 0, g, empty ? null : rs, eps, data(weight), data(bias),
                    res, relu, w, x.format());
            if (empty && rs != null) {
                rs.countEmpty();
            }
        } else {
            double count = NormCore.statistics(x.data(), 0, g, combine, w);
            if (count <= 1 && (combine != null || count == 0)) {
                throw new IllegalArgumentException("Expected more than 1 value per channel"
                        + (combine != null ? " across all ranks" : "") + " when training, got " + (long) count
                        + (combine != null ? " (this rank's input size " : " (input size ") + x.shapeString() + ")");
            }
            saved = NormCore.finish(x.data(), 0, y.data(), 0, g, count, rs, transform, eps, data(weight), data(bias),
                    res, relu, combine, w, x.format());
        }
        return result(ws, y, saved);
    }

    /** The residual's values in x's layout (a workspace copy when its format differs), after the shape check. */
    private static float[] residualIn(Tensor x, Tensor residual, NormWorkspace ws) {
        if (!residual.sameShape(x)) {
            throw new IllegalArgumentException("Expected residual of shape " + x.shapeString() + ", got "
                    + residual.shapeString());
        }
        return inFormat(ws, NormWorkspace.RESIDUAL, residual, x.format()).data();
    }

    /**
     * Masked batch normalization: the statistics (and the running update, count-weighted) are those of the valid
     * positions of {@code mask} only (shape: x's without the channel dimension, {@code [N]}, {@code [N, L]},
     * {@code [N, H, W]}, ...; 1 = valid, 0 = not); the output is computed at every position. In training every
     * channel needs at least 2 valid values (over the group's batch with a combine). Eval normalises with the
     * running statistics, so the mask changes nothing there. Null mask: the unmasked call.
     */
    public static NormResult batchNorm(Tensor x, Tensor mask, Tensor weight, Tensor bias, RunningStats rs,
                                       boolean batchStats, double eps, StatsCombine combine, NormWorkspace ws) {
        if (mask == null || !batchStats) {
            if (mask != null) {
                checkMask(x, mask);
            }
            return batchNorm(x, weight, bias, rs, batchStats, eps, combine, null, ws);
        }
        checkPerChannel(x, 2, "[N, C, ...]", rs, weight, bias, eps);
        int n = x.dim(0), c = x.dim(1), s = x.spatialSize();
        NormGeometry g = geometry(ws, n, c, s, Math.max(c, 1), 1, s); // the contiguous layout
        return maskedForward(x, mask, g, rs, combine, eps, weight, bias, ws,
                k -> "channel " + k, "in every channel");
    }

    /** Masked layer normalization (see the masked {@link #batchNorm}): x is {@code [N, C, ...]}. */
    public static NormResult layerNorm(Tensor x, Tensor mask, int[] normalizedShape, Tensor weight, Tensor bias,
                                       double eps, NormWorkspace ws) {
        if (mask == null) {
            return layerNorm(x, normalizedShape, weight, bias, eps, ws);
        }
        checkRank(x, 2, 5, "[N, C, ...] with a mask");
        checkEps(eps);
        int m = Shapes.numel(normalizedShape);
        layerNormChecks(x, normalizedShape, weight, bias);
        NormGeometry g = geometry(ws, 1, m == 0 ? 0 : x.numel() / m, m, 1, Math.max(m, 1), m == 0 ? 0 : 1);
        return maskedForward(x, mask, g, null, null, eps, weight, bias, ws, k -> "normalized slice " + k
                + " (sample " + (long) k * m / Math.max(1, x.numel() / Math.max(1, x.dim(0))) + ")",
                "in every normalized slice");
    }

    /** Masked group normalization (see the masked {@link #batchNorm}). */
    public static NormResult groupNorm(Tensor x, Tensor mask, int numGroups, Tensor weight, Tensor bias, double eps,
                                       NormWorkspace ws) {
        if (mask == null) {
            return groupNorm(x, numGroups, weight, bias, eps, ws);
        }
        checkRank(x, 2, 5, "[N, C, ...]");
        checkEps(eps);
        int c = x.dim(1);
        checkGroups(c, numGroups);
        checkChannels("weight", weight, c);
        checkChannels("bias", bias, c);
        int n = x.dim(0), s = x.spatialSize(), cg = c / numGroups;
        NormGeometry g = geometry(ws, 1, n * numGroups, cg * s, numGroups, cg, s);
        return maskedForward(x, mask, g, null, null, eps, weight, bias, ws,
                k -> "group " + (k % numGroups) + " of sample " + (k / numGroups), "in every group of every sample");
    }

    /** Masked instance normalization (see the masked {@link #batchNorm}); {@code rs} as the unmasked one. */
    public static NormResult instanceNorm(Tensor x, Tensor mask, Tensor weight, Tensor bias, RunningStats rs,
                                          boolean useInputStats, double eps, NormWorkspace ws) {
        if (mask == null || !useInputStats) {
            if (mask != null) {
                checkMask(x, mask);
            }
            return instanceNorm(x, weight, bias, rs, useInputStats, eps, ws);
        }
        checkPerChannel(x, 3, "[N, C, L], [N, C, H, W] or [N, C, D, H, W]", rs, weight, bias, eps);
        int n = x.dim(0), c = x.dim(1), s = x.spatialSize();
        NormGeometry g = geometry(ws, 1, n * c, s, Math.max(c, 1), 1, s);
        return maskedForward(x, mask, g, rs, null, eps, weight, bias, ws,
                k -> "channel " + (k % c) + " of sample " + (k / c), "in every channel of every sample");
    }

    /** The checks of the per-channel layers (BN, IN): rank, eps, and [C] running statistics and affine. */
    private static void checkPerChannel(Tensor x, int minRank, String expected, RunningStats rs, Tensor weight,
                                        Tensor bias, double eps) {
        checkRank(x, minRank, 5, expected);
        checkEps(eps);
        int c = x.dim(1);
        if (rs != null) {
            checkChannels("running_mean", rs.mean(), c);
        }
        checkChannels("weight", weight, c);
        checkChannels("bias", bias, c);
    }

    /**
     * A mask for {@code x}: the shape of x without dimension 1, values 0 or 1. Returns its values in logical order.
     */
    static float[] checkMask(Tensor x, Tensor mask) {
        int[] want = Shapes.without(x.shape(), 1);
        if (!mask.hasShape(want)) {
            throw new IllegalArgumentException("Expected mask of shape " + Shapes.str(want) + " (the input's shape"
                    + " without the channel dimension) for input of shape " + x.shapeString() + ", got "
                    + mask.shapeString());
        }
        float[] m = mask.format() == MemoryFormat.CONTIGUOUS ? mask.data() : mask.toContiguousArray();
        for (int i = 0; i < m.length; i++) {
            if (m[i] != 0f && m[i] != 1f) {
                throw new IllegalArgumentException("Expected mask values 0 or 1, got " + m[i] + " at index " + i);
            }
        }
        return m;
    }

    /**
     * The masked pipeline over the contiguous geometry {@code g}: valid-position statistics, combine, the check
     * that every statistic has 2 valid values ({@code name} names statistic k in the error), running update,
     * normalize at every position; channels-last input is converted and the output converted back.
     */
    private static NormResult maskedForward(Tensor x, Tensor mask, NormGeometry g, RunningStats rs,
                                            StatsCombine combine, double eps, Tensor weight, Tensor bias,
                                            NormWorkspace ws, java.util.function.IntFunction<String> name,
                                            String where) {
        float[] m = checkMask(x, mask);
        NormWorkspace w = ws == null ? new NormWorkspace() : ws;
        MemoryFormat contiguous = MemoryFormat.CONTIGUOUS;
        Tensor xc = w.inFormat(NormWorkspace.INPUT, x, contiguous);
        boolean stored = x.format() == contiguous;
        Tensor y = stored ? w.output(xc) : w.scratch(NormWorkspace.RESULT, xc, contiguous); // all written
        int c = x.dim(1), s = x.spatialSize();
        NormCore.maskedStatistics(xc.data(), g, m, c, s, combine, w);
        double[] counts = w.maskCounts();
        for (int k = 0; k < g.k(); k++) {
            if (counts[k] < 2) {
                throw new IllegalArgumentException("Expected at least 2 valid values (mask = 1) " + where
                        + (combine != null ? " across all ranks" : "") + " when training, got " + (long) counts[k]
                        + " in " + name.apply(k) + " (input of shape " + x.shapeString() + ")");
            }
        }
        NormSaved saved = NormCore.finishMasked(xc.data(), y.data(), g, rs, eps, data(weight), data(bias), combine, m,
                c, s, w);
        Tensor out = stored ? y : y.copyTo(w.output(x));
        return result(ws, out, saved);
    }

    /**
     * The local-statistics phase alone, for BatchNorm's per-channel grouping of {@code x} ({@code (N, C, ...)},
     * either format): fills {@code mean[c]} and {@code m2[c] = Σ(x - mean)²} (two passes in double; zeros without
     * values) and returns the count of values per channel. What population statistics merge batch by batch.
     */
    public static long batchMoments(Tensor x, double[] mean, double[] m2) {
        checkRank(x, 2, 5, "[N, C, ...]");
        int c = x.dim(1);
        if (mean.length < c || m2.length < c) {
            throw new IllegalArgumentException("Expected arrays of at least " + c + " values for the moments of input"
                    + " of shape " + x.shapeString() + ", got " + mean.length + " and " + m2.length);
        }
        NormGeometry g = batchNormGeometry(x, x.dim(0), null);
        NormCore.localStats(x.data(), 0, g, mean, m2);
        return g.count();
    }

    /**
     * BatchNorm's per-channel geometry over the first {@code samples} samples of {@code x}, as it lays them out
     * for x's memory format: NCHW {@code [samples][C][S]}; channels-last and {@code (N, C)}
     * {@code [samples * S][C][1]}. With a workspace, its previous geometry when that is the same one.
     */
    public static NormGeometry batchNormGeometry(Tensor x, int samples, NormWorkspace ws) {
        int c = x.dim(1), s = x.spatialSize(), kMod = Math.max(c, 1);
        return x.format() == MemoryFormat.CHANNELS_LAST || x.rank() == 2
                ? geometry(ws, samples * s, c, 1, kMod, 1, 1)
                : geometry(ws, samples, c, s, kMod, 1, s);
    }

    private static NormGeometry geometry(NormWorkspace ws, int a, int k, int d, int kMod, int p, int q) {
        return ws == null ? new NormGeometry(a, k, d, kMod, p, q) : ws.geometry(a, k, d, kMod, p, q);
    }

    private static NormResult result(NormWorkspace ws, Tensor y, NormSaved saved) {
        return ws == null ? new NormResult(y, saved) : ws.result(y, saved);
    }

    /**
     * Group normalization of {@code x} ({@code (N, C, ...)}): statistics per sample and group of
     * {@code C / numGroups} channels, affine per channel.
     */
    public static NormResult groupNorm(Tensor x, int numGroups, Tensor weight, Tensor bias, double eps) {
        return groupNorm(x, numGroups, weight, bias, eps, null);
    }

    /** {@link #groupNorm(Tensor, int, Tensor, Tensor, double)} with reusable buffers ({@code ws} may be null). */
    public static NormResult groupNorm(Tensor x, int numGroups, Tensor weight, Tensor bias, double eps,
                                       NormWorkspace ws) {
        checkRank(x, 2, 5, "[N, C, ...]");
        checkEps(eps);
        int c = x.dim(1);
        checkGroups(c, numGroups);
        checkChannels("weight", weight, c);
        checkChannels("bias", bias, c);
        int n = x.dim(0), s = x.spatialSize(), cg = c / numGroups;
        NormGeometry g = geometry(ws, 1, n * numGroups, cg * s, numGroups, cg, s);
        return contiguousForward(x, g, true, null, null, 0, eps, weight, bias, ws);
    }

    /**
     * Instance normalization of {@code x} ({@code (N,C,L)}, {@code (N,C,H,W)} or {@code (N,C,D,H,W)}): statistics
     * per sample and channel. With {@code useInputStats} the running buffers (if given) are updated with the
     * average over the batch of the per-instance statistics; without it they normalise.
     */
    public static NormResult instanceNorm(Tensor x, Tensor runningMean, Tensor runningVar, Tensor weight,
                                          Tensor bias, boolean useInputStats, double momentum, double eps) {
        return instanceNorm(x, runningMean, runningVar, weight, bias, useInputStats, momentum, eps, null);
    }

    /** {@link #instanceNorm(Tensor, Tensor, Tensor, Tensor, Tensor, boolean, double, double)} with reusable buffers. */
    public static NormResult instanceNorm(Tensor x, Tensor runningMean, Tensor runningVar, Tensor weight,
                                          Tensor bias, boolean useInputStats, double momentum, double eps,
                                          NormWorkspace ws) {
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
        NormGeometry g = geometry(ws, 1, n * c, s, Math.max(c, 1), 1, s);
        boolean skipUpdate = useInputStats && x.numel() == 0; // no instances: the running buffers stay as they are
        return contiguousForward(x, g, useInputStats, skipUpdate ? null : runningMean,
                skipUpdate ? null : runningVar, momentum, eps, weight, bias, ws);
    }

    /**
     * Instance normalization with the running statistics {@code rs} (may be null): updated in place with the
     * average of the per-instance statistics when {@code useInputStats}, else used to normalise.
     */
    public static NormResult instanceNorm(Tensor x, Tensor weight, Tensor bias, RunningStats rs,
                                          boolean useInputStats, double eps, NormWorkspace ws) {
        checkPerChannel(x, 3, "[N, C, L], [N, C, H, W] or [N, C, D, H, W]", rs, weight, bias, eps);
        int n = x.dim(0), c = x.dim(1), s = x.spatialSize();
        if (!useInputStats && rs == null) {
            throw new IllegalArgumentException(
                    "Expected running_mean and running_var when not using input statistics, got null");
        }
        if (useInputStats && s == 1) {
            throw new IllegalArgumentException(
                    "Expected more than 1 spatial element when training, got input size " + x.shapeString());
        }
        NormGeometry g = geometry(ws, 1, n * c, s, Math.max(c, 1), 1, s);
        boolean empty = useInputStats && x.numel() == 0; // no instances: the running buffers stay as they are
        boolean fixed = !useInputStats; // normalise with rs
        NormResult r = contiguousForward(x, g, useInputStats, fixed || empty ? null : rs, fixed ? rs.mean() : null,
                fixed ? rs.var() : null, 0, eps, weight, bias, ws);
        if (empty && rs != null) {
            rs.countEmpty();
        }
        return r;
    }

    /**
     * Layer normalization over the trailing dimensions {@code normalizedShape} of {@code x}; {@code weight} and
     * {@code bias} (or null) have shape {@code normalizedShape}.
     */
    public static NormResult layerNorm(Tensor x, int[] normalizedShape, Tensor weight, Tensor bias, double eps) {
        return layerNorm(x, normalizedShape, weight, bias, eps, null);
    }

    /** {@link #layerNorm(Tensor, int[], Tensor, Tensor, double)} with reusable buffers ({@code ws} may be null). */
    public static NormResult layerNorm(Tensor x, int[] normalizedShape, Tensor weight, Tensor bias, double eps,
                                       NormWorkspace ws) {
        checkEps(eps);
        layerNormChecks(x, normalizedShape, weight, bias);
        int m = Shapes.numel(normalizedShape);
        NormGeometry g = geometry(ws, 1, m == 0 ? 0 : x.numel() / m, m, 1, Math.max(m, 1), m == 0 ? 0 : 1);
        return contiguousForward(x, g, true, null, null, 0, eps, weight, bias, ws);
    }

    private static void layerNormChecks(Tensor x, int[] normalizedShape, Tensor weight, Tensor bias) {
        int r = normalizedShape.length;
        if (r == 0) {
            throw new IllegalArgumentException("Expected a non-empty normalized_shape, got []");
        }
        int lead = x.rank() - r;
        boolean ok = lead >= 0;
        for (int i = 0; ok && i < r; i++) {
            ok = x.dim(lead + i) == normalizedShape[i];
        }
        if (!ok) {
            throw new IllegalArgumentException("Expected input with shape [*, "
                    + Shapes.str(normalizedShape).substring(1) + " (normalized_shape=" + Shapes.str(normalizedShape)
                    + "), got input of shape " + x.shapeString());
        }
        checkShape("weight", weight, normalizedShape);
        checkShape("bias", bias, normalizedShape);
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

    /**
     * {@link #normBackward(NormSaved, Tensor, Tensor, Tensor, boolean)} with reusable buffers ({@code ws} may be
     * null): reductions, layout conversions and the returned gradients (see {@link NormWorkspace}).
     */
    public static NormGradients normBackward(NormSaved saved, Tensor x, Tensor gradOutput, Tensor weight,
                                             boolean affineGrads, NormWorkspace ws) {
        return normBackward(saved, x, null, gradOutput, weight, affineGrads, null, ws);
    }

    /**
     * Backward of a forward with the fused epilogue {@code y = relu(bn(x) [+ residual])}: {@code output} is that
     * forward's {@code y} (the ReLU gate is {@code output > 0}; null: no epilogue, the plain backward), and
     * {@code residualGrad}, when non-null (shape of {@code x}, any memory format), receives the gradient of the
     * residual, which is the gated gradient. Otherwise as
     * {@link #normBackward(NormSaved, Tensor, Tensor, Tensor, boolean, NormWorkspace)}.
     */
    public static NormGradients normBackward(NormSaved saved, Tensor x, Tensor output, Tensor gradOutput,
                                             Tensor weight, boolean affineGrads, Tensor residualGrad,
                                             NormWorkspace ws) {
        checkGradientShape(x, gradOutput);
        if (output != null && !output.sameShape(x)) {
            throw new IllegalArgumentException("Expected output of shape " + x.shapeString() + ", got "
                    + output.shapeString());
        }
        if (residualGrad != null && (output == null || !residualGrad.sameShape(x))) {
            throw new IllegalArgumentException("Expected a residual gradient of shape " + x.shapeString()
                    + " with the forward's output, got " + residualGrad.shapeString()
                    + (output == null ? " without an output" : ""));
        }
        MemoryFormat storage = saved.storage();
        Tensor xs = inFormat(ws, NormWorkspace.INPUT, x, storage);
        Tensor dys = inFormat(ws, NormWorkspace.GRAD_OUTPUT, gradOutput, storage);
        boolean stored = x.format() == storage;
        // every element of dx is written
        Tensor dx = ws == null ? xs.zerosLike() : stored ? ws.gradInput(xs) : ws.scratch(NormWorkspace.RESULT, xs,
                storage);
        int affine = saved.geometry().affineSize();
        Tensor dGamma = !affineGrads ? null : ws == null ? affineZeros(weight, affine) : ws.affineGrad(0, weight,
                affine);
        Tensor dBeta = !affineGrads ? null : ws == null ? affineZeros(weight, affine) : ws.affineGrad(1, weight,
                affine);
        float[] ys = output == null ? null : inFormat(ws, NormWorkspace.RESIDUAL, output, storage).data();
        boolean residualStored = residualGrad != null && residualGrad.format() == storage;
        Tensor dr = residualGrad == null || residualStored ? residualGrad : residualGrad.to(storage);
        NormCore.backward(saved, xs.data(), dys.data(), data(weight), ys, dx.data(), data(dr), data(dGamma),
                data(dBeta), ws);
        if (dr != residualGrad) {
            dr.copyTo(residualGrad);
        }
        Tensor dxOut = stored ? dx : ws == null ? dx.to(x.format()) : dx.copyTo(ws.gradInput(x));
        return ws == null ? new NormGradients(dxOut, dGamma, dBeta) : ws.gradients(dxOut, dGamma, dBeta);
    }

    /** Zeros for dgamma or dbeta: shaped like {@code weight}, or {@code [size]} when it is null. */
    static Tensor affineZeros(Tensor weight, int size) {
        return weight != null ? Tensor.zeros(weight.shape()) : Tensor.zeros(size);
    }

    /** Runs a geometry defined on logical (contiguous) order, converting channels-last input and output. */
    private static NormResult contiguousForward(Tensor x, NormGeometry g, boolean batchStats, Tensor runningMean,
                                                Tensor runningVar, double factor, double eps, Tensor weight,
                                                Tensor bias, NormWorkspace ws) {
        return contiguousForward(x, g, batchStats, null, runningMean, runningVar, factor, eps, weight, bias, ws);
    }

    /** The same; training with {@code rs} non-null updates it (else the running tensors with {@code factor}). */
    private static NormResult contiguousForward(Tensor x, NormGeometry g, boolean batchStats, RunningStats rs,
                                                Tensor runningMean, Tensor runningVar, double factor, double eps,
                                                Tensor weight, Tensor bias, NormWorkspace ws) {
        MemoryFormat contiguous = MemoryFormat.CONTIGUOUS;
        Tensor xc = inFormat(ws, NormWorkspace.INPUT, x, contiguous);
        boolean stored = x.format() == contiguous;
        // every element of y is written
        Tensor y = ws == null ? xc.zerosLike() : stored ? ws.output(xc) : ws.scratch(NormWorkspace.RESULT, xc,
                contiguous);
        NormSaved saved;
        if (batchStats && rs != null) {
            saved = NormCore.trainFused(xc.data(), 0, y.data(), 0, g, rs, eps, data(weight), data(bias), null, false,
                    ws == null ? new NormWorkspace() : ws, contiguous);
        } else {
            saved = NormCore.forward(xc.data(), y.data(), g, batchStats, data(runningMean), data(runningVar), factor,
                    eps, data(weight), data(bias), null, false, ws, contiguous);
        }
        Tensor out = stored ? y : ws == null ? y.to(x.format()) : y.copyTo(ws.output(x));
        return result(ws, out, saved);
    }

    /** {@code t} in {@code format}: itself, a fresh copy (no workspace) or a copy in the workspace's scratch. */
    private static Tensor inFormat(NormWorkspace ws, int slot, Tensor t, MemoryFormat format) {
        return ws == null ? t.to(format) : ws.inFormat(slot, t, format);
    }

    private static void checkShape(String name, Tensor t, int[] shape) {
        if (t != null && !t.hasShape(shape)) {
            throw new IllegalArgumentException("Expected " + name + " of shape " + Shapes.str(shape) + ", got "
                    + t.shapeString());
        }
    }

    static float[] data(Tensor t) {
        return t == null ? null : t.data();
    }

    /** A gradient must have the shape of the forward's input (checked without copying either shape). */
    public static void checkGradientShape(Tensor x, Tensor gradOutput) {
        if (!x.sameShape(gradOutput)) {
            throw new IllegalArgumentException("Expected gradient of shape " + x.shapeString() + ", got "
                    + gradOutput.shapeString());
        }
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
