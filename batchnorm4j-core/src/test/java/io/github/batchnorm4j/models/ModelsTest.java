package io.github.batchnorm4j.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.tensor.Tensor;
import io.github.batchnorm4j.train.TrainedModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Models.save then Models.load gives the same model: the same state and, in eval mode, the same outputs bit for bit. */
class ModelsTest {
    private static final Map<String, Object> VARIABLES = Map.of("classes", 5L, "width", 6L, "norm", "bn",
            "activation", "relu");

    private static Tensor data(int n, int[] item, long seed) {
        int size = 1;
        for (int d : item) {
            size *= d;
        }
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n * size];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextGaussian() * 1.5 + 0.3);
        }
        int[] shape = new int[item.length + 1];
        shape[0] = n;
        System.arraycopy(item, 0, shape, 1, item.length);
        return Tensor.of(v, shape);
    }

    /** A few training-mode forwards move the running statistics away from their initial values. */
    private static void exercise(Module m, int[] item) {
        m.train();
        for (int k = 0; k < 3; k++) {
            m.forward(data(8, item, 100 + k));
        }
    }

    private void roundTrip(ModelBuilder.Built built, Path dir, boolean asFolder) throws IOException {
        int[] item = built.input();
        exercise(built.model(), item);
        Path file = dir.resolve("model.safetensors");
        Models.save(asFolder ? dir : file, built, 0.25f, 2f);
        assertTrue(Files.isRegularFile(file));
        TrainedModel back = Models.load(asFolder ? dir : file);
        assertFalse(back.model().isTraining());
        assertArrayEquals(item, back.input());
        assertEquals(0.25f, back.mean());
        assertEquals(2f, back.std());
        Map<String, Tensor> before = built.model().namedBuffers();
        Map<String, Tensor> after = back.model().namedBuffers();
        assertEquals(before.keySet(), after.keySet());
        before.forEach((k, t) -> assertArrayEquals(t.copy().data(), after.get(k).copy().data(), k));
        built.model().namedParameters().forEach((k, p) -> assertArrayEquals(p.value().copy().data(),
                back.model().namedParameters().get(k).value().copy().data(), k));
        built.model().eval();
        Tensor x = data(4, item, 7);
        float[] expected = built.model().forward(x).copy().data();
        float[] got = back.model().forward(x).copy().data();
        assertArrayEquals(expected, got);
    }

    @Test
    void aBuiltInMlpRoundTrips(@TempDir Path dir) throws IOException {
        roundTrip(ModelFile.builtin("mlp").withVariables(VARIABLES).build(new ModelBuilder.Options(new int[] {12}, 5,
                new SplittableRandom(3))), dir, false);
    }

    @Test
    void aBuiltInCnnRoundTripsIntoAFolder(@TempDir Path dir) throws IOException {
        roundTrip(ModelFile.builtin("cnn").withVariables(VARIABLES).build(new ModelBuilder.Options(new int[] {1, 8, 8},
                5, new SplittableRandom(4))), dir, true);
    }

    @Test
    void aModelFileModelRoundTrips(@TempDir Path dir) throws IOException {
        String json = "{\"name\": \"mine\", \"input\": [2, 6, 6], \"layers\": [{\"type\": \"conv2d\", \"out\": 3,"
                + " \"kernel\": 3, \"padding\": 1}, {\"type\": \"group_norm\", \"groups\": 3}, {\"type\": \"relu\"},"
                + " {\"type\": \"basic_block\", \"out\": 4, \"stride\": 2}, {\"type\": \"global_avg_pool2d\"},"
                + " {\"type\": \"linear\", \"out\": 7}, {\"type\": \"batch_norm\", \"momentum\": null},"
                + " {\"type\": \"linear\", \"out\": 3}]}";
        ModelBuilder.Built b = ModelFile.parse(json, "mine.json").build(new ModelBuilder.Options(null, 3,
                new SplittableRandom(5)));
        roundTrip(b, dir, false);
        assertEquals("mine", Models.load(dir).description());
    }

    @Test
    void badNormalisationIsRefused(@TempDir Path dir) {
        ModelBuilder.Built b = ModelFile.builtin("mlp").withVariables(VARIABLES).build(new ModelBuilder.Options(
                new int[] {4}, 5, new SplittableRandom(3)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Models.save(dir.resolve("m.safetensors"), b, 0f, 0f));
        assertEquals("Expected a finite mean and a positive std, got 0.0 and 0.0", e.getMessage());
        assertFalse(Files.exists(dir.resolve("m.safetensors")));
    }
}
