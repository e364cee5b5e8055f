package io.github.batchnorm4j.kernel;

import static io.github.batchnorm4j.reference.TestArrays.GRAD_TOL;
import static io.github.batchnorm4j.reference.TestArrays.OUTPUT_TOL;
import static io.github.batchnorm4j.reference.TestArrays.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.batchnorm4j.reference.Float64Reference;
import io.github.batchnorm4j.reference.Float64Reference.Backward;
import io.github.batchnorm4j.reference.Float64Reference.Grouping;
import io.github.batchnorm4j.reference.TestArrays;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The contract every {@link NormKernels} implementation must meet, checked operation by operation against the
 * float64 reference ({@link Float64Reference}) over the geometries of the family (BatchNorm NCHW, NHWC and 2-D,
 * GroupNorm, InstanceNorm, LayerNorm), odd sizes (C in {1,3,7,8,9,13,33}, spatial in {1,5,64,97}, plus a few
 * large cases), inputs offset by 0, 1e4 and 1e6, and misaligned offsets into arrays padded with NaN (so a read
 * out of range poisons the result) and sentinels (so a write out of range is seen).
 *
 * <p>An implementation subclasses this and returns itself from {@link #kernels()}; nothing else is needed.
 * Tolerances: statistics and outputs {@code 1e-5 * max(1, max|E|)}, gradient sums and dx
 * {@code 1e-4 * max(1, max|E|)}.
 */
public abstract class NormKernelsContract {
    private static final double EPS = 1e-5;
    private static final float SENTINEL = -12345.5f;

    /** The implementation under test. */
    protected abstract NormKernels kernels();

    /** Geometry kinds; the storage of BN_NHWC is {@code [N][S][C]}, all others are in logical order. */
    public enum Kind { BN_NCHW, BN_NHWC, BN_2D, GROUP, INSTANCE, LAYER_ROW, LAYER_CHW }

    /**
     * One geometry with its logical shape {@code [n, c, s]}, the reference grouping over that logical order,
     * the input offset, and the (misaligned) offsets of x, y, dy and dx into their padded arrays.
     */
    public record Case(Kind kind, int n, int c, int s, int groups, double offset, int xOff, int yOff, int dyOff,
                       int dxOff) {
        public NormGeometry geometry() {
            return switch (kind) {
                case BN_NCHW -> NormGeometry.perChannel(n, c, s);
                case BN_NHWC, BN_2D -> NormGeometry.perChannel(n * s, c, 1);
                case GROUP -> new NormGeometry(1, n * groups, c / groups * s, groups, c / groups, s);
                case INSTANCE -> new NormGeometry(1, n * c, s, c, 1, s);
                case LAYER_ROW -> new NormGeometry(1, n * c, s, 1, s, 1);
                case LAYER_CHW -> new NormGeometry(1, n, c * s, 1, c * s, 1);
            };
        }

        public Grouping grouping() {
            int[] shape = {n, c, s};
            return switch (kind) {
                case BN_NCHW, BN_NHWC, BN_2D -> Float64Reference.batchNorm(shape);
                case GROUP -> Float64Reference.groupNorm(shape, groups);
                case INSTANCE -> Float64Reference.instanceNorm(shape);
                case LAYER_ROW -> Float64Reference.layerNorm(shape, 1);
                case LAYER_CHW -> Float64Reference.layerNorm(shape, 2);
            };
        }

        int numel() {
            return n * c * s;
        }

        /** Storage order to logical {@code [n][c][s]} order. */
        double[] toLogical(double[] storage) {
            return kind == Kind.BN_NHWC ? TestArrays.fromChannelsLast(storage, n, c, s) : storage;
        }

        double[] toStorage(double[] logical) {
            return kind == Kind.BN_NHWC ? TestArrays.toChannelsLast(logical, n, c, s) : logical;
        }

        @Override
        public String toString() {
            return kind + " n=" + n + " c=" + c + " s=" + s + (kind == Kind.GROUP ? " groups=" + groups : "")
                    + (offset == 0 ? "" : " offset=" + offset) + " xOff=" + xOff;
        }
    }

    /** The cases: every kind at every channel count (spatial size and offsets rotating), plus large ones. */
    public static List<Case> cases() {
        int[] channels = {1, 3, 7, 8, 9, 13, 33};
        int[] spatial = {1, 5, 64, 97};
        double[] offsets = {0, 1e4, 1e6};
        int[] offs = {0, 1, 3, 5, 7, 13};
        List<Case> out = new ArrayList<>();
        Kind[] kinds = Kind.values();
        for (int ki = 0; ki < kinds.length; ki++) {
            for (int j = 0; j < channels.length; j++) {
                int rot = ki + j;
                int c = channels[j];
                int s = kinds[ki] == Kind.BN_2D ? 1 : spatial[rot % spatial.length];
                int n = kinds[ki] == Kind.BN_2D ? 5 : 2 + rot % 2;
                int groups = switch (rot % 3) {
                    case 0 -> 1;
                    case 1 -> c;
                    default -> smallestFactor(c);
                };
                out.add(new Case(kinds[ki], n, c, s, groups, offsets[rot % 3], offs[(rot + 1) % 6], offs[rot % 6],
                        offs[(rot + 2) % 6], offs[(rot + 3) % 6]));
            }
        }
        // Large enough to cross any block, vector or per-thread split an implementation may use.
        out.add(new Case(Kind.BN_NCHW, 4, 3, 4099, 1, 1e4, 3, 1, 5, 7));
        out.add(new Case(Kind.BN_NHWC, 4, 33, 509, 1, 0, 1, 3, 7, 5));
        out.add(new Case(Kind.GROUP, 2, 8, 1031, 4, 1e6, 5, 7, 1, 3));
        out.add(new Case(Kind.INSTANCE, 3, 5, 2053, 1, 0, 7, 5, 3, 1));
        out.add(new Case(Kind.LAYER_CHW, 3, 7, 743, 1, 1e4, 13, 1, 1, 13));
        return out;
    }

    /** BatchNorm NCHW cases with an even batch, the ones that split into two halves along N. */
    public static List<Case> splitCases() {
        return cases().stream().filter(c -> c.kind() == Kind.BN_NCHW && c.n() % 2 == 0).toList();
    }

    private static int smallestFactor(int c) {
        for (int f = 2; f <= c; f++) {
            if (c % f == 0) {
                return f;
            }
        }
        return 1;
    }

    /** The data of one case: x, dy, gamma, beta (storage order of the affine index), padded x and dy. */
    private record Data(float[] x, float[] dy, float[] gamma, float[] beta, float[] xPadded, float[] dyPadded,
                        double[] xLogical, double[] dyLogical) {}

    private static Data data(Case cs) {
        SplittableRandom rnd = new SplittableRandom(cs.toString().hashCode());
        int numel = cs.numel();
        float[] x = TestArrays.gaussian(rnd, numel, cs.offset(), 0.5 + rnd.nextDouble());
        float[] dy = TestArrays.gaussian(rnd, numel, 0, 1);
        int affine = cs.geometry().affineSize();
        float[] gamma = TestArrays.uniform(rnd, affine, -1.5, 1.5);
        float[] beta = TestArrays.gaussian(rnd, affine, 0, 1);
        return new Data(x, dy, gamma, beta, padded(x, cs.xOff(), Float.NaN), padded(dy, cs.dyOff(), Float.NaN),
                cs.toLogical(TestArrays.toDouble(x)), cs.toLogical(TestArrays.toDouble(dy)));
    }

    /** {@code v} at {@code off} inside an array with {@code pad} before and after it. */
    private static float[] padded(float[] v, int off, float pad) {
        float[] out = new float[off + v.length + 3];
        Arrays.fill(out, pad);
        System.arraycopy(v, 0, out, off, v.length);
        return out;
    }

    private static void assertPaddingUntouched(String what, float[] a, int off, int len, float pad) {
        for (int i = 0; i < a.length; i++) {
            if ((i < off || i >= off + len) && Float.floatToRawIntBits(pad) != Float.floatToRawIntBits(a[i])) {
                fail(what + ": element " + i + " outside [" + off + ", " + (off + len) + ") was written");
            }
        }
    }

    private static double[] invStd(double[] var) {
        double[] out = new double[var.length];
        for (int i = 0; i < var.length; i++) {
            out[i] = 1.0 / Math.sqrt(var[i] + EPS);
        }
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void statsMatchReference(Case cs) {
        Data d = data(cs);
        NormGeometry g = cs.geometry();
        double[] mean = new double[g.k()];
        double[] m2 = new double[g.k()];
        Arrays.fill(mean, Double.NaN); // stats overwrites, it does not accumulate
        Arrays.fill(m2, Double.NaN);
        kernels().stats(d.xPadded(), cs.xOff(), g, mean, m2);

        Grouping ref = cs.grouping();
        double[] eMean = Float64Reference.mean(ref, d.xLogical());
        double[] eVar = Float64Reference.variance(ref, d.xLogical(), eMean);
        assertClose(cs + " mean", eMean, mean, 0, OUTPUT_TOL);
        double[] var = new double[m2.length];
        for (int i = 0; i < var.length; i++) {
            var[i] = m2[i] / g.count();
        }
        // The variance is small next to the offset (1e6): E[x²]-E[x]² or float accumulation fails here.
        assertClose(cs + " variance (m2 / count)", eVar, var, 0, OUTPUT_TOL);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void normalizeMatchesReference(Case cs) {
        Data d = data(cs);
        NormGeometry g = cs.geometry();
        Grouping ref = cs.grouping();
        double[] mean = Float64Reference.mean(ref, d.xLogical());
        double[] var = Float64Reference.variance(ref, d.xLogical(), mean);
        for (boolean affine : new boolean[] {true, false}) {
            float[] gamma = affine ? d.gamma() : null;
            float[] beta = affine ? d.beta() : null;
            float[] y = padded(new float[cs.numel()], cs.yOff(), SENTINEL);
            kernels().normalize(d.xPadded(), cs.xOff(), y, cs.yOff(), g, mean, invStd(var), gamma, beta);
            double[] expected = cs.toStorage(Float64Reference.normalize(ref, d.xLogical(), mean, var,
                    TestArrays.toDouble(gamma), TestArrays.toDouble(beta), EPS));
            assertClose(cs + (affine ? " affine" : "") + " y", expected, y, cs.yOff(), OUTPUT_TOL);
            assertPaddingUntouched(cs + " y", y, cs.yOff(), cs.numel(), SENTINEL);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void normalizeInPlaceMatchesReference(Case cs) {
        Data d = data(cs);
        NormGeometry g = cs.geometry();
        Grouping ref = cs.grouping();
        double[] mean = Float64Reference.mean(ref, d.xLogical());
        double[] var = Float64Reference.variance(ref, d.xLogical(), mean);
        float[] xy = d.xPadded().clone();
        kernels().normalize(xy, cs.xOff(), xy, cs.xOff(), g, mean, invStd(var), d.gamma(), d.beta());
        double[] expected = cs.toStorage(Float64Reference.normalize(ref, d.xLogical(), mean, var,
                TestArrays.toDouble(d.gamma()), TestArrays.toDouble(d.beta()), EPS));
        assertClose(cs + " y (aliasing x)", expected, xy, cs.xOff(), OUTPUT_TOL);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void backwardReduceMatchesReference(Case cs) {
        Data d = data(cs);
        NormGeometry g = cs.geometry();
        Grouping ref = cs.grouping();
        double[] mean = Float64Reference.mean(ref, d.xLogical());
        double[] var = Float64Reference.variance(ref, d.xLogical(), mean);
        double[] gamma = TestArrays.toDouble(d.gamma());
        Backward b = Float64Reference.backward(ref, d.xLogical(), d.dyLogical(), mean, var, gamma, EPS, true, true);

        double[] sumDxhat = new double[g.k()];
        double[] sumDxhatXhat = new double[g.k()];
        Arrays.fill(sumDxhat, Double.NaN); // overwritten
        Arrays.fill(sumDxhatXhat, Double.NaN);
        double[] dGamma = new double[g.affineSize()];
        double[] dBeta = new double[g.affineSize()];
        Arrays.fill(dGamma, 2.5); // accumulated into
        Arrays.fill(dBeta, -1.25);
        kernels().backwardReduce(d.dyPadded(), cs.dyOff(), d.xPadded(), cs.xOff(), g, mean, invStd(var),
                d.gamma(), sumDxhat, sumDxhatXhat, dGamma, dBeta);

        double[][] sums = referenceSums(ref, d, mean, var, gamma);
        assertClose(cs + " sumDxhat", sums[0], sumDxhat, 0, GRAD_TOL);
        assertClose(cs + " sumDxhatXhat", sums[1], sumDxhatXhat, 0, GRAD_TOL);
        assertClose(cs + " dGamma (accumulated onto 2.5)", shifted(b.dGamma(), 2.5), dGamma, 0, GRAD_TOL);
        assertClose(cs + " dBeta (accumulated onto -1.25)", shifted(b.dBeta(), -1.25), dBeta, 0, GRAD_TOL);

        // Without affine gradients (null arrays) and without gamma the sums are the plain ones.
        kernels().backwardReduce(d.dyPadded(), cs.dyOff(), d.xPadded(), cs.xOff(), g, mean, invStd(var), null,
                sumDxhat, sumDxhatXhat, null, null);
        double[][] plain = referenceSums(ref, d, mean, var, null);
        assertClose(cs + " sumDxhat without gamma", plain[0], sumDxhat, 0, GRAD_TOL);
        assertClose(cs + " sumDxhatXhat without gamma", plain[1], sumDxhatXhat, 0, GRAD_TOL);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void backwardElementwiseWithBatchStatsMatchesReference(Case cs) {
        Data d = data(cs);
        NormGeometry g = cs.geometry();
        Grouping ref = cs.grouping();
        double[] mean = Float64Reference.mean(ref, d.xLogical());
        double[] var = Float64Reference.variance(ref, d.xLogical(), mean);
        for (boolean affine : new boolean[] {true, false}) {
            double[] gamma = affine ? TestArrays.toDouble(d.gamma()) : null;
            double[][] sums = referenceSums(ref, d, mean, var, gamma);
            float[] dx = padded(new float[cs.numel()], cs.dxOff(), SENTINEL);
            kernels().backwardElementwise(d.dyPadded(), cs.dyOff(), d.xPadded(), cs.xOff(), g, mean, invStd(var),
                    affine ? d.gamma() : null, sums[0], sums[1], g.count(), true, dx, cs.dxOff());
            Backward b = Float64Reference.backward(ref, d.xLogical(), d.dyLogical(), mean, var, gamma, EPS, true,
                    false);
            assertClose(cs + (affine ? " affine" : "") + " dx", cs.toStorage(b.dx()), dx, cs.dxOff(), GRAD_TOL);
            assertPaddingUntouched(cs + " dx", dx, cs.dxOff(), cs.numel(), SENTINEL);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void backwardElementwiseWithFixedStatsMatchesReference(Case cs) {
        Data d = data(cs);
        NormGeometry g = cs.geometry();
        Grouping ref = cs.grouping();
        // Fixed (running) statistics unrelated to x, as in eval mode.
        SplittableRandom rnd = new SplittableRandom(cs.toString().hashCode() + 1);
        double[] mean = new double[g.k()];
        double[] var = new double[g.k()];
        for (int i = 0; i < mean.length; i++) {
            mean[i] = cs.offset() + TestArrays.gaussian(rnd);
            var[i] = 0.25 + rnd.nextDouble();
        }
        double[][] sums = referenceSums(ref, d, mean, var, TestArrays.toDouble(d.gamma()));
        float[] dx = padded(new float[cs.numel()], cs.dxOff(), SENTINEL);
        kernels().backwardElementwise(d.dyPadded(), cs.dyOff(), d.xPadded(), cs.xOff(), g, mean, invStd(var),
                d.gamma(), sums[0], sums[1], g.count(), false, dx, cs.dxOff());
        Backward b = Float64Reference.backward(ref, d.xLogical(), d.dyLogical(), mean, var,
                TestArrays.toDouble(d.gamma()), EPS, false, false);
        assertClose(cs + " dx (fixed statistics)", cs.toStorage(b.dx()), dx, cs.dxOff(), GRAD_TOL);
        assertPaddingUntouched(cs + " dx", dx, cs.dxOff(), cs.numel(), SENTINEL);
    }

    /**
     * The SyncBN split: two halves of a batch reduce locally, their sums are added, and each half's elementwise
     * step with the global count gives the full batch's dx.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("splitCases")
    void backwardSplitAcrossHalvesWithGlobalCountMatchesWholeBatch(Case cs) {
        Data d = data(cs);
        Grouping ref = cs.grouping();
        double[] mean = Float64Reference.mean(ref, d.xLogical());
        double[] var = Float64Reference.variance(ref, d.xLogical(), mean);
        double[] is = invStd(var);
        NormGeometry half = NormGeometry.perChannel(cs.n() / 2, cs.c(), cs.s());
        int halfLen = cs.numel() / 2;
        double[] sumDxhat = new double[cs.c()];
        double[] sumDxhatXhat = new double[cs.c()];
        double[] a = new double[cs.c()];
        double[] b = new double[cs.c()];
        for (int h = 0; h < 2; h++) {
            kernels().backwardReduce(d.dyPadded(), cs.dyOff() + h * halfLen, d.xPadded(), cs.xOff() + h * halfLen,
                    half, mean, is, d.gamma(), a, b, null, null);
            for (int c = 0; c < cs.c(); c++) {
                sumDxhat[c] += a[c];
                sumDxhatXhat[c] += b[c];
            }
        }
        float[] dx = new float[cs.numel()];
        for (int h = 0; h < 2; h++) {
            kernels().backwardElementwise(d.dyPadded(), cs.dyOff() + h * halfLen, d.xPadded(),
                    cs.xOff() + h * halfLen, half, mean, is, d.gamma(), sumDxhat, sumDxhatXhat,
                    cs.geometry().count(), true, dx, h * halfLen);
        }
        Backward e = Float64Reference.backward(ref, d.xLogical(), d.dyLogical(), mean, var,
                TestArrays.toDouble(d.gamma()), EPS, true, false);
        assertClose(cs + " dx from two halves", e.dx(), dx, 0, GRAD_TOL);
    }

    /** Same input, same output, bit for bit, whatever ran before (no hidden state, fixed reduction order). */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void repeatedCallsAreBitIdentical(Case cs) {
        Data d = data(cs);
        NormGeometry g = cs.geometry();
        double[][] first = null;
        for (int rep = 0; rep < 2; rep++) {
            double[] mean = new double[g.k()];
            double[] m2 = new double[g.k()];
            kernels().stats(d.xPadded(), cs.xOff(), g, mean, m2);
            double[] is = invStd(div(m2, g.count()));
            float[] y = new float[cs.numel()];
            kernels().normalize(d.xPadded(), cs.xOff(), y, 0, g, mean, is, d.gamma(), d.beta());
            double[] s1 = new double[g.k()];
            double[] s2 = new double[g.k()];
            double[] dg = new double[g.affineSize()];
            double[] db = new double[g.affineSize()];
            kernels().backwardReduce(d.dyPadded(), cs.dyOff(), d.xPadded(), cs.xOff(), g, mean, is, d.gamma(), s1,
                    s2, dg, db);
            float[] dx = new float[cs.numel()];
            kernels().backwardElementwise(d.dyPadded(), cs.dyOff(), d.xPadded(), cs.xOff(), g, mean, is, d.gamma(),
                    s1, s2, g.count(), true, dx, 0);
            double[][] all = {mean, m2, TestArrays.toDouble(y), s1, s2, dg, db, TestArrays.toDouble(dx)};
            for (double[] v : all) {
                assertTrue(Arrays.stream(v).allMatch(Double::isFinite),
                        cs + ": non-finite result (read outside the input?)");
            }
            if (first != null) {
                for (int i = 0; i < all.length; i++) {
                    assertArrayEquals(first[i], all[i], cs + ": result " + i + " differs between calls");
                }
            }
            first = all;
        }
    }

    /** {@code Σ dy·gamma} and {@code Σ dy·gamma·xhat} per statistic, from the reference statistics. */
    private static double[][] referenceSums(Grouping ref, Data d, double[] mean, double[] var, double[] gamma) {
        double[] s1 = new double[ref.numStats()];
        double[] s2 = new double[ref.numStats()];
        double[] x = d.xLogical(), dy = d.dyLogical();
        for (int i = 0; i < x.length; i++) {
            int s = ref.stat()[i];
            double dxhat = dy[i] * (gamma == null ? 1.0 : gamma[ref.affine()[i]]);
            s1[s] += dxhat;
            s2[s] += dxhat * (x[i] - mean[s]) / Math.sqrt(var[s] + EPS);
        }
        return new double[][] {s1, s2};
    }

    private static double[] shifted(double[] v, double by) {
        double[] out = v.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] += by;
        }
        return out;
    }

    private static double[] div(double[] v, double by) {
        double[] out = v.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] /= by;
        }
        return out;
    }
}
