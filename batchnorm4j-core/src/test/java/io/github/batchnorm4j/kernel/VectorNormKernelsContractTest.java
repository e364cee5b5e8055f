package io.github.batchnorm4j.kernel;

/** The Vector API kernels meet the same contract as the scalar reference (float64 reference, odd sizes, offsets). */
class VectorNormKernelsContractTest extends NormKernelsContract {
    @Override
    protected NormKernels kernels() {
        return VectorNormKernels.INSTANCE;
    }
}
