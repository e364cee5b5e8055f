package io.github.batchnorm4j.nn;

import io.github.batchnorm4j.tensor.Tensor;

/**
 * Max pooling (see {@link Pool2d} for the geometry); NaN propagates. Backward routes each output gradient to the
 * first element of its window (row-major) equal to the output, which is the element PyTorch's strict {@code >}
 * scan selects, summing where windows overlap. No index buffer is kept: the forward is a branch-free
 * {@code Math.max} and the backward re-finds the element from the saved input and output. (Only the sign of a
 * zero can differ from a strict scan: a window {-0, +0} yields +0. In the 2x2/stride-2 path the gradient is
 * multiplied by 0/1, so an infinite or NaN output gradient also leaves NaN in the window's other elements.)
 */
public final class MaxPool2d extends Pool2d {
    private float[] in;

    /** Window {@code kernel}, stride {@code kernel} (PyTorch's default). */
    public MaxPool2d(int kernel) {
        this(kernel, kernel);
    }

    public MaxPool2d(int kernel, int stride) {
        super(kernel, stride);
    }

    @Override
    void prepare(Tensor x) {
        in = x.data();
    }

    @Override
    void forwardSample(float[] x, float[] y, int s, int c) {
        if (kernel == 2 && stride == 2) {
            for (int p = s * c; p < (s + 1) * c; p++) {
                int base = p * h * w;
                int out = p * ho * wo;
                for (int oy = 0; oy < ho; oy++) {
                    int r0 = base + 2 * oy * w;
                    int r1 = r0 + w;
                    int o = out + oy * wo;
                    for (int ox = 0; ox < wo; ox++) {
                        int i = 2 * ox;
                        y[o + ox] = Math.max(Math.max(x[r0 + i], x[r0 + i + 1]), Math.max(x[r1 + i], x[r1 + i + 1]));
                    }
                }
            }
            return;
        }
        for (int p = s * c; p < (s + 1) * c; p++) {
            int base = p * h * w;
            int out = p * ho * wo;
            for (int oy = 0; oy < ho; oy++) {
                for (int ox = 0; ox < wo; ox++) {
                    float max = Float.NEGATIVE_INFINITY;
                    for (int ky = 0; ky < kernel; ky++) {
                        int row = base + (oy * stride + ky) * w + ox * stride;
                        for (int kx = 0; kx < kernel; kx++) {
                            max = Math.max(max, x[row + kx]);
                        }
                    }
                    y[out + oy * wo + ox] = max;
                }
            }
        }
    }

    /**
     * 2x2, stride 2 backward of one plane: windows do not overlap, so every input element gets either its window's
     * gradient or 0. The choice is made with 0/1 integers rather than branches (random data would mispredict
     * every other window); a NaN output takes the rare, branchy path.
     */
    private void backward2x2(float[] x, float[] y, float[] dy, float[] dx, int base, int out) {
        for (int oy = 0; oy < ho; oy++) {
            int r0 = base + 2 * oy * w;
            int r1 = r0 + w;
            int o = out + oy * wo;
            for (int ox = 0; ox < wo; ox++) {
                int i = 2 * ox;
                float m = y[o + ox];
                float g = dy[o + ox];
                float a = x[r0 + i], b = x[r0 + i + 1], c = x[r1 + i];
                int ea, eb, ec;
                if (m == m) {
                    ea = a == m ? 1 : 0;
                    eb = (b == m ? 1 : 0) & (ea ^ 1);
                    ec = (c == m ? 1 : 0) & ((ea | eb) ^ 1);
                } else {
                    ea = a != a ? 1 : 0;
                    eb = (b != b ? 1 : 0) & (ea ^ 1);
                    ec = (c != c ? 1 : 0) & ((ea | eb) ^ 1);
                }
                int ed = (ea | eb | ec) ^ 1;
                dx[r0 + i] = g * ea;
                dx[r0 + i + 1] = g * eb;
                dx[r1 + i] = g * ec;
                dx[r1 + i + 1] = g * ed;
            }
        }
    }

    @Override
    void backwardSample(float[] dy, float[] dx, int s, int c) {
        int inSize = c * h * w;
        boolean tiled = kernel == 2 && stride == 2 && h % 2 == 0 && w % 2 == 0; // every input in one window
        if (!tiled) {
            java.util.Arrays.fill(dx, s * inSize, (s + 1) * inSize, 0f);
        }
        float[] x = in;
        float[] y = output.data();
        if (kernel == 2 && stride == 2) {
            for (int p = s * c; p < (s + 1) * c; p++) {
                backward2x2(x, y, dy, dx, p * h * w, p * ho * wo);
            }
            return;
        }
        for (int p = s * c; p < (s + 1) * c; p++) {
            int base = p * h * w;
            int out = p * ho * wo;
            for (int oy = 0; oy < ho; oy++) {
                for (int ox = 0; ox < wo; ox++) {
                    float m = y[out + oy * wo + ox];
                    boolean nan = m != m;
                    int at = -1;
                    for (int ky = 0; ky < kernel && at < 0; ky++) {
                        int row = base + (oy * stride + ky) * w + ox * stride;
                        for (int kx = 0; kx < kernel; kx++) {
                            float v = x[row + kx];
                            if (v == m || (nan && v != v)) {
                                at = row + kx;
                                break;
                            }
                        }
                    }
                    dx[at] += dy[out + oy * wo + ox];
                }
            }
        }
    }
}
