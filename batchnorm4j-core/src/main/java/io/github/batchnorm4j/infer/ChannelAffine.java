package io.github.batchnorm4j.infer;

import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.Parameter;
import io.github.batchnorm4j.tensor.MemoryFormat;
import io.github.batchnorm4j.tensor.Tensor;

/**
 * A per-channel affine map {@code y[n, c, ...] = x[n, c, ...] * weight[c] + bias[c]} on {@code (N, C, ...)} input
 * in either memory format. It is what an evaluation-mode BatchNorm is, once its statistics are frozen:
 * {@code weight = gamma / sqrt(running_var + eps)}, {@code bias = beta - running_mean * weight} (see {@link Fold}).
 */
public final class ChannelAffine extends Module {
    private final int channels;
    private final Parameter weight;
    private final Parameter bias;

    /** Copies {@code scale} and {@code shift} (length C each). */
    public ChannelAffine(float[] scale, float[] shift) {
        if (scale.length != shift.length || scale.length == 0) {
            throw new IllegalArgumentException("Expected scale and shift of the same length >= 1, got "
                    + scale.length + " and " + shift.length);
        }
        this.channels = scale.length;
        this.weight = registerParameter("weight", Tensor.of(scale.clone(), channels));
        this.bias = registerParameter("bias", Tensor.of(shift.clone(), channels));
    }

    public int channels() {
        return channels;
    }

    /** The per-channel scale {@code [C]}. */
    public Parameter weight() {
        return weight;
    }

    /** The per-channel shift {@code [C]}. */
    public Parameter bias() {
        return bias;
    }

    @Override
    public Tensor forward(Tensor x) {
        if (x.rank() < 2 || x.dim(1) != channels) {
            throw new IllegalArgumentException("Expected input of shape [N, " + channels + ", ...], got "
                    + x.shapeString());
        }
        Tensor y = x.zerosLike();
        apply(x, y.data(), weight.data(), bias.data());
        return y;
    }

    /** Folded models are for inference only. */
    @Override
    public Tensor backward(Tensor gradOutput) {
        throw new UnsupportedOperationException("ChannelAffine is an inference layer produced by Fold; it has no"
                + " backward");
    }

    private void apply(Tensor x, float[] out, float[] w, float[] b) {
        float[] in = x.data();
        int n = x.dim(0), s = x.spatialSize();
        if (x.format() == MemoryFormat.CHANNELS_LAST) {
            for (int p = 0; p < n * s; p++) {
                int base = p * channels;
                for (int c = 0; c < channels; c++) {
                    out[base + c] = in[base + c] * w[c] + b[c];
                }
            }
            return;
        }
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < channels; c++) {
                int base = (i * channels + c) * s;
                float wc = w[c], bc = b[c];
                for (int j = 0; j < s; j++) {
                    out[base + j] = in[base + j] * wc + bc;
                }
            }
        }
    }
}
