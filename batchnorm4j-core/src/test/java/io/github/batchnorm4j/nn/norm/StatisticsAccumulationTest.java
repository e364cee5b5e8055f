package io.github.batchnorm4j.nn.norm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.batchnorm4j.nn.Sequential;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The two statements of gradient accumulation for the running statistics: (1) after K micro-batches the running
 * statistics are those one update with the whole accumulated batch makes (count-weighted merge; one
 * {@code num_batches_tracked} increment), for BatchNorm and BatchRenorm (both running-sigma rules), EMA and
 * cumulative; (2) each micro-batch is still normalised with its own statistics, so the outputs are those of the
 * micro-batch alone, not the big batch's.
 */
class StatisticsAccumulationTest {
    private static final int[] SIZES = {5, 7, 4};

    private static Tensor random(long seed, int n, int c, int s) {
        SplittableRandom r = new SplittableRandom(seed);
        Tensor t = Tensor.zeros(n, c, s);
        for (int i = 0; i < t.numel(); i++) {
            t.data()[i] = (float) (r.nextGaussian() * (1 + i % 3) + 0.5 * (i % 5));
        }
        return t;
    }

    private static Tensor rows(Tensor x, int from, int to) {
        int per = x.numel() / x.dim(0);
        return Tensor.of(Arrays.copyOfRange(x.data(), from * per, to * per), to - from, x.dim(1), x.dim(2));
    }

    private static void assertClose(float[] expected, float[] got, double tol, String what) {
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], got[i], tol * Math.max(1, Math.abs(expected[i])), what + " at " + i);
        }
    }

    private static void check(Supplier<BatchNorm> layer, String what) {
        int total = Arrays.stream(SIZES).sum();
        Tensor x = random(7, total, 3, 4);
        BatchNorm big = layer.get();
        BatchNorm acc = layer.get();
        BatchNorm alone = layer.get();
        for (int step = 0; step < 2; step++) { // two optimizer steps: the second starts from updated statistics
            Tensor yBig = big.forward(x).copy();
            StatisticsAccumulation.begin(acc);
            int from = 0;
            for (int size : SIZES) {
                Tensor micro = rows(x, from, from + size);
                float[] y = acc.forward(micro).data().clone();
                // (2) the micro-batch's own statistics: a layer with the same running statistics, on it alone
                System.arraycopy(acc.runningMean().data(), 0, alone.runningMean().data(), 0, 3);
                System.arraycopy(acc.runningVar().data(), 0, alone.runningVar().data(), 0, 3);
                alone.setNumBatchesTracked(acc.numBatchesTracked());
                assertArrayEquals(alone.forward(micro).data(), y, what + ": micro-batch output");
                float[] yBigRows = Arrays.copyOfRange(yBig.data(), from * 12, (from + size) * 12);
                assertFalse(Arrays.equals(yBigRows, y), what + ": not the big batch's output");
                from += size;
            }
            assertEquals(step, acc.numBatchesTracked(), "no update before the commit");
            StatisticsAccumulation.commit(acc);
            // (1) one update with the merged statistics
            assertClose(big.runningMean().data(), acc.runningMean().data(), 1e-6, what + ": running mean");
            assertClose(big.runningVar().data(), acc.runningVar().data(), 1e-6, what + ": running var");
            assertEquals(big.numBatchesTracked(), acc.numBatchesTracked(), what + ": num_batches_tracked");
        }
    }

    @Test
    void runningStatisticsAreTheAccumulatedBatchs() {
        check(() -> new BatchNorm(3), "BatchNorm");
        check(() -> new BatchNorm(3, NormOptions.BATCH_NORM.withMomentum(null)), "BatchNorm cumulative");
        for (BatchRenorm.RunningSigma sigma : BatchRenorm.RunningSigma.values()) {
            check(() -> new BatchRenorm(3, NormOptions.BATCH_NORM, RenormSchedule.constant(1.2),
                    RenormSchedule.constant(0.1), sigma), "BatchRenorm " + sigma);
        }
    }

    @Test
    void whatCannotAccumulateExactlyIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StatisticsAccumulation.check(new Sequential(new GhostBatchNorm(3, 4)), 10));
        assertEquals("Expected a batch size that is a multiple of the ghost batch size with gradient accumulation (the"
                + " micro-batches' virtual batches must be the accumulated batch's), got batch 10 and ghost batch size"
                + " 4 in '0'", e.getMessage());
        StatisticsAccumulation.check(new Sequential(new GhostBatchNorm(3, 4)), 12);
        e = assertThrows(IllegalArgumentException.class, () -> StatisticsAccumulation.check(
                new Sequential(new BatchNorm(3), new InstanceNorm(3, NormOptions.BATCH_NORM)), 8));
        assertEquals("Expected no InstanceNorm with track_running_stats=true with gradient accumulation (its running"
                + " statistics average instances, they are not merged), got '1'", e.getMessage());
    }
}
