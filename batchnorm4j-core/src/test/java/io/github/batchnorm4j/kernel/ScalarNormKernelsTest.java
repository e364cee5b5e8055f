package io.github.batchnorm4j.kernel;

/** The scalar reference kernels meet the kernel contract. */
class ScalarNormKernelsTest extends NormKernelsContract {
    @Override
    protected NormKernels kernels() {
        return ScalarNormKernels.INSTANCE;
    }
}
