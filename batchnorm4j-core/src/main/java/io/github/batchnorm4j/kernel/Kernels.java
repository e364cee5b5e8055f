package io.github.batchnorm4j.kernel;

/**
 * Chooses the kernel implementation. Today only the scalar reference exists; the Vector API kernels plug in
 * here, with the scalar ones kept as the fallback and the parity reference.
 */
public final class Kernels {
    private static volatile NormKernels norm = ScalarNormKernels.INSTANCE;

    private Kernels() {}

    /** The kernels the functional layer uses. */
    public static NormKernels norm() {
        return norm;
    }

    /** Replaces the kernels (tests compare implementations through this). */
    public static void setNorm(NormKernels kernels) {
        norm = java.util.Objects.requireNonNull(kernels);
    }
}
