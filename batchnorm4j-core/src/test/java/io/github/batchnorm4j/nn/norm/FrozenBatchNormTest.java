package io.github.batchnorm4j.nn.norm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.Sequential;
import io.github.batchnorm4j.tensor.MemoryFormat;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

class FrozenBatchNormTest {

    /** A BatchNorm with non-trivial trained state. */
    static BatchNorm trained(int c, double eps, long seed) {
        BatchNorm bn = new BatchNorm(c, NormOptions.BATCH_NORM.withEps(eps));
        NormTestData.setAffine(bn, seed);
        for (int i = 0; i < 3; i++) {
            bn.forward(NormTestData.input(seed + i, MemoryFormat.CONTIGUOUS, 4, c, 3));
        }
        return bn;
    }

    @Test
    void equalsBatchNormEvalInEveryModeAndKeepsEps() {
        BatchNorm bn = trained(7, 1e-3, 50);
        FrozenBatchNorm f = FrozenBatchNorm.from(bn, "bn");
        assertEquals(1e-3, f.eps());
        bn.eval();
        for (MemoryFormat fmt : MemoryFormat.values()) {
            Tensor x = NormTestData.input(60, fmt, 5, 7, 2, 3);
            Tensor dy = NormTestData.input(61, fmt, 5, 7, 2, 3);
            float[] yEval = bn.forward(x).data();
            float[] dxEval = bn.backward(dy).data();
            for (boolean mode : new boolean[] {true, false}) {
                f.train(mode);
                assertArrayEquals(yEval, f.forward(x).data(), 0f, fmt + " train=" + mode);
                assertArrayEquals(dxEval, f.backward(dy).data(), 0f, fmt + " dx train=" + mode);
            }
        }
        float[] before = f.runningMean().data().clone();
        f.train();
        f.forward(NormTestData.input(70, MemoryFormat.CONTIGUOUS, 4, 7));
        assertArrayEquals(before, f.runningMean().data(), 0f, "training forward must not move the statistics");
        assertTrue(f.namedParameters().isEmpty(), "nothing to train");
        assertEquals(List.of("weight", "bias", "running_mean", "running_var"), List.copyOf(f.namedBuffers().keySet()));
        assertEquals(List.of("num_batches_tracked"), List.copyOf(f.namedLongBuffers().keySet()));
        assertEquals(3, f.numBatchesTracked(), "copied from the source, and a frozen layer never counts");
        bn.runningMean().data()[0] += 1;
        assertEquals(before[0], f.runningMean().data()[0], "the frozen layer holds a copy");
    }

    @Test
    void freezeBatchNormReplacesEveryBatchNormInPlace() {
        BatchNorm bn0 = trained(3, 1e-5, 1);
        GhostBatchNorm ghost = new GhostBatchNorm(3, 2);
        Sequential inner = new Sequential(ghost, new LayerNorm(3));
        Sequential model = new Sequential(bn0, inner, new BatchRenorm(3));
        model.train();
        Tensor x = NormTestData.input(5, MemoryFormat.CONTIGUOUS, 6, 3);
        model.eval();
        float[] evalOut = model.forward(x).data();
        Module same = FrozenBatchNorm.freezeBatchNorm(model);
        assertSame(model, same);
        assertInstanceOf(FrozenBatchNorm.class, model.children().get("0"));
        assertInstanceOf(FrozenBatchNorm.class, inner.children().get("0"));
        assertInstanceOf(LayerNorm.class, inner.children().get("1"));
        assertInstanceOf(FrozenBatchNorm.class, model.children().get("2"));
        model.train();
        assertArrayEquals(evalOut, model.forward(x).data(), 0f, "frozen model in train mode = BN model in eval mode");
        assertEquals(List.of("1.1.weight", "1.1.bias"), List.copyOf(model.namedParameters().keySet()));
        assertEquals(List.of("0.weight", "0.bias", "0.running_mean", "0.running_var", "1.0.weight", "1.0.bias",
                "1.0.running_mean", "1.0.running_var", "2.weight", "2.bias", "2.running_mean", "2.running_var"),
                List.copyOf(model.namedBuffers().keySet()));
        assertEquals(List.of("0.num_batches_tracked", "1.0.num_batches_tracked", "2.num_batches_tracked"),
                List.copyOf(model.namedLongBuffers().keySet()));
        assertInstanceOf(FrozenBatchNorm.class, FrozenBatchNorm.freezeBatchNorm(new BatchNorm(2)));
    }

    @Test
    void refusesBatchNormWithoutRunningStatisticsAndChangesNothing() {
        BatchNorm plain = new BatchNorm(3);
        BatchNorm noStats = new BatchNorm(3, NormOptions.BATCH_NORM.withTrackRunningStats(false));
        Sequential model = new Sequential(plain, new Sequential(noStats));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FrozenBatchNorm.freezeBatchNorm(model));
        assertEquals("Expected BatchNorm layers with running statistics to freeze, got '1.0' with"
                + " track_running_stats=false", e.getMessage());
        assertSame(plain, model.children().get("0"));
        e = assertThrows(IllegalArgumentException.class, () -> new FrozenBatchNorm(3, 0));
        assertEquals("Expected eps > 0, got eps=0.0", e.getMessage());
    }
}
