package io.github.batchnorm4j.functional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.batchnorm4j.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every rejection of the functional API, with its whole message. */
class FunctionalErrorsTest {
    private static final Tensor X = Tensor.zeros(2, 3, 4);
    private static final Tensor C3 = Tensor.zeros(3);
    private static final Tensor C4 = Tensor.zeros(4);

    static void assertRejected(String message, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertEquals(message, e.getMessage());
    }

    @Test
    void batchNormRejectsOneValuePerChannelWhenTraining() {
        assertRejected("Expected more than 1 value per channel when training, got input size [1, 3]",
                () -> Functional.batchNorm(Tensor.zeros(1, 3), C3, C3, null, null, true, 0.1, 1e-5));
        assertRejected("Expected more than 1 value per channel when training, got input size [1, 3, 1, 1]",
                () -> Functional.batchNorm(Tensor.zeros(1, 3, 1, 1), null, null, null, null, true, 0.1, 1e-5));
    }

    @Test
    void batchNormAcceptsOneValuePerChannelInEval() {
        Tensor y = Functional.batchNorm(Tensor.zeros(1, 3), C3, Tensor.full(1f, 3), null, null, false, 0.1, 1e-5)
                .output();
        assertEquals(3, y.numel());
    }

    @Test
    void batchNormRejectsWrongRank() {
        assertRejected("Expected 2-D to 5-D input [N, C, ...], got 1-D input of shape [3]",
                () -> Functional.batchNorm(Tensor.zeros(3), C3, C3, null, null, true, 0.1, 1e-5));
        assertRejected("Expected 2-D to 5-D input [N, C, ...], got 6-D input of shape [2, 3, 1, 1, 1, 2]",
                () -> Functional.batchNorm(Tensor.zeros(2, 3, 1, 1, 1, 2), C3, C3, null, null, true, 0.1, 1e-5));
    }

    @Test
    void batchNormRejectsChannelMismatchOfEveryPerChannelTensor() {
        assertRejected("Expected running_mean of shape [3] for input with 3 channels, got [4]",
                () -> Functional.batchNorm(X, C4, C3, null, null, true, 0.1, 1e-5));
        assertRejected("Expected running_var of shape [3] for input with 3 channels, got [4]",
                () -> Functional.batchNorm(X, C3, C4, null, null, true, 0.1, 1e-5));
        assertRejected("Expected weight of shape [3] for input with 3 channels, got [4]",
                () -> Functional.batchNorm(X, C3, C3, C4, C3, true, 0.1, 1e-5));
        assertRejected("Expected bias of shape [3] for input with 3 channels, got [3, 1]",
                () -> Functional.batchNorm(X, C3, C3, C3, Tensor.zeros(3, 1), true, 0.1, 1e-5));
    }

    @Test
    void batchNormRejectsHalfOfTheRunningBuffers() {
        assertRejected("Expected running_mean and running_var both given or both null, got only running_mean",
                () -> Functional.batchNorm(X, C3, null, null, null, true, 0.1, 1e-5));
        assertRejected("Expected running_mean and running_var both given or both null, got only running_var",
                () -> Functional.batchNorm(X, null, C3, null, null, true, 0.1, 1e-5));
    }

    @Test
    void batchNormRejectsEvalWithoutRunningBuffers() {
        assertRejected("Expected running_mean and running_var in evaluation mode (training=false), got null",
                () -> Functional.batchNorm(X, null, null, null, null, false, 0.1, 1e-5));
    }

    @ParameterizedTest(name = "eps={0}")
    @CsvSource({"0.0", "-1.0E-5", "NaN", "Infinity", "-Infinity"})
    void everyNormRejectsEpsNotPositiveAndFinite(double eps) {
        String message = "Expected a finite eps > 0, got eps=" + eps;
        assertRejected(message, () -> Functional.batchNorm(X, C3, C3, null, null, true, 0.1, eps));
        assertRejected(message, () -> Functional.instanceNorm(X, null, null, null, null, true, 0.1, eps));
        assertRejected(message, () -> Functional.groupNorm(X, 3, null, null, eps));
        assertRejected(message, () -> Functional.layerNorm(X, new int[] {4}, null, null, eps));
    }

    @ParameterizedTest(name = "momentum={0}")
    @CsvSource({"-0.1", "1.5", "NaN", "Infinity"})
    void batchAndInstanceNormRejectMomentumOutsideZeroOne(double momentum) {
        String message = "Expected momentum in [0, 1] or null, got momentum=" + momentum;
        assertRejected(message, () -> Functional.batchNorm(X, C3, C3, null, null, true, momentum, 1e-5));
        assertRejected(message, () -> Functional.instanceNorm(X, C3, C3, null, null, true, momentum, 1e-5));
    }

    @Test
    void groupNormRejectsChannelsNotDivisibleByGroups() {
        assertRejected("Expected num_channels divisible by num_groups, got num_channels=6, num_groups=4",
                () -> Functional.groupNorm(Tensor.zeros(2, 6, 5), 4, null, null, 1e-5));
        assertRejected("Expected num_groups > 0, got num_groups=0",
                () -> Functional.groupNorm(Tensor.zeros(2, 6, 5), 0, null, null, 1e-5));
        assertRejected("Expected num_groups > 0, got num_groups=-2",
                () -> Functional.groupNorm(Tensor.zeros(2, 6, 5), -2, null, null, 1e-5));
    }

    @Test
    void groupNormRejectsWrongRankAndAffineShape() {
        assertRejected("Expected 2-D to 5-D input [N, C, ...], got 1-D input of shape [6]",
                () -> Functional.groupNorm(Tensor.zeros(6), 2, null, null, 1e-5));
        assertRejected("Expected weight of shape [6] for input with 6 channels, got [3]",
                () -> Functional.groupNorm(Tensor.zeros(2, 6), 2, Tensor.zeros(3), null, 1e-5));
        assertRejected("Expected bias of shape [6] for input with 6 channels, got [2]",
                () -> Functional.groupNorm(Tensor.zeros(2, 6), 2, null, Tensor.zeros(2), 1e-5));
    }

    @Test
    void instanceNormRejectsWrongRankAndOneSpatialElementWhenTraining() {
        assertRejected("Expected 3-D to 5-D input [N, C, L], [N, C, H, W] or [N, C, D, H, W], got 2-D input of"
                        + " shape [2, 3]",
                () -> Functional.instanceNorm(Tensor.zeros(2, 3), null, null, null, null, true, 0.1, 1e-5));
        assertRejected("Expected more than 1 spatial element when training, got input size [2, 3, 1]",
                () -> Functional.instanceNorm(Tensor.zeros(2, 3, 1), null, null, null, null, true, 0.1, 1e-5));
    }

    @Test
    void instanceNormRejectsMissingOrMismatchedRunningBuffers() {
        assertRejected("Expected running_mean and running_var when not using input statistics, got null",
                () -> Functional.instanceNorm(X, null, null, null, null, false, 0.1, 1e-5));
        assertRejected("Expected running_mean and running_var both given or both null, got only running_mean",
                () -> Functional.instanceNorm(X, C3, null, null, null, true, 0.1, 1e-5));
        assertRejected("Expected running_var of shape [3] for input with 3 channels, got [4]",
                () -> Functional.instanceNorm(X, C3, C4, null, null, true, 0.1, 1e-5));
        assertRejected("Expected weight of shape [3] for input with 3 channels, got [4]",
                () -> Functional.instanceNorm(X, null, null, C4, null, true, 0.1, 1e-5));
    }

    @Test
    void layerNormRejectsShapeMismatch() {
        assertRejected("Expected input with shape [*, 4, 5] (normalized_shape=[4, 5]), got input of shape"
                        + " [2, 3, 5]",
                () -> Functional.layerNorm(Tensor.zeros(2, 3, 5), new int[] {4, 5}, null, null, 1e-5));
        assertRejected("Expected input with shape [*, 2, 3, 4] (normalized_shape=[2, 3, 4]), got input of shape"
                        + " [3, 4]",
                () -> Functional.layerNorm(Tensor.zeros(3, 4), new int[] {2, 3, 4}, null, null, 1e-5));
        assertRejected("Expected a non-empty normalized_shape, got []",
                () -> Functional.layerNorm(Tensor.zeros(3, 4), new int[0], null, null, 1e-5));
        assertRejected("Expected weight of shape [3, 4], got [4]",
                () -> Functional.layerNorm(Tensor.zeros(2, 3, 4), new int[] {3, 4}, Tensor.zeros(4), null, 1e-5));
        assertRejected("Expected bias of shape [3, 4], got [4, 3]",
                () -> Functional.layerNorm(Tensor.zeros(2, 3, 4), new int[] {3, 4}, null, Tensor.zeros(4, 3),
                        1e-5));
    }

    @Test
    void backwardRejectsGradientOfAnotherShape() {
        NormResult r = Functional.groupNorm(X, 3, null, null, 1e-5);
        assertRejected("Expected gradient of shape [2, 3, 4], got [2, 4, 3]",
                () -> Functional.normBackward(r.saved(), X, Tensor.zeros(2, 4, 3), null, false));
    }
}
