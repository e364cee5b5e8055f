package example;

import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.nn.norm.NormOptions;
import io.github.batchnorm4j.tensor.MemoryFormat;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.SplittableRandom;

/**
 * BatchNorm forward and backward on a small image batch: the output is normalised per channel, and the input
 * gradient for a random upstream gradient {@code dy} is checked against a finite difference of
 * {@code L(x) = sum(dy * y(x))}.
 */
public final class QuickStart {
    public static void main(String[] args) {
        SplittableRandom rng = new SplittableRandom(42);
        int n = 8, c = 3, h = 4, w = 4;                         // NCHW
        float[] values = new float[n * c * h * w];
        for (int i = 0; i < values.length; i++) {
            int channel = (i / (h * w)) % c;
            values[i] = (float) (2.0 * channel + (channel + 1) * rng.nextGaussian()); // channel c: mean 2c, sd c+1
        }
        Tensor x = Tensor.of(values, n, c, h, w);

        BatchNorm bn = new BatchNorm(c, NormOptions.BATCH_NORM.withMomentum(0.1));
        Tensor y = bn.forward(x);                               // training mode: batch statistics
        Tensor dy = random(rng, n, c, h, w);                    // the gradient of some loss with respect to y
        Tensor dx = bn.backward(dy);                            // gamma/beta gradients: bn.weight().grad(), bn.bias().grad()

        for (int ch = 0; ch < c; ch++) {
            double[] ym = moments(y, ch);
            System.out.printf("channel %d: y mean %+.5f var %.5f | sum dx %+.1e | dgamma %+.4f dbeta %+.4f%n", ch,
                    ym[0], ym[1], sum(dx, ch), bn.weight().grad().get(ch), bn.bias().grad().get(ch));
        }

        // dx is the gradient of L(x) = sum(dy * y(x)): compare <dx, v> with a central difference along v.
        Tensor v = random(rng, n, c, h, w);
        double eps = 1e-2;
        double fd = (loss(c, x, v, eps, dy) - loss(c, x, v, -eps, dy)) / (2 * eps);
        double analytic = dot(dx, v);
        System.out.printf("directional derivative along a random v: <dx, v> = %.5f, finite difference = %.5f%n",
                analytic, fd);
        System.out.printf("|dx| = %.5f (dy is random, so dx is not 0)%n", Math.sqrt(dot(dx, dx)));

        bn.eval();                                              // eval mode: running statistics
        Tensor yEval = bn.forward(x);
        Tensor yEvalNhwc = bn.forward(x.to(MemoryFormat.CHANNELS_LAST)).to(MemoryFormat.CONTIGUOUS);
        System.out.printf("eval: running_mean[0] = %.5f after %d batch; NHWC path equals NCHW path: %b%n",
                bn.runningMean().get(0), bn.numBatchesTracked(),
                java.util.Arrays.equals(yEval.toContiguousArray(), yEvalNhwc.toContiguousArray()));
        boolean ok = Math.abs(analytic - fd) <= 1e-2 * Math.max(1, Math.abs(analytic)) && dot(dx, dx) > 0;
        System.out.println(ok ? "gradient check: passed" : "gradient check: FAILED");
        if (!ok) {
            System.exit(1);
        }
    }

    /** {@code sum(dy * BN(x + t v))} in training mode, by a fresh layer (gamma = 1, beta = 0, as {@code bn}'s). */
    private static double loss(int channels, Tensor x, Tensor v, double t, Tensor dy) {
        BatchNorm bn = new BatchNorm(channels);
        float[] xv = x.toContiguousArray();
        float[] vv = v.toContiguousArray();
        for (int i = 0; i < xv.length; i++) {
            xv[i] += (float) (t * vv[i]);
        }
        return dot(bn.forward(Tensor.of(xv, x.shape())), dy);
    }

    private static Tensor random(SplittableRandom rng, int... shape) {
        Tensor t = Tensor.zeros(shape);
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) {
            d[i] = (float) rng.nextGaussian();
        }
        return t;
    }

    private static double dot(Tensor a, Tensor b) {
        float[] x = a.toContiguousArray();
        float[] y = b.toContiguousArray();
        double s = 0;
        for (int i = 0; i < x.length; i++) {
            s += (double) x[i] * y[i];
        }
        return s;
    }

    private static double sum(Tensor t, int channel) {
        double s = 0;
        int[] d = t.shape();
        for (int i = 0; i < d[0]; i++) {
            for (int hh = 0; hh < d[2]; hh++) {
                for (int ww = 0; ww < d[3]; ww++) {
                    s += t.get(i, channel, hh, ww);
                }
            }
        }
        return s;
    }

    /** Mean and biased variance of one channel. */
    private static double[] moments(Tensor t, int channel) {
        int[] d = t.shape();
        int m = d[0] * d[2] * d[3];
        double mean = sum(t, channel) / m;
        double var = 0;
        for (int i = 0; i < d[0]; i++) {
            for (int hh = 0; hh < d[2]; hh++) {
                for (int ww = 0; ww < d[3]; ww++) {
                    double e = t.get(i, channel, hh, ww) - mean;
                    var += e * e;
                }
            }
        }
        return new double[] {mean, var / m};
    }
}
