package io.github.batchnorm4j.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.nn.Linear;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.nn.norm.GroupNorm;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ModelFileTest {
    static final String KERAS = "{\"name\": \"keras-example\", \"input\": [784], \"layers\": [{\"type\": \"linear\","
            + " \"out\": 64}, {\"type\": \"batch_norm\"}, {\"type\": \"relu\"}, {\"type\": \"linear\", \"out\": 10}]}";
    static final String CNN = "{\"input\": [1, 28, 28], \"layers\": [{\"type\": \"conv2d\", \"out\": 16, \"kernel\": 3,"
            + " \"padding\": 1}, {\"type\": \"batch_norm\"}, {\"type\": \"relu\"}, {\"type\": \"max_pool2d\", \"kernel\": 2},"
            + " {\"type\": \"flatten\"}, {\"type\": \"dropout\", \"p\": 0.2}, {\"type\": \"linear\", \"out\": 10}]}";

    static ModelBuilder.Built build(String json) {
        return ModelFile.parse(json, "m.json").build(new ModelBuilder.Options(null, 10, new SplittableRandom(1)));
    }

    static String error(String json) {
        return assertThrows(IllegalArgumentException.class, () -> build(json)).getMessage();
    }

    @Test
    void kerasExampleBuildsWithoutTheRedundantBiasAndPrintsItsSummary() {
        ModelBuilder.Built b = build(KERAS);
        assertEquals(List.of("0.weight", "1.weight", "1.bias", "3.weight", "3.bias"),
                List.copyOf(b.model().namedParameters().keySet()));
        // 784*64 weights (no bias before BN) + 2*64 gamma/beta + 64*10 + 10
        assertEquals(784 * 64 + 2 * 64 + 64 * 10 + 10, b.parameters());
        assertEquals("""
                Model "keras-example", input (N, 784)
                ---------------------------------------
                Layer (type)     Output shape   Param #
                ---------------------------------------
                0 (linear)       (N, 64)         50,176   no bias: batch_norm follows
                1 (batch_norm)   (N, 64)            128
                2 (relu)         (N, 64)              0
                3 (linear)       (N, 10)            650
                ---------------------------------------
                Trainable params: 50,954
                Non-trainable values (running statistics, frozen values): 128
                """, b.summary());
        Tensor y = b.model().forward(Tensor.full(0.5f, 3, 784));
        assertArrayEquals(new int[] {3, 10}, y.shape());
    }

    @Test
    void convolutionalExampleInfersEveryShape() {
        ModelBuilder.Built b = build(CNN);
        List<int[]> shapes = b.rows().stream().map(ModelBuilder.Row::output).toList();
        int[][] want = {{16, 28, 28}, {16, 28, 28}, {16, 28, 28}, {16, 14, 14}, {16 * 14 * 14}, {16 * 14 * 14}, {10}};
        for (int i = 0; i < want.length; i++) {
            assertArrayEquals(want[i], shapes.get(i), "layer " + i);
        }
        assertEquals(List.of(144L, 32L, 0L, 0L, 0L, 0L, 3136L * 10 + 10),
                b.rows().stream().map(ModelBuilder.Row::parameters).toList());
        Module m = b.model();
        Tensor y = m.forward(Tensor.full(0.1f, 2, 1, 28, 28));
        assertArrayEquals(new int[] {2, 10}, y.shape());
        assertEquals(null, m.backward(Tensor.full(1f, 2, 10)), "no gradient for the data");
    }

    @Test
    void everyLayerTypeBuildsTrainsAndRoundTripsThroughJson() {
        String json = "{\"input\": [3, 8, 8], \"layers\": ["
                + "{\"type\": \"conv2d\", \"out\": 8, \"kernel\": 3, \"padding\": 1, \"bias\": true},"
                + "{\"type\": \"group_norm\", \"groups\": 4}, {\"type\": \"tanh\"},"
                + "{\"type\": \"conv2d\", \"out\": 8, \"kernel\": 3, \"stride\": 1, \"padding\": 1},"
                + "{\"type\": \"instance_norm\", \"affine\": true}, {\"type\": \"sigmoid\"},"
                + "{\"type\": \"basic_block\", \"out\": 8, \"norm\": \"gn\"},"
                + "{\"type\": \"basic_block\", \"out\": 16, \"stride\": 2},"
                + "{\"type\": \"batch_renorm\", \"rmax\": \"3:10:20\", \"dmax\": 5, \"running_sigma\": \"sigma\"},"
                + "{\"type\": \"ghost_batch_norm\", \"virtual_batch\": 2, \"momentum\": null},"
                + "{\"type\": \"norm\", \"kind\": \"ln\"}, {\"type\": \"activation\", \"kind\": \"relu\"},"
                + "{\"type\": \"avg_pool2d\", \"kernel\": 2}, {\"type\": \"identity\"},"
                + "{\"type\": \"max_pool2d\", \"kernel\": 2, \"stride\": 1},"
                + "{\"type\": \"global_avg_pool2d\"}, {\"type\": \"layer_norm\", \"eps\": 0.001},"
                + "{\"type\": \"frozen_batch_norm\"}, {\"type\": \"dropout\"},"
                + "{\"type\": \"linear\", \"out\": 5}, {\"type\": \"batch_norm\", \"momentum\": 0.5},"
                + "{\"type\": \"linear\", \"out\": 3}]}";
        ModelBuilder.Built b = ModelFile.parse(json, "all.json").build(new ModelBuilder.Options(null, 3,
                new SplittableRandom(2)));
        assertEquals(22, b.model().size());
        assertTrue(b.model().get(10) instanceof GroupNorm, "kind ln on [C, H, W] is GroupNorm(1, C)");
        assertEquals(0.5, ((BatchNorm) b.model().get(20)).options().momentum());
        assertEquals(List.of(16, 2, 2), java.util.Arrays.stream(b.rows().get(12).output()).boxed().toList());
        Tensor x = Tensor.full(0.3f, 4, 3, 8, 8);
        for (int k = 0; k < x.numel(); k++) {
            x.data()[k] = (float) Math.sin(k);
        }
        Tensor y = b.model().forward(x);
        assertArrayEquals(new int[] {4, 3}, y.shape());
        b.model().backward(Tensor.full(1f, 4, 3));
        // The stored JSON rebuilds the same state keys and shapes.
        ModelBuilder.Built again = ModelFile.parse(b.file().toJson(), "stored").build(new ModelBuilder.Options(null,
                3, new SplittableRandom(9)));
        assertEquals(b.model().namedParameters().keySet(), again.model().namedParameters().keySet());
        assertEquals(b.model().namedBuffers().keySet(), again.model().namedBuffers().keySet());
    }

    @Test
    void theInputComesFromTheDataWhenTheFileHasNone() {
        ModelBuilder.Built b = ModelFile.parse("{\"layers\": [{\"type\": \"flatten\"}, {\"type\": \"linear\", \"out\":"
                + " \"${classes}\"}]}", "m.json").withVariables(java.util.Map.of("classes", 4L))
                .build(new ModelBuilder.Options(new int[] {2, 3, 3}, 4, new SplittableRandom(1)));
        assertArrayEquals(new int[] {2, 3, 3}, b.input());
        assertEquals(4, ((Linear) b.model().get(1)).outFeatures());
        assertEquals("{\"layers\": [{\"type\": \"flatten\"}, {\"type\": \"linear\", \"out\": 4}], \"input\": [2, 3, 3]}",
                b.file().toJson());
    }

    @ParameterizedTest
    @ValueSource(strings = {"mlp", "cnn", "resnet"})
    void builtInModelsAreModelFilesWithTheFactorysKeys(String model) {
        ModelSpec spec = new ModelSpec(model, "bn", "relu", 4, new int[] {1, 8, 8}, 3);
        ModelBuilder.Built b = ModelFactory.modelFile(spec).build(new ModelBuilder.Options(null, 3,
                new SplittableRandom(3)));
        assertEquals(ModelFactory.build(spec, new SplittableRandom(3)).namedParameters().keySet(),
                b.model().namedParameters().keySet());
        assertEquals(model, b.file().name());
    }

    @Test
    void faultsNameTheJsonPathAndWhatWasExpected() {
        assertEquals("m.json: expected valid JSON, got expected ':' at line 2, column 11",
                assertThrows(IllegalArgumentException.class, () -> ModelFile.parse("{\"layers\": [\n  {\"type\" \"relu\"}]}",
                        "m.json")).getMessage());
        assertEquals("m.json: $.layers: expected a list of layers, got {\"type\": \"relu\"}",
                error("{\"layers\": {\"type\": \"relu\"}}"));
        assertEquals("m.json: $.lyaers: unexpected field (a model file has input, layers, name)",
                error("{\"lyaers\": []}"));
        assertEquals("m.json: $.layers[1].type: expected a layer type (linear, conv2d, batch_norm, batch_renorm,"
                + " ghost_batch_norm, frozen_batch_norm, layer_norm, group_norm, instance_norm, norm, relu, sigmoid,"
                + " tanh, activation, max_pool2d, avg_pool2d, global_avg_pool2d, flatten, dropout, identity,"
                + " basic_block), got \"batchnorm\"",
                error("{\"input\": [4], \"layers\": [{\"type\": \"linear\", \"out\": 4}, {\"type\": \"batchnorm\"}]}"));
        assertEquals("m.json: $.layers[0]: expected field \"out\" for linear, got none",
                error("{\"input\": [4], \"layers\": [{\"type\": \"linear\"}]}"));
        assertEquals("m.json: $.layers[0].out: expected an integer in [1, 16777216], got -3",
                error("{\"input\": [4], \"layers\": [{\"type\": \"linear\", \"out\": -3}]}"));
        assertEquals("m.json: $.layers[0].kernal: unexpected field for conv2d (it takes out, kernel, stride, padding,"
                + " bias)", error("{\"input\": [1, 8, 8], \"layers\": [{\"type\": \"conv2d\", \"out\": 2, \"kernal\": 3}]}"));
        assertEquals("m.json: $.layers[0]: linear expects a 1-D input [features] (add {\"type\": \"flatten\"} before"
                + " it), got [1, 28, 28]", error("{\"input\": [1, 28, 28], \"layers\": [{\"type\": \"linear\", \"out\":"
                + " 10}]}"));
        assertEquals("m.json: $.layers[1].groups: expected a divisor of the 6 channels, got 4",
                error("{\"input\": [1, 8, 8], \"layers\": [{\"type\": \"conv2d\", \"out\": 6, \"kernel\": 3},"
                        + " {\"type\": \"group_norm\", \"groups\": 4}]}"));
        assertEquals("m.json: $.layers[0]: max_pool2d leaves no output for its input [1, 2, 2] (the window is larger"
                + " than the padded input)", error("{\"input\": [1, 2, 2], \"layers\": [{\"type\": \"max_pool2d\","
                + " \"kernel\": 3}]}"));
        assertEquals("m.json: $.layers: expected the last layer to output class scores [classes], got [2, 8, 8] (end"
                + " with flatten and linear)", error("{\"input\": [1, 8, 8], \"layers\": [{\"type\": \"conv2d\", \"out\":"
                + " 2, \"kernel\": 1}]}"));
        assertEquals("m.json: $.layers[0]: expected at least 10 outputs (the data's classes), got 3",
                error("{\"input\": [4], \"layers\": [{\"type\": \"linear\", \"out\": 3}]}"));
        assertEquals("m.json: $.input[1]: expected a positive integer, got 0",
                error("{\"input\": [1, 0, 8], \"layers\": [{\"type\": \"relu\"}]}"));
        assertEquals("m.json: $.layers[0].p: expected a number in [0.0, 1.0], got 1.5",
                error("{\"input\": [4], \"layers\": [{\"type\": \"dropout\", \"p\": 1.5}, {\"type\": \"linear\","
                        + " \"out\": 10}]}"));
        assertEquals("m.json: $.layers[1].kind: expected one of bn, brn, ghost, ln, gn, in, none, got \"bm\"",
                error("{\"input\": [4], \"layers\": [{\"type\": \"linear\", \"out\": 10}, {\"type\": \"norm\", \"kind\":"
                        + " \"bm\"}]}"));
        assertEquals("m.json: $.layers[0].out: expected a variable with a value [classes], got ${width}",
                assertThrows(IllegalArgumentException.class, () -> ModelFile.parse("{\"input\": [4], \"layers\":"
                        + " [{\"type\": \"linear\", \"out\": \"${width}\"}]}", "m.json")
                        .withVariables(java.util.Map.of("classes", 10L))).getMessage());
    }
}
