package io.github.batchnorm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.batchnorm4j.data.DataLocator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped example model file examples/models/keras-example.json (Dense(64) → BN → ReLU → Dense(10)) trained as
 * the Keras example does (Adam, lr 0.001, batch 32, one epoch, no weight decay, constant rate) on Fashion-MNIST
 * reaches at least 0.83 test accuracy (PyTorch 1.13 with the same model and settings: 0.849–0.853 over 3 seeds).
 */
class KerasExampleTest {
    @TempDir
    Path dir;

    @Test
    void theKerasExampleReachesItsAccuracyInOneEpoch() {
        assumeTrue(Files.isRegularFile(DataLocator.DEBIAN_FASHION_MNIST.resolve("train-images-idx3-ubyte.gz")),
                "Debian's dataset-fashion-mnist is not installed here (.ci/run installs it)");
        Path model = Path.of("..", "examples", "models", "keras-example.json");
        TrainCommandTest.Run r = TrainCommandTest.run("train", "--model-file", model.toString(), "--data",
                DataLocator.DEBIAN_FASHION_MNIST.toString(), "--optimizer", "adam", "--batch-size", "32", "--epochs",
                "1", "--weight-decay", "0", "--schedule", "constant", "--warmup-steps", "0", "--no-progress",
                "--out", dir.resolve("keras").toString());
        assertEquals(0, r.code(), r.err());
        Matcher m = Pattern.compile("test accuracy ([0-9.]+)").matcher(r.out());
        assertTrue(m.find(), r.out());
        assertTrue(Double.parseDouble(m.group(1)) >= 0.83, r.out());
        assertTrue(r.err().contains("0 (linear)       (N, 64)         50,176   no bias: batch_norm follows"), r.err());
    }
}
