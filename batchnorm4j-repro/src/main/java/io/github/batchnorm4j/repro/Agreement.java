package io.github.batchnorm4j.repro;

/**
 * The report-only check of ours against the PyTorch twin (docs/protocol.md, "Ours beside the twin"): our mean of
 * a gated metric lies within the twin's mean ± 3·sd/√n, with sd the twin's standard deviation over its seeds and
 * n the number of our seeds behind the value.
 */
public final class Agreement {
    private Agreement() {}

    /** Our mean of the metric: the mean of the per-seed values, or the criterion's value when it is one number. */
    public static double ours(Criterion c) {
        if (c.perSeed().length == 0) {
            return c.value();
        }
        double s = 0;
        for (double v : c.perSeed()) {
            s += v;
        }
        return s / c.perSeed().length;
    }

    /** How many of our seeds stand behind {@link #ours}. */
    public static int seeds(Criterion c, GateTable.Gate g, Settings s) {
        if (c.perSeed().length > 0) {
            return c.perSeed().length;
        }
        return g.kind().equals("mean") ? s.seeds().length : 1;
    }

    /**
     * true/false for agree/disagree; null when a value is not finite or the twin has no spread to compare with: a
     * standard deviation below 1e-9·max(1, |mean|) is rounding, not spread (ten nets stuck at chance accuracy, 0.1, read
     * 1.5e-17), and any other value of ours would "disagree" with it however close.
     */
    public static Boolean agrees(Criterion c, GateTable.Gate g, Settings s) {
        double ours = ours(c);
        if (g == null || !Double.isFinite(ours) || !Double.isFinite(g.twinMean()) || !Double.isFinite(g.twinSd())
                || g.twinSd() < 1e-9 * Math.max(1, Math.abs(g.twinMean()))) {
            return null;
        }
        double band = 3 * g.twinSd() / Math.sqrt(seeds(c, g, s));
        return Math.abs(ours - g.twinMean()) <= band;
    }
}
