package io.github.batchnorm4j.nn;

/**
 * Float64 references of the layers, written as plain loops straight from the definitions (NCHW order). They are
 * the ground truth of {@link GradCheck}; nothing here is shared with the main code.
 */
public final class Ref {
    private Ref() {}

    /** {@code y[n][o] = b[o] + sum_i x[n][i] * w[o][i]}; {@code b} may be null. */
    public static double[] linear(double[] x, int n, int in, int out, double[] w, double[] b) {
        double[] y = new double[n * out];
        for (int s = 0; s < n; s++) {
            for (int o = 0; o < out; o++) {
                double acc = b == null ? 0 : b[o];
                for (int i = 0; i < in; i++) {
                    acc += x[s * in + i] * w[o * in + i];
                }
                y[s * out + o] = acc;
            }
        }
        return y;
    }

    /** Output size of a convolution or pooling window along one axis. */
    public static int outSize(int size, int k, int stride, int pad) {
        return (size + 2 * pad - k) / stride + 1;
    }

    /** 2-D cross-correlation with zero padding; weight {@code [co][ci][k][k]}, bias or null. */
    public static double[] conv2d(double[] x, int n, int ci, int h, int wd, double[] w, double[] b, int co, int k,
                                  int stride, int pad) {
        int ho = outSize(h, k, stride, pad), wo = outSize(wd, k, stride, pad);
        double[] y = new double[n * co * ho * wo];
        for (int s = 0; s < n; s++) {
            for (int o = 0; o < co; o++) {
                for (int oy = 0; oy < ho; oy++) {
                    for (int ox = 0; ox < wo; ox++) {
                        double acc = b == null ? 0 : b[o];
                        for (int c = 0; c < ci; c++) {
                            for (int ky = 0; ky < k; ky++) {
                                for (int kx = 0; kx < k; kx++) {
                                    int iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
                                    if (iy >= 0 && iy < h && ix >= 0 && ix < wd) {
                                        acc += x[((s * ci + c) * h + iy) * wd + ix] * w[((o * ci + c) * k + ky) * k + kx];
                                    }
                                }
                            }
                        }
                        y[((s * co + o) * ho + oy) * wo + ox] = acc;
                    }
                }
            }
        }
        return y;
    }

    /** Max ({@code max = true}) or average pooling, no padding, window {@code k}, {@code stride}. */
    public static double[] pool(double[] x, int n, int c, int h, int wd, int k, int stride, boolean max) {
        int ho = outSize(h, k, stride, 0), wo = outSize(wd, k, stride, 0);
        double[] y = new double[n * c * ho * wo];
        for (int p = 0; p < n * c; p++) {
            for (int oy = 0; oy < ho; oy++) {
                for (int ox = 0; ox < wo; ox++) {
                    double acc = max ? Double.NEGATIVE_INFINITY : 0;
                    for (int ky = 0; ky < k; ky++) {
                        for (int kx = 0; kx < k; kx++) {
                            double v = x[(p * h + oy * stride + ky) * wd + ox * stride + kx];
                            acc = max ? Math.max(acc, v) : acc + v;
                        }
                    }
                    y[(p * ho + oy) * wo + ox] = max ? acc : acc / (k * k);
                }
            }
        }
        return y;
    }

    /** Mean over the {@code s} trailing elements of each of the {@code rows} rows. */
    public static double[] rowMean(double[] x, int rows, int s) {
        double[] y = new double[rows];
        for (int r = 0; r < rows; r++) {
            double acc = 0;
            for (int j = 0; j < s; j++) {
                acc += x[r * s + j];
            }
            y[r] = acc / s;
        }
        return y;
    }

    public static double[] relu(double[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = Math.max(0, x[i]);
        }
        return y;
    }

    public static double[] sigmoid(double[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = 1 / (1 + Math.exp(-x[i]));
        }
        return y;
    }

    public static double[] tanh(double[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = Math.tanh(x[i]);
        }
        return y;
    }

    public static double[] add(double[] a, double[] b) {
        double[] y = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            y[i] = a[i] + b[i];
        }
        return y;
    }

    /**
     * Batch normalization of {@code (n, c, s)} data. {@code train}: batch mean and biased variance; else the given
     * running statistics. gamma/beta may be null (no affine).
     */
    public static double[] batchNorm(double[] x, int n, int c, int s, double[] gamma, double[] beta, boolean train,
                                     double[] runMean, double[] runVar, double eps) {
        double[] y = new double[x.length];
        for (int ch = 0; ch < c; ch++) {
            double mean, var;
            if (train) {
                double sum = 0;
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < s; j++) {
                        sum += x[(i * c + ch) * s + j];
                    }
                }
                mean = sum / (n * s);
                double sq = 0;
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < s; j++) {
                        double d = x[(i * c + ch) * s + j] - mean;
                        sq += d * d;
                    }
                }
                var = sq / (n * s);
            } else {
                mean = runMean[ch];
                var = runVar[ch];
            }
            double inv = 1 / Math.sqrt(var + eps);
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < s; j++) {
                    int idx = (i * c + ch) * s + j;
                    double v = (x[idx] - mean) * inv;
                    y[idx] = gamma == null ? v : v * gamma[ch] + beta[ch];
                }
            }
        }
        return y;
    }
}
