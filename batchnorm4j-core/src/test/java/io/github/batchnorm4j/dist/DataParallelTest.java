package io.github.batchnorm4j.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.nn.Parameter;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class DataParallelTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private static void fillGrads(TinyTraining.Net net, int rank) {
        SplittableRandom r = new SplittableRandom(50 + rank);
        for (Parameter p : net.namedParameters().values()) {
            float[] g = p.grad().data();
            for (int i = 0; i < g.length; i++) {
                g[i] = (float) r.nextDouble(-1, 1);
            }
        }
    }

    @Test
    void gradientsBecomeTheCountWeightedSumInEveryBucketSize() {
        int[] counts = {3, 5, 2};
        for (int bucket : new int[] {1, 5, 7, 1000}) {
            List<float[]> out = ThreadCommunicator.run(3, TIMEOUT, c -> {
                TinyTraining.Net net = new TinyTraining.Net(1);
                fillGrads(net, c.rank());
                DataParallel dp = new DataParallel(net, c, bucket);
                dp.allReduceGradients(counts[c.rank()], 10);
                return net.namedParameters().get("2.weight").grad().data().clone();
            });
            float[] expected = new float[out.get(0).length];
            for (int r = 0; r < 3; r++) {
                TinyTraining.Net net = new TinyTraining.Net(1);
                fillGrads(net, r);
                float[] g = net.namedParameters().get("2.weight").grad().data();
                for (int i = 0; i < g.length; i++) {
                    expected[i] += g[i] * (float) (counts[r] / 10.0);
                }
            }
            for (float[] got : out) {
                assertArrayEquals(expected, got, 1e-6f, "bucket " + bucket);
            }
        }
    }

    @Test
    void bucketsPerStepCoverAllParameters() {
        TinyTraining.Net net = new TinyTraining.Net(1);
        int total = net.namedParameters().values().stream().mapToInt(p -> p.data().length).sum();
        assertEquals((total + 6) / 7, new DataParallel(net, LocalCommunicator.INSTANCE, 7).bucketsPerStep());
        assertEquals(1, new DataParallel(net, LocalCommunicator.INSTANCE).bucketsPerStep());
    }

    @Test
    void broadcastGivesEveryRankRankZerosState() {
        List<float[]> out = ThreadCommunicator.run(3, TIMEOUT, c -> {
            TinyTraining.Net net = new TinyTraining.Net(10 + c.rank());
            net.bn.runningMean().data()[2] = c.rank() + 1;
            net.bn.setNumBatchesTracked(7 * c.rank() + 5);
            new DataParallel(net, c).broadcastInitialState();
            float[] w = net.namedParameters().get("0.weight").data();
            float[] r = new float[w.length + 2];
            System.arraycopy(w, 0, r, 0, w.length);
            r[w.length] = net.bn.runningMean().data()[2];
            r[w.length + 1] = net.bn.numBatchesTracked();
            return r;
        });
        float[] rank0 = new TinyTraining.Net(10).namedParameters().get("0.weight").data();
        for (float[] r : out) {
            assertArrayEquals(rank0, java.util.Arrays.copyOf(r, rank0.length));
            assertEquals(1f, r[rank0.length]);
            assertEquals(5f, r[rank0.length + 1]);
        }
    }

    @Test
    void differentModelsOnDifferentRanksAreRejected() {
        CommunicatorException e = assertThrows(CommunicatorException.class, () -> ThreadCommunicator.run(2, TIMEOUT,
                c -> {
                    var m = c.rank() == 0 ? new TinyTraining.Net(1) : new TinyTraining.Dense(2, 2, 1);
                    new DataParallel(m, c).broadcastInitialState();
                    return null;
                }));
        assertEquals("Expected every rank to build the same model as rank 0 (99 parameter values), got a different"
                + " model on rank 1 (6 parameter values)", e.getMessage());
    }

    /** The data-parallel promise on threads: N ranks x batch b follow the single-process batch N*b trajectory. */
    @Test
    void tenStepsOnRanksEqualTenStepsInOneProcess() {
        float[] single64 = TinyTraining.train(LocalCommunicator.INSTANCE, 200, 64, 10, true);
        List<float[]> two = ThreadCommunicator.run(2, TIMEOUT, c -> TinyTraining.train(c, 200, 32, 10, true));
        for (float[] w : two) {
            double d = TinyTraining.maxDiff(single64, w);
            assertTrue(d <= 1e-5, "2 ranks x 32 vs 1 x 64: max difference " + d);
        }
        // 150 items, 3 x 16 = 48: the fourth batch of each epoch has 6 items, 2 per rank; 10 steps span 3 epochs.
        float[] single48 = TinyTraining.train(LocalCommunicator.INSTANCE, 150, 48, 10, true);
        List<float[]> three = ThreadCommunicator.run(3, TIMEOUT, c -> TinyTraining.train(c, 150, 16, 10, true));
        for (float[] w : three) {
            double d = TinyTraining.maxDiff(single48, w);
            assertTrue(d <= 1e-5, "3 ranks x 16 vs 1 x 48: max difference " + d);
        }
        // Without SyncBN the trajectories differ (BN sees per-rank batches): the test above is not vacuous.
        List<float[]> local = ThreadCommunicator.run(2, TIMEOUT, c -> TinyTraining.train(c, 200, 32, 10, false));
        assertTrue(TinyTraining.maxDiff(single64, local.get(0)) > 1e-3);
    }
}
