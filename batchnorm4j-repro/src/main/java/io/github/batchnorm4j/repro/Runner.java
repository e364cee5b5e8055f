package io.github.batchnorm4j.repro;

import io.github.batchnorm4j.data.DataLoader;
import io.github.batchnorm4j.data.DataSet;
import io.github.batchnorm4j.infer.PreciseBN;
import io.github.batchnorm4j.loss.CrossEntropyLoss;
import io.github.batchnorm4j.nn.LongState;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.Sequential;
import io.github.batchnorm4j.optim.Optimizer;
import io.github.batchnorm4j.optim.Sgd;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.LongConsumer;

/**
 * Executes one {@link RunSpec}: seeded init and shuffling, plain SGD (momentum 0.9 for CNNs), softmax
 * cross-entropy, evaluation of the whole test set in eval mode at the spec's steps, and the probes some
 * experiments need. Single-threaded by design: the scheduler runs independent runs side by side instead, and a
 * run is then bit-identical whatever else runs.
 */
public final class Runner {
    static final int PROBE_IMAGES = 1000;
    static final int EVAL_BATCH = 1000;
    static final int PRECISE_BN_SAMPLES = 10_000;

    private Runner() {}

    /** Runs {@code spec} on {@code data}; {@code onStep} hears every completed step (for progress bars). */
    public static RunResult run(RunSpec spec, ReproData data, LongConsumer onStep) {
        long t0 = System.nanoTime();
        SplittableRandom root = new SplittableRandom(spec.seed() * 0x9E3779B97F4A7C15L + 17);
        SplittableRandom initRng = root.split();
        SplittableRandom noiseRng = root.split();
        long shuffleSeed = root.nextLong();
        NetFactory.Net net = NetFactory.build(spec, initRng, noiseRng);
        Sequential model = net.model();
        model.reuseBuffers(true); // as the trainer runs it: no allocation per step
        DataSet train = spec.trainSubset() > 0
                ? data.train().slice(0, Math.min(spec.trainSubset(), data.train().size())) : data.train();
        DataLoader loader = new DataLoader(train, spec.batchSize(), true, true, shuffleSeed, ReproData.MEAN,
                ReproData.STD);
        Optimizer opt = spec.momentum() > 0
                ? new Sgd(model.namedParameters(), spec.lr(), spec.momentum(), 0, false, 0, Set.of())
                : new Sgd(model.namedParameters(), spec.lr());
        CrossEntropyLoss ce = new CrossEntropyLoss();
        Evaluator eval = new Evaluator(data.test());
        Probe probe = spec.probeEvery() > 0 ? new Probe(data.train(), net.probeIndex()) : null;

        long[] evalAt = spec.evalAt();
        double[] acc = new double[evalAt.length];
        double[] loss = new double[evalAt.length];
        List<Long> gradSteps = new ArrayList<>();
        List<Double> gradRatio = new ArrayList<>();
        int nextEval = 0;
        int preciseFrom = spec.preciseBn() ? Math.max(0, evalAt.length - RunResult.FINAL_EVALUATIONS) : evalAt.length;
        List<Tensor> preciseBatches = spec.preciseBn() ? preciseBatches(spec, train, shuffleSeed) : List.of();
        List<Double> precise = new ArrayList<>();
        boolean diverged = false;
        long divergedAt = -1;
        int perEpoch = loader.batchesPerEpoch();
        for (long step = 1; step <= spec.steps(); step++) {
            DataLoader.Batch batch = loader.batch((step - 1) / perEpoch, (int) ((step - 1) % perEpoch));
            model.train();
            for (NoisyActivationInput n : net.noise()) {
                n.nextStep();
            }
            double l = ce.forward(model.forward(batch.input()), batch.labels());
            if (!Double.isFinite(l)) {
                diverged = true;
                divergedAt = step;
                break;
            }
            model.zeroGrad();
            model.backward(ce.backward());
            opt.step();
            if (spec.gradEvery() > 0 && step % spec.gradEvery() == 0) {
                gradSteps.add(step);
                gradRatio.add(norm(net.firstHidden().weight().grad().data())
                        / norm(net.lastHidden().weight().grad().data()));
            }
            if (probe != null && (step == 1 || step % spec.probeEvery() == 0)) {
                probe.record(step, model);
            }
            while (nextEval < evalAt.length && evalAt[nextEval] == step) {
                double[] r = eval.run(model);
                acc[nextEval] = r[0];
                loss[nextEval] = r[1];
                if (nextEval >= preciseFrom) {
                    precise.add(preciseBnAccuracy(model, preciseBatches, eval));
                }
                nextEval++;
            }
            onStep.accept(step);
        }
        for (; nextEval < evalAt.length; nextEval++) { // after a divergence: chance, as the protocol counts it
            acc[nextEval] = RunResult.CHANCE;
            loss[nextEval] = Double.NaN;
        }
        double[] preciseAcc = diverged ? new double[0] : precise.stream().mapToDouble(Double::doubleValue).toArray();
        double trainAcc = Double.NaN;
        if (spec.experiment().startsWith("E7") && !diverged) {
            trainAcc = new Evaluator(train).run(model)[0];
        }
        return new RunResult(spec, evalAt.clone(), acc, loss, diverged, divergedAt, (System.nanoTime() - t0) / 1e9,
                probe == null ? new long[0] : probe.steps(), probe == null ? null : probe.percentiles(),
                gradSteps.stream().mapToLong(Long::longValue).toArray(),
                gradRatio.stream().mapToDouble(Double::doubleValue).toArray(), preciseAcc, trainAcc,
                spec.keepModel() ? model : null);
    }

    /**
     * The batches PreciseBN (Wu &amp; Johnson 2021) recomputes population statistics over for E6a: the first 10k
     * samples of a fresh shuffle, in batches of the run's size. The same batches serve every evaluation.
     */
    private static List<Tensor> preciseBatches(RunSpec spec, DataSet train, long shuffleSeed) {
        DataLoader loader = new DataLoader(train, spec.batchSize(), true, true, shuffleSeed + 1, ReproData.MEAN,
                ReproData.STD);
        int batches = Math.min(loader.batchesPerEpoch(), PRECISE_BN_SAMPLES / spec.batchSize());
        List<Tensor> list = new ArrayList<>(batches);
        for (int b = 0; b < batches; b++) {
            list.add(loader.batch(0, b).input().copy());
        }
        return list;
    }

    /**
     * The test accuracy with PreciseBN statistics computed from the current weights; the running statistics the
     * training goes on with are restored afterwards, so measuring changes nothing.
     */
    private static double preciseBnAccuracy(Module model, List<Tensor> batches, Evaluator eval) {
        BufferSnapshot saved = new BufferSnapshot(model);
        PreciseBN.recalibrate(model, batches, batches.size());
        double acc = eval.run(model)[0];
        saved.restore();
        return acc;
    }

    /** A copy of a model's buffers (running statistics) and counters, to undo a measurement's side effects. */
    static final class BufferSnapshot {
        private final Map<String, Tensor> buffers;
        private final Map<String, LongState> counters;
        private final Map<String, float[]> values = new java.util.HashMap<>();
        private final Map<String, Long> counts = new java.util.HashMap<>();

        BufferSnapshot(Module model) {
            buffers = model.namedBuffers();
            counters = model.namedLongBuffers();
            buffers.forEach((k, v) -> values.put(k, v.data().clone()));
            counters.forEach((k, v) -> counts.put(k, v.get()));
        }

        void restore() {
            buffers.forEach((k, v) -> System.arraycopy(values.get(k), 0, v.data(), 0, v.numel()));
            counters.forEach((k, v) -> v.set(counts.get(k)));
        }
    }

    private static double norm(float[] v) {
        double s = 0;
        for (float f : v) {
            s += (double) f * f;
        }
        return Math.sqrt(s);
    }

    /** Test-set accuracy and mean loss in eval mode, in batches of 1000. */
    static final class Evaluator {
        private final DataLoader loader;
        private final CrossEntropyLoss ce = new CrossEntropyLoss();

        Evaluator(DataSet data) {
            this.loader = new DataLoader(data, Math.min(EVAL_BATCH, data.size()), false, false, 0, ReproData.MEAN,
                    ReproData.STD);
        }

        double[] run(Module model) {
            model.eval();
            long correct = 0;
            double lossSum = 0;
            int n = 0;
            for (int b = 0; b < loader.batchesPerEpoch(); b++) {
                DataLoader.Batch batch = loader.batch(0, b);
                double l = ce.forward(model.forward(batch.input()), batch.labels());
                lossSum += l * batch.size();
                correct += ce.correct();
                n += batch.size();
            }
            model.train();
            return new double[] {(double) correct / n, lossSum / n};
        }
    }

    /**
     * E4's probe: the training-mode network on the first 1,000 training images, recording the 15/50/85th
     * percentiles of each unit's input to the last hidden activation. It has no side effects: buffers (running
     * statistics, counters) are restored afterwards and no random number is drawn.
     */
    static final class Probe {
        private final Tensor images;
        private final int index;
        private final List<Long> steps = new ArrayList<>();
        private final List<double[][]> rows = new ArrayList<>();

        Probe(DataSet train, int index) {
            DataLoader l = new DataLoader(train.slice(0, Math.min(PROBE_IMAGES, train.size())),
                    Math.min(PROBE_IMAGES, train.size()), false, false, 0, ReproData.MEAN, ReproData.STD);
            this.images = l.batch(0, 0).input().copy();
            this.index = index;
        }

        void record(long step, Sequential model) {
            BufferSnapshot saved = new BufferSnapshot(model);
            Tensor x = images;
            for (int i = 0; i < index; i++) {
                x = model.get(i).forward(x);
            }
            saved.restore();
            int n = x.dim(0), units = x.numel() / n;
            double[][] p = new double[units][];
            double[] col = new double[n];
            float[] d = x.data();
            for (int u = 0; u < units; u++) {
                for (int i = 0; i < n; i++) {
                    col[i] = d[i * units + u];
                }
                Arrays.sort(col);
                p[u] = new double[] {percentile(col, 15), percentile(col, 50), percentile(col, 85)};
            }
            steps.add(step);
            rows.add(p);
        }

        long[] steps() {
            return steps.stream().mapToLong(Long::longValue).toArray();
        }

        double[][][] percentiles() {
            return rows.toArray(new double[0][][]);
        }
    }

    /** Linear interpolation between closest ranks (numpy's default) on sorted values. */
    static double percentile(double[] sorted, double q) {
        double pos = q / 100.0 * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}
