package io.github.batchnorm4j.repro;

import io.github.batchnorm4j.repro.RunSpec.Activation;
import io.github.batchnorm4j.repro.RunSpec.Norm;
import java.util.ArrayList;
import java.util.List;

/**
 * E1, claim 1 (faster convergence, the BN paper's Fig. 1a): 784-100-100-100-10 sigmoid with and without BN,
 * batch 60, SGD lr 0.1, 20k steps. Its runs also carry E4's probe and keep the first seed's BN model for E8.
 */
final class E1Convergence implements Experiment {
    static final int[] NET = {100, 100, 100};

    @Override
    public String id() {
        return "E1";
    }

    @Override
    public int claim() {
        return 1;
    }

    @Override
    public String name() {
        return "Faster convergence";
    }

    static long[] schedule(Settings s, long steps) {
        return RunSpec.evalSchedule(s.steps(100), s.steps(1000), s.steps(500), steps);
    }

    /** The E1 net at a learning rate, with the probe; keeps the first seed's BN model for E8. */
    static RunSpec sigmoidRun(Settings s, String exp, Norm norm, double lr, long seed) {
        long steps = s.steps(20_000);
        RunSpec r = RunSpec.mlp(exp, (norm == Norm.BN ? "bn" : "none") + "@" + lr, seed, NET, Activation.SIGMOID,
                norm, 60, lr, steps, schedule(s, steps));
        if (exp.equals("E1")) {
            r = r.withProbe(s.steps(250));
            if (norm == Norm.BN && seed == s.firstSeed()) {
                r = r.withKeepModel();
            }
        }
        return r;
    }

    @Override
    public List<RunSpec> runs(Settings s) {
        List<RunSpec> out = new ArrayList<>();
        for (long seed : s.seeds()) {
            out.add(sigmoidRun(s, "E1", Norm.NONE, 0.1, seed));
            out.add(sigmoidRun(s, "E1", Norm.BN, 0.1, seed));
            out.add(sigmoidRun(s, "E2b", Norm.NONE, 0.5, seed)); // criterion (e): no-BN at its own better lr
        }
        return out;
    }

    @Override
    public ClaimResult evaluate(Settings s, Results r, ReproData data) {
        double[] bn1k = r.perSeed("E1", "bn@0.1", x -> x.accAt(s.steps(1000)));
        double[] none1k = r.perSeed("E1", "none@0.1", x -> x.accAt(s.steps(1000)));
        double[] bnTo80 = r.perSeed("E1", "bn@0.1", Curves.stepsTo(0.80));
        double[] noneTo80 = r.perSeed("E1", "none@0.1", Curves.stepsTo(0.80));
        double[] bn2k = r.perSeed("E1", "bn@0.1", x -> x.accAt(s.steps(2000)));
        double[] none2k = r.perSeed("E1", "none@0.1", x -> x.accAt(s.steps(2000)));
        double[] bnEnd = r.perSeed("E1", "bn@0.1", RunResult::finalAcc);
        double[] noneEnd = r.perSeed("E1", "none@0.1", RunResult::finalAcc);
        double[] bn500 = r.perSeed("E1", "bn@0.1", x -> x.accAt(s.steps(500)));
        double[] none05at500 = r.perSeed("E2b", "none@0.5", x -> x.accAt(s.steps(500)));

        List<Criterion> c = new ArrayList<>();
        c.add(Curves.perSeed("E1a", "acc_BN(" + s.steps(1000) + ") - acc_none(" + s.steps(1000) + ")", Curves.minus(bn1k, none1k), 0.10, false));
        // Steps to 0.80 are absolute: a shorter (quick) run does not converge faster, so these are not scaled.
        c.add(Curves.perSeed("E1b-bn", "steps to 0.80, BN", bnTo80, 600, true));
        c.add(Curves.perSeed("E1b-none", "steps to 0.80, no BN (never = not within the run)", noneTo80, 1500, false));
        c.add(Curves.single("E1c", "mean acc_BN(" + s.steps(2000) + ") - mean acc_none(" + s.steps(2000) + ")",
                Results.mean(bn2k) - Results.mean(none2k), 0.04, false));
        c.add(Curves.single("E1d", "final mean acc_BN - mean acc_none", Results.mean(bnEnd) - Results.mean(noneEnd),
                -0.005, false));
        c.add(Curves.perSeed("E1e", "acc_BN@0.1(" + s.steps(500) + ") - acc_none@0.5(" + s.steps(500) + ")", Curves.minus(bn500, none05at500), 0.03,
                false));

        List<List<String>> table = new ArrayList<>();
        table.add(Curves.header("test accuracy", r.seeds()));
        table.add(Curves.row("none@0.1, " + s.steps(500) + " steps", r.perSeed("E1", "none@0.1", x -> x.accAt(s.steps(500))), Curves::pct));
        table.add(Curves.row("BN@0.1, " + s.steps(500) + " steps", bn500, Curves::pct));
        table.add(Curves.row("none@0.5, " + s.steps(500) + " steps", none05at500, Curves::pct));
        table.add(Curves.row("none@0.1, " + s.steps(1000) + " steps", none1k, Curves::pct));
        table.add(Curves.row("BN@0.1, " + s.steps(1000) + " steps", bn1k, Curves::pct));
        table.add(Curves.row("none@0.1, " + s.steps(2000) + " steps", none2k, Curves::pct));
        table.add(Curves.row("BN@0.1, " + s.steps(2000) + " steps", bn2k, Curves::pct));
        table.add(Curves.row("none@0.1, final", noneEnd, Curves::pct));
        table.add(Curves.row("BN@0.1, final", bnEnd, Curves::pct));
        table.add(Curves.row("none@0.1, steps to 0.80", noneTo80, Curves::num));
        table.add(Curves.row("BN@0.1, steps to 0.80", bnTo80, Curves::num));

        Plot plot = new Plot("e1-accuracy", "Test accuracy vs training steps (sigmoid 3x100, batch 60)", "step",
                "test accuracy", true, List.of(
                        Curves.accuracy(r, "E1", "none@0.1", "no BN, lr 0.1"),
                        Curves.accuracy(r, "E1", "bn@0.1", "BN, lr 0.1"),
                        Curves.accuracy(r, "E2b", "none@0.5", "no BN, lr 0.5")), 0, 1);
        String findings = String.format(java.util.Locale.ROOT,
                "At %d steps BN leads by %.1f points on average (per seed %s); BN reaches 0.80 after %s steps on "
                        + "average and the plain net after %s. Against the plain net at its own better learning "
                        + "rate (0.5) BN leads at %d steps by %.1f points on average; the protocol expects that "
                        + "comparison to level out from about 1k steps on, so part of the large gap is 'BN makes lr "
                        + "0.1 work'.",
                s.steps(1000),
                100 * (Results.mean(bn1k) - Results.mean(none1k)), java.util.Arrays.toString(
                        java.util.Arrays.stream(Curves.minus(bn1k, none1k)).map(v -> Math.round(v * 1000) / 10.0)
                                .toArray()),
                Curves.num(Results.mean(bnTo80)), Curves.num(Results.mean(noneTo80)), s.steps(500),
                100 * (Results.mean(bn500) - Results.mean(none05at500)));
        return new ClaimResult(1, "E1", name(), ClaimResult.verdict(c), r.seconds("E1"), c, List.of(plot), table,
                "Batch Normalization makes networks converge in far fewer steps (Ioffe & Szegedy 2015, Fig. 1a).",
                "784-100-100-100-10 sigmoid MLP, with BN (no bias, before each sigmoid) and without; batch 60; "
                        + "plain SGD, lr 0.1 for both; " + s.steps(20_000) + " steps; test accuracy on the 10k "
                        + "held-out images every " + s.steps(100) + " steps up to " + s.steps(1000)
                        + ", then every " + s.steps(500) + ".",
                findings);
    }
}
