package io.github.batchnorm4j.nn.norm;

import io.github.batchnorm4j.tensor.MemoryFormat;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.SplittableRandom;

/** Seeded test inputs and a float64 view of tensors in logical (N, C, S) order. */
final class NormTestData {
    private NormTestData() {}

    /** Values {@code scale * gaussian + shift_c} with a per-channel shift, so batch and running statistics differ. */
    static Tensor input(long seed, MemoryFormat format, int... shape) {
        SplittableRandom rnd = new SplittableRandom(seed);
        Tensor t = Tensor.zeros(shape);
        int n = shape[0], c = shape[1], s = t.spatialSize();
        float[] d = t.data();
        for (int i = 0; i < n; i++) {
            for (int ch = 0; ch < c; ch++) {
                for (int j = 0; j < s; j++) {
                    d[(i * c + ch) * s + j] = (float) (gaussian(rnd) * (0.5 + ch % 3) + 0.7 * ch - 1);
                }
            }
        }
        return t.to(format);
    }

    static float[] vector(long seed, int c, double lo, double hi) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] v = new float[c];
        for (int i = 0; i < c; i++) {
            v[i] = (float) (lo + (hi - lo) * rnd.nextDouble());
        }
        return v;
    }

    static double gaussian(SplittableRandom rnd) {
        double u = rnd.nextDouble(1e-12, 1.0), v = rnd.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }

    /** Logical-order values as doubles. */
    static double[] doubles(Tensor t) {
        float[] f = t.toContiguousArray();
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    static void setAffine(NormLayer layer, long seed) {
        int c = layer.weight().data().length;
        System.arraycopy(vector(seed, c, 0.5, 1.5), 0, layer.weight().data(), 0, c);
        System.arraycopy(vector(seed + 1, c, -0.5, 0.5), 0, layer.bias().data(), 0, c);
    }

    static void assertClose(double[] expected, double[] actual, double tol, String what) {
        org.junit.jupiter.api.Assertions.assertEquals(expected.length, actual.length, what + " length");
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(expected[i] - actual[i]);
            if (!(err <= tol * (1 + Math.abs(expected[i])))) {
                org.junit.jupiter.api.Assertions.fail(what + " differs at " + i + ": expected " + expected[i]
                        + ", got " + actual[i]);
            }
        }
    }
}
