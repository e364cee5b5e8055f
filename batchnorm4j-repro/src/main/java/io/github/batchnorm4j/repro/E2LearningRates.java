package io.github.batchnorm4j.repro;

import io.github.batchnorm4j.repro.RunSpec.Activation;
import io.github.batchnorm4j.repro.RunSpec.Norm;
import java.util.ArrayList;
import java.util.List;

/**
 * E2, claim 2 (much higher learning rates, BN-x5 / BN-x30): E2a is the 3x100 ReLU net at lr 0.1, 0.5 and 3.0 for
 * 10k steps; E2b the E1 sigmoid net at 0.5 and 3.0 for 20k steps (lr 0.1 comes from E1). Target T = 0.87.
 */
final class E2LearningRates implements Experiment {
    static final double TARGET = 0.87;
    /**
     * A tenth of the steps is too short to reach 0.87 (the protocol's reference curves reach it after 2,000 to
     * 13,500 steps), so quick mode measures steps to 0.80 instead (docs/protocol.md, Quick mode).
     */
    static final double QUICK_TARGET = 0.80;

    static double target(Settings s) {
        return s.quick() ? QUICK_TARGET : TARGET;
    }
    static final double[] LRS = {0.1, 0.5, 3.0};

    @Override
    public String id() {
        return "E2";
    }

    @Override
    public int claim() {
        return 2;
    }

    @Override
    public String name() {
        return "Much higher learning rates";
    }

    @Override
    public List<RunSpec> runs(Settings s) {
        List<RunSpec> out = new ArrayList<>();
        long steps = s.steps(10_000);
        for (long seed : s.seeds()) {
            for (double lr : LRS) {
                for (Norm norm : new Norm[] {Norm.NONE, Norm.BN}) {
                    out.add(RunSpec.mlp("E2a", (norm == Norm.BN ? "bn" : "none") + "@" + lr, seed,
                            E1Convergence.NET, Activation.RELU, norm, 60, lr, steps,
                            RunSpec.evalSchedule(s.steps(100), s.steps(1000), s.steps(250), steps)));
                }
            }
            for (double lr : new double[] {0.5, 3.0}) {
                out.add(E1Convergence.sigmoidRun(s, "E2b", Norm.NONE, lr, seed));
                out.add(E1Convergence.sigmoidRun(s, "E2b", Norm.BN, lr, seed));
            }
            out.add(E1Convergence.sigmoidRun(s, "E1", Norm.NONE, 0.1, seed));
            out.add(E1Convergence.sigmoidRun(s, "E1", Norm.BN, 0.1, seed));
        }
        return out;
    }

    @Override
    public ClaimResult evaluate(Settings s, Results r, ReproData data) {
        List<Criterion> c = new ArrayList<>();
        String t = String.format(java.util.Locale.ROOT, "%.2f", target(s));
        double[] none30Final = r.perSeed("E2a", "none@3.0", x -> x.diverged() ? RunResult.CHANCE : x.finalAcc());
        c.add(Curves.perSeed("E2a", "E2a none@3.0: final accuracy (diverged = 0.10)", none30Final, 0.20, true));
        double[] bn30Final = r.perSeed("E2a", "bn@3.0", x -> x.diverged() ? Double.NaN : x.finalAcc());
        c.add(Curves.perSeed("E2b", "E2a BN@3.0: final accuracy, no divergence", bn30Final, 0.86, false));
        double[] bn05To = r.perSeed("E2a", "bn@0.5", Curves.stepsTo(target(s)));
        double[] none01To = r.perSeed("E2a", "none@0.1", Curves.stepsTo(target(s)));
        c.add(Curves.single("E2c", "E2a mean steps-to-" + t + ": BN@0.5 / none@0.1",
                Results.mean(bn05To) / Results.mean(none01To), 0.75, true));
        double[] sigBn30To = r.perSeed("E2b", "bn@3.0", Curves.stepsTo(target(s)));
        double[] sigNone01To = r.perSeed("E1", "none@0.1", Curves.stepsTo(target(s)));
        double[] ratio = new double[sigBn30To.length];
        for (int i = 0; i < ratio.length; i++) {
            ratio[i] = sigBn30To[i] / sigNone01To[i];
        }
        c.add(Curves.perSeed("E2d", "E2b steps-to-" + t + ": BN@3.0 / none@0.1", ratio, 0.75, true));
        double maxA = Results.mean(r.perSeed("E2a", "bn@0.5", RunResult::maxAcc))
                - Results.mean(r.perSeed("E2a", "none@0.1", RunResult::maxAcc));
        double maxB = Results.mean(r.perSeed("E2b", "bn@3.0", RunResult::maxAcc))
                - Results.mean(r.perSeed("E1", "none@0.1", RunResult::maxAcc));
        c.add(Curves.single("E2e-relu", "E2a mean max acc: BN@0.5 - none@0.1", maxA, -0.002, false));
        c.add(Curves.single("E2e-sigmoid", "E2b mean max acc: BN@3.0 - none@0.1", maxB, -0.002, false));

        List<List<String>> table = new ArrayList<>();
        table.add(Curves.header("steps to " + t + " / max accuracy", r.seeds()));
        for (double lr : LRS) {
            for (String v : new String[] {"none@" + lr, "bn@" + lr}) {
                table.add(Curves.row("E2a ReLU " + v + ": steps to " + t, r.perSeed("E2a", v, Curves.stepsTo(target(s))),
                        Curves::num));
                table.add(Curves.row("E2a ReLU " + v + ": max acc", r.perSeed("E2a", v, RunResult::maxAcc),
                        Curves::pct));
            }
        }
        for (String[] ev : new String[][] {{"E1", "none@0.1"}, {"E1", "bn@0.1"}, {"E2b", "none@0.5"},
                {"E2b", "bn@0.5"}, {"E2b", "none@3.0"}, {"E2b", "bn@3.0"}}) {
            table.add(Curves.row("E2b sigmoid " + ev[1] + ": steps to " + t,
                    r.perSeed(ev[0], ev[1], Curves.stepsTo(target(s))), Curves::num));
            table.add(Curves.row("E2b sigmoid " + ev[1] + ": max acc", r.perSeed(ev[0], ev[1], RunResult::maxAcc),
                    Curves::pct));
        }
        List<Plot.Series> relu = new ArrayList<>();
        for (double lr : LRS) {
            relu.add(Curves.accuracy(r, "E2a", "none@" + lr, "no BN, lr " + lr));
            relu.add(Curves.accuracy(r, "E2a", "bn@" + lr, "BN, lr " + lr));
        }
        List<Plot.Series> sig = new ArrayList<>(List.of(
                Curves.accuracy(r, "E1", "none@0.1", "no BN, lr 0.1"),
                Curves.accuracy(r, "E1", "bn@0.1", "BN, lr 0.1"),
                Curves.accuracy(r, "E2b", "none@0.5", "no BN, lr 0.5"),
                Curves.accuracy(r, "E2b", "bn@0.5", "BN, lr 0.5"),
                Curves.accuracy(r, "E2b", "none@3.0", "no BN, lr 3.0"),
                Curves.accuracy(r, "E2b", "bn@3.0", "BN, lr 3.0")));
        List<Plot> plots = List.of(
                new Plot("e2a-relu", "E2a: ReLU 3x100 at lr 0.1 / 0.5 / 3.0 (diverged runs count as 0.10)", "step",
                        "test accuracy", true, relu, 0, 1),
                new Plot("e2b-sigmoid", "E2b: sigmoid 3x100 at lr 0.1 / 0.5 / 3.0", "step", "test accuracy", true,
                        sig, 0, 1));
        int divergedNone = 0;
        for (long seed : r.seeds()) {
            divergedNone += r.get("E2a", "none@3.0", seed).diverged() ? 1 : 0;
        }
        String findings = String.format(java.util.Locale.ROOT,
                "Without BN the ReLU net at lr 3.0 diverged in %d of %d seeds; with BN it trains to %.3f on "
                        + "average. BN@0.5 reaches " + t + " in %.2fx the steps of the plain net at lr 0.1 (ReLU), and "
                        + "the sigmoid BN net at lr 3.0 in %.2fx on average: a speed-up of about %.1fx, not the "
                        + "paper's 14x; the ImageNet figures are not expected to carry over to a 3-layer MLP.",
                divergedNone, r.seeds().length, Results.mean(r.perSeed("E2a", "bn@3.0", RunResult::finalAcc)),
                Results.mean(bn05To) / Results.mean(none01To), Results.mean(ratio), 1 / Results.mean(ratio));
        return new ClaimResult(2, "E2", name(), ClaimResult.verdict(c), r.seconds("E2a") + r.seconds("E2b"), c,
                plots, table,
                "BN allows much higher learning rates: the paper's BN-x5 and BN-x30 Inception variants trained "
                        + "with 5x and 30x the base rate and reached the baseline's accuracy in 14x fewer steps.",
                "eta0 = 0.1. E2a: 784-100-100-100-10 ReLU, batch 60, " + s.steps(10_000) + " steps at lr 0.1, "
                        + "0.5, 3.0, with and without BN. E2b: the E1 sigmoid net at lr 0.5 and 3.0 for "
                        + s.steps(20_000) + " steps (lr 0.1 from E1). Target accuracy " + t + (s.quick() ? " (quick mode; the "
                        + "full protocol uses 0.87)" : "") + "; steps to it = the first evaluation from which the mean "
                        + "of it and the next two reaches it.",
                findings);
    }
}
