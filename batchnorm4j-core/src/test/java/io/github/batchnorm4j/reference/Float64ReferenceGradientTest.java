package io.github.batchnorm4j.reference;

import io.github.batchnorm4j.reference.Float64Reference.Backward;
import io.github.batchnorm4j.reference.Float64Reference.Forward;
import io.github.batchnorm4j.reference.Float64Reference.Grouping;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The reference backward against central differences of the reference forward, in double, through the scalar
 * loss {@code L = Σ y·w} with random {@code w} (so {@code dy = w}): every element of x, gamma and beta, with batch
 * statistics (training) and with fixed running statistics (eval). This is what makes the reference a reference
 * for the production gradients (compared in NormLayerParityTest and the kernel contract).
 */
class Float64ReferenceGradientTest {
    private static final double H = 1e-5;

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("batch_norm_train", Float64Reference.batchNorm(new int[] {3, 4, 5}), true, 1e-5, 0.0),
                Arguments.of("batch_norm_train_2d_eps_0.5", Float64Reference.batchNorm(new int[] {5, 3}), true, 0.5,
                        0.0),
                Arguments.of("batch_norm_train_offset_1e4", Float64Reference.batchNorm(new int[] {2, 3, 2, 3}), true,
                        1e-5, 1e4),
                Arguments.of("batch_norm_eval", Float64Reference.batchNorm(new int[] {3, 4, 5}), false, 1e-5, 0.0),
                Arguments.of("instance_norm_train", Float64Reference.instanceNorm(new int[] {2, 3, 7}), true, 1e-5,
                        0.0),
                Arguments.of("instance_norm_eval", Float64Reference.instanceNorm(new int[] {2, 3, 7}), false, 1e-3,
                        0.0),
                Arguments.of("group_norm_2_groups", Float64Reference.groupNorm(new int[] {2, 6, 5}, 2), true, 1e-5,
                        0.0),
                Arguments.of("group_norm_1_group", Float64Reference.groupNorm(new int[] {2, 3, 2, 2}, 1), true, 0.1,
                        0.0),
                Arguments.of("layer_norm_last_1", Float64Reference.layerNorm(new int[] {4, 7}, 1), true, 1e-5, 0.0),
                Arguments.of("layer_norm_last_2_offset_1e4", Float64Reference.layerNorm(new int[] {2, 3, 4}, 2), true,
                        1e-5, 1e4));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void referenceBackwardMatchesCentralDifferences(String name, Grouping g, boolean batchStats, double eps,
                                                    double offset) {
        SplittableRandom rnd = new SplittableRandom(name.hashCode());
        int n = g.stat().length;
        double[] x = new double[n];
        double[] w = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = offset + TestArrays.gaussian(rnd);
            w[i] = TestArrays.gaussian(rnd);
        }
        double[] gamma = new double[g.numAffine()];
        double[] beta = new double[g.numAffine()];
        for (int j = 0; j < gamma.length; j++) {
            gamma[j] = 0.5 + rnd.nextDouble();
            beta[j] = TestArrays.gaussian(rnd);
        }
        double[] rm = null, rv = null;
        if (!batchStats) {
            rm = new double[g.numRunning()];
            rv = new double[g.numRunning()];
            for (int e = 0; e < rm.length; e++) {
                rm[e] = offset + 0.3 * TestArrays.gaussian(rnd);
                rv[e] = 0.5 + rnd.nextDouble();
            }
        }
        Forward f = forward(g, x, gamma, beta, eps, rm, rv);
        Backward b = Float64Reference.backward(g, x, w, f.mean(), f.var(), gamma, eps, batchStats, true);

        double[][] inputs = {x, gamma, beta};
        double[][] analytic = {b.dx(), b.dGamma(), b.dBeta()};
        String[] names = {"dx", "dgamma", "dbeta"};
        for (int t = 0; t < 3; t++) {
            double[] v = inputs[t];
            double[] numeric = new double[v.length];
            for (int i = 0; i < v.length; i++) {
                double keep = v[i];
                v[i] = keep + H;
                double plus = Float64Reference.dot(forward(g, x, gamma, beta, eps, rm, rv).y(), w);
                v[i] = keep - H;
                double minus = Float64Reference.dot(forward(g, x, gamma, beta, eps, rm, rv).y(), w);
                v[i] = keep;
                numeric[i] = (plus - minus) / (2 * H);
            }
            // Truncation error O(H²) and rounding O(1e-16 |L| / H) are both far below 1e-6 here.
            TestArrays.assertClose(name + " " + names[t], numeric, analytic[t], 0, 1e-6);
        }
    }

    private static Forward forward(Grouping g, double[] x, double[] gamma, double[] beta, double eps, double[] rm,
                                   double[] rv) {
        return rm == null ? Float64Reference.forwardBatch(g, x, gamma, beta, eps)
                : Float64Reference.forwardFixed(g, x, rm, rv, gamma, beta, eps);
    }
}
