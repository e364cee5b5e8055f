package io.github.batchnorm4j.infer;

import io.github.batchnorm4j.nn.AvgPool2d;
import io.github.batchnorm4j.nn.BasicBlock;
import io.github.batchnorm4j.nn.Conv2d;
import io.github.batchnorm4j.nn.Dropout;
import io.github.batchnorm4j.nn.Flatten;
import io.github.batchnorm4j.nn.GlobalAvgPool2d;
import io.github.batchnorm4j.nn.Linear;
import io.github.batchnorm4j.nn.MaxPool2d;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.ReLU;
import io.github.batchnorm4j.nn.Sequential;
import io.github.batchnorm4j.nn.Sigmoid;
import io.github.batchnorm4j.nn.Tanh;
import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.nn.norm.NormOptions;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.SplittableRandom;

/** Small MLP, CNN and residual models with non-trivial BN statistics, shared by the fold and export tests. */
public final class TestModels {
    private TestModels() {}

    public static NormOptions bnOptions(boolean affine) {
        return NormOptions.BATCH_NORM.withAffine(affine);
    }

    /** BN(6) first (no predecessor), Linear+BN, Dropout between Linear and BN, Linear without bias + BN. */
    public static Sequential mlp(boolean bias, boolean affine, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Sequential m = new Sequential(
                new BatchNorm(6, bnOptions(affine)),
                new Linear(6, 8, bias, r), new BatchNorm(8, bnOptions(affine)), new ReLU(),
                new Linear(8, 7, bias, r), new Dropout(0.3, r), new BatchNorm(7, bnOptions(affine)), new Tanh(),
                new Linear(7, 5, !bias, r), new BatchNorm(5, bnOptions(!affine)), new Sigmoid(),
                new Linear(5, 3, true, r));
        return randomizeStatistics(m, r);
    }

    /** Conv+BN, pools, a nested Sequential, Flatten and a Linear+BN head; input (N, 3, 9, 9). */
    public static Sequential cnn(boolean bias, boolean affine, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Sequential m = new Sequential(
                new Conv2d(3, 4, 3, 1, 1, bias, r), new BatchNorm(4, bnOptions(affine)), new ReLU(),
                new MaxPool2d(2, 2),
                new Sequential(new Conv2d(4, 6, 3, 2, 1, bias, r), new BatchNorm(6, bnOptions(!affine))),
                new Sigmoid(),
                new AvgPool2d(2, 1),
                new Flatten(),
                new Linear(6, 5, bias, r), new BatchNorm(5, bnOptions(affine)), new ReLU(),
                new Linear(5, 4, true, r));
        return randomizeStatistics(m, r);
    }

    /** Stem conv+BN, two basic blocks (identity and projection shortcut), global pooling, classifier. */
    public static Sequential resnet(boolean bias, boolean affine, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Sequential m = new Sequential(
                new Conv2d(3, 8, 3, 1, 1, bias, r), new BatchNorm(8, bnOptions(affine)), new ReLU(),
                new BasicBlock(8, 8, 1, c -> new BatchNorm(c, bnOptions(affine)), r),
                new BasicBlock(8, 12, 2, c -> new BatchNorm(c, bnOptions(affine)), r),
                new GlobalAvgPool2d(),
                new Linear(12, 4, true, r));
        return randomizeStatistics(m, r);
    }

    /** Gives every BN random running statistics (var in [0.3, 2.3]) and, when affine, random gamma and beta. */
    public static <M extends Module> M randomizeStatistics(M model, SplittableRandom r) {
        visit(model, r);
        return model;
    }

    private static void visit(Module m, SplittableRandom r) {
        if (m instanceof BatchNorm bn) {
            for (int c = 0; c < bn.numFeatures(); c++) {
                if (bn.runningMean() != null) {
                    bn.runningMean().data()[c] = (float) (r.nextDouble() - 0.5);
                    bn.runningVar().data()[c] = (float) (0.3 + 2 * r.nextDouble());
                }
                if (bn.weight() != null) {
                    bn.weight().data()[c] = (float) (0.5 + r.nextDouble());
                    bn.bias().data()[c] = (float) (r.nextDouble() - 0.5);
                }
            }
        }
        for (Module c : m.children().values()) {
            visit(c, r);
        }
    }

    public static Tensor input(long seed, int... shape) {
        SplittableRandom r = new SplittableRandom(seed);
        Tensor t = Tensor.zeros(shape);
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) {
            d[i] = (float) (2 * r.nextDouble() - 1);
        }
        return t;
    }

    /** {@code max|a - b| / max|b|}: the error relative to the output's scale. */
    public static double relativeError(Tensor a, Tensor b) {
        float[] x = a.toContiguousArray(), y = b.toContiguousArray();
        if (x.length != y.length) {
            throw new AssertionError("sizes differ: " + a + " vs " + b);
        }
        double diff = 0, scale = 0;
        for (int i = 0; i < x.length; i++) {
            diff = Math.max(diff, Math.abs((double) x[i] - y[i]));
            scale = Math.max(scale, Math.abs(y[i]));
        }
        return diff / scale;
    }
}
