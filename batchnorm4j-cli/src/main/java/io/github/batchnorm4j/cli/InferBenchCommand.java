package io.github.batchnorm4j.cli;

import io.github.batchnorm4j.infer.Fold;
import io.github.batchnorm4j.kernel.WorkerPool;
import io.github.batchnorm4j.models.ModelFactory;
import io.github.batchnorm4j.models.ModelSpec;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bn4j bench infer}: inference throughput (images/s) of one architecture three ways: with BatchNorm in eval
 * mode, BN-folded ({@link Fold}), and built without BN (layers with bias, nothing between them and the
 * activation), plus a second no-BN instance whose distance from the first shows the noise floor. Folding should make BN free, so the folded model should match the no-BN model. The three run
 * interleaved in rounds, in a rotating order (so drifting machine load hits them alike), each round timing a loop
 * of at least {@code --min-ms} after a GC; the median round counts.
 */
@Command(name = "infer", mixinStandardHelpOptions = true,
        description = "Measure eval-mode images/s with BN, BN folded, and without BN.")
public final class InferBenchCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = "cnn", description = "mlp | cnn | resnet (default: ${DEFAULT-VALUE})")
    String model;

    @Option(names = "--batch-size", defaultValue = "64", description = "(default: ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--threads", defaultValue = "1", description = "worker threads (default: ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--rounds", defaultValue = "15", description = "interleaved rounds; the median counts")
    int rounds;

    @Option(names = "--min-ms", defaultValue = "300", description = "minimum time per variant and round (ms)")
    int minMs;

    @Override
    public Integer call() {
        if (threads < 1 || batchSize < 1 || rounds < 1 || minMs < 1) {
            System.err.println("bn4j bench infer: Expected --threads, --batch-size, --rounds and --min-ms >= 1, got "
                    + threads + ", " + batchSize + ", " + rounds + ", " + minMs);
            return 1;
        }
        WorkerPool.setThreads(threads);
        ModelSpec bnSpec;
        try {
            bnSpec = ModelSpec.of(model, "bn", "relu");
        } catch (IllegalArgumentException e) {
            System.err.println("bn4j bench infer: --model: " + e.getMessage());
            return 1;
        }
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
        Module[] variants = {withBn, folded, noBn, noBn2};
        String[] names = {"BN (eval)", "BN folded", "no BN", "no BN, 2nd instance"};
        int nv = variants.length;

        int[] in = bnSpec.input();
        Tensor x = Tensor.zeros(batchSize, in[0], in[1], in[2]);
        SplittableRandom r = new SplittableRandom(3);
        float[] d = x.data();
        for (int i = 0; i < d.length; i++) {
            d[i] = (float) r.nextGaussian();
        }
        double agreement = maxRelativeDifference(withBn.forward(x).copy(), folded.forward(x));
        for (Module m : variants) { // warm-up: JIT and buffers
            time(m, x, Math.max(minMs, 1000));
        }
        double[][] perRound = new double[nv][rounds];
        for (int round = 0; round < rounds; round++) {
            for (int i = 0; i < nv; i++) {
                int v = (round + i) % nv; // rotate the order so no variant always follows the same one
                System.gc(); // the BN variant allocates; collect its garbage outside the timed loops
                perRound[v][round] = time(variants[v], x, minMs);
            }
        }
        double[] median = new double[nv];
        double[] best = new double[nv];
        for (int v = 0; v < nv; v++) {
            double[] s = perRound[v].clone();
            Arrays.sort(s);
            median[v] = s[rounds / 2];
            best[v] = s[rounds - 1];
        }
        System.out.printf(Locale.ROOT, "bench infer: model %s, batch %d, %d thread(s), %d rounds x >= %d ms, "
                + "Java %s%n", model, batchSize, threads, rounds, minMs, Runtime.version());
        System.out.printf(Locale.ROOT, "folded vs BN outputs: max |diff| / max |out| = %.2e%n", agreement);
        System.out.println("| variant | images/s (median) | median vs no BN | images/s (best round) | best vs no BN |");
        System.out.println("| --- | ---: | ---: | ---: | ---: |");
        for (int v = 0; v < nv; v++) {
            System.out.printf(Locale.ROOT, "| %s | %.1f | %.3f | %.1f | %.3f |%n", names[v], median[v],
                    median[v] / median[2], best[v], best[v] / best[2]);
        }
        return 0;
    }

    /** Images per second of eval forwards on {@code x} over a loop of at least {@code ms} milliseconds. */
    private static double time(Module m, Tensor x, int ms) {
        long budget = ms * 1_000_000L;
        long start = System.nanoTime();
        long iters = 0;
        long elapsed;
        do {
            m.forward(x);
            iters++;
            elapsed = System.nanoTime() - start;
        } while (elapsed < budget);
        return iters * (double) x.dim(0) / (elapsed / 1e9);
    }

    /** Plausible trained statistics: means around 0, variances in [0.5, 2], gamma around 1, beta around 0. */
    private static void randomStatistics(Module m, SplittableRandom r) {
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

    private static double maxRelativeDifference(Tensor a, Tensor b) {
        float[] x = a.toContiguousArray(), y = b.toContiguousArray();
        double diff = 0, scale = 0;
        for (int i = 0; i < x.length; i++) {
            diff = Math.max(diff, Math.abs((double) x[i] - y[i]));
            scale = Math.max(scale, Math.abs(x[i]));
        }
        return diff / scale;
    }
}
