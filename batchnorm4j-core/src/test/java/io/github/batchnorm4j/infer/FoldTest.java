package io.github.batchnorm4j.infer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.nn.Conv2d;
import io.github.batchnorm4j.nn.Linear;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.Sequential;
import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Predicate;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class FoldTest {
    private static final double TOL = 1e-5;

    private static int count(Module m, Predicate<Module> p) {
        int n = p.test(m) ? 1 : 0;
        for (Module c : m.children().values()) {
            n += count(c, p);
        }
        return n;
    }

    private static Map<String, float[]> snapshot(Module m) {
        Map<String, float[]> s = new java.util.TreeMap<>();
        m.namedParameters().forEach((k, v) -> s.put(k, v.data().clone()));
        m.namedBuffers().forEach((k, v) -> s.put(k, v.data().clone()));
        return s;
    }

    private static void checkEquivalent(Module model, Tensor x, int affines) {
        model.eval();
        Map<String, float[]> before = snapshot(model);
        Tensor expected = model.forward(x).copy();
        Module folded = Fold.fold(model);
        Tensor actual = folded.forward(x);
        double err = TestModels.relativeError(actual, expected);
        assertTrue(err <= TOL, "relative error " + err);
        assertEquals(0, count(folded, m -> m instanceof BatchNorm), "no BatchNorm left");
        assertEquals(affines, count(folded, m -> m instanceof ChannelAffine), "BNs without a foldable predecessor");
        Map<String, float[]> after = snapshot(model);
        assertEquals(before.keySet(), after.keySet());
        before.forEach((k, v) -> assertArrayEquals(v, after.get(k), "original unchanged: " + k));
    }

    @ParameterizedTest(name = "bias={0} affine={1}")
    @CsvSource({"true,true", "true,false", "false,true", "false,false"})
    void mlpFoldsToSameOutputs(boolean bias, boolean affine) {
        checkEquivalent(TestModels.mlp(bias, affine, 11), TestModels.input(1, 9, 6), 1);
    }

    @ParameterizedTest(name = "bias={0} affine={1}")
    @CsvSource({"true,true", "true,false", "false,true", "false,false"})
    void cnnFoldsToSameOutputs(boolean bias, boolean affine) {
        checkEquivalent(TestModels.cnn(bias, affine, 12), TestModels.input(2, 4, 3, 9, 9), 0);
    }

    @ParameterizedTest(name = "bias={0} affine={1}")
    @CsvSource({"true,true", "true,false", "false,true", "false,false"})
    void residualNetFoldsToSameOutputs(boolean bias, boolean affine) {
        Sequential m = TestModels.resnet(bias, affine, 13);
        checkEquivalent(m, TestModels.input(3, 2, 3, 10, 10), 0);
        assertEquals(2, count(Fold.fold(m), x -> x instanceof Residual));
    }

    /** The formula itself on one Linear+BN, against a double-precision evaluation written out here. */
    @Test
    void linearBnFormula() {
        SplittableRandom r = new SplittableRandom(5);
        Linear lin = new Linear(3, 2, true, r);
        BatchNorm bn = TestModels.randomizeStatistics(new BatchNorm(2), r);
        Module folded = Fold.fold(new Sequential(lin, bn));
        Linear f = assertInstanceOf(Linear.class, ((Sequential) folded).get(0));
        assertEquals(1, ((Sequential) folded).size());
        for (int c = 0; c < 2; c++) {
            double s = bn.weight().data()[c] / Math.sqrt(bn.runningVar().data()[c] + 1e-5);
            for (int j = 0; j < 3; j++) {
                assertEquals((float) (lin.weight().data()[c * 3 + j] * s), f.weight().data()[c * 3 + j]);
            }
            double b = (lin.bias().data()[c] - bn.runningMean().data()[c]) * s + bn.bias().data()[c];
            assertEquals(b, f.bias().data()[c], 1e-7 * Math.max(1, Math.abs(b)));
        }
    }

    /** A conv without bias gains one; BN without running statistics is kept (it needs the batch). */
    @Test
    void convWithoutBiasGainsOneAndUntrackedBnIsKept() {
        SplittableRandom r = new SplittableRandom(6);
        BatchNorm untracked = new BatchNorm(3, TestModels.bnOptions(true).withTrackRunningStats(false));
        Sequential m = new Sequential(new Conv2d(2, 3, 3, 1, 0, false, r), new BatchNorm(3),
                new Conv2d(3, 3, 1, 1, 0, true, r), untracked);
        TestModels.randomizeStatistics(m, r);
        Sequential folded = (Sequential) Fold.fold(m);
        assertEquals(3, folded.size());
        assertTrue(((Conv2d) folded.get(0)).bias() != null);
        assertTrue(folded.get(2) == untracked);
        Tensor x = TestModels.input(4, 3, 2, 6, 6);
        m.eval();
        assertTrue(TestModels.relativeError(folded.forward(x).copy(), m.forward(x)) <= TOL);
        assertFalse(folded.isTraining());
    }
}
