package io.github.batchnorm4j.nn.norm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.batchnorm4j.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Every rejection of the normalization modules and their options, with its whole message. */
class NormLayerErrorsTest {

    private static void assertRejected(String message, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertEquals(message, e.getMessage());
    }

    @Test
    void optionsRejectBadEpsAndMomentum() {
        assertRejected("Expected a finite eps > 0, got eps=0.0", () -> new NormOptions(0, 0.1, true, true));
        assertRejected("Expected a finite eps > 0, got eps=NaN", () -> NormOptions.BATCH_NORM.withEps(Double.NaN));
        assertRejected("Expected a finite eps > 0, got eps=-1.0", () -> NormOptions.BATCH_NORM.withEps(-1));
        assertRejected("Expected momentum in [0, 1] or null, got momentum=1.01",
                () -> NormOptions.BATCH_NORM.withMomentum(1.01));
        assertRejected("Expected momentum in [0, 1] or null, got momentum=-0.5",
                () -> new NormOptions(1e-5, -0.5, true, true));
        assertRejected("Expected momentum in [0, 1] or null, got momentum=NaN",
                () -> NormOptions.BATCH_NORM.withMomentum(Double.NaN));
    }

    @Test
    void batchNormRejectsTrainingWithOneValuePerChannel() {
        BatchNorm bn = new BatchNorm(3);
        assertRejected("Expected more than 1 value per channel when training, got input size [1, 3]",
                () -> bn.forward(Tensor.zeros(1, 3)));
        // Eval without running statistics normalises with the batch, so it needs more than one value too.
        BatchNorm untracked = new BatchNorm(3, NormOptions.BATCH_NORM.withTrackRunningStats(false));
        untracked.eval();
        assertRejected("Expected more than 1 value per channel when training, got input size [1, 3, 1]",
                () -> untracked.forward(Tensor.zeros(1, 3, 1)));
    }

    @Test
    void batchNormRejectsWrongRankAndChannels() {
        BatchNorm bn = new BatchNorm(3);
        assertRejected("Expected 2-D to 5-D input [N, C, ...], got 1-D input of shape [3]",
                () -> bn.forward(Tensor.zeros(3)));
        assertRejected("Expected 2-D to 5-D input [N, C, ...], got 6-D input of shape [2, 3, 1, 1, 1, 1]",
                () -> bn.forward(Tensor.zeros(2, 3, 1, 1, 1, 1)));
        assertRejected("Expected input with 3 channels (dimension 1), got input of shape [2, 4, 5]",
                () -> bn.forward(Tensor.zeros(2, 4, 5)));
        assertRejected("Expected num_features > 0, got num_features=0", () -> new BatchNorm(0));
    }

    @Test
    void instanceNormRejectsWrongRankChannelsAndOneSpatialElement() {
        InstanceNorm in = new InstanceNorm(3);
        assertRejected("Expected 3-D to 5-D input [N, C, L], [N, C, H, W] or [N, C, D, H, W], got 2-D input of"
                + " shape [2, 3]", () -> in.forward(Tensor.zeros(2, 3)));
        assertRejected("Expected input with 3 channels (dimension 1), got input of shape [2, 5, 4]",
                () -> in.forward(Tensor.zeros(2, 5, 4)));
        assertRejected("Expected more than 1 spatial element when training, got input size [2, 3, 1, 1]",
                () -> in.forward(Tensor.zeros(2, 3, 1, 1)));
        assertRejected("Expected num_features > 0, got num_features=-1", () -> new InstanceNorm(-1));
    }

    @Test
    void groupNormRejectsChannelsNotDivisibleByGroupsAndWrongInput() {
        assertRejected("Expected num_channels divisible by num_groups, got num_channels=6, num_groups=4",
                () -> new GroupNorm(4, 6));
        assertRejected("Expected num_groups > 0, got num_groups=0", () -> new GroupNorm(0, 6));
        assertRejected("Expected a finite eps > 0, got eps=0.0", () -> new GroupNorm(2, 6, 0, true));
        GroupNorm gn = new GroupNorm(2, 6);
        assertRejected("Expected input with 6 channels (dimension 1), got input of shape [2, 4, 3]",
                () -> gn.forward(Tensor.zeros(2, 4, 3)));
        assertRejected("Expected 2-D to 5-D input [N, C, ...], got 1-D input of shape [6]",
                () -> gn.forward(Tensor.zeros(6)));
    }

    @Test
    void layerNormRejectsShapeMismatchAndBadShape() {
        LayerNorm ln = new LayerNorm(4, 5);
        assertRejected("Expected input with shape [*, 4, 5] (normalized_shape=[4, 5]), got input of shape [2, 5, 4]",
                () -> ln.forward(Tensor.zeros(2, 5, 4)));
        assertRejected("Expected a non-empty normalized_shape, got []", () -> new LayerNorm());
        assertRejected("Expected a non-empty normalized_shape, got [3, 0]", () -> new LayerNorm(3, 0));
        assertRejected("Expected a finite eps > 0, got eps=Infinity",
                () -> new LayerNorm(new int[] {4}, Double.POSITIVE_INFINITY, true));
    }

    @Test
    void backwardRejectsGradientOfAnotherShapeAndBackwardBeforeForward() {
        BatchNorm bn = new BatchNorm(3);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> bn.backward(Tensor.zeros(2, 3)));
        assertEquals("backward called before forward on BatchNorm", e.getMessage());
        bn.forward(Tensor.zeros(2, 3, 4));
        assertRejected("Expected gradient of shape [2, 3, 4], got [2, 3]", () -> bn.backward(Tensor.zeros(2, 3)));
    }
}
