package io.github.batchnorm4j.nn.norm;

import io.github.batchnorm4j.kernel.NormGeometry;
import io.github.batchnorm4j.tensor.MemoryFormat;
import io.github.batchnorm4j.tensor.Tensor;

/**
 * BatchNorm's per-channel geometry over {@code samples} consecutive samples of {@code x}, as
 * {@code Functional.batchNorm} lays it out for x's memory format (BatchRenorm re-normalises its output with it).
 */
final class BnGeometry {
    private BnGeometry() {}

    /** NCHW: {@code [samples][C][S]}; channels-last and {@code (N, C)}: {@code [samples * S][C][1]}. */
    static NormGeometry of(Tensor x, int samples) {
        int c = x.dim(1);
        int s = x.spatialSize();
        return x.format() == MemoryFormat.CHANNELS_LAST || x.rank() == 2
                ? NormGeometry.perChannel(samples * s, c, 1)
                : NormGeometry.perChannel(samples, c, s);
    }
}
