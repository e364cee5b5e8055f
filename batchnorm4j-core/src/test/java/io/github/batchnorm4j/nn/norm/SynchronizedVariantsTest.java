package io.github.batchnorm4j.nn.norm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.batchnorm4j.dist.ThreadCommunicator;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.Sequential;
import io.github.batchnorm4j.tensor.MemoryFormat;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * BatchRenorm and GhostBatchNorm synchronized over 2 and 3 thread ranks equal one layer on the concatenated batch
 * (outputs, input gradients, summed gamma/beta gradients, running statistics after two training steps, eval
 * output), with uneven splits and ranks without rows; and what cannot be synchronized is refused.
 */
class SynchronizedVariantsTest {

    private static BatchRenorm renorm(int c, BatchRenorm.RunningSigma sigma) {
        // Constant limits small enough that r and d clip on some channels from the first step on.
        return new BatchRenorm(c, NormOptions.BATCH_NORM, RenormSchedule.constant(1.3), RenormSchedule.constant(0.2),
                sigma);
    }

    @Test
    void batchRenormUsesTheGlobalStatistics() {
        for (BatchRenorm.RunningSigma sigma : BatchRenorm.RunningSigma.values()) {
            SyncBatchNormTest.check(new int[] {9, 23}, MemoryFormat.CONTIGUOUS, comm -> renorm(5, sigma), 5, 4);
            SyncBatchNormTest.check(new int[] {0, 7, 4}, MemoryFormat.CONTIGUOUS, comm -> renorm(3, sigma), 3, 2, 3);
            SyncBatchNormTest.check(new int[] {5, 6, 4}, MemoryFormat.CHANNELS_LAST, comm -> renorm(4, sigma), 4, 3,
                    3);
        }
    }

    @Test
    void ghostBatchesAreThoseOfTheGlobalBatch() {
        // Virtual batches of 4 samples across ranks: 11 = 4 + 4 + 3 over splits that cut them in the middle.
        SyncBatchNormTest.check(new int[] {5, 6}, MemoryFormat.CONTIGUOUS, comm -> new GhostBatchNorm(6, 4), 6);
        SyncBatchNormTest.check(new int[] {2, 0, 9}, MemoryFormat.CONTIGUOUS, comm -> new GhostBatchNorm(3, 4), 3, 5);
        SyncBatchNormTest.check(new int[] {7, 13, 11}, MemoryFormat.CHANNELS_LAST, comm -> new GhostBatchNorm(4, 5),
                4, 2, 3);
        SyncBatchNormTest.check(new int[] {3, 5}, MemoryFormat.CONTIGUOUS,
                comm -> new GhostBatchNorm(2, 3, NormOptions.BATCH_NORM.withMomentum(null)), 2, 3);
    }

    @Test
    void aSingleSampleVirtualBatchOfTheGlobalBatchIsRejectedOnEveryRank() {
        // 9 samples in virtual batches of 4: the last holds one sample (rank 1's only row).
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ThreadCommunicator.run(2, Duration.ofSeconds(30), comm -> SyncBatchNorm.convert(
                        new GhostBatchNorm(3, 4), comm).forward(io.github.batchnorm4j.tensor.Tensor.zeros(
                                comm.rank() == 0 ? 8 : 1, 3))));
        String expected = "Expected more than 1 value per channel in every virtual batch when training, got a last"
                + " virtual batch of 1 sample (batch 9, ghost_batch_size 4) for input size [";
        assertEquals(expected, e.getMessage().substring(0, Math.min(expected.length(), e.getMessage().length())));
    }

    @Test
    void instanceNormWithRunningStatisticsIsRefused() {
        Module model = new Sequential(new BatchNorm(3), new InstanceNorm(3, NormOptions.BATCH_NORM));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ThreadCommunicator.run(2, Duration.ofSeconds(30), comm -> SyncBatchNorm.convert(model, comm)));
        assertEquals("Expected layers whose training statistics can be synchronized, got '1' (InstanceNorm with"
                + " track_running_stats=true: its running statistics would average only this rank's instances);"
                + " use track_running_stats=false or no synchronization", e.getMessage());
        assertEquals(0, SyncBatchNorm.countSynchronized(model), "a refused conversion changes nothing");
    }
}
