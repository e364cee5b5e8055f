package io.github.batchnorm4j.nn.norm;

import io.github.batchnorm4j.dist.LocalCommunicator;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.tensor.MemoryFormat;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * One layer of each kind of the normalization family, for inputs {@code [N, 6, 5, 5]}, in the configurations whose
 * per-call buffers differ: the tests of buffer reuse and steady-state allocation run over these.
 */
final class NormLayerZoo {
    static final int CHANNELS = 6;
    static final int SIDE = 5;

    private NormLayerZoo() {}

    /** Factories by name, in a fixed order. */
    static Map<String, Supplier<Module>> layers() {
        RenormSchedule rmax = RenormSchedule.constant(1.5), dmax = RenormSchedule.constant(0.5);
        Map<String, Supplier<Module>> m = new LinkedHashMap<>();
        m.put("BatchNorm", () -> new BatchNorm(CHANNELS));
        m.put("GroupNorm", () -> new GroupNorm(3, CHANNELS));
        m.put("LayerNorm", () -> new LayerNorm(SIDE, SIDE));
        m.put("InstanceNorm", () -> new InstanceNorm(CHANNELS, NormOptions.BATCH_NORM));
        // Clipping limits that the test inputs (mean ~3, std ~2 against running 0 and 1) exceed: r and d are not
        // the identity, so BatchRenorm re-normalises BatchNorm's output.
        m.put("BatchRenorm variance", () -> new BatchRenorm(CHANNELS, NormOptions.BATCH_NORM, rmax, dmax,
                BatchRenorm.RunningSigma.VARIANCE));
        m.put("BatchRenorm sigma", () -> new BatchRenorm(CHANNELS, NormOptions.BATCH_NORM, rmax, dmax,
                BatchRenorm.RunningSigma.SIGMA));
        m.put("GhostBatchNorm", () -> new GhostBatchNorm(CHANNELS, 2));
        m.put("FrozenBatchNorm", () -> new FrozenBatchNorm(CHANNELS, 1e-5));
        m.put("SyncBatchNorm", () -> new SyncBatchNorm(CHANNELS, LocalCommunicator.INSTANCE));
        return m;
    }

    /** A {@code [n, 6, 5, 5]} input of N(offset, 2^2) values, stored in {@code format}. */
    static Tensor input(long seed, double offset, int n, MemoryFormat format) {
        SplittableRandom r = new SplittableRandom(seed);
        Tensor t = Tensor.zeros(n, CHANNELS, SIDE, SIDE);
        for (int i = 0; i < t.numel(); i++) {
            t.data()[i] = (float) (offset + 2 * r.nextGaussian());
        }
        return t.to(format);
    }
}
