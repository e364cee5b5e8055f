package io.github.batchnorm4j.kernel;

import java.util.Arrays;

/**
 * The reference kernels: plain loops, everything computed in double, memory walked in storage order so that
 * every geometry (NCHW, NHWC, rows) streams. The vector kernels are parity-tested against these.
 */
public final class ScalarNormKernels implements NormKernels {
    public static final ScalarNormKernels INSTANCE = new ScalarNormKernels();

    private ScalarNormKernels() {}

    @Override
    public void stats(float[] x, int xOff, NormGeometry g, double[] mean, double[] m2) {
        int a = g.a(), k = g.k(), d = g.d();
        Arrays.fill(mean, 0, k, 0.0);
        Arrays.fill(m2, 0, k, 0.0);
        // Two passes in double: Σ(x - mean)² never cancels the way E[x²] - E[x]² does.
        for (int i = 0; i < a; i++) {
            for (int c = 0; c < k; c++) {
                int base = xOff + (i * k + c) * d;
                double s = 0;
                for (int j = 0; j < d; j++) {
                    s += x[base + j];
                }
                mean[c] += s;
            }
        }
        double count = g.count();
        for (int c = 0; c < k; c++) {
            mean[c] = count == 0 ? 0.0 : mean[c] / count;
        }
        for (int i = 0; i < a; i++) {
            for (int c = 0; c < k; c++) {
                int base = xOff + (i * k + c) * d;
                double mu = mean[c];
                double s = 0;
                for (int j = 0; j < d; j++) {
                    double t = x[base + j] - mu;
                    s += t * t;
                }
                m2[c] += s;
            }
        }
    }

    @Override
    public void normalize(float[] x, int xOff, float[] y, int yOff, NormGeometry g,
                          double[] mean, double[] invStd, float[] gamma, float[] beta) {
        int a = g.a(), k = g.k(), d = g.d(), p = g.p(), q = g.q(), kMod = g.kMod();
        for (int i = 0; i < a; i++) {
            for (int c = 0; c < k; c++) {
                double mu = mean[c], is = invStd[c];
                int base = (i * k + c) * d;
                int aff = (c % kMod) * p;
                for (int pp = 0; pp < p; pp++) {
                    double gm = gamma == null ? 1.0 : gamma[aff + pp];
                    double bt = beta == null ? 0.0 : beta[aff + pp];
                    int o = base + pp * q;
                    for (int j = 0; j < q; j++) {
                        y[yOff + o + j] = (float) ((x[xOff + o + j] - mu) * is * gm + bt);
                    }
                }
            }
        }
    }

    @Override
    public void backwardReduce(float[] dy, int dyOff, float[] x, int xOff, NormGeometry g, double[] mean,
                               double[] invStd, float[] gamma, double[] sumDxhat, double[] sumDxhatXhat,
                               double[] dGamma, double[] dBeta) {
        int a = g.a(), k = g.k(), d = g.d(), p = g.p(), q = g.q(), kMod = g.kMod();
        Arrays.fill(sumDxhat, 0, k, 0.0);
        Arrays.fill(sumDxhatXhat, 0, k, 0.0);
        for (int i = 0; i < a; i++) {
            for (int c = 0; c < k; c++) {
                double mu = mean[c], is = invStd[c];
                int base = (i * k + c) * d;
                int aff = (c % kMod) * p;
                for (int pp = 0; pp < p; pp++) {
                    int o = base + pp * q;
                    double sDy = 0, sDyXhat = 0;
                    for (int j = 0; j < q; j++) {
                        double gy = dy[dyOff + o + j];
                        sDy += gy;
                        sDyXhat += gy * ((x[xOff + o + j] - mu) * is);
                    }
                    double gm = gamma == null ? 1.0 : gamma[aff + pp];
                    sumDxhat[c] += gm * sDy;
                    sumDxhatXhat[c] += gm * sDyXhat;
                    if (dGamma != null) {
                        dGamma[aff + pp] += sDyXhat;
                    }
                    if (dBeta != null) {
                        dBeta[aff + pp] += sDy;
                    }
                }
            }
        }
    }

    // Reads dy[i] before it writes dx[i], so dy may be dx (the interface's fused backward gates into dx).
    @Override
    public void backwardElementwise(float[] dy, int dyOff, float[] x, int xOff, NormGeometry g, double[] mean,
                                    double[] invStd, float[] gamma, double[] sumDxhat, double[] sumDxhatXhat,
                                    double count, boolean batchStats, float[] dx, int dxOff) {
        int a = g.a(), k = g.k(), d = g.d(), p = g.p(), q = g.q(), kMod = g.kMod();
        for (int i = 0; i < a; i++) {
            for (int c = 0; c < k; c++) {
                double mu = mean[c], is = invStd[c];
                double mDxhat = batchStats ? sumDxhat[c] / count : 0.0;
                double mDxhatXhat = batchStats ? sumDxhatXhat[c] / count : 0.0;
                int base = (i * k + c) * d;
                int aff = (c % kMod) * p;
                for (int pp = 0; pp < p; pp++) {
                    double gm = gamma == null ? 1.0 : gamma[aff + pp];
                    int o = base + pp * q;
                    for (int j = 0; j < q; j++) {
                        double dxhat = dy[dyOff + o + j] * gm;
                        double xhat = (x[xOff + o + j] - mu) * is;
                        dx[dxOff + o + j] = (float) (is * (dxhat - mDxhat - xhat * mDxhatXhat));
                    }
                }
            }
        }
    }
}
