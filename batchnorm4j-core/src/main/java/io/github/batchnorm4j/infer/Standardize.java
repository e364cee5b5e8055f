package io.github.batchnorm4j.infer;

/**
 * A table's per-feature standardisation {@code (x - mean[k]) / std[k]} as an inference layer, so that an exported
 * model takes the raw feature columns: a {@link ChannelAffine} with {@code weight = 1 / std},
 * {@code bias = -mean / std}.
 */
public final class Standardize {
    private Standardize() {}

    public static ChannelAffine layer(float[] mean, float[] std) {
        float[] w = new float[mean.length];
        float[] b = new float[mean.length];
        for (int k = 0; k < w.length; k++) {
            w[k] = 1f / std[k];
            b[k] = -mean[k] / std[k];
        }
        return new ChannelAffine(w, b);
    }
}
