package io.github.batchnorm4j.nn.norm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.dist.Communicator;
import io.github.batchnorm4j.dist.LocalCommunicator;
import io.github.batchnorm4j.dist.ThreadCommunicator;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.tensor.MemoryFormat;
import io.github.batchnorm4j.tensor.Tensor;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * SyncBatchNorm over k thread-workers must equal one BatchNorm over the concatenated batch: outputs, input
 * gradients, running statistics, and gamma/beta gradients summed over the workers.
 */
class SyncBatchNormTest {
    private static final double TOL = 1e-5;
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    record Run(float[] y, float[] dx, float[] dGamma, float[] dBeta, float[] runningMean, float[] runningVar,
               float[] yEval) {}

    /** Rows [from, to) of a batch whose dim 0 is the sample, in either memory format. */
    private static Tensor rows(Tensor t, int from, int to) {
        int[] shape = t.shape();
        Tensor c = t.to(MemoryFormat.CONTIGUOUS);
        int per = c.numel() / Math.max(shape[0], 1);
        shape[0] = to - from;
        Tensor out = Tensor.of(Arrays.copyOfRange(c.data(), from * per, to * per), shape);
        return out.to(t.format());
    }

    private static Tensor random(long seed, MemoryFormat f, int... shape) {
        SplittableRandom rng = new SplittableRandom(seed);
        Tensor t = Tensor.zeros(shape);
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) {
            d[i] = (float) (rng.nextGaussian() * 2 + 0.7);
        }
        return t.to(f);
    }

    private static void initAffine(BatchNorm bn) {
        float[] w = bn.weight().data();
        float[] b = bn.bias().data();
        for (int i = 0; i < w.length; i++) {
            w[i] = 0.5f + 0.25f * i;
            b[i] = -0.1f * i;
        }
    }

    private static Run step(BatchNorm bn, Tensor x, Tensor dy) {
        initAffine(bn);
        Tensor y = bn.forward(x).copy(); // a layer's output and gradient buffers are reused by its next calls
        Tensor dx = bn.backward(dy).copy();
        // A second training step checks that the running statistics keep agreeing, then one eval forward.
        bn.forward(x);
        bn.eval();
        Tensor yEval = bn.forward(x);
        return new Run(y.to(MemoryFormat.CONTIGUOUS).data(), dx.to(MemoryFormat.CONTIGUOUS).data(),
                bn.weight().grad().data().clone(), bn.bias().grad().data().clone(), bn.runningMean().data().clone(),
                bn.runningVar().data().clone(), yEval.to(MemoryFormat.CONTIGUOUS).data());
    }

    private static void assertClose(float[] expected, float[] got, int from, String what) {
        for (int i = 0; i < got.length; i++) {
            float e = expected[from + i];
            if (Math.abs(e - got[i]) > TOL * Math.max(1, Math.abs(e))) {
                throw new AssertionError(what + " differs at " + i + ": expected " + e + ", got " + got[i]);
            }
        }
    }

    /** Runs the comparison for per-worker batch sizes {@code split}, with shape [N, C, rest...]. */
    private static void check(int[] split, MemoryFormat f, NormOptions opt, int c, int... rest) {
        check(split, f, comm -> comm == null ? new BatchNorm(c, opt) : new SyncBatchNorm(c, opt, comm), c, rest);
    }

    /**
     * The same for any BatchNorm variant: {@code layer.apply(null)} is the single-process layer,
     * {@code layer.apply(comm)} a rank's layer, synchronized here with {@link SyncBatchNorm#convert}.
     */
    static void check(int[] split, MemoryFormat f, java.util.function.Function<Communicator, BatchNorm> layer, int c,
                      int... rest) {
        int total = Arrays.stream(split).sum();
        int[] shape = new int[2 + rest.length];
        shape[0] = total;
        shape[1] = c;
        System.arraycopy(rest, 0, shape, 2, rest.length);
        Tensor x = random(11, f, shape);
        Tensor dy = random(12, f, shape);
        Run single = step(layer.apply(null), x, dy);
        int[] start = new int[split.length + 1];
        for (int r = 0; r < split.length; r++) {
            start[r + 1] = start[r] + split[r];
        }
        List<Run> runs = ThreadCommunicator.run(split.length, TIMEOUT, comm -> step(
                SyncBatchNorm.convert(layer.apply(comm), comm),
                rows(x, start[comm.rank()], start[comm.rank() + 1]),
                rows(dy, start[comm.rank()], start[comm.rank() + 1])));
        int per = single.y().length / total;
        float[] dGamma = new float[c];
        float[] dBeta = new float[c];
        String where = Arrays.toString(split) + " " + f + " " + Arrays.toString(shape);
        for (int r = 0; r < split.length; r++) {
            Run run = runs.get(r);
            assertClose(single.y(), run.y(), start[r] * per, "y of rank " + r + " " + where);
            assertClose(single.dx(), run.dx(), start[r] * per, "dx of rank " + r + " " + where);
            assertClose(single.yEval(), run.yEval(), start[r] * per, "eval y of rank " + r + " " + where);
            assertClose(single.runningMean(), run.runningMean(), 0, "running_mean of rank " + r + " " + where);
            assertClose(single.runningVar(), run.runningVar(), 0, "running_var of rank " + r + " " + where);
            for (int i = 0; i < c; i++) {
                dGamma[i] += run.dGamma()[i];
                dBeta[i] += run.dBeta()[i];
            }
        }
        assertClose(single.dGamma(), dGamma, 0, "sum of dgamma " + where);
        assertClose(single.dBeta(), dBeta, 0, "sum of dbeta " + where);
    }

    @Test
    void twoWorkersEqualOneProcess() {
        check(new int[] {32, 32}, MemoryFormat.CONTIGUOUS, NormOptions.BATCH_NORM, 3, 5, 5);
        check(new int[] {8, 8}, MemoryFormat.CONTIGUOUS, NormOptions.BATCH_NORM, 7);
    }

    @Test
    void threeWorkersEqualOneProcess() {
        check(new int[] {7, 13, 11}, MemoryFormat.CONTIGUOUS, NormOptions.BATCH_NORM, 9, 4, 3);
        check(new int[] {5, 6, 4}, MemoryFormat.CHANNELS_LAST, NormOptions.BATCH_NORM, 8, 3, 3);
    }

    @Test
    void unevenSplit20Plus44() {
        check(new int[] {20, 44}, MemoryFormat.CONTIGUOUS, NormOptions.BATCH_NORM, 13, 97);
        check(new int[] {20, 44}, MemoryFormat.CONTIGUOUS, NormOptions.BATCH_NORM, 33);
    }

    @Test
    void aWorkerWithZeroRowsStillJoins() {
        check(new int[] {0, 30, 34}, MemoryFormat.CONTIGUOUS, NormOptions.BATCH_NORM, 3, 5);
        check(new int[] {9, 0}, MemoryFormat.CHANNELS_LAST, NormOptions.BATCH_NORM, 1, 2, 2);
    }

    @Test
    void cumulativeMomentumAndNoAffine() {
        check(new int[] {3, 5}, MemoryFormat.CONTIGUOUS, NormOptions.BATCH_NORM.withMomentum(null), 4, 3);
    }

    @Test
    void tooFewValuesInTheGlobalBatchAreRejectedOnEveryRank() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ThreadCommunicator.run(2, TIMEOUT, comm -> new SyncBatchNorm(3, comm)
                        .forward(Tensor.zeros(comm.rank() == 0 ? 1 : 0, 3))));
        assertEquals("Expected more than 1 value per channel across all ranks when training, got 1 (this rank's"
                + " input size [1, 3])", e.getMessage());
    }

    /** A container holding BatchNorm layers in fields, like the model classes do. */
    static final class Block extends Module {
        final BatchNorm bn1 = registerModule("bn1", new BatchNorm(4));
        final Inner inner = registerModule("inner", new Inner());

        @Override
        public Tensor forward(Tensor input) {
            return inner.forward(bn1.forward(input));
        }

        @Override
        public Tensor backward(Tensor gradOutput) {
            return bn1.backward(inner.backward(gradOutput));
        }
    }

    static final class Inner extends Module {
        final BatchNorm bn = registerModule("bn", new BatchNorm(4));

        @Override
        public Tensor forward(Tensor input) {
            return bn.forward(input);
        }

        @Override
        public Tensor backward(Tensor gradOutput) {
            return bn.backward(gradOutput);
        }
    }

    @Test
    void convertSynchronizesEveryBatchNormInPlace() {
        Tensor x = random(3, MemoryFormat.CONTIGUOUS, 10, 4);
        Tensor dy = random(4, MemoryFormat.CONTIGUOUS, 10, 4);
        Block single = new Block();
        float[] ySingle = single.forward(x).data();
        float[] dxSingle = single.backward(dy).data();
        List<float[][]> out = ThreadCommunicator.run(2, TIMEOUT, comm -> {
            Block b = new Block();
            assertSame(b, SyncBatchNorm.convert(b, comm));
            assertEquals(2, SyncBatchNorm.countSynchronized(b));
            assertSame(comm, b.inner.bn.communicator());
            int from = comm.rank() * 4;
            int to = comm.rank() == 0 ? 4 : 10;
            return new float[][] {b.forward(rows(x, from, to)).data(), b.backward(rows(dy, from, to)).data()};
        });
        assertClose(ySingle, out.get(0)[0], 0, "y rank 0");
        assertClose(ySingle, out.get(1)[0], 16, "y rank 1");
        assertClose(dxSingle, out.get(0)[1], 0, "dx rank 0");
        assertClose(dxSingle, out.get(1)[1], 16, "dx rank 1");
        assertEquals(0, SyncBatchNorm.countSynchronized(new Block()));
    }

    @Test
    void localCommunicatorGivesBatchNormBitForBit() {
        Tensor x = random(5, MemoryFormat.CONTIGUOUS, 6, 3, 7);
        Tensor dy = random(6, MemoryFormat.CONTIGUOUS, 6, 3, 7);
        Run a = step(new BatchNorm(3), x, dy);
        Run b = step(new SyncBatchNorm(3, LocalCommunicator.INSTANCE), x, dy);
        assertTrue(Arrays.equals(a.y(), b.y()) && Arrays.equals(a.dx(), b.dx())
                && Arrays.equals(a.runningVar(), b.runningVar()), "SyncBN on one rank must equal BN exactly");
        Communicator none = null;
        assertThrows(NullPointerException.class, () -> new SyncBatchNorm(3, none));
    }
}
