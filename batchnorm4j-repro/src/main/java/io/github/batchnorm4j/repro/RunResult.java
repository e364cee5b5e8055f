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
 * @param preciseAcc   E6a: test accuracy after PreciseBN recalibration (NaN when not measured)
 * @param trainAcc     E7: final accuracy on the (possibly subset) training data in eval mode (NaN if not measured)
 * @param model        the trained model when the spec asked to keep it (E8), else null
 */
public record RunResult(RunSpec spec, long[] evalSteps, double[] testAcc, double[] testLoss, boolean diverged,
                        long divergedAt, double seconds, long[] probeSteps, double[][][] probe, long[] gradSteps,
                        double[] gradRatio, double preciseAcc, double trainAcc, Module model) {

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

    public double finalAcc() {
        return testAcc[testAcc.length - 1];
    }

    public double finalLoss() {
        return testLoss[testLoss.length - 1];
    }

    public double maxAcc() {
        double m = 0;
        for (double a : testAcc) {
            m = Math.max(m, a);
        }
        return m;
    }

    /** The first evaluation step with accuracy &gt;= target, or -1 when never reached. */
    public long stepsTo(double target) {
        for (int i = 0; i < evalSteps.length; i++) {
            if (testAcc[i] >= target) {
                return evalSteps[i];
            }
        }
        return -1;
    }
}
