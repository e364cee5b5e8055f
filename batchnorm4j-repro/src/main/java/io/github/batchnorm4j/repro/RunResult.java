package io.github.batchnorm4j.repro;

import io.github.batchnorm4j.nn.Module;

/**
 * What one run measured. Accuracies are on the whole held-out set in eval mode; after a divergence (a NaN or
 * infinite training loss) every later evaluation counts as chance, 0.10, and its loss as NaN.
 *
 * @param evalSteps    the steps at which the test set was evaluated
 * @param probeSteps   E4: the steps of the probe (step 1, then every 250), or empty
 * @param probe        E4: {@code [checkpoint][unit][p15, p50, p85]} of the probed sigmoid inputs, or null
 * @param gradSteps    E3: the steps at which {@code gradRatio} was sampled, or empty
 * @param gradRatio    E3: ‖∂L/∂W_first‖ / ‖∂L/∂W_last‖ of the hidden layers
 * @param precise      E6a: test accuracy after PreciseBN recalibration at each of the last five evaluations
 *                     (empty when not measured)
 * @param trainAcc     E7: final accuracy on the (possibly subset) training data in eval mode (NaN if not measured)
 * @param model        the trained model when the spec asked to keep it (E8), else null
 */
public record RunResult(RunSpec spec, long[] evalSteps, double[] testAcc, double[] testLoss, boolean diverged,
                        long divergedAt, double seconds, long[] probeSteps, double[][][] probe, long[] gradSteps,
                        double[] gradRatio, double[] precise, double trainAcc, Module model) {

    /** Chance accuracy, counted for diverged runs. */
    public static final double CHANCE = 0.10;

    /** Test accuracy at evaluation step {@code step} (must be one of {@link #evalSteps}). */
    public double accAt(long step) {
        for (int i = 0; i < evalSteps.length; i++) {
            if (evalSteps[i] == step) {
                return testAcc[i];
            }
        }
        throw new IllegalArgumentException("Expected one of the evaluation steps of " + spec.key() + ", got " + step);
    }

    /** How many evaluations at the end of a run make its "final" figures (protocol, metrics). */
    public static final int FINAL_EVALUATIONS = 5;

    /**
     * The run's final accuracy: the mean test accuracy of its last five evaluations (fewer when a run has fewer),
     * so that one noisy checkpoint does not decide a verdict. Diverged evaluations count as chance.
     */
    public double finalAcc() {
        return tailMean(testAcc);
    }

    /** The accuracy of the very last evaluation (shown beside {@link #finalAcc}, never gated). */
    public double lastAcc() {
        return testAcc[testAcc.length - 1];
    }

    /** The mean test loss of the last five evaluations; NaN when any of them diverged. */
    public double finalLoss() {
        return tailMean(testLoss);
    }

    /** The mean PreciseBN accuracy over the evaluations where it was measured (NaN when never). */
    public double preciseAcc() {
        return precise.length == 0 ? Double.NaN : java.util.Arrays.stream(precise).average().orElse(Double.NaN);
    }

    private static double tailMean(double[] v) {
        int n = Math.min(FINAL_EVALUATIONS, v.length);
        double s = 0;
        for (int i = v.length - n; i < v.length; i++) {
            s += v[i];
        }
        return s / n;
    }

    public double maxAcc() {
        double m = 0;
        for (double a : testAcc) {
            m = Math.max(m, a);
        }
        return m;
    }

    /**
     * Steps to {@code target}: the first evaluation step from which the mean accuracy of that evaluation and the
     * next two is &gt;= target (a three-point forward window, so a single lucky checkpoint does not count); -1
     * when there is no such step (the last two evaluations cannot start a window).
     */
    public long stepsTo(double target) {
        for (int i = 0; i + 2 < evalSteps.length; i++) {
            if ((testAcc[i] + testAcc[i + 1] + testAcc[i + 2]) / 3 >= target) {
                return evalSteps[i];
            }
        }
        return -1;
    }
}
