package io.github.batchnorm4j.nn;

/** Average pooling (see {@link Pool2d}): the mean of each {@code k x k} window (sum in double); backward spreads
 * {@code dy / k^2} over the window. */
public final class AvgPool2d extends Pool2d {
    /** Window {@code kernel}, stride {@code kernel} (PyTorch's default). */
    public AvgPool2d(int kernel) {
        this(kernel, kernel);
    }

    public AvgPool2d(int kernel, int stride) {
        super(kernel, stride);
    }

    @Override
    void forwardSample(float[] x, float[] y, int s, int c) {
        double inv = 1.0 / (kernel * kernel);
        for (int p = s * c; p < (s + 1) * c; p++) {
            int in = p * h * w;
            int out = p * ho * wo;
            for (int oy = 0; oy < ho; oy++) {
                for (int ox = 0; ox < wo; ox++) {
                    double acc = 0;
                    for (int ky = 0; ky < kernel; ky++) {
                        int row = in + (oy * stride + ky) * w + ox * stride;
                        for (int kx = 0; kx < kernel; kx++) {
                            acc += x[row + kx];
                        }
                    }
                    y[out + oy * wo + ox] = (float) (acc * inv);
                }
            }
        }
    }

    @Override
    void backwardSample(float[] dy, float[] dx, int s, int c) {
        int inSize = c * h * w;
        java.util.Arrays.fill(dx, s * inSize, (s + 1) * inSize, 0f);
        float inv = 1f / (kernel * kernel);
        for (int p = s * c; p < (s + 1) * c; p++) {
            int in = p * h * w;
            int out = p * ho * wo;
            for (int oy = 0; oy < ho; oy++) {
                for (int ox = 0; ox < wo; ox++) {
                    float g = dy[out + oy * wo + ox] * inv;
                    for (int ky = 0; ky < kernel; ky++) {
                        int row = in + (oy * stride + ky) * w + ox * stride;
                        for (int kx = 0; kx < kernel; kx++) {
                            dx[row + kx] += g;
                        }
                    }
                }
            }
        }
    }
}
