package io.github.batchnorm4j.repro;

import io.github.batchnorm4j.repro.RunSpec.Activation;
import io.github.batchnorm4j.repro.RunSpec.Norm;
import java.util.ArrayList;
import java.util.List;

/**
 * E5, claim 5 (insensitivity to the initial weight scale): hidden weights ~ N(0, (c·s)²/fan_in) with
 * c in {0.01, 0.1, 1, 10}; the E1 sigmoid net (lr 0.1) and its ReLU twin (lr 0.05), with and without BN.
 */
final class E5InitScale implements Experiment {
    static final double[] SCALES = {0.01, 0.1, 1, 10};

    @Override
    public String id() {
        return "E5";
    }

    @Override
    public int claim() {
        return 5;
    }

    @Override
    public String name() {
        return "Insensitivity to the initial weight scale";
    }

    static String variant(Activation act, Norm norm, double c) {
        return act.name().toLowerCase() + "-" + (norm == Norm.BN ? "bn" : "none") + "@c" + c;
    }

    @Override
    public List<RunSpec> runs(Settings s) {
        List<RunSpec> out = new ArrayList<>();
        long steps = s.steps(5_000);
        for (long seed : s.seeds()) {
            for (Activation act : Activation.values()) {
                double lr = act == Activation.SIGMOID ? 0.1 : 0.05;
                for (Norm norm : new Norm[] {Norm.NONE, Norm.BN}) {
                    for (double c : SCALES) {
                        out.add(RunSpec.mlp("E5", variant(act, norm, c), seed, E1Convergence.NET, act, norm, 60, lr,
                                steps, RunSpec.finalFive(steps)).withInitScale(c));
                    }
                }
            }
        }
        return out;
    }

    @Override
    public ClaimResult evaluate(Settings s, Results r, ReproData data) {
        List<Criterion> c = new ArrayList<>();
        List<List<String>> table = new ArrayList<>();
        table.add(Curves.header("accuracy at " + s.steps(5_000) + " steps", r.seeds()));
        List<Plot.Series> series = new ArrayList<>();
        StringBuilder findings = new StringBuilder();
        for (Activation act : Activation.values()) {
            for (Norm norm : new Norm[] {Norm.NONE, Norm.BN}) {
                double[] means = new double[SCALES.length];
                for (int i = 0; i < SCALES.length; i++) {
                    double[] v = r.perSeed("E5", variant(act, norm, SCALES[i]), RunResult::finalAcc);
                    means[i] = Results.mean(v);
                    table.add(Curves.row(variant(act, norm, SCALES[i]), v, Curves::pct));
                }
                double lo = Results.min(means), hi = Results.max(means);
                String a = act.name().toLowerCase();
                if (norm == Norm.BN) {
                    c.add(Curves.single("E5-" + a + "-bn-min", a + " BN: lowest mean accuracy over c", lo, 0.80,
                            false));
                    c.add(Curves.single("E5-" + a + "-bn-spread", a + " BN: max - min mean accuracy over c", hi - lo,
                            0.07, true));
                } else {
                    c.add(Curves.single("E5-" + a + "-none-min", a + " no BN: lowest mean accuracy over c", lo, 0.20,
                            true));
                    c.add(Curves.single("E5-" + a + "-none-spread", a + " no BN: max - min mean accuracy over c",
                            hi - lo, 0.40, false));
                }
                findings.append(String.format(java.util.Locale.ROOT, "%s %s: %.3f to %.3f. ", a,
                        norm == Norm.BN ? "with BN" : "without BN", lo, hi));
                series.add(new Plot.Series(a + (norm == Norm.BN ? " + BN" : ", no BN"), SCALES, means, null, null));
            }
        }
        findings.append("BN is expected to lose a few points at c = 10: the effective learning rate of a "
                + "scale-invariant weight falls as 1/c², so it trains slower, not worse.");
        Plot plot = new Plot("e5-scale", "Test accuracy after " + s.steps(5_000) + " steps vs init scale c",
                "init scale c", "test accuracy", true, series, 0, 1);
        return new ClaimResult(5, "E5", name(), ClaimResult.verdict(c), r.seconds("E5"), c, List.of(plot), table,
                "With BN, training is much less sensitive to the scale of the initial weights (Sec. 3.3: "
                        + "BN(Wu) = BN((aW)u)).",
                "Hidden weights ~ N(0, (c s)^2 / fan_in), c in {0.01, 0.1, 1, 10}, output layer at c = 1; sigmoid "
                        + "3x100 at lr 0.1 and ReLU 3x100 at lr 0.05, with and without BN; batch 60; "
                        + s.steps(5_000) + " steps; diverged runs count as 0.10.",
                findings.toString());
    }
}
