package io.github.batchnorm4j.repro;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.repro.RunSpec.Activation;
import io.github.batchnorm4j.repro.RunSpec.Norm;
import org.junit.jupiter.api.Test;

class RunnerTest {
    static final ReproData DATA = SyntheticData.make(600, 200, 5);

    static RunSpec small(Norm norm, double lr, long steps) {
        return RunSpec.mlp("T", norm + "@" + lr, 3, new int[] {20, 20}, Activation.SIGMOID, norm, 30, lr, steps,
                RunSpec.evalSchedule(10, 50, 25, steps));
    }

    @Test
    void sameSeedGivesBitIdenticalCurves() {
        RunSpec spec = small(Norm.BN, 0.5, 100);
        RunResult a = Runner.run(spec, DATA, s -> {});
        RunResult b = Runner.run(spec, DATA, s -> {});
        assertArrayEquals(a.testAcc(), b.testAcc());
        assertArrayEquals(a.testLoss(), b.testLoss());
    }

    /**
     * The same for a CNN at batch 2 (E6b's shape of run): the first run starts in the interpreter and is compiled
     * on the way, the second runs compiled code, so this also catches arithmetic that the JIT changes (it caught
     * the convolution's weight gradient summing vector lanes with reduceLanes).
     */
    @Test
    void sameSeedGivesBitIdenticalCnnCurvesInInterpretedAndCompiledCode() {
        RunSpec spec = RunSpec.cnn("T", "cnn", 4, new int[] {4, 8}, Norm.BN, 2, 0.01, 400, new long[] {200, 400});
        RunResult a = Runner.run(spec, DATA, s -> {});
        RunResult b = Runner.run(spec, DATA, s -> {});
        assertArrayEquals(a.testLoss(), b.testLoss());
        assertArrayEquals(a.testAcc(), b.testAcc());
    }

    @Test
    void learnsTheSyntheticTask() {
        RunResult r = Runner.run(small(Norm.BN, 0.5, 150), DATA, s -> {});
        assertTrue(r.finalAcc() > 0.9, "final accuracy " + r.finalAcc());
        assertFalse(r.diverged());
    }

    @Test
    void probeHasNoSideEffects() {
        RunSpec plain = small(Norm.BN, 0.5, 60);
        RunResult a = Runner.run(plain, DATA, s -> {});
        RunResult b = Runner.run(plain.withProbe(7), DATA, s -> {});
        assertArrayEquals(a.testAcc(), b.testAcc());
        assertArrayEquals(a.testLoss(), b.testLoss());
        assertEquals(1 + 60 / 7, b.probeSteps().length); // step 1 and every 7th step
        assertEquals(20, b.probe()[0].length); // one row per unit of the last hidden layer
    }

    @Test
    void divergedRunCountsAsChanceAndDoesNotThrow() {
        RunSpec spec = RunSpec.mlp("T", "huge", 1, new int[] {20}, Activation.RELU, Norm.NONE, 30, 1e9, 40,
                new long[] {10, 20, 40});
        RunResult r = Runner.run(spec, DATA, s -> {});
        assertTrue(r.diverged());
        assertEquals(RunResult.CHANCE, r.lastAcc());
        assertEquals(RunResult.CHANCE, r.finalAcc(), 1e-15); // the mean of three chance evaluations
        assertTrue(Double.isNaN(r.finalLoss()));
    }

    @Test
    void percentileInterpolatesLikeNumpy() {
        double[] v = {1, 2, 3, 4, 5};
        assertEquals(1.6, Runner.percentile(v, 15), 1e-12);
        assertEquals(3.0, Runner.percentile(v, 50), 1e-12);
        assertEquals(4.4, Runner.percentile(v, 85), 1e-12);
    }
}
