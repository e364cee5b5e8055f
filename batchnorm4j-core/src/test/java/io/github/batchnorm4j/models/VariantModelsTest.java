package io.github.batchnorm4j.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.diag.Diagnostics;
import io.github.batchnorm4j.diag.WarningSink;
import io.github.batchnorm4j.nn.BasicBlock;
import io.github.batchnorm4j.nn.Conv2d;
import io.github.batchnorm4j.nn.GlobalAvgPool2d;
import io.github.batchnorm4j.nn.Linear;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.ReLU;
import io.github.batchnorm4j.nn.Sequential;
import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.nn.norm.BatchRenorm;
import io.github.batchnorm4j.nn.norm.FrozenBatchNorm;
import io.github.batchnorm4j.nn.norm.GhostBatchNorm;
import io.github.batchnorm4j.tensor.Tensor;
import io.github.batchnorm4j.train.TrainerCallback;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The variants inside the real models, including the ResNet's BasicBlocks. */
class VariantModelsTest {

    static Tensor input(int n) {
        Tensor x = Tensor.zeros(n, 1, 8, 8);
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < x.numel(); i++) {
            x.data()[i] = (float) r.nextDouble(-1, 1);
        }
        return x;
    }

    static List<Module> all(Module m, Class<?> type) {
        List<Module> out = new ArrayList<>();
        for (Module c : m.children().values()) {
            if (type.isInstance(c)) {
                out.add(c);
            }
            out.addAll(all(c, type));
        }
        return out;
    }

    /** A small ResNet as ModelFactory's: stem conv-BN-ReLU, three BasicBlocks (two downsampling), pool, head. */
    static Module resnet() {
        SplittableRandom rng = new SplittableRandom(2);
        java.util.function.IntFunction<Module> bn = BatchNorm::new;
        return new Sequential(new Conv2d(1, 4, 3, 1, 1, false, rng), new BatchNorm(4), new ReLU(),
                new BasicBlock(4, 4, 1, bn, rng), new BasicBlock(4, 8, 2, bn, rng), new BasicBlock(8, 16, 2, bn, rng),
                new GlobalAvgPool2d(), new Linear(16, 10, true, rng));
    }

    @Test
    void normNamesBuildTheVariants() {
        ModelSpec brn = new ModelSpec("mlp", "brn", "relu", 4, new int[] {1, 8, 8}, 10);
        ModelSpec ghost = new ModelSpec("mlp", "ghost", "sigmoid", 4, new int[] {1, 8, 8}, 10);
        assertEquals(3, all(ModelFactory.build(brn, new SplittableRandom(1)), BatchRenorm.class).size());
        assertEquals(3, all(ModelFactory.build(ghost, new SplittableRandom(1)), GhostBatchNorm.class).size());
        ModelSpec resnet = new ModelSpec("resnet", "brn", "relu", 4, new int[] {1, 8, 8}, 10);
        assertEquals(9, all(ModelFactory.build(resnet, new SplittableRandom(1)), BatchRenorm.class).size());
        ModelSpec cnn = new ModelSpec("cnn", "ghost", "relu", 4, new int[] {1, 8, 8}, 10);
        assertEquals(4, all(ModelFactory.build(cnn, new SplittableRandom(1)), GhostBatchNorm.class).size());
    }

    @Test
    void freezingAResNetReplacesBlockNormsAndMatchesItsEvalOutput() {
        Module net = resnet();
        net.forward(input(6)); // move the running statistics away from their initial values
        net.eval();
        float[] expected = net.forward(input(5)).data().clone();
        Map<String, Tensor> before = net.namedBuffers();
        FrozenBatchNorm.freezeBatchNorm(net);
        assertEquals(0, all(net, BatchNorm.class).size());
        assertEquals(9, all(net, FrozenBatchNorm.class).size(), "stem, 2 in each of 3 blocks, 2 downsample norms");
        assertEquals(before.keySet(), net.namedBuffers().keySet().stream()
                .filter(k -> !k.endsWith(".weight") && !k.endsWith(".bias")).collect(
                        java.util.stream.Collectors.toCollection(java.util.LinkedHashSet::new)));
        net.train();
        assertArrayEquals(expected, net.forward(input(5)).data(), 0f);
    }

    @Test
    void diagnosticsProbeBlockNormsAndLeaveTheModelAsItWas() {
        Module net = resnet();
        List<String> names = List.copyOf(net.namedBuffers().keySet());
        List<String> out = new ArrayList<>();
        List<TrainerCallback> diag = Diagnostics.defaults(new WarningSink(out::add));
        Tensor x = input(2);
        for (TrainerCallback c : diag) {
            c.beforeTrainStep(net, 0, x);
        }
        Tensor y = net.forward(x);
        net.backward(Tensor.full(0.1f, y.shape()));
        for (TrainerCallback c : diag) {
            c.afterTrainStep(net, 0, 1.0);
        }
        assertEquals(names, List.copyOf(net.namedBuffers().keySet()));
        // Batch 2 at 2x2 spatial in the last block: 8 values per channel.
        assertTrue(out.stream().anyMatch(m -> m.contains("; BatchNorm '5.bn2' from 2 samples (batch 2 x spatial 4 = 8"
                + " values per channel)")), String.join("\n", out));
    }
}
