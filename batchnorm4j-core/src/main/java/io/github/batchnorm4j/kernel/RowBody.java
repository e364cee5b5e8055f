package io.github.batchnorm4j.kernel;

import static io.github.batchnorm4j.kernel.SlabBody.D;
import static io.github.batchnorm4j.kernel.SlabBody.F;
import static io.github.batchnorm4j.kernel.SlabBody.FH;
import static io.github.batchnorm4j.kernel.SlabBody.gate;
import static io.github.batchnorm4j.kernel.SlabBody.widen;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * SIMD loops for the "row" geometry ({@code d = 1}: channels-last BatchNorm and BatchNorm1d on {@code (N,C)}),
 * where one row holds one value of every statistic: vectors run across channels, per-channel coefficients come
 * from float arrays, and per-channel partial sums live in double arrays (one slice per chunk of rows). Same
 * numerics as {@link SlabBody}: reductions in double, elementwise passes in float with the exact
 * {@code x - float(mean)} first, scalar tails with {@code fma}.
 */
final class RowBody {
    private RowBody() {}

    /**
     * For rows {@code [r0, r1)} of {@code k} floats at {@code xo}: {@code s1[so + c] += Σ (x - sh[c])} and
     * {@code s2[so + c] += Σ (x - sh[c])²}.
     */
    static void shiftedSums(float[] x, int xo, int r0, int r1, int k, double[] sh, double[] s1, double[] s2,
                            int so) {
        int n = FH.length();
        int vk = k - k % n;
        int r = r0;
        // Four rows per step: the accumulators (in L1) are loaded and stored once per four rows.
        for (; r <= r1 - 4; r += 4) {
            int b0 = xo + r * k, b1 = b0 + k, b2 = b1 + k, b3 = b2 + k;
            for (int c = 0; c < vk; c += n) {
                DoubleVector s = DoubleVector.fromArray(D, sh, c);
                DoubleVector t0 = widen(FloatVector.fromArray(FH, x, b0 + c)).sub(s);
                DoubleVector t1 = widen(FloatVector.fromArray(FH, x, b1 + c)).sub(s);
                DoubleVector t2 = widen(FloatVector.fromArray(FH, x, b2 + c)).sub(s);
                DoubleVector t3 = widen(FloatVector.fromArray(FH, x, b3 + c)).sub(s);
                DoubleVector.fromArray(D, s1, so + c).add(t0.add(t1).add(t2.add(t3))).intoArray(s1, so + c);
                t0.fma(t0, t1.fma(t1, t2.fma(t2, t3.fma(t3, DoubleVector.fromArray(D, s2, so + c)))))
                        .intoArray(s2, so + c);
            }
            for (int c = vk; c < k; c++) {
                double t0 = x[b0 + c] - sh[c], t1 = x[b1 + c] - sh[c], t2 = x[b2 + c] - sh[c], t3 = x[b3 + c] - sh[c];
                s1[so + c] += (t0 + t1) + (t2 + t3);
                s2[so + c] = Math.fma(t0, t0, Math.fma(t1, t1, Math.fma(t2, t2, Math.fma(t3, t3, s2[so + c]))));
            }
        }
        for (; r < r1; r++) {
            int base = xo + r * k;
            for (int c = 0; c < vk; c += n) {
                DoubleVector t = widen(FloatVector.fromArray(FH, x, base + c)).sub(DoubleVector.fromArray(D, sh, c));
                DoubleVector.fromArray(D, s1, so + c).add(t).intoArray(s1, so + c);
                t.fma(t, DoubleVector.fromArray(D, s2, so + c)).intoArray(s2, so + c);
            }
            for (int c = vk; c < k; c++) {
                double t = x[base + c] - sh[c];
                s1[so + c] += t;
                s2[so + c] = Math.fma(t, t, s2[so + c]);
            }
        }
    }

    /** {@code y = act(fma(x - m[c], sc[c], sh[c]) [+ res])} for rows {@code [r0, r1)}. */
    static void affine(float[] x, int xo, float[] y, int yo, int r0, int r1, int k, float[] m, float[] sc,
                       float[] sh, float[] res, int ro, boolean relu) {
        int n = F.length();
        int vk = k - k % n;
        FloatVector zero = FloatVector.zero(F);
        for (int r = r0; r < r1; r++) {
            int xb = xo + r * k, yb = yo + r * k, rb = ro + r * k;
            for (int c = 0; c < vk; c += n) {
                FloatVector v = FloatVector.fromArray(F, x, xb + c).sub(FloatVector.fromArray(F, m, c))
                        .fma(FloatVector.fromArray(F, sc, c), FloatVector.fromArray(F, sh, c));
                if (res != null) {
                    v = v.add(FloatVector.fromArray(F, res, rb + c));
                }
                if (relu) {
                    v = v.max(zero);
                }
                v.intoArray(y, yb + c);
            }
            for (int c = vk; c < k; c++) {
                float v = Math.fma(x[xb + c] - m[c], sc[c], sh[c]);
                if (res != null) {
                    v += res[rb + c];
                }
                y[yb + c] = relu ? Math.max(v, 0f) : v;
            }
        }
    }

    /** {@code s1[so + c] += Σ dy'} and {@code s2[so + c] += Σ dy' (x - m[c])} for rows {@code [r0, r1)}. */
    static void reduce(float[] dy, int dyo, float[] x, int xo, float[] ym, int ymo, int r0, int r1, int k,
                       double[] m, double[] s1, double[] s2, int so) {
        int n = FH.length();
        int vk = k - k % n;
        int r = r0;
        if (ym == null) { // four rows per step, as in shiftedSums (the gated variant takes the one-row loop)
            for (; r <= r1 - 4; r += 4) {
                int x0 = xo + r * k, d0 = dyo + r * k;
                for (int c = 0; c < vk; c += n) {
                    DoubleVector mv = DoubleVector.fromArray(D, m, c);
                    DoubleVector g0 = widen(FloatVector.fromArray(FH, dy, d0 + c));
                    DoubleVector g1 = widen(FloatVector.fromArray(FH, dy, d0 + k + c));
                    DoubleVector g2 = widen(FloatVector.fromArray(FH, dy, d0 + 2 * k + c));
                    DoubleVector g3 = widen(FloatVector.fromArray(FH, dy, d0 + 3 * k + c));
                    DoubleVector t0 = widen(FloatVector.fromArray(FH, x, x0 + c)).sub(mv);
                    DoubleVector t1 = widen(FloatVector.fromArray(FH, x, x0 + k + c)).sub(mv);
                    DoubleVector t2 = widen(FloatVector.fromArray(FH, x, x0 + 2 * k + c)).sub(mv);
                    DoubleVector t3 = widen(FloatVector.fromArray(FH, x, x0 + 3 * k + c)).sub(mv);
                    DoubleVector.fromArray(D, s1, so + c).add(g0.add(g1).add(g2.add(g3))).intoArray(s1, so + c);
                    g0.fma(t0, g1.fma(t1, g2.fma(t2, g3.fma(t3, DoubleVector.fromArray(D, s2, so + c)))))
                            .intoArray(s2, so + c);
                }
                for (int c = vk; c < k; c++) {
                    double g0 = dy[d0 + c], g1 = dy[d0 + k + c], g2 = dy[d0 + 2 * k + c], g3 = dy[d0 + 3 * k + c];
                    s1[so + c] += (g0 + g1) + (g2 + g3);
                    s2[so + c] = Math.fma(g0, x[x0 + c] - m[c], Math.fma(g1, x[x0 + k + c] - m[c],
                            Math.fma(g2, x[x0 + 2 * k + c] - m[c], Math.fma(g3, x[x0 + 3 * k + c] - m[c],
                                    s2[so + c]))));
                }
            }
        }
        for (; r < r1; r++) {
            int xb = xo + r * k, db = dyo + r * k, mb = ymo + r * k;
            for (int c = 0; c < vk; c += n) {
                FloatVector g = FloatVector.fromArray(FH, dy, db + c);
                if (ym != null) {
                    // the ReLU gate written out: a vector handed to a helper may be boxed
                    g = FloatVector.zero(FH).blend(g,
                            FloatVector.fromArray(FH, ym, mb + c).compare(VectorOperators.GT, 0f));
                }
                DoubleVector gd = widen(g);
                DoubleVector td = widen(FloatVector.fromArray(FH, x, xb + c)).sub(DoubleVector.fromArray(D, m, c));
                DoubleVector.fromArray(D, s1, so + c).add(gd).intoArray(s1, so + c);
                gd.fma(td, DoubleVector.fromArray(D, s2, so + c)).intoArray(s2, so + c);
            }
            for (int c = vk; c < k; c++) {
                double g = ym == null ? dy[db + c] : gate(dy[db + c], ym, mb + c);
                s1[so + c] += g;
                s2[so + c] = Math.fma(g, x[xb + c] - m[c], s2[so + c]);
            }
        }
    }

    /** {@code dx = fma(dy', ca[c], fma(x - m[c], cb[c], cc[c]))} (and {@code dr = dy'}) for rows {@code [r0, r1)}. */
    static void dx(float[] dy, int dyo, float[] x, int xo, float[] ym, int ymo, float[] dx, int dxo, float[] dr,
                   int dro, int r0, int r1, int k, float[] m, float[] ca, float[] cb, float[] cc) {
        int n = F.length();
        int vk = k - k % n;
        for (int r = r0; r < r1; r++) {
            int xb = xo + r * k, db = dyo + r * k, mb = ymo + r * k, ob = dxo + r * k, rb = dro + r * k;
            for (int c = 0; c < vk; c += n) {
                FloatVector g = FloatVector.fromArray(F, dy, db + c);
                if (ym != null) {
                    // the ReLU gate written out: a vector handed to a helper may be boxed
                    g = FloatVector.zero(F).blend(g,
                            FloatVector.fromArray(F, ym, mb + c).compare(VectorOperators.GT, 0f));
                }
                if (dr != null) {
                    g.intoArray(dr, rb + c);
                }
                FloatVector t = FloatVector.fromArray(F, x, xb + c).sub(FloatVector.fromArray(F, m, c));
                g.fma(FloatVector.fromArray(F, ca, c), t.fma(FloatVector.fromArray(F, cb, c),
                        FloatVector.fromArray(F, cc, c))).intoArray(dx, ob + c);
            }
            for (int c = vk; c < k; c++) {
                float g = ym == null ? dy[db + c] : gate(dy[db + c], ym, mb + c);
                if (dr != null) {
                    dr[rb + c] = g;
                }
                dx[ob + c] = Math.fma(g, ca[c], Math.fma(x[xb + c] - m[c], cb[c], cc[c]));
            }
        }
    }
}
