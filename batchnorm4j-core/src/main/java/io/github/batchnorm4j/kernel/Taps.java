package io.github.batchnorm4j.kernel;

/**
 * Shifted weighted sums, the inner loop of a direct convolution over a flattened padded plane:
 * {@code y[yOff + i] = bias + sum_t w[wOff + t] * x[offsets[t] + i]} for {@code i < n}, summed in increasing
 * {@code t} by fused multiply-adds starting from {@code bias}, then {@code max(., 0)} when {@code relu} (the scalar
 * and vector implementations agree bit for bit).
 */
public final class Taps {
    private Taps() {}

    /** The sums described on the class, for {@code taps} weights and offsets. */
    public static void sum(float[] x, int[] offsets, float[] w, int wOff, int taps, float bias, boolean relu,
                           float[] y, int yOff, int n) {
        if (n <= 0) {
            return;
        }
        if (taps < 0 || taps > offsets.length || wOff < 0 || wOff > w.length - taps || yOff < 0
                || yOff > y.length - n) {
            throw new IllegalArgumentException("Expected " + taps + " weights from " + wOff + " of " + w.length
                    + ", offsets of " + offsets.length + " and an output span [" + yOff + ", " + (yOff + n)
                    + ") of " + y.length);
        }
        for (int t = 0; t < taps; t++) {
            if (offsets[t] < 0 || offsets[t] > x.length - n) {
                throw new IllegalArgumentException("Expected tap " + t + " to read [" + offsets[t] + ", "
                        + (offsets[t] + n) + ") of an array of " + x.length + " floats");
            }
        }
        Kernels.dense().taps(x, offsets, w, wOff, taps, bias, relu, y, yOff, n);
    }
}
