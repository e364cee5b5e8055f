package io.github.batchnorm4j.kernel;

/**
 * The two kernels masked normalization adds to {@link NormKernels}: statistics over the valid positions only, and
 * the input gradient of that definition. Plain loops in double over a contiguous (logical NCHW) tensor; the
 * normalize pass and the backward reductions are the ordinary kernels' (the output, and so the gradient, exist
 * at every position).
 *
 * <p>Mask convention: for an input {@code [N, C, S...]} the mask has the shape without the channel dimension,
 * {@code [N, S...]}, 1 = valid; logical element {@code e} is valid iff {@code mask[(e / (C·S)) · S + e % S] != 0}
 * (with {@code S} the product of the spatial sizes, 1 for {@code (N, C)}). Every geometry of the family addresses
 * a contiguous tensor in logical order, so this one rule serves BN, LN, GN and IN.
 */
public final class MaskedNormKernels {
    private MaskedNormKernels() {}

    private static boolean valid(float[] mask, long e, int cs, int s) {
        return mask[(int) ((e / cs) * s + e % s)] != 0f;
    }

    /**
     * Per statistic {@code k}: {@code count[k]} valid values, their {@code mean[k]} and
     * {@code m2[k] = Σ_valid (x - mean)²} (two passes in double; mean 0 without valid values).
     */
    public static void stats(float[] x, NormGeometry g, float[] mask, int channels, int spatial, double[] count,
                             double[] mean, double[] m2) {
        int a = g.a(), k = g.k(), d = g.d();
        int cs = channels * spatial;
        for (int c = 0; c < k; c++) {
            double n = 0, sum = 0;
            for (int i = 0; i < a; i++) {
                long base = ((long) i * k + c) * d;
                for (int j = 0; j < d; j++) {
                    if (valid(mask, base + j, cs, spatial)) {
                        n++;
                        sum += x[(int) (base + j)];
                    }
                }
            }
            double mu = n == 0 ? 0.0 : sum / n;
            double s2 = 0;
            for (int i = 0; i < a; i++) {
                long base = ((long) i * k + c) * d;
                for (int j = 0; j < d; j++) {
                    if (valid(mask, base + j, cs, spatial)) {
                        double t = x[(int) (base + j)] - mu;
                        s2 += t * t;
                    }
                }
            }
            count[c] = n;
            mean[c] = mu;
            m2[c] = s2;
        }
    }

    /**
     * The input gradient of {@code y = xhat·gamma + beta} at every position when mean and variance are those of
     * the valid positions: {@code dx = invStd · (dxhat - [valid] · (sumDxhat + xhat · sumDxhatXhat) / count)},
     * with the reductions over <em>all</em> positions (every output depends on the statistics) and
     * {@code count[k]} the valid values behind statistic k; a masked position gets only the direct term
     * {@code dxhat · invStd}.
     */
    public static void backwardElementwise(float[] dy, float[] x, NormGeometry g, float[] mask, int channels,
                                           int spatial, double[] mean, double[] invStd, float[] gamma,
                                           double[] sumDxhat, double[] sumDxhatXhat, double[] count, float[] dx) {
        int a = g.a(), k = g.k(), d = g.d(), p = g.p(), q = g.q(), kMod = g.kMod();
        int cs = channels * spatial;
        for (int i = 0; i < a; i++) {
            for (int c = 0; c < k; c++) {
                double mu = mean[c], is = invStd[c];
                double mDxhat = sumDxhat[c] / count[c];
                double mDxhatXhat = sumDxhatXhat[c] / count[c];
                long base = ((long) i * k + c) * d;
                int aff = (c % kMod) * p;
                for (int pp = 0; pp < p; pp++) {
                    double gm = gamma == null ? 1.0 : gamma[aff + pp];
                    long o = base + (long) pp * q;
                    for (int j = 0; j < q; j++) {
                        int e = (int) (o + j);
                        double dxhat = dy[e] * gm;
                        double xhat = (x[e] - mu) * is;
                        double corr = valid(mask, o + j, cs, spatial) ? mDxhat + xhat * mDxhatXhat : 0.0;
                        dx[e] = (float) (is * (dxhat - corr));
                    }
                }
            }
        }
    }
}
