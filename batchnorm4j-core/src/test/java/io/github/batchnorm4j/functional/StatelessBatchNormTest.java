package io.github.batchnorm4j.functional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;

import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.nn.norm.NormOptions;
import io.github.batchnorm4j.reference.Float64Reference;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The stateless {@code Functional.batchNorm(x, weight, bias, RunningStats in)}: nothing passed in changes; the
 * returned statistics are the module's after the same steps (bit for bit, chained over steps, EMA and cumulative);
 * eval returns them unchanged; output and update match the float64 reference.
 */
class StatelessBatchNormTest {
    private static Tensor random(long seed, int... shape) {
        SplittableRandom r = new SplittableRandom(seed);
        Tensor t = Tensor.zeros(shape);
        for (int i = 0; i < t.numel(); i++) {
            t.data()[i] = (float) (r.nextGaussian() * 1.7 + 0.4);
        }
        return t;
    }

    @Test
    void nothingPassedInIsModified() {
        Tensor x = random(1, 5, 3, 4);
        Tensor w = random(2, 3);
        Tensor b = random(3, 3);
        RunningStats in = RunningStats.initial(3, 0.1);
        float[] x0 = x.data().clone();
        float[] w0 = w.data().clone();
        Functional.BatchNormStep step = Functional.batchNorm(x, w, b, in);
        assertArrayEquals(x0, x.data());
        assertArrayEquals(w0, w.data());
        assertArrayEquals(new float[] {0, 0, 0}, in.mean().data());
        assertArrayEquals(new float[] {1, 1, 1}, in.var().data());
        assertEquals(0, in.numBatchesTracked());
        assertEquals(1, step.stats().numBatchesTracked());
        assertNotSame(in.mean(), step.stats().mean());
    }

    @Test
    void chainedStepsEqualTheModuleBitForBit() {
        for (Double momentum : new Double[] {0.1, null}) {
            BatchNorm bn = new BatchNorm(3, NormOptions.BATCH_NORM.withMomentum(momentum));
            Tensor w = random(4, 3);
            Tensor b = random(5, 3);
            System.arraycopy(w.data(), 0, bn.weight().data(), 0, 3);
            System.arraycopy(b.data(), 0, bn.bias().data(), 0, 3);
            RunningStats s = RunningStats.initial(3, momentum);
            for (int step = 0; step < 3; step++) {
                Tensor x = random(10 + step, 6, 3, 5);
                Functional.BatchNormStep r = Functional.batchNorm(x, w, b, s);
                assertArrayEquals(bn.forward(x).data(), r.output().data(), "output at step " + step);
                s = r.stats();
                assertArrayEquals(bn.runningMean().data(), s.mean().data(), "running mean at step " + step);
                assertArrayEquals(bn.runningVar().data(), s.var().data(), "running var at step " + step);
                assertEquals(bn.numBatchesTracked(), s.numBatchesTracked());
            }
            Tensor x = random(20, 4, 3, 5);
            bn.eval();
            Functional.BatchNormStep e = Functional.batchNorm(x, w, b, s, false, 1e-5);
            assertArrayEquals(bn.forward(x).data(), e.output().data(), "eval output");
            assertArrayEquals(s.mean().data(), e.stats().mean().data(), "eval leaves the statistics");
            assertArrayEquals(s.var().data(), e.stats().var().data());
            assertEquals(s.numBatchesTracked(), e.stats().numBatchesTracked());
        }
    }

    @Test
    void outputAndUpdateMatchTheFloat64Reference() {
        int[] shape = {7, 4, 3};
        Tensor x = random(30, shape);
        Tensor w = random(31, 4);
        RunningStats in = RunningStats.initial(4, 0.3);
        Functional.BatchNormStep r = Functional.batchNorm(x, w, null, in);
        Float64Reference.Grouping g = Float64Reference.batchNorm(shape);
        double[] xd = new double[x.numel()];
        for (int i = 0; i < xd.length; i++) {
            xd[i] = x.data()[i];
        }
        double[] wd = {w.data()[0], w.data()[1], w.data()[2], w.data()[3]};
        Float64Reference.Forward f = Float64Reference.forwardBatch(g, xd, wd, null, 1e-5);
        for (int i = 0; i < xd.length; i++) {
            assertEquals(f.y()[i], r.output().data()[i], 1e-5 * Math.max(1, Math.abs(f.y()[i])), "y at " + i);
        }
        double[] rm = new double[4];
        double[] rv = {1, 1, 1, 1};
        Float64Reference.updateRunning(g, f.mean(), f.var(), rm, rv, 0.3);
        for (int c = 0; c < 4; c++) {
            assertEquals(rm[c], r.stats().mean().data()[c], 1e-6, "running mean " + c);
            assertEquals(rv[c], r.stats().var().data()[c], 1e-6 * Math.max(1, rv[c]), "running var " + c);
        }
        assertEquals(0.3, r.stats().momentum(), "the momentum travels with the statistics");
    }
}
