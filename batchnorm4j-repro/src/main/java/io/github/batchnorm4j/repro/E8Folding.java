package io.github.batchnorm4j.repro;

import io.github.batchnorm4j.data.DataLoader;
import io.github.batchnorm4j.infer.Fold;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.repro.RunSpec.Norm;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * E8, claim 8 (no inference cost once BN is folded into the preceding layer): the trained E1 BN net and a
 * briefly trained BN CNN, folded with {@link Fold}, compared with eval-mode BN on the whole test set, and timed
 * (15 interleaved repetitions of a 1,000-image forward) against the same architecture built without BN.
 */
final class E8Folding implements Experiment {
    static final int[] CNN = {16, 32, 64};
    static final int REPS = 15;

    @Override
    public String id() {
        return "E8";
    }

    @Override
    public int claim() {
        return 8;
    }

    @Override
    public String name() {
        return "Free at inference once folded";
    }

    static RunSpec cnnRun(Settings s) {
        long steps = s.steps(600);
        return RunSpec.cnn("E8", "cnn-bn", s.firstSeed(), CNN, Norm.BN, 32, 0.1, steps, RunSpec.finalFive(steps))
                .withKeepModel();
    }

    @Override
    public List<RunSpec> runs(Settings s) {
        return List.of(E1Convergence.sigmoidRun(s, "E1", Norm.BN, 0.1, s.firstSeed()), cnnRun(s));
    }

    /** max |Δlogit|, max |logit|, argmax agreement, acc(BN), acc(folded) over the test set. */
    static double[] compare(Module bn, Module folded, ReproData data) {
        DataLoader loader = new DataLoader(data.test(), Math.min(1000, data.test().size()), false, false, 0,
                ReproData.MEAN, ReproData.STD);
        bn.eval().reuseBuffers(true);
        folded.eval().reuseBuffers(true);
        double maxDiff = 0, maxLogit = 0;
        long agree = 0, correctBn = 0, correctFolded = 0, n = 0;
        for (int b = 0; b < loader.batchesPerEpoch(); b++) {
            DataLoader.Batch batch = loader.batch(0, b);
            float[] a = bn.forward(batch.input()).data().clone();
            float[] f = folded.forward(batch.input()).data();
            int k = a.length / batch.size();
            for (int i = 0; i < batch.size(); i++) {
                int ia = 0, ifo = 0;
                for (int j = 0; j < k; j++) {
                    maxDiff = Math.max(maxDiff, Math.abs(a[i * k + j] - f[i * k + j]));
                    maxLogit = Math.max(maxLogit, Math.abs(a[i * k + j]));
                    ia = a[i * k + j] > a[i * k + ia] ? j : ia;
                    ifo = f[i * k + j] > f[i * k + ifo] ? j : ifo;
                }
                agree += ia == ifo ? 1 : 0;
                correctBn += ia == batch.labels()[i] ? 1 : 0;
                correctFolded += ifo == batch.labels()[i] ? 1 : 0;
                n++;
            }
        }
        return new double[] {maxDiff, maxLogit, (double) agree / n, (double) correctBn / n, (double) correctFolded / n};
    }

    /** Median milliseconds per 1,000-image forward of each model, measured interleaved. */
    /** Untimed interleaved rounds before the timed ones. */
    static final int WARMUP = 10;

    static double[] time(ReproData data, Module... models) {
        DataLoader loader = new DataLoader(data.test(), Math.min(1000, data.test().size()), false, false, 0,
                ReproData.MEAN, ReproData.STD);
        Tensor x = loader.batch(0, 0).input().copy();
        double[][] ms = new double[models.length][REPS];
        for (Module m : models) {
            m.eval().reuseBuffers(true); // timed as served: no allocation per call
        }
        // Warm-up, interleaved like the timed rounds, so that every model's forward pass is compiled before timing.
        for (int rep = 0; rep < WARMUP; rep++) {
            for (Module m : models) {
                m.forward(x);
            }
        }
        for (int rep = 0; rep < REPS; rep++) {
            for (int i = 0; i < models.length; i++) {
                long t0 = System.nanoTime();
                models[i].forward(x);
                ms[i][rep] = (System.nanoTime() - t0) / 1e6;
            }
        }
        // The fastest of the interleaved rounds: on a shared machine the other rounds measure the other processes
        // too (a median of 15 moved by up to 2x under load), while the same graph's best time does not.
        double[] best = new double[models.length];
        for (int i = 0; i < models.length; i++) {
            Arrays.sort(ms[i]);
            best[i] = ms[i][0];
        }
        return best;
    }

    /** The same architecture as {@code spec} without normalization (for the timing baseline). */
    static Module plainTwin(RunSpec spec) {
        RunSpec plain = new RunSpec(spec.key() + "-plain", spec.experiment(), spec.variant() + "-plain", spec.seed(),
                spec.arch(), spec.hidden(), spec.activation(), Norm.NONE, 0, 1, spec.batchSize(), spec.lr(),
                spec.momentum(), spec.steps(), spec.evalAt(), 0, 0, 0, false, false, 3, 5);
        return NetFactory.build(plain, new SplittableRandom(1), new SplittableRandom(2)).model();
    }

    @Override
    public ClaimResult evaluate(Settings s, Results r, ReproData data) {
        List<Criterion> c = new ArrayList<>();
        List<List<String>> table = new ArrayList<>();
        table.add(List.of("model", "max |Δlogit|", "max |logit|", "argmax agreement", "acc BN", "acc folded",
                "ms BN eval", "ms folded", "ms no-BN twin", "folded / no-BN", "BN / folded"));
        StringBuilder findings = new StringBuilder();
        for (RunResult run : List.of(r.get("E1", "bn@0.1", s.firstSeed()), r.get("E8", "cnn-bn", s.firstSeed()))) {
            String name = run.spec().arch() == RunSpec.Arch.MLP ? "mlp" : "cnn";
            Module bn = run.model();
            Module folded = Fold.fold(bn);
            double[] cmp = compare(bn, folded, data);
            double[] t = time(data, bn, folded, plainTwin(run.spec()));
            c.add(Curves.single("E8a-" + name, name + ": max |Δlogit| / max(1, max |logit|)",
                    cmp[0] / Math.max(1, cmp[1]), 1e-4, true));
            c.add(Curves.single("E8b-" + name, name + ": argmax agreement", cmp[2], 0.9998, false));
            c.add(Curves.single("E8c-" + name, name + ": |acc(folded) - acc(BN)|", Math.abs(cmp[4] - cmp[3]), 0.0002,
                    true));
            double ratio = t[1] / t[2];
            c.add(new Criterion("E8d-" + name, true, ratio >= 0.90 && ratio <= 1.10,
                    name + ": best time folded / no-BN twin (15 interleaved rounds), within [0.90, 1.10]", ratio, 1.10, new double[0], true));
            c.add(Curves.single("E8e-" + name, name + ": best time BN eval / folded", t[0] / t[1], 1, false)
                    .reportOnly());
            table.add(List.of(name, Curves.num(cmp[0]), Curves.num(cmp[1]), Curves.num(cmp[2]), Curves.pct(cmp[3]),
                    Curves.pct(cmp[4]), Curves.num(t[0]), Curves.num(t[1]), Curves.num(t[2]), Curves.num(ratio),
                    Curves.num(t[0] / t[1])));
            findings.append(String.format(java.util.Locale.ROOT,
                    "%s: logits differ by at most %.2g (max |logit| %.3g), argmax agreement %.4f; a 1,000-image "
                            + "forward takes %.2f ms with BN in eval mode, %.2f ms folded and %.2f ms for the same "
                            + "architecture without BN. ",
                    name.toUpperCase(), cmp[0], cmp[1], cmp[2], t[0], t[1], t[2]));
        }
        return new ClaimResult(8, "E8", name(), ClaimResult.verdict(c), r.seconds("E8"), c, List.of(), table,
                "At inference BN is one affine map per channel, which can be folded into the preceding layer: it "
                        + "then costs nothing (Alg. 2).",
                "The trained E1 BN net (sigmoid 3x100, seed " + s.firstSeed() + ") and a BN CNN (conv 16-32-64 with "
                        + "BN and ReLU, max-pools after the first two, global average pooling, FC 10; SGD momentum "
                        + "0.9, lr 0.1, batch 32, " + s.steps(600) + " steps). Each eval-mode BN is folded into the "
                        + "preceding layer (W' = diag(s) W, b' = (b - mean) s + beta, s = gamma / sqrt(var + eps)); "
                        + "logits compared on all test images; 15 interleaved timings of a 1,000-image forward, "
                        + "single thread.",
                findings.toString());
    }
}
