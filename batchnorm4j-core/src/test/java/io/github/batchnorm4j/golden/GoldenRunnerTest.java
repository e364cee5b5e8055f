package io.github.batchnorm4j.golden;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.io.SafeTensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The comparison itself: a wrong expectation fails, errors become failures, tolerances are as specified. */
class GoldenRunnerTest {
    @TempDir
    Path dir;

    @Test
    void criterionScalesWithTheLargestExpectedMagnitude() {
        // max|E| = 2 -> y may be off by 2e-5, a gradient by 2e-4.
        float[] e = {2f, -0.5f};
        GoldenResult.Check ok = GoldenRunner.compare("y", e, new float[] {2f + 1.5e-5f, -0.5f});
        assertTrue(ok.passed());
        assertEquals(2e-5, ok.tolerance(), 1e-12);
        assertFalse(GoldenRunner.compare("y", e, new float[] {2f, -0.5f + 3e-5f}).passed());
        assertTrue(GoldenRunner.compare("grad_x", e, new float[] {2f, -0.5f + 1.5e-4f}).passed());
        // Below magnitude 1 the bound is absolute: 1e-5.
        assertEquals(1e-5, GoldenRunner.compare("running_var_after", new float[] {0.25f}, new float[] {0.25f})
                .tolerance(), 0);
    }

    @Test
    void nanCountsAsAnInfiniteError() {
        GoldenResult.Check c = GoldenRunner.compare("grad_weight", new float[] {1f, 2f}, new float[] {1f, Float.NaN});
        assertEquals(Double.POSITIVE_INFINITY, c.maxError());
        assertFalse(c.passed());
    }

    @Test
    void aPerturbedExpectationFailsOnThatTensor() throws IOException {
        GoldenCase good = GoldenCase.read(GoldenFiles.committed("bn2d_train"));
        float[] y = good.tensor("y").data().clone();
        double tol = GoldenRunner.VALUE_TOLERANCE * Math.max(1, maxAbs(y));
        y[17] += (float) (3 * tol);
        Path f = GoldenFiles.edited("bn2d_train", dir.resolve("wrong" + GoldenCase.SUFFIX), null,
                t -> t.put("y", SafeTensors.Entry.f32(y, good.tensor("y").shape())));
        GoldenResult r = GoldenRunner.run(GoldenCase.read(f));
        assertFalse(r.passed());
        assertEquals("y", r.worst().tensor());
        assertEquals(3, r.worst().ratio(), 0.1); // the implementation's own error is far below the tolerance
        assertTrue(r.line().startsWith("wrong "), r.line());
        assertTrue(r.line().endsWith("  FAIL"), r.line());
    }

    @Test
    void anExceptionFromTheImplementationIsAFailureNamingIt() throws IOException {
        // One sample of (N, C) in training: PyTorch refuses it, and so must we.
        Path f = GoldenFiles.edited("bn0d_train", dir.resolve("one" + GoldenCase.SUFFIX), null, t -> {
            for (String name : List.of("x", "grad_y", "y", "grad_x")) {
                t.put(name, SafeTensors.Entry.f32(Arrays.copyOf(t.get(name).toFloats(), 7), 1, 7));
            }
        });
        GoldenResult r = GoldenRunner.run(GoldenCase.read(f));
        assertFalse(r.passed());
        assertNull(r.worst());
        assertEquals("IllegalArgumentException: Expected more than 1 value per channel when training, got input"
                + " size [1, 7]", r.error());
    }

    @Test
    void passingLineReportsTheWorstTensor() throws IOException {
        GoldenResult r = GoldenRunner.run(GoldenCase.read(GoldenFiles.committed("bn2d_cl_train")));
        assertTrue(r.passed(), r.line());
        assertEquals(6, r.checks().size()); // y, grad_x, grad_weight, grad_bias, running_mean_after, running_var_after
        assertTrue(r.line().matches("bn2d_cl_train +worst \\S+ of tolerance \\((y|grad_\\w+|running_\\w+): "
                + "\\|A-E\\| \\S+, allowed \\S+\\)  pass"), r.line());
    }

    private static double maxAbs(float[] v) {
        double m = 0;
        for (float f : v) {
            m = Math.max(m, Math.abs(f));
        }
        return m;
    }
}
