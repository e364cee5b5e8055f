package io.github.batchnorm4j.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ModelSpecTest {
    @Test
    void rejectsUnknownNamesWithTheChoices() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ModelSpec.of("vgg", "bn", "relu"));
        assertEquals("Expected model one of mlp|cnn|resnet, got vgg", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ModelSpec.of("mlp", "batch", "relu"));
        assertEquals("Expected norm one of bn|none|ln|gn, got batch", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ModelSpec.of("resnet", "bn", "sigmoid"));
        assertEquals("Expected activation relu for resnet (its blocks use ReLU), got sigmoid", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new ModelSpec("cnn", "bn", "relu", 4, new int[] {1, 10, 10}, 10));
        assertEquals("Expected an input height and width divisible by 4 for the cnn's two 2x2 pools, got 10x10",
                e.getMessage());
    }

    @Test
    void metadataRoundTrips() {
        ModelSpec s = new ModelSpec("cnn", "gn", "sigmoid", 8, new int[] {3, 16, 12}, 7);
        assertEquals(s, ModelSpec.fromMetadata(s.toMetadata()));
    }

    @Test
    void defaultModelsHaveTheBenchmarkShapes() {
        // The CNN head is Linear(3136 -> 10) on 28x28 input, the MLP 784-100-100-100-10.
        Module cnn = ModelFactory.build(ModelSpec.of("cnn", "bn", "relu"), new SplittableRandom(0));
        assertEquals(3136, cnn.namedParameters().get("15.weight").value().dim(1));
        Module mlp = ModelFactory.build(ModelSpec.of("mlp", "bn", "sigmoid"), new SplittableRandom(0));
        assertEquals(784, mlp.namedParameters().get("1.weight").value().dim(1));
        assertEquals(10, mlp.namedParameters().get("10.weight").value().dim(0));
        Tensor out = mlp.forward(Tensor.zeros(2, 1, 28, 28));
        assertEquals(2, out.dim(0));
        assertEquals(10, out.dim(1));
    }
}
