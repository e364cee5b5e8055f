package io.github.batchnorm4j.bench;

import io.github.batchnorm4j.loss.CrossEntropyLoss;
import io.github.batchnorm4j.models.ModelFactory;
import io.github.batchnorm4j.models.ModelSpec;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.optim.Optimizer;
import io.github.batchnorm4j.optim.Sgd;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.Arrays;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Training throughput of the benchmark models (bench/pytorch/train.py is the PyTorch twin):
 * <ul>
 * <li>{@code mlp}: 784-100-100-100-10, BatchNorm before each sigmoid, batch 60, plain SGD (lr 0.01);</li>
 * <li>{@code cnn}: 4x(conv3x3 pad 1 + BatchNorm + ReLU) with 2x2 max-pools after the 2nd and 4th, Linear(3136→10),
 *     batch 128, SGD momentum 0.9 (lr 0.01);</li>
 * <li>{@code resnet}: the built-in ResNet at width 16 (conv3x3 + BatchNorm + ReLU, BasicBlocks 16→16, 16→32 stride 2,
 *     32→64 stride 2, global average pool, Linear(64→10)), batch 128, SGD momentum 0.9 (lr 0.01).</li>
 * </ul>
 * Synthetic N(0,1) inputs (8 batches cycled) and random labels; warm-up steps, then {@code reps} timed chunks of
 * {@code steps} full training steps (zero grad, forward, loss, backward, optimizer step); images/s is the median
 * chunk. The BatchNorm layers are a timing subclass, so {@code bnShare} is the time inside BN forward + backward over
 * the whole timed time. The
 * subclass defines forward, forwardRelu and backward, so it fuses ReLU (and the residual add) as BatchNorm does
 * ({@link io.github.batchnorm4j.nn.ReluFusion}); the share then includes those fused passes.
 */
public final class TrainBench {
    private TrainBench() {}

    /** One measurement; {@code bnShare} is the fraction of the timed time spent in BatchNorm. */
    public record Result(String model, int threads, int batchSize, double imagesPerSecond, double bnShare) {}

    /** BatchNorm that adds its forward and backward wall time to a counter (two nanoTime calls each, ~50 ns). */
    static final class TimedBatchNorm extends BatchNorm {
        private final long[] nanos;

        TimedBatchNorm(int c, long[] nanos) {
            super(c);
            this.nanos = nanos;
        }

        @Override
        public Tensor forward(Tensor x) {
            long t = System.nanoTime();
            Tensor y = super.forward(x);
            nanos[0] += System.nanoTime() - t;
            return y;
        }

        @Override
        public Tensor forwardRelu(Tensor x, Tensor residual) { // the fused BN + (add +) ReLU of the blocks
            long t = System.nanoTime();
            Tensor y = super.forwardRelu(x, residual);
            nanos[0] += System.nanoTime() - t;
            return y;
        }

        @Override
        public Tensor backward(Tensor g) {
            long t = System.nanoTime();
            Tensor y = super.backward(g);
            nanos[0] += System.nanoTime() - t;
            return y;
        }
    }

    /** Steps per timed chunk unless told: 200 for the MLP, 10 for the CNN and the ResNet. */
    public static int defaultSteps(String model) {
        return model.equals("mlp") ? 200 : 10;
    }

    /** Builds the model, warms up, times {@code reps} chunks of {@code steps} steps; the median chunk counts. */
    public static Result run(String model, int threads, int steps, int warmup, int reps) {
        long[] bnNanos = new long[1];
        SplittableRandom rng = new SplittableRandom(0);
        ModelSpec spec = switch (model) {
            case "mlp" -> new ModelSpec("mlp", "bn", "sigmoid", 100, new int[] {1, 28, 28}, 10);
            case "cnn" -> new ModelSpec("cnn", "bn", "relu", 32, new int[] {1, 28, 28}, 10);
            case "resnet" -> new ModelSpec("resnet", "bn", "relu", 16, new int[] {1, 28, 28}, 10);
            default -> throw new IllegalArgumentException("Expected model mlp, cnn or resnet, got " + model);
        };
        int batch = model.equals("mlp") ? 60 : 128;
        Module net = ModelFactory.build(spec, rng, c -> new TimedBatchNorm(c, bnNanos));
        net.reuseBuffers(true); // as the Trainer runs it
        Optimizer opt = model.equals("mlp") ? new Sgd(net.namedParameters(), 0.01)
                : new Sgd(net.namedParameters(), 0.01, 0.9, 0, false, 0, Set.of());
        Tensor[] xs = new Tensor[8];
        int[][] ys = new int[8][batch];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = Tensor.zeros(batch, 1, 28, 28);
            float[] d = xs[i].data();
            for (int k = 0; k < d.length; k++) {
                d[k] = (float) (Math.sqrt(-2 * Math.log(1 - rng.nextDouble())) * Math.cos(2 * Math.PI * rng.nextDouble()));
            }
            for (int k = 0; k < batch; k++) {
                ys[i][k] = rng.nextInt(10);
            }
        }
        CrossEntropyLoss loss = new CrossEntropyLoss();
        net.train();
        int[] counter = {0};
        Runnable step = () -> {
            int i = counter[0]++ % xs.length;
            opt.zeroGrad(); // the optimizer keeps its parameter list; Module.zeroGrad() rebuilds the name map
            loss.forward(net.forward(xs[i]), ys[i]);
            net.backward(loss.backward());
            opt.step();
        };
        for (int i = 0; i < warmup; i++) {
            step.run();
        }
        double[] rates = new double[reps];
        long total = 0;
        bnNanos[0] = 0;
        for (int r = 0; r < reps; r++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < steps; i++) {
                step.run();
            }
            long dt = System.nanoTime() - t0;
            total += dt;
            rates[r] = (double) steps * batch / (dt / 1e9);
        }
        Arrays.sort(rates);
        return new Result(model, threads, batch, rates[reps / 2], (double) bnNanos[0] / total);
    }
}
