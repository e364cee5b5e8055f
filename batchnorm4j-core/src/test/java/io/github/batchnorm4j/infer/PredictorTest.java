package io.github.batchnorm4j.infer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.models.ModelFactory;
import io.github.batchnorm4j.models.ModelSpec;
import io.github.batchnorm4j.models.Models;
import io.github.batchnorm4j.models.ModelBuilder;
import io.github.batchnorm4j.models.ModelFile;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The serving plan equals the eval-mode model within 1e-5 relative (BN folded, Conv2d + ReLU fused, residual
 * blocks planned), returns tensors the caller owns and leaves model and input as they were.
 */
class PredictorTest {
    private static final double TOL = 1e-5;

    private static void checkAgainstEval(Module model, Tensor... inputs) {
        model.eval();
        Predictor p = Predictor.of(model);
        for (Tensor x : inputs) {
            float[] before = x.toContiguousArray();
            Tensor expected = model.forward(x).copy();
            Tensor got = p.predict(x);
            assertArrayEquals(expected.shape(), got.shape());
            double err = TestModels.relativeError(got, expected);
            assertTrue(err <= TOL, "relative error " + err + " for input " + x.shapeString());
            assertArrayEquals(before, x.toContiguousArray(), "the input was modified");
        }
    }

    @Test
    void testModelsAtSeveralBatchSizes() {
        for (boolean bias : new boolean[] {true, false}) {
            for (boolean affine : new boolean[] {true, false}) {
                checkAgainstEval(TestModels.mlp(bias, affine, 3), TestModels.input(1, 1, 6), TestModels.input(2, 7, 6),
                        TestModels.input(3, 1, 6));
                checkAgainstEval(TestModels.cnn(bias, affine, 4), TestModels.input(4, 1, 3, 9, 9),
                        TestModels.input(5, 5, 3, 9, 9));
                checkAgainstEval(TestModels.resnet(bias, affine, 5), TestModels.input(6, 1, 3, 10, 10),
                        TestModels.input(7, 3, 3, 10, 10));
            }
        }
    }

    @Test
    void builtInModels() {
        for (String name : new String[] {"mlp", "cnn", "resnet"}) {
            ModelSpec spec = ModelSpec.of(name, "bn", "relu");
            Module m = TestModels.randomizeStatistics(ModelFactory.build(spec, new SplittableRandom(11)),
                    new SplittableRandom(12));
            int[] in = spec.input();
            checkAgainstEval(m, TestModels.input(13, 1, in[0], in[1], in[2]),
                    TestModels.input(14, 6, in[0], in[1], in[2]));
        }
    }

    @Test
    void resultsBelongToTheCallerAndTheModelIsUnchanged() {
        Module m = TestModels.cnn(true, true, 8).eval();
        float[] weightBefore = m.namedParameters().values().iterator().next().value().toContiguousArray();
        Predictor p = Predictor.of(m);
        Tensor a = p.predict(TestModels.input(1, 2, 3, 9, 9));
        float[] kept = a.toContiguousArray();
        Tensor b = p.predict(TestModels.input(2, 2, 3, 9, 9));
        assertNotSame(a, b);
        assertArrayEquals(kept, a.toContiguousArray(), "a later prediction changed an earlier result");
        assertArrayEquals(weightBefore, m.namedParameters().values().iterator().next().value().toContiguousArray());
        assertNotSame(m, p.model());
    }

    @Test
    void badInputNamesTheShape() {
        Predictor p = Predictor.of(TestModels.cnn(true, true, 9));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> p.predict(TestModels.input(1, 2, 4, 9, 9)));
        assertTrue(e.getMessage().contains("[2, 4, 9, 9]"), e.getMessage());
    }

    @Test
    void loadedModelsServeThroughTheirPredictor(@TempDir Path dir) throws Exception {
        Path json = Files.writeString(dir.resolve("m.json"), "{\"layers\": [{\"type\": \"conv2d\", \"out\": 4,"
                + " \"kernel\": 3, \"padding\": 1}, {\"type\": \"batch_norm\"}, {\"type\": \"relu\"},"
                + " {\"type\": \"flatten\"}, {\"type\": \"linear\", \"out\": 3}]}");
        ModelBuilder.Built built = ModelFile.read(json)
                .build(new ModelBuilder.Options(new int[] {1, 5, 5}, 3, new SplittableRandom(0)));
        TestModels.randomizeStatistics(built.model(), new SplittableRandom(1));
        Models.save(dir.resolve("model.safetensors"), built);
        var loaded = Models.load(dir);
        checkAgainstEval(loaded.model(), TestModels.input(3, 4, 1, 5, 5));
        Tensor x = TestModels.input(4, 2, 1, 5, 5);
        assertTrue(TestModels.relativeError(loaded.predictor().predict(x), loaded.model().forward(x)) <= TOL);
    }
}
