package io.github.batchnorm4j.nn.norm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.batchnorm4j.tensor.MemoryFormat;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class GhostBatchNormTest {

    /** Samples [from, to) of x, same memory format (a block of whole samples is contiguous in both). */
    static Tensor slice(Tensor x, int from, int to) {
        int per = x.numel() / x.dim(0);
        int[] shape = x.shape();
        shape[0] = to - from;
        return Tensor.wrap(Arrays.copyOfRange(x.data(), from * per, to * per), x.format(), shape);
    }

    /**
     * The documented semantics, step by step: a plain BatchNorm run on each virtual batch in order gives the same
     * outputs, input gradients and running statistics bit for bit (one running update per virtual batch).
     */
    @Test
    void matchesSequentialBatchNormOverVirtualBatches() {
        int[][] shapes = {{10, 3}, {10, 3, 5}, {10, 7, 2, 3}, {9, 1, 1, 4}};
        for (Double momentum : new Double[] {0.1, null}) {
            for (int[] shape : shapes) {
                for (MemoryFormat fmt : MemoryFormat.values()) {
                    if (fmt == MemoryFormat.CHANNELS_LAST && shape.length < 4) {
                        continue;
                    }
                    int c = shape[1], k = 4;
                    NormOptions opts = NormOptions.BATCH_NORM.withMomentum(momentum);
                    GhostBatchNorm ghost = new GhostBatchNorm(c, k, opts);
                    BatchNorm ref = new BatchNorm(c, opts);
                    NormTestData.setAffine(ghost, 4);
                    NormTestData.setAffine(ref, 4);
                    String what = Arrays.toString(shape) + " " + fmt + " momentum " + momentum;
                    for (int step = 0; step < 2; step++) {
                        Tensor x = NormTestData.input(30 + step, fmt, shape);
                        Tensor dy = NormTestData.input(40 + step, fmt, shape);
                        ghost.zeroGrad();
                        ref.zeroGrad();
                        float[] y = ghost.forward(x).data();
                        float[] dx = ghost.backward(dy).data();
                        int per = x.numel() / x.dim(0);
                        for (int from = 0; from < shape[0]; from += k) {
                            int to = Math.min(shape[0], from + k);
                            float[] ys = ref.forward(slice(x, from, to)).data();
                            float[] dxs = ref.backward(slice(dy, from, to)).data();
                            assertArrayEquals(ys, Arrays.copyOfRange(y, from * per, to * per), 0f, what + " output");
                            assertArrayEquals(dxs, Arrays.copyOfRange(dx, from * per, to * per), 0f, what + " dx");
                        }
                        assertArrayEquals(ref.runningMean().data(), ghost.runningMean().data(), 0f, what + " mean");
                        assertArrayEquals(ref.runningVar().data(), ghost.runningVar().data(), 0f, what + " var");
                        assertEquals(ref.numBatchesTracked(), ghost.numBatchesTracked(), what + " batches");
                        // The reference sums per-slice float gradients; the ghost layer sums in double once.
                        NormTestData.assertClose(BatchRenormTest.toDouble(ref.weight().grad().data()),
                                BatchRenormTest.toDouble(ghost.weight().grad().data()), 1e-5, what + " dgamma");
                        NormTestData.assertClose(BatchRenormTest.toDouble(ref.bias().grad().data()),
                                BatchRenormTest.toDouble(ghost.bias().grad().data()), 1e-5, what + " dbeta");
                    }
                    assertEquals(6, ghost.numBatchesTracked(), what + ": 3 virtual batches per step, 2 steps");
                }
            }
        }
    }

    @Test
    void ghostBatchAtLeastTheBatchIsBatchNormExactly() {
        BatchNorm bn = new BatchNorm(5);
        GhostBatchNorm ghost = new GhostBatchNorm(5, 8);
        Tensor x = NormTestData.input(1, MemoryFormat.CHANNELS_LAST, 8, 5, 3, 3);
        Tensor dy = NormTestData.input(2, MemoryFormat.CHANNELS_LAST, 8, 5, 3, 3);
        assertArrayEquals(bn.forward(x).data(), ghost.forward(x).data(), 0f);
        assertArrayEquals(bn.backward(dy).data(), ghost.backward(dy).data(), 0f);
        assertArrayEquals(bn.weight().grad().data(), ghost.weight().grad().data(), 0f);
        assertArrayEquals(bn.runningVar().data(), ghost.runningVar().data(), 0f);
        bn.eval();
        ghost.eval();
        assertArrayEquals(bn.forward(x).data(), ghost.forward(x).data(), 0f);
        assertArrayEquals(bn.backward(dy).data(), ghost.backward(dy).data(), 0f);
        assertEquals(1, ghost.numBatchesTracked());
    }

    @Test
    void rejectsASingleValueVirtualBatchBeforeChangingState() {
        GhostBatchNorm ghost = new GhostBatchNorm(3, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ghost.forward(NormTestData.input(1, MemoryFormat.CONTIGUOUS, 9, 3)));
        assertEquals("Expected more than 1 value per channel in every virtual batch when training, got a last virtual"
                + " batch of 1 sample (batch 9, ghost_batch_size 4) for input size [9, 3]", e.getMessage());
        assertEquals(0, ghost.numBatchesTracked());
        assertArrayEquals(new float[3], ghost.runningMean().data(), 0f);
        e = assertThrows(IllegalArgumentException.class, () -> new GhostBatchNorm(3, 0));
        assertEquals("Expected ghost_batch_size > 0, got ghost_batch_size=0", e.getMessage());
        assertEquals(3, ghost.virtualBatches(9));
        assertEquals(1, ghost.virtualBatches(4));
    }
}
