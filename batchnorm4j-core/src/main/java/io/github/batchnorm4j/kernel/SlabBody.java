package io.github.batchnorm4j.kernel;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * SIMD loops over contiguous runs of floats (a vector body followed by a scalar tail), the inner loops of the
 * "slab" geometries (NCHW BatchNorm, InstanceNorm, GroupNorm, LayerNorm), where the values behind one statistic
 * come as runs of contiguous memory.
 *
 * <p>Numerics: reductions widen {@code x} to double before subtracting the shift {@code s} (a float value), so
 * {@code t = x - s} is exact (two floats' difference fits a double's mantissa) and only the double sums round;
 * this is what makes large offsets harmless. Elementwise passes stay in float: {@code t = x - m} with
 * {@code m = float(mean)} is exact by Sterbenz's lemma near the mean, and the residual {@code mean - m} is folded
 * into the shift of the multiply-add. Lanes are summed one by one in lane order, never with
 * {@code reduceLanes}, whose order the JIT may change between interpreted and compiled code: results must not
 * depend on which thread (or which compilation tier) ran a statistic. Scalar tails use {@link Math#fma} where
 * the vector body does, so a value gets the same bits in the body and in the tail.
 */
final class SlabBody {
    /**
     * The float species of the elementwise passes: at most 256 bits (measured faster than 512 on the AVX-512
     * benchmark machine: Java arrays are only 8-byte aligned, so every 64-byte access splits a cache line, while
     * a 32-byte access splits one time in two), unless {@code -Dbn4j.vectorBits=128|256|512} asks otherwise.
     */
    static final VectorSpecies<Float> F = floatSpecies(Integer.getInteger("bn4j.vectorBits", 256));
    /**
     * Half-width floats of the reductions, widened lane for lane into {@link #D}: these loops are bound by the
     * double arithmetic, so they use the widest doubles the machine has.
     */
    static final VectorSpecies<Float> FH = VectorSpecies.of(float.class,
            VectorShape.forBitSize(Math.max(64, FloatVector.SPECIES_PREFERRED.vectorBitSize() / 2)));
    static final VectorSpecies<Double> D = VectorSpecies.of(double.class, VectorShape.forBitSize(FH.vectorBitSize() * 2));

    private SlabBody() {}

    private static VectorSpecies<Float> floatSpecies(int bits) {
        VectorSpecies<Float> preferred = FloatVector.SPECIES_PREFERRED;
        if (bits >= preferred.vectorBitSize() || (bits != 128 && bits != 256)) {
            return preferred;
        }
        return VectorSpecies.of(float.class, VectorShape.forBitSize(bits));
    }

    static DoubleVector widen(FloatVector v) {
        return (DoubleVector) v.castShape(D, 0);
    }

    /** Sum of the lanes in lane order (deterministic in every execution mode). */
    static double sumLanes(DoubleVector v) {
        double s = 0;
        for (int i = 0; i < v.length(); i++) {
            s += v.lane(i);
        }
        return s;
    }

    /**
     * Over {@code runs} runs of {@code len} floats starting at {@code o}, {@code o + stride}, ...:
     * {@code out1[idx] = Σ (x - s)} and {@code out2[idx] = Σ (x - s)²}, in double.
     */
    static void shiftedSums(float[] x, int o, int runs, int stride, int len, double s,
                            double[] out1, double[] out2, int idx) {
        int n = FH.length();
        DoubleVector sv = DoubleVector.broadcast(D, s);
        // Four independent accumulator pairs: the loop is bound by throughput, not by add/fma latency.
        DoubleVector a1 = DoubleVector.zero(D), a2 = a1, b1 = a1, b2 = a1, c1 = a1, c2 = a1, d1 = a1, d2 = a1;
        double t1 = 0, t2 = 0;
        for (int r = 0; r < runs; r++) {
            int base = o + r * stride;
            int j = 0;
            for (; j <= len - 4 * n; j += 4 * n) {
                DoubleVector u = widen(FloatVector.fromArray(FH, x, base + j)).sub(sv);
                DoubleVector v = widen(FloatVector.fromArray(FH, x, base + j + n)).sub(sv);
                DoubleVector w = widen(FloatVector.fromArray(FH, x, base + j + 2 * n)).sub(sv);
                DoubleVector z = widen(FloatVector.fromArray(FH, x, base + j + 3 * n)).sub(sv);
                a1 = a1.add(u);
                a2 = u.fma(u, a2);
                b1 = b1.add(v);
                b2 = v.fma(v, b2);
                c1 = c1.add(w);
                c2 = w.fma(w, c2);
                d1 = d1.add(z);
                d2 = z.fma(z, d2);
            }
            for (; j <= len - n; j += n) {
                DoubleVector u = widen(FloatVector.fromArray(FH, x, base + j)).sub(sv);
                a1 = a1.add(u);
                a2 = u.fma(u, a2);
            }
            for (; j < len; j++) {
                double t = x[base + j] - s;
                t1 += t;
                t2 += t * t;
            }
        }
        out1[idx] = sumLanes(a1.add(b1).add(c1.add(d1))) + t1;
        out2[idx] = sumLanes(a2.add(b2).add(c2.add(d2))) + t2;
    }

    /**
     * {@code y = act(fma(x - m, sc, sh) [+ res])} over one run; {@code act} is ReLU when {@code relu}.
     * {@code y} may alias {@code x} (same offset).
     */
    static void affine(float[] x, int xo, float[] y, int yo, int len, float m, float sc, float sh,
                       float[] res, int ro, boolean relu) {
        int n = F.length();
        FloatVector mv = FloatVector.broadcast(F, m), scv = FloatVector.broadcast(F, sc);
        FloatVector shv = FloatVector.broadcast(F, sh);
        int j = 0;
        if (res == null && !relu) {
            for (; j <= len - n; j += n) {
                FloatVector.fromArray(F, x, xo + j).sub(mv).fma(scv, shv).intoArray(y, yo + j);
            }
        } else {
            FloatVector zero = FloatVector.zero(F);
            for (; j <= len - n; j += n) {
                FloatVector v = FloatVector.fromArray(F, x, xo + j).sub(mv).fma(scv, shv);
                if (res != null) {
                    v = v.add(FloatVector.fromArray(F, res, ro + j));
                }
                if (relu) {
                    v = v.max(zero);
                }
                v.intoArray(y, yo + j);
            }
        }
        for (; j < len; j++) {
            float v = Math.fma(x[xo + j] - m, sc, sh);
            if (res != null) {
                v += res[ro + j];
            }
            y[yo + j] = relu ? Math.max(v, 0f) : v;
        }
    }

    /**
     * Per-element affine (LayerNorm-like runs where gamma changes every element):
     * {@code y = act(fma(fma(x - m, is, sh), gamma[go+j], beta[go+j]) [+ res])}; null gamma/beta mean 1/0.
     */
    static void affineVec(float[] x, int xo, float[] y, int yo, int len, float m, float is, float sh,
                          float[] gamma, float[] beta, int go, float[] res, int ro, boolean relu) {
        int n = F.length();
        FloatVector mv = FloatVector.broadcast(F, m), isv = FloatVector.broadcast(F, is);
        FloatVector shv = FloatVector.broadcast(F, sh), zero = FloatVector.zero(F), one = FloatVector.broadcast(F, 1f);
        int j = 0;
        for (; j <= len - n; j += n) {
            FloatVector xh = FloatVector.fromArray(F, x, xo + j).sub(mv).fma(isv, shv);
            FloatVector g = gamma == null ? one : FloatVector.fromArray(F, gamma, go + j);
            FloatVector b = beta == null ? zero : FloatVector.fromArray(F, beta, go + j);
            FloatVector v = xh.fma(g, b);
            if (res != null) {
                v = v.add(FloatVector.fromArray(F, res, ro + j));
            }
            if (relu) {
                v = v.max(zero);
            }
            v.intoArray(y, yo + j);
        }
        for (; j < len; j++) {
            float xh = Math.fma(x[xo + j] - m, is, sh);
            float v = Math.fma(xh, gamma == null ? 1f : gamma[go + j], beta == null ? 0f : beta[go + j]);
            if (res != null) {
                v += res[ro + j];
            }
            y[yo + j] = relu ? Math.max(v, 0f) : v;
        }
    }

    /**
     * {@code dy} where {@code ym > 0}, else 0 (the ReLU gradient gate; NaN outputs pass no gradient). The vector
     * loops write the same test out in place.
     */
    static float gate(float dy, float[] ym, int o) {
        return ym[o] > 0f ? dy : 0f;
    }

    /**
     * Over one run: {@code out1[idx] += Σ dy'} and {@code out2[idx] += Σ dy' * (x - m)} in double, with
     * {@code dy'} the gated gradient when {@code ym} is non-null.
     */
    static void reduceRun(float[] dy, int dyo, float[] x, int xo, float[] ym, int ymo, int len, double m,
                          double[] out1, double[] out2, int idx) {
        int n = FH.length();
        DoubleVector mv = DoubleVector.broadcast(D, m);
        DoubleVector a1 = DoubleVector.zero(D), a2 = a1, b1 = a1, b2 = a1;
        int j = 0;
        if (ym == null) { // two accumulator pairs: throughput-bound rather than latency-bound
            for (; j <= len - 2 * n; j += 2 * n) {
                DoubleVector g0 = widen(FloatVector.fromArray(FH, dy, dyo + j));
                DoubleVector g1 = widen(FloatVector.fromArray(FH, dy, dyo + j + n));
                DoubleVector t0 = widen(FloatVector.fromArray(FH, x, xo + j)).sub(mv);
                DoubleVector t1 = widen(FloatVector.fromArray(FH, x, xo + j + n)).sub(mv);
                a1 = a1.add(g0);
                a2 = g0.fma(t0, a2);
                b1 = b1.add(g1);
                b2 = g1.fma(t1, b2);
            }
        }
        for (; j <= len - n; j += n) {
            FloatVector g = FloatVector.fromArray(FH, dy, dyo + j);
            if (ym != null) {
                // the ReLU gate written out: a vector handed to a helper may be boxed
                g = FloatVector.zero(FH).blend(g,
                        FloatVector.fromArray(FH, ym, ymo + j).compare(VectorOperators.GT, 0f));
            }
            DoubleVector gd = widen(g);
            DoubleVector td = widen(FloatVector.fromArray(FH, x, xo + j)).sub(mv);
            a1 = a1.add(gd);
            a2 = gd.fma(td, a2);
        }
        a1 = a1.add(b1);
        a2 = a2.add(b2);
        double t1 = 0, t2 = 0;
        for (; j < len; j++) {
            float g = ym == null ? dy[dyo + j] : gate(dy[dyo + j], ym, ymo + j);
            double t = x[xo + j] - m;
            t1 += g;
            t2 += g * t;
        }
        out1[idx] += sumLanes(a1) + t1;
        out2[idx] += sumLanes(a2) + t2;
    }

    /**
     * Per-element gamma (LayerNorm-like): {@code out1[idx] += Σ g dy'} and {@code out2[idx] += Σ g dy' (x - m)}.
     */
    static void reduceRunVec(float[] dy, int dyo, float[] x, int xo, float[] ym, int ymo, int len, double m,
                             float[] gamma, int go, double[] out1, double[] out2, int idx) {
        int n = FH.length();
        DoubleVector mv = DoubleVector.broadcast(D, m);
        DoubleVector a1 = DoubleVector.zero(D), a2 = a1;
        int j = 0;
        for (; j <= len - n; j += n) {
            FloatVector g = FloatVector.fromArray(FH, dy, dyo + j);
            if (ym != null) {
                // the ReLU gate written out: a vector handed to a helper may be boxed
                g = FloatVector.zero(FH).blend(g,
                        FloatVector.fromArray(FH, ym, ymo + j).compare(VectorOperators.GT, 0f));
            }
            DoubleVector gd = widen(g);
            if (gamma != null) {
                gd = gd.mul(widen(FloatVector.fromArray(FH, gamma, go + j)));
            }
            DoubleVector td = widen(FloatVector.fromArray(FH, x, xo + j)).sub(mv);
            a1 = a1.add(gd);
            a2 = gd.fma(td, a2);
        }
        double t1 = 0, t2 = 0;
        for (; j < len; j++) {
            double g = ym == null ? dy[dyo + j] : gate(dy[dyo + j], ym, ymo + j);
            if (gamma != null) {
                g *= gamma[go + j];
            }
            double t = x[xo + j] - m;
            t1 += g;
            t2 += g * t;
        }
        out1[idx] += sumLanes(a1) + t1;
        out2[idx] += sumLanes(a2) + t2;
    }

    /**
     * Input gradient over one run: {@code dx = fma(ca, dy', fma(cb, x - m, cc))}; also {@code dr = dy'} when
     * {@code dr} is non-null (the residual branch of BN+add+ReLU).
     */
    static void dxRun(float[] dy, int dyo, float[] x, int xo, float[] ym, int ymo, float[] dx, int dxo,
                      float[] dr, int dro, int len, float m, float ca, float cb, float cc) {
        int n = F.length();
        FloatVector mv = FloatVector.broadcast(F, m), cav = FloatVector.broadcast(F, ca);
        FloatVector cbv = FloatVector.broadcast(F, cb), ccv = FloatVector.broadcast(F, cc);
        int j = 0;
        for (; j <= len - n; j += n) {
            FloatVector g = FloatVector.fromArray(F, dy, dyo + j);
            if (ym != null) {
                // the ReLU gate written out: a vector handed to a helper may be boxed
                g = FloatVector.zero(F).blend(g,
                        FloatVector.fromArray(F, ym, ymo + j).compare(VectorOperators.GT, 0f));
            }
            if (dr != null) {
                g.intoArray(dr, dro + j);
            }
            FloatVector t = FloatVector.fromArray(F, x, xo + j).sub(mv);
            g.fma(cav, t.fma(cbv, ccv)).intoArray(dx, dxo + j);
        }
        for (; j < len; j++) {
            float g = ym == null ? dy[dyo + j] : gate(dy[dyo + j], ym, ymo + j);
            if (dr != null) {
                dr[dro + j] = g;
            }
            dx[dxo + j] = Math.fma(g, ca, Math.fma(x[xo + j] - m, cb, cc));
        }
    }

    /** Per-element gamma: {@code dx = fma(dy' * gamma[j], is, fma(cb, x - m, cc))} (and {@code dr = dy'}). */
    static void dxRunVec(float[] dy, int dyo, float[] x, int xo, float[] ym, int ymo, float[] dx, int dxo,
                         float[] dr, int dro, int len, float m, float is, float cb, float cc, float[] gamma, int go) {
        int n = F.length();
        FloatVector mv = FloatVector.broadcast(F, m), isv = FloatVector.broadcast(F, is);
        FloatVector cbv = FloatVector.broadcast(F, cb), ccv = FloatVector.broadcast(F, cc);
        int j = 0;
        for (; j <= len - n; j += n) {
            FloatVector g = FloatVector.fromArray(F, dy, dyo + j);
            if (ym != null) {
                // the ReLU gate written out: a vector handed to a helper may be boxed
                g = FloatVector.zero(F).blend(g,
                        FloatVector.fromArray(F, ym, ymo + j).compare(VectorOperators.GT, 0f));
            }
            if (dr != null) {
                g.intoArray(dr, dro + j);
            }
            FloatVector gg = gamma == null ? g : g.mul(FloatVector.fromArray(F, gamma, go + j));
            FloatVector t = FloatVector.fromArray(F, x, xo + j).sub(mv);
            gg.fma(isv, t.fma(cbv, ccv)).intoArray(dx, dxo + j);
        }
        for (; j < len; j++) {
            float g = ym == null ? dy[dyo + j] : gate(dy[dyo + j], ym, ymo + j);
            if (dr != null) {
                dr[dro + j] = g;
            }
            float gg = gamma == null ? g : g * gamma[go + j];
            dx[dxo + j] = Math.fma(gg, is, Math.fma(x[xo + j] - m, cb, cc));
        }
    }
}
