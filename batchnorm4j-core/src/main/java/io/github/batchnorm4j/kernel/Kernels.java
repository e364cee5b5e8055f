package io.github.batchnorm4j.kernel;

/**
 * Chooses the kernel implementations once, at class initialisation, for the whole library: the Vector API kernels
 * ({@link VectorNormKernels}, {@link VectorDenseKernels}) when the JVM was started with
 * {@code --add-modules jdk.incubator.vector}, else the scalar ones ({@link ScalarNormKernels},
 * {@link ScalarDenseKernels}) with one line on stderr naming the flag. The system property
 * {@code bn4j.kernels=scalar} forces the scalar kernels ({@code vector} asks for the vector ones and behaves as
 * the default when they are not available).
 */
public final class Kernels {
    /** The system property that forces an implementation. */
    public static final String PROPERTY = "bn4j.kernels";
    private static final boolean VECTOR = useVector(System.getProperty(PROPERTY), vectorModulePresent());
    private static volatile NormKernels norm = VECTOR ? VectorNormKernels.INSTANCE : ScalarNormKernels.INSTANCE;
    // Final, not switchable: GEMM, RowDots and ReLU have no per-test override (tests call both implementations).
    private static final DenseKernels DENSE = VECTOR ? VectorDenseKernels.INSTANCE : ScalarDenseKernels.INSTANCE;

    private Kernels() {}

    /** The kernels the functional layer uses. */
    public static NormKernels norm() {
        return norm;
    }

    /** The matrix-product, row-dot and ReLU kernels, chosen with {@link #norm()} by the same rule. */
    public static DenseKernels dense() {
        return DENSE;
    }

    /** Replaces the kernels (tests compare implementations through this). */
    public static void setNorm(NormKernels kernels) {
        norm = java.util.Objects.requireNonNull(kernels);
    }

    /** Float lanes of the normalization kernels in use: the vector width, or 1 for the scalar kernels. */
    public static int lanes() {
        return vectorModulePresent() && !(norm instanceof ScalarNormKernels) ? VectorNormKernels.lanes() : 1;
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
        return useVector(property, vectorAvailable) ? VectorNormKernels.INSTANCE : ScalarNormKernels.INSTANCE;
    }

    /** The rule behind {@link #select}; prints the one notice when the vector kernels cannot be used. */
    private static boolean useVector(String property, boolean vectorAvailable) {
        if (property != null && !property.equals("scalar") && !property.equals("vector")) {
            throw new IllegalArgumentException("Expected -D" + PROPERTY + "=scalar or vector, got " + property);
        }
        if ("scalar".equals(property)) {
            return false;
        }
        if (!vectorAvailable) {
            System.err.println("bn4j: jdk.incubator.vector is not available, using the scalar kernels;"
                    + " pass --add-modules jdk.incubator.vector to the JVM for the vector kernels");
            return false;
        }
        try {
            return VectorNormKernels.INSTANCE != null && VectorDenseKernels.INSTANCE != null;
        } catch (LinkageError e) { // module present but unusable on this platform
            System.err.println("bn4j: vector kernels failed to load (" + e + "), using the scalar kernels");
            return false;
        }
    }
}
