package io.github.batchnorm4j.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class KernelsSelectionTest {
    @Test
    void vectorKernelsByDefaultWhenTheModuleIsPresent() {
        // Surefire passes --add-modules jdk.incubator.vector, as the launcher does.
        assertTrue(Kernels.vectorModulePresent());
        assertSame(VectorNormKernels.INSTANCE, Kernels.select(null, true));
        assertSame(VectorNormKernels.INSTANCE, Kernels.select("vector", true));
        if (System.getProperty(Kernels.PROPERTY) == null) {
            assertSame(VectorNormKernels.INSTANCE, Kernels.norm());
            assertSame(VectorDenseKernels.INSTANCE, Kernels.dense()); // one choice for every kernel family
        }
    }

    @Test
    void scalarWhenForcedOrUnavailable() {
        assertSame(ScalarNormKernels.INSTANCE, Kernels.select("scalar", true));
        assertSame(ScalarNormKernels.INSTANCE, Kernels.select(null, false));
        assertSame(ScalarNormKernels.INSTANCE, Kernels.select("vector", false));
    }

    @Test
    void unknownValueIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Kernels.select("simd", true));
        assertEquals("Expected -Dbn4j.kernels=scalar or vector, got simd", e.getMessage());
    }
}
