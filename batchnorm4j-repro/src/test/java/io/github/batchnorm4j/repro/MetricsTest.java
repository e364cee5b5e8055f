package io.github.batchnorm4j.repro;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.repro.RunSpec.Activation;
import io.github.batchnorm4j.repro.RunSpec.Norm;
import org.junit.jupiter.api.Test;

/** The noise-robust metrics of the protocol: final = mean of the last five evaluations, three-point steps-to-T. */
class MetricsTest {
    static RunResult run(long[] steps, double[] acc, double[] loss) {
        RunSpec spec = RunSpec.mlp("T", "v", 1, new int[] {4}, Activation.RELU, Norm.NONE, 2, 0.1,
                steps[steps.length - 1], steps);
        return new RunResult(spec, steps, acc, loss, false, -1, 0, new long[0], null, new long[0], new double[0],
                new double[0], Double.NaN, null);
    }

    @Test
    void finalAccuracyIsTheMeanOfTheLastFiveEvaluations() {
        RunResult r = run(new long[] {1, 2, 3, 4, 5, 6, 7}, new double[] {0.1, 0.9, 0.5, 0.6, 0.7, 0.8, 0.4},
                new double[] {9, 9, 1, 2, 3, 4, 5});
        assertEquals((0.5 + 0.6 + 0.7 + 0.8 + 0.4) / 5, r.finalAcc(), 1e-15);
        assertEquals(0.4, r.lastAcc());
        assertEquals(3.0, r.finalLoss(), 1e-15);
        assertEquals(0.9, r.maxAcc());
    }

    @Test
    void stepsToNeedsThreeConsecutiveEvaluationsWhoseMeanReachesTheTarget() {
        // A lone spike at step 20 does not count; the window starting at 40 (0.86, 0.88, 0.88) does.
        RunResult r = run(new long[] {10, 20, 30, 40, 50, 60, 70}, new double[] {0.5, 0.9, 0.6, 0.86, 0.88, 0.88,
                0.2}, new double[7]);
        assertEquals(40, r.stepsTo(0.87));
        // The window (0.9, 0.6, 0.86) has mean 0.7867: a target of 0.78 is reached at 20.
        assertEquals(20, r.stepsTo(0.78));
        // Only windows with two later evaluations count: 0.88 at 50 and 60 alone never start one past 50.
        assertEquals(-1, r.stepsTo(0.89));
    }

    @Test
    void everyScheduleEndsWithFiveEvaluationsInTheLastTenthOfTheRun() {
        assertArrayEquals(new long[] {18400, 18800, 19200, 19600, 20000}, RunSpec.finalFive(20_000));
        assertArrayEquals(new long[] {92, 94, 96, 98, 100}, RunSpec.finalFive(100));
        long[] s = RunSpec.evalSchedule(100, 1000, 250, 10_000);
        assertEquals(100, s[0]);
        assertTrue(java.util.Arrays.stream(s).anyMatch(t -> t == 1250), "every 250 steps after 1k");
        long[] last5 = java.util.Arrays.copyOfRange(s, s.length - 5, s.length);
        assertArrayEquals(new long[] {9500, 9600, 9750, 9800, 10_000}, last5);
        for (long t : RunSpec.finalFive(10_000)) {
            assertTrue(java.util.Arrays.stream(s).anyMatch(x -> x == t));
        }
    }
}
