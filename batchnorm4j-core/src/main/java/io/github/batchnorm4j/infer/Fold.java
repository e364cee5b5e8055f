package io.github.batchnorm4j.infer;

import io.github.batchnorm4j.nn.AvgPool2d;
import io.github.batchnorm4j.nn.BasicBlock;
import io.github.batchnorm4j.nn.Conv2d;
import io.github.batchnorm4j.nn.Dropout;
import io.github.batchnorm4j.nn.Flatten;
import io.github.batchnorm4j.nn.GlobalAvgPool2d;
import io.github.batchnorm4j.nn.Identity;
import io.github.batchnorm4j.nn.Linear;
import io.github.batchnorm4j.nn.MaxPool2d;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.ReLU;
import io.github.batchnorm4j.nn.Sequential;
import io.github.batchnorm4j.nn.Sigmoid;
import io.github.batchnorm4j.nn.Tanh;
import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Folds evaluation-mode BatchNorm into the layer before it, so BN costs nothing at inference.
 *
 * <p>In eval mode BN is a per-channel affine map with {@code s_c = gamma_c / sqrt(running_var_c + eps)}:
 * {@code BN(z)_c = (z_c - running_mean_c) * s_c + beta_c}. When {@code z = W x + b} comes from a
 * {@link Linear} (or a {@link Conv2d}, output channel {@code c}), the composition is one layer of the same kind:
 * <pre>
 *   W'[c, ...] = W[c, ...] * s_c
 *   b'_c       = (b_c - running_mean_c) * s_c + beta_c      (b_c = 0 when the layer had no bias)
 * </pre>
 * ({@code gamma = 1}, {@code beta = 0} without affine parameters.) All of this is computed in double and rounded
 * once to float. A BN with no foldable predecessor becomes a {@link ChannelAffine} with weight {@code s_c} and
 * bias {@code beta_c - running_mean_c * s_c}.
 *
 * <p>The walk: a {@link Sequential} is flattened (nested Sequentials inlined; {@link Identity} and
 * {@link Dropout}, identities in eval mode, removed) and each Linear/Conv2d directly followed by a BN with
 * running statistics and matching channels is folded; a {@link BasicBlock} becomes a {@link Residual} whose body
 * {@code conv1, bn1, ReLU, conv2, bn2} and shortcut {@code downsample} are folded the same way. BN without
 * running statistics normalises with batch statistics even in eval mode and is kept as it is; so are the other
 * normalizations. The result is a new model in eval mode that shares no layer this class knows with the input
 * (layers keep output buffers): folded and copied layers have their own tensors, activations and pools are new
 * instances; other modules (other normalizations, BN without running statistics) are shared.
 */
public final class Fold {
    private Fold() {}

    // new SplittableRandom(0) below: the constructors need an initializer, but every weight is overwritten.

    /** The folded evaluation-mode equivalent of {@code model}; {@code model} itself is not modified. */
    public static Module fold(Module model) {
        Module out = foldModule(model);
        out.eval();
        return out;
    }

    private static Module foldModule(Module m) {
        if (m instanceof Sequential seq) {
            return foldSequence(flatten(seq));
        }
        if (m instanceof BasicBlock block) {
            return foldBlock(block);
        }
        if (m instanceof Residual r) {
            return new Residual(foldModule(r.body()), r.shortcut() == null ? null : foldModule(r.shortcut()));
        }
        if (m instanceof BatchNorm bn && bn.options().trackRunningStats()) {
            return affineOf(bn);
        }
        if (m instanceof Linear lin) {
            return copy(lin);
        }
        if (m instanceof Conv2d conv) {
            return copy(conv);
        }
        return freshStateless(m);
    }

    /**
     * A new instance of a layer without parameters (layers keep output buffers, so the folded model must not
     * share them with the original); modules Fold does not know are shared as they are.
     */
    private static Module freshStateless(Module m) {
        if (m instanceof ReLU) {
            return new ReLU();
        }
        if (m instanceof Sigmoid) {
            return new Sigmoid();
        }
        if (m instanceof Tanh) {
            return new Tanh();
        }
        if (m instanceof Flatten) {
            return new Flatten();
        }
        if (m instanceof GlobalAvgPool2d) {
            return new GlobalAvgPool2d();
        }
        if (m instanceof MaxPool2d p) {
            return new MaxPool2d(p.kernelSize(), p.stride());
        }
        if (m instanceof AvgPool2d p) {
            return new AvgPool2d(p.kernelSize(), p.stride());
        }
        return m;
    }

    private static Module foldBlock(BasicBlock block) {
        var ch = block.children();
        Sequential body = new Sequential(ch.get("conv1"), ch.get("bn1"), new ReLU(), ch.get("conv2"), ch.get("bn2"));
        Module down = ch.get("downsample");
        return new Residual(foldModule(body), down == null || down instanceof Identity ? null : foldModule(down));
    }

    private static List<Module> flatten(Sequential seq) {
        List<Module> out = new ArrayList<>();
        for (int i = 0; i < seq.size(); i++) {
            Module m = seq.get(i);
            if (m instanceof Sequential inner) {
                out.addAll(flatten(inner));
            } else if (!(m instanceof Identity) && !(m instanceof Dropout)) {
                out.add(m);
            }
        }
        return out;
    }

    private static Module foldSequence(List<Module> layers) {
        Sequential out = new Sequential();
        for (int i = 0; i < layers.size(); i++) {
            Module m = layers.get(i);
            BatchNorm next = i + 1 < layers.size() && layers.get(i + 1) instanceof BatchNorm b
                    && b.options().trackRunningStats() ? b : null;
            if (next != null && m instanceof Linear lin && lin.weight().value().dim(0) == next.numFeatures()) {
                out.add(foldLinear(lin, next));
                i++;
            } else if (next != null && m instanceof Conv2d conv && conv.weight().value().dim(0) == next.numFeatures()) {
                out.add(foldConv(conv, next));
                i++;
            } else {
                out.add(foldModule(m));
            }
        }
        return out;
    }

    /** Per-channel {@code s_c = gamma_c / sqrt(var_c + eps)} and {@code t_c = beta_c - mean_c * s_c}, in double. */
    private static double[][] affine(BatchNorm bn) {
        int c = bn.numFeatures();
        double[] s = new double[c];
        double[] t = new double[c];
        float[] mean = bn.runningMean().data();
        float[] var = bn.runningVar().data();
        float[] gamma = bn.weight() == null ? null : bn.weight().data();
        float[] beta = bn.bias() == null ? null : bn.bias().data();
        for (int i = 0; i < c; i++) {
            double g = gamma == null ? 1.0 : gamma[i];
            double b = beta == null ? 0.0 : beta[i];
            s[i] = g / Math.sqrt((double) var[i] + bn.options().eps());
            t[i] = b - mean[i] * s[i];
        }
        return new double[][] {s, t};
    }

    static ChannelAffine affineOf(BatchNorm bn) {
        double[][] st = affine(bn);
        int c = bn.numFeatures();
        float[] w = new float[c];
        float[] b = new float[c];
        for (int i = 0; i < c; i++) {
            w[i] = (float) st[0][i];
            b[i] = (float) st[1][i];
        }
        return new ChannelAffine(w, b);
    }

    /** Writes {@code W * s_c} and {@code (b - mean) * s_c + beta} (= {@code b * s_c + t_c}) into the new layer. */
    private static void foldInto(float[] w, float[] b, int outChannels, float[] newW, float[] newB, BatchNorm bn) {
        double[][] st = affine(bn);
        int per = w.length / outChannels;
        for (int c = 0; c < outChannels; c++) {
            double s = st[0][c];
            for (int j = c * per; j < (c + 1) * per; j++) {
                newW[j] = (float) (w[j] * s);
            }
            double bias = b == null ? 0.0 : b[c];
            newB[c] = (float) (bias * s + st[1][c]);
        }
    }

    private static Linear foldLinear(Linear lin, BatchNorm bn) {
        Tensor w = lin.weight().value();
        Linear out = new Linear(w.dim(1), w.dim(0), true, new SplittableRandom(0));
        foldInto(w.data(), lin.bias() == null ? null : lin.bias().data(), w.dim(0), out.weight().data(),
                out.bias().data(), bn);
        return out;
    }

    private static Conv2d foldConv(Conv2d conv, BatchNorm bn) {
        Tensor w = conv.weight().value();
        Conv2d out = new Conv2d(w.dim(1), w.dim(0), conv.kernelSize(), conv.stride(), conv.padding(), true,
                new SplittableRandom(0));
        foldInto(w.data(), conv.bias() == null ? null : conv.bias().data(), w.dim(0), out.weight().data(),
                out.bias().data(), bn);
        return out;
    }

    private static Linear copy(Linear lin) {
        Tensor w = lin.weight().value();
        Linear out = new Linear(w.dim(1), w.dim(0), lin.bias() != null, new SplittableRandom(0));
        System.arraycopy(w.data(), 0, out.weight().data(), 0, w.numel());
        if (lin.bias() != null) {
            System.arraycopy(lin.bias().data(), 0, out.bias().data(), 0, w.dim(0));
        }
        return out;
    }

    private static Conv2d copy(Conv2d conv) {
        Tensor w = conv.weight().value();
        Conv2d out = new Conv2d(w.dim(1), w.dim(0), conv.kernelSize(), conv.stride(), conv.padding(),
                conv.bias() != null, new SplittableRandom(0));
        System.arraycopy(w.data(), 0, out.weight().data(), 0, w.numel());
        if (conv.bias() != null) {
            System.arraycopy(conv.bias().data(), 0, out.bias().data(), 0, w.dim(0));
        }
        return out;
    }
}
