package io.github.batchnorm4j.nn;

import static org.junit.jupiter.api.Assertions.fail;

import io.github.batchnorm4j.tensor.MemoryFormat;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Gradient check of a float module against a float64 reference of its forward.
 *
 * <p>The module computes in float, so finite differences on the module itself would measure float rounding. Instead
 * the test supplies the same function written as plain double loops ({@link Reference}); its gradient is taken by
 * central differences in double, {@code (L(v + h) - L(v - h)) / 2h} with {@code L = sum(g * ref(x, params))} for a
 * random upstream gradient {@code g} and {@code h = 1e-6 * max(1, |v|)} (truncation and rounding errors ~1e-10
 * relative). The check then asserts, element by element:
 * <ol>
 *   <li>forward: the module's output equals the reference output,</li>
 *   <li>backward: the module's input gradient and every parameter gradient equal the central differences,</li>
 * </ol>
 * each within {@code tol * max(1, max|expected|)}. The reference therefore also checks the forward semantics.
 */
public final class GradCheck {
    private GradCheck() {}

    /** The module's forward in double: input in logical (NCHW) order, parameters in {@code namedParameters} order. */
    @FunctionalInterface
    public interface Reference {
        double[] forward(double[] x, double[][] params);
    }

    /** Runs the check; {@code seed} fixes the upstream gradient. Returns the module's output for further asserts. */
    public static Tensor check(Module m, Tensor x, Reference ref, double tol, long seed) {
        List<Map.Entry<String, Parameter>> params = new ArrayList<>(m.namedParameters().entrySet());
        double[] xd = toDouble(x.toContiguousArray());
        double[][] pd = new double[params.size()][];
        for (int i = 0; i < pd.length; i++) {
            pd[i] = toDouble(params.get(i).getValue().value().toContiguousArray());
        }
        m.zeroGrad();
        Tensor y = m.forward(x);
        float[] yLogical = y.toContiguousArray();
        double[] yRef = ref.forward(xd, pd);
        compare(m + " forward output", yLogical, yRef, tol);

        SplittableRandom rng = new SplittableRandom(seed);
        double[] g = new double[yRef.length];
        float[] gf = new float[yRef.length];
        for (int i = 0; i < g.length; i++) {
            gf[i] = (float) rng.nextDouble(-1, 1);
            g[i] = gf[i];
        }
        Tensor gTensor = Tensor.of(gf, y.shape());
        if (y.format() == MemoryFormat.CHANNELS_LAST) {
            gTensor = gTensor.to(MemoryFormat.CHANNELS_LAST);
        }
        Tensor dx = m.backward(gTensor);

        compare(m + " input gradient", dx.toContiguousArray(), numeric(ref, xd, pd, -1, g), tol);
        for (int i = 0; i < pd.length; i++) {
            compare(m + " gradient of " + params.get(i).getKey(),
                    params.get(i).getValue().grad().toContiguousArray(), numeric(ref, xd, pd, i, g), tol);
        }
        return y;
    }

    /** Central differences of {@code sum(g * ref)} w.r.t. the input ({@code which = -1}) or parameter {@code which}. */
    static double[] numeric(Reference ref, double[] x, double[][] p, int which, double[] g) {
        double[] v = which < 0 ? x : p[which];
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            double keep = v[i];
            double h = 1e-6 * Math.max(1, Math.abs(keep));
            v[i] = keep + h;
            double plus = dot(g, ref.forward(x, p));
            v[i] = keep - h;
            double minus = dot(g, ref.forward(x, p));
            v[i] = keep;
            out[i] = (plus - minus) / (2 * h);
        }
        return out;
    }

    static void compare(String what, float[] actual, double[] expected, double tol) {
        if (actual.length != expected.length) {
            fail(what + ": expected " + expected.length + " values, got " + actual.length);
        }
        double scale = 1;
        for (double e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        for (int i = 0; i < actual.length; i++) {
            double err = Math.abs(actual[i] - expected[i]);
            if (!(err <= tol * scale)) {
                fail(what + " at " + i + ": expected " + expected[i] + ", got " + actual[i] + " (tolerance "
                        + tol * scale + ")");
            }
        }
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    /** A random float tensor with values in (-1, 1) whose magnitudes stay above 1e-3 (away from ReLU's kink). */
    public static Tensor randomInput(long seed, int... shape) {
        SplittableRandom rng = new SplittableRandom(seed);
        Tensor t = Tensor.zeros(shape);
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) {
            double v = rng.nextDouble(1e-3, 1);
            d[i] = (float) (rng.nextBoolean() ? v : -v);
        }
        return t;
    }
}
