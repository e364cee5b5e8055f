package io.github.batchnorm4j.bench;

import io.github.batchnorm4j.infer.Fold;
import io.github.batchnorm4j.infer.Predictor;
import io.github.batchnorm4j.models.ModelFactory;
import io.github.batchnorm4j.models.ModelSpec;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Inference throughput (images/s) of one built-in architecture four ways: with BatchNorm in eval mode, BN-folded
 * ({@link Fold}), built without BN (layers with bias, nothing between them and the activation), and a second
 * no-BN instance whose distance from the first shows the noise floor. Folding should make BN free, so the folded
 * model should match the no-BN model. The variants run interleaved ({@link Measure#interleaved}); the median round
 * counts.
 */
public final class InferBench {
    /** One variant's images/s: the median and the best round. */
    public record Row(String variant, double medianImagesPerSecond, double bestImagesPerSecond) {}

    /**
     * A finished run.
     *
     * @param agreement max |folded − BN| / max |BN| over the outputs of one batch
     */
    public record Result(String model, int batch, int threads, int rounds, int minMs, double agreement,
                         List<Row> rows) {
        /** A header and a Markdown table; ratios are against the first no-BN row. */
        public String markdown() {
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "bench infer: model %s, batch %d, %d "
                    + "thread(s), %d rounds x >= %d ms, Java %s%n", model, batch, threads, rounds, minMs,
                    Runtime.version()));
            sb.append(String.format(Locale.ROOT, "folded vs BN outputs: max |diff| / max |out| = %.2e%n", agreement));
            sb.append("| variant | images/s (median) | median vs no BN | images/s (best round) | best vs no BN |\n");
            sb.append("| --- | ---: | ---: | ---: | ---: |\n");
            Row base = rows.get(2);
            for (Row r : rows) {
                sb.append(String.format(Locale.ROOT, "| %s | %.1f | %.3f | %.1f | %.3f |%n", r.variant(),
                        r.medianImagesPerSecond(), r.medianImagesPerSecond() / base.medianImagesPerSecond(),
                        r.bestImagesPerSecond(), r.bestImagesPerSecond() / base.bestImagesPerSecond()));
            }
            return sb.toString();
        }
    }

    private InferBench() {}

    /**
     * Measures the built-in {@code model} ({@code mlp}, {@code cnn}, {@code resnet}) at {@code batch} with random
     * weights and plausible statistics; the caller sets the thread count.
     *
     * @throws IllegalArgumentException for an unknown model
     */
    public static Result run(String model, int batch, int threads, int rounds, int minMs) {
        ModelSpec bnSpec = ModelSpec.of(model, "bn", "relu");
        Module withBn = ModelFactory.build(bnSpec, new SplittableRandom(1));
        randomStatistics(withBn, new SplittableRandom(2));
        withBn.eval().reuseBuffers(true);
        Module folded = Fold.fold(withBn).reuseBuffers(true);
        Module noBn = ModelFactory.build(ModelSpec.of(model, "none", "relu"), new SplittableRandom(1));
        noBn.eval().reuseBuffers(true);
        // A second, identical no-BN model: how far two instances of the same network differ is the noise floor
        // (machine load, array alignment) against which the folded/no-BN ratio must be read.
        Module noBn2 = ModelFactory.build(ModelSpec.of(model, "none", "relu"), new SplittableRandom(5));
        noBn2.eval().reuseBuffers(true);
        List<Module> variants = List.of(withBn, folded, noBn, noBn2);
        List<String> names = List.of("BN (eval)", "BN folded", "no BN", "no BN, 2nd instance");

        Tensor x = gaussianInput(batch, bnSpec.input());
        double agreement = maxRelativeDifference(withBn.forward(x).copy(), folded.forward(x));
        List<Runnable> ops = new ArrayList<>();
        for (Module m : variants) {
            ops.add(() -> m.forward(x));
        }
        double[][] perRound = Measure.interleaved(ops, rounds, minMs, Math.max(minMs, 1000));
        List<Row> rows = new ArrayList<>();
        for (int v = 0; v < variants.size(); v++) {
            rows.add(new Row(names.get(v), batch * Measure.median(perRound[v]), batch * Measure.max(perRound[v])));
        }
        return new Result(model, batch, threads, rounds, minMs, agreement, List.copyOf(rows));
    }

    /**
     * The built-in {@code model} with BN, random weights and plausible statistics, in eval mode.
     *
     * @throws IllegalArgumentException for an unknown model
     */
    public static Module builtIn(String model) {
        Module withBn = ModelFactory.build(ModelSpec.of(model, "bn", "relu"), new SplittableRandom(1));
        randomStatistics(withBn, new SplittableRandom(2));
        return withBn.eval();
    }

    /** The input shape ({@code [C, H, W]}) of the built-in models. */
    public static int[] builtInInput(String model) {
        return ModelSpec.of(model, "bn", "relu").input();
    }

    /**
     * Median milliseconds of one prediction by the serving plan of {@code model} ({@link Predictor}: BN folded,
     * Conv2d + ReLU fused, buffers kept) on a batch of {@code batch} N(0,1) inputs of shape {@code input}, over
     * {@code rounds} loops of at least {@code minMs} after a warm-up.
     */
    public static double medianMs(Module model, int[] input, int batch, int rounds, int minMs) {
        Predictor p = Predictor.of(model);
        Tensor x = gaussianInput(batch, input);
        double[][] perRound = Measure.interleaved(List.of(() -> p.predict(x)), rounds, minMs, Math.max(minMs, 1000));
        return 1e3 / Measure.median(perRound[0]);
    }

    /** A {@code [batch, input...]} tensor of N(0,1) values from a fixed seed. */
    static Tensor gaussianInput(int batch, int[] input) {
        int[] shape = new int[input.length + 1];
        shape[0] = batch;
        System.arraycopy(input, 0, shape, 1, input.length);
        Tensor x = Tensor.zeros(shape);
        SplittableRandom r = new SplittableRandom(3);
        float[] d = x.data();
        for (int i = 0; i < d.length; i++) {
            d[i] = (float) r.nextGaussian();
        }
        return x;
    }

    /** Plausible trained statistics: means around 0, variances in [0.5, 2], gamma around 1, beta around 0. */
    static void randomStatistics(Module m, SplittableRandom r) {
        if (m instanceof BatchNorm bn) {
            for (int c = 0; c < bn.numFeatures(); c++) {
                bn.runningMean().data()[c] = (float) (0.2 * r.nextGaussian());
                bn.runningVar().data()[c] = (float) (0.5 + 1.5 * r.nextDouble());
                bn.weight().data()[c] = (float) (1 + 0.1 * r.nextGaussian());
                bn.bias().data()[c] = (float) (0.1 * r.nextGaussian());
            }
        }
        for (Module c : m.children().values()) {
            randomStatistics(c, r);
        }
    }

    /** max |a − b| / max |a|. */
    static double maxRelativeDifference(Tensor a, Tensor b) {
        float[] x = a.toContiguousArray(), y = b.toContiguousArray();
        double diff = 0, scale = 0;
        for (int i = 0; i < x.length; i++) {
            diff = Math.max(diff, Math.abs((double) x[i] - y[i]));
            scale = Math.max(scale, Math.abs(x[i]));
        }
        return diff / scale;
    }
}
