package io.github.batchnorm4j.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.dist.LocalCommunicator;
import io.github.batchnorm4j.dist.ThreadCommunicator;
import io.github.batchnorm4j.loss.CrossEntropyLoss;
import io.github.batchnorm4j.models.ModelFactory;
import io.github.batchnorm4j.models.ModelSpec;
import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.nn.norm.BatchRenorm;
import io.github.batchnorm4j.nn.norm.GhostBatchNorm;
import io.github.batchnorm4j.nn.norm.SyncBatchNorm;
import io.github.batchnorm4j.optim.Sgd;
import io.github.batchnorm4j.tensor.MemoryFormat;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The fused BN + ReLU and BN + add + ReLU passes in the containers ({@link Sequential}, {@link BasicBlock}) against
 * the same models whose BatchNorm layers refuse to fuse, so that the containers run BN, the add and ReLU one by one:
 * outputs, parameter gradients, parameters after SGD steps and running statistics must be bit-identical, in training
 * and eval, with and without buffer reuse, NCHW and channels-last input. (The
 * gradients of the fused block itself are checked against central differences in BasicBlockTest.)
 */
class ReluFusionTest {

    /** BatchNorm that never fuses: the reference composition. */
    static final class Composed extends BatchNorm {
        Composed(int c) {
            super(c);
        }

        @Override
        public boolean fusesRelu() {
            return false;
        }
    }

    /** BatchNorm that counts its fused forwards (defines forward, forwardRelu and backward, so it still fuses). */
    static final class Counting extends BatchNorm {
        final int[] fused;

        Counting(int c, int[] fused) {
            super(c);
            this.fused = fused;
        }

        @Override
        public Tensor forward(Tensor x) {
            return super.forward(x);
        }

        @Override
        public Tensor forwardRelu(Tensor x, Tensor residual) {
            fused[0]++;
            return super.forwardRelu(x, residual);
        }

        @Override
        public Tensor backward(Tensor g) {
            return super.backward(g);
        }
    }

    @Test
    void whichLayersFuse() {
        assertTrue(new BatchNorm(3).fusesRelu());
        assertTrue(new SyncBatchNorm(3, LocalCommunicator.INSTANCE).fusesRelu(), "a group of one combines nothing");
        List<ThreadCommunicator> pair = ThreadCommunicator.group(2, java.time.Duration.ofSeconds(5));
        assertFalse(new SyncBatchNorm(3, pair.get(0)).fusesRelu(), "over two ranks its backward is split");
        BatchNorm converted = new BatchNorm(3);
        SyncBatchNorm.convert(converted, pair.get(1));
        assertFalse(converted.fusesRelu(), "synchronized in place");
        pair.forEach(ThreadCommunicator::close);
        assertTrue(new Counting(3, new int[1]).fusesRelu());
        assertFalse(new BatchRenorm(3).fusesRelu(), "its forward is its own");
        assertFalse(new GhostBatchNorm(3, 2).fusesRelu(), "its forward is its own");
        assertFalse(new BatchNorm(3) {
            @Override
            public Tensor forward(Tensor x) {
                return super.forward(x);
            }
        }.fusesRelu(), "a subclass that changes forward only must not be bypassed");
        assertFalse(new BatchNorm(3) {
            @Override
            public Tensor backward(Tensor g) {
                return super.backward(g);
            }
        }.fusesRelu(), "a subclass that changes backward only must not be bypassed");
        Tensor x = Tensor.zeros(2, 3);
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> new GhostBatchNorm(3, 2).forwardRelu(x, null));
        assertEquals("GhostBatchNorm does not fuse the ReLU epilogue (fusesRelu() is false): run forward, the add"
                + " and ReLU instead", e.getMessage());
    }

    @Test
    void theContainersTakeTheFusedPath() {
        int[] count = new int[1];
        Module resnet = ModelFactory.build(spec("resnet"), new SplittableRandom(1), c -> new Counting(c, count));
        resnet.forward(input(new SplittableRandom(2), 4, MemoryFormat.CONTIGUOUS));
        assertEquals(7, count[0], "stem BN + ReLU and two per block, three blocks");
        count[0] = 0;
        Module cnn = ModelFactory.build(spec("cnn"), new SplittableRandom(1), c -> new Counting(c, count));
        cnn.forward(input(new SplittableRandom(2), 4, MemoryFormat.CONTIGUOUS));
        assertEquals(4, count[0]);
    }

    @Test
    void residualGradientBelongsToTheLastFusedForward() {
        BatchNorm bn = new BatchNorm(2);
        SplittableRandom r = new SplittableRandom(3);
        Tensor x = random(r, 3, 2, 4);
        Tensor res = random(r, 3, 2, 4);
        bn.forwardRelu(x, res);
        bn.backward(random(r, 3, 2, 4));
        assertEquals(x.shapeString(), bn.residualGradient().shapeString());
        bn.forwardRelu(x, null);
        bn.backward(random(r, 3, 2, 4));
        assertNull(bn.residualGradient(), "no residual in the last fused forward");
        bn.forward(x);
        assertNull(bn.residualGradient(), "a plain forward");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> bn.forwardRelu(x, Tensor.zeros(3, 2, 5)));
        assertEquals("Expected residual of shape [3, 2, 4], got [3, 2, 5]", e.getMessage());
    }

    @ParameterizedTest(name = "{0} reuse={1} {2}")
    @CsvSource({"resnet, true, CONTIGUOUS", "resnet, false, CONTIGUOUS", "resnet, true, CHANNELS_LAST",
        "cnn, true, CONTIGUOUS", "cnn, false, CHANNELS_LAST", "mlp, true, CONTIGUOUS"})
    void trainingIsBitIdenticalToComposition(String model, boolean reuse, MemoryFormat format) {
        List<float[]> fused = train(model, BatchNorm::new, reuse, format, 0);
        List<float[]> composed = train(model, Composed::new, reuse, format, 0);
        assertSame(composed, fused);
    }

    private static void assertSame(List<float[]> expected, List<float[]> got) {
        assertEquals(expected.size(), got.size());
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i), got.get(i), "array " + i + " (outputs and gradients per step, then state)");
        }
    }

    private static ModelSpec spec(String model) {
        return new ModelSpec(model, "bn", model.equals("mlp") ? "relu" : "relu", 4, new int[] {1, 12, 12}, 5);
    }

    /**
     * Three SGD steps (momentum) on random batches, then one eval forward: every output, every gradient, and
     * at the end every parameter and buffer.
     */
    private static List<float[]> train(String model, IntFunction<? extends Module> norm, boolean reuse,
                                       MemoryFormat format, int dataSeed) {
        Module net = ModelFactory.build(spec(model), new SplittableRandom(9), norm);
        net.reuseBuffers(reuse);
        Sgd opt = new Sgd(net.namedParameters(), 0.05, 0.9, 0, false, 0, Set.of());
        CrossEntropyLoss loss = new CrossEntropyLoss();
        SplittableRandom r = new SplittableRandom(100 + dataSeed);
        List<float[]> out = new ArrayList<>();
        net.train();
        for (int step = 0; step < 3; step++) {
            Tensor x = input(r, 6, format);
            int[] y = new int[6];
            for (int i = 0; i < y.length; i++) {
                y[i] = r.nextInt(5);
            }
            opt.zeroGrad();
            Tensor logits = net.forward(x);
            out.add(logits.to(MemoryFormat.CONTIGUOUS).data().clone());
            loss.forward(logits, y);
            net.backward(loss.backward()); // null: the first layer computes no input gradient
            for (Parameter p : net.namedParameters().values()) {
                out.add(p.grad().data().clone());
            }
            opt.step();
        }
        net.eval();
        out.add(net.forward(input(r, 6, format)).to(MemoryFormat.CONTIGUOUS).data().clone());
        for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
            out.add(e.getValue().value().data().clone());
        }
        for (Tensor b : net.namedBuffers().values()) {
            out.add(b.data().clone());
        }
        return out;
    }

    private static Tensor input(SplittableRandom r, int n, MemoryFormat format) {
        return random(r, n, 1, 12, 12).to(format);
    }

    private static Tensor random(SplittableRandom r, int... shape) {
        Tensor t = Tensor.zeros(shape);
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) {
            d[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return t;
    }
}
