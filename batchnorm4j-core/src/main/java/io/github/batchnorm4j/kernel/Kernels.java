package io.github.batchnorm4j.kernel;

/**
 * Chooses the kernel implementation once, at class initialisation: the Vector API kernels
 * ({@link VectorNormKernels}) when the JVM was started with {@code --add-modules jdk.incubator.vector}, else the
 * scalar reference ({@link ScalarNormKernels}) with one line on stderr naming the flag. The system property
 * {@code bn4j.kernels=scalar} forces the scalar kernels ({@code vector} asks for the vector ones and behaves as
 * the default when they are not available).
 */
public final class Kernels {
    /** The system property that forces an implementation. */
    public static final String PROPERTY = "bn4j.kernels";
    private static volatile NormKernels norm = select(System.getProperty(PROPERTY), vectorModulePresent());

    private Kernels() {}

    /** The kernels the functional layer uses. */
    public static NormKernels norm() {
        return norm;
    }

    /** Replaces the kernels (tests compare implementations through this). */
    public static void setNorm(NormKernels kernels) {
        norm = java.util.Objects.requireNonNull(kernels);
    }

    /** Whether {@code jdk.incubator.vector} is in the boot layer (the JVM flag was given). */
    public static boolean vectorModulePresent() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    /**
     * The selection rule: {@code property} is the value of {@code bn4j.kernels} (null when unset).
     *
     * @throws IllegalArgumentException for a value other than {@code scalar} or {@code vector}
     */
    static NormKernels select(String property, boolean vectorAvailable) {
        if (property != null && !property.equals("scalar") && !property.equals("vector")) {
            throw new IllegalArgumentException("Expected -D" + PROPERTY + "=scalar or vector, got " + property);
        }
        if ("scalar".equals(property)) {
            return ScalarNormKernels.INSTANCE;
        }
        if (!vectorAvailable) {
            System.err.println("bn4j: jdk.incubator.vector is not available, using the scalar kernels;"
                    + " pass --add-modules jdk.incubator.vector to the JVM for the vector kernels");
            return ScalarNormKernels.INSTANCE;
        }
        try {
            return VectorNormKernels.INSTANCE;
        } catch (LinkageError e) { // module present but unusable on this platform
            System.err.println("bn4j: vector kernels failed to load (" + e + "), using the scalar kernels");
            return ScalarNormKernels.INSTANCE;
        }
    }
}
