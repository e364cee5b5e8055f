package io.github.batchnorm4j.nn;

import io.github.batchnorm4j.tensor.Tensor;

/**
 * Max pooling (see {@link Pool2d} for the geometry). Within a window the first maximum in row-major order wins and
 * NaN propagates, as in PyTorch; backward routes each output gradient to that element (summing where windows
 * overlap).
 */
public final class MaxPool2d extends Pool2d {
    private int[] argmax = new int[0];

    /** Window {@code kernel}, stride {@code kernel} (PyTorch's default). */
    public MaxPool2d(int kernel) {
        this(kernel, kernel);
    }

    public MaxPool2d(int kernel, int stride) {
        super(kernel, stride);
    }

    @Override
    void prepare(Tensor x) {
        int size = output.numel();
        if (argmax.length != size) {
            argmax = new int[size];
        }
    }

    @Override
    void forwardSample(float[] x, float[] y, int s, int c) {
        int[] idx = argmax;
        for (int p = s * c; p < (s + 1) * c; p++) {
            int in = p * h * w;
            int out = p * ho * wo;
            for (int oy = 0; oy < ho; oy++) {
                for (int ox = 0; ox < wo; ox++) {
                    int best = in + oy * stride * w + ox * stride;
                    float max = x[best];
                    for (int ky = 0; ky < kernel; ky++) {
                        int row = in + (oy * stride + ky) * w + ox * stride;
                        for (int kx = 0; kx < kernel; kx++) {
                            float v = x[row + kx];
                            if (v > max || (v != v && max == max)) {
                                max = v;
                                best = row + kx;
                            }
                        }
                    }
                    y[out + oy * wo + ox] = max;
                    idx[out + oy * wo + ox] = best;
                }
            }
        }
    }

    @Override
    void backwardSample(float[] dy, float[] dx, int s, int c) {
        int inSize = c * h * w;
        java.util.Arrays.fill(dx, s * inSize, (s + 1) * inSize, 0f);
        int outSize = c * ho * wo;
        for (int i = s * outSize; i < (s + 1) * outSize; i++) {
            dx[argmax[i]] += dy[i];
        }
    }
}
