package io.github.batchnorm4j.nn.norm;

import io.github.batchnorm4j.kernel.NormGeometry;
import io.github.batchnorm4j.tensor.MemoryFormat;
import io.github.batchnorm4j.tensor.Tensor;

/**
 * BatchNorm's per-channel geometry over a block of {@code samples} consecutive samples of {@code x} (all of them,
 * or one virtual batch). A block of whole samples is contiguous in both memory formats, so a virtual batch is
 * addressed by an offset into {@code x.data()} and no copy is needed.
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

    /** Storage offset of sample {@code n} (the same in both memory formats). */
    static int sampleOffset(Tensor x, int n) {
        return n * x.dim(1) * x.spatialSize();
    }

    /** Same check and message as {@code Functional.batchNorm}: batch statistics need two values per channel. */
    static void checkTrainable(Tensor x, int samples) {
        if ((long) samples * x.spatialSize() == 1) {
            throw new IllegalArgumentException("Expected more than 1 value per channel when training, got input size "
                    + x.shapeString());
        }
    }

    /** {@code running = (1 - f) * running + f * batch} with the unbiased batch variance, exactly as BatchNorm. */
    static void updateRunning(double[] mean, double[] m2, double count, float[] runningMean, float[] runningVar,
                              double f) {
        for (int c = 0; c < mean.length; c++) {
            runningMean[c] = (float) ((1 - f) * runningMean[c] + f * mean[c]);
            runningVar[c] = (float) ((1 - f) * runningVar[c] + f * (m2[c] / (count - 1)));
        }
    }
}
