package io.github.batchnorm4j.repro;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/** Helpers shared by the experiments: mean curves with min–max bands, criteria over seeds, number formats. */
final class Curves {
    private Curves() {}

    /** Test accuracy vs step of one variant: mean over seeds with the min–max band. */
    static Plot.Series accuracy(Results r, String exp, String variant, String label) {
        long[] seeds = r.seeds();
        RunResult first = r.get(exp, variant, seeds[0]);
        int n = first.evalSteps().length;
        double[] x = new double[n], y = new double[n], lo = new double[n], hi = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = first.evalSteps()[i];
            double[] v = new double[seeds.length];
            for (int s = 0; s < seeds.length; s++) {
                v[s] = r.get(exp, variant, seeds[s]).testAcc()[i];
            }
            y[i] = Results.mean(v);
            lo[i] = Results.min(v);
            hi[i] = Results.max(v);
        }
        return new Plot.Series(label, x, y, lo, hi);
    }

    /** A criterion that must hold for every seed: {@code value >= threshold} (or &lt;= when {@code atMost}). */
    static Criterion perSeed(String id, String metric, double[] values, double threshold, boolean atMost) {
        boolean ok = true;
        double worst = atMost ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
        for (double v : values) {
            boolean pass = atMost ? v <= threshold : v >= threshold;
            ok &= pass && !Double.isNaN(v);
            worst = atMost ? Math.max(worst, v) : Math.min(worst, v);
            if (Double.isNaN(v)) {
                worst = Double.NaN;
            }
        }
        return new Criterion(id, true, ok, metric, worst, threshold, values.clone(), atMost);
    }

    /** A criterion on one number (a mean over seeds, a ratio of means). */
    static Criterion single(String id, String metric, double value, double threshold, boolean atMost) {
        boolean ok = !Double.isNaN(value) && (atMost ? value <= threshold : value >= threshold);
        return new Criterion(id, true, ok, metric, value, threshold, new double[0], atMost);
    }

    /** Per-seed differences a - b. */
    static double[] minus(double[] a, double[] b) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i] - b[i];
        }
        return d;
    }

    /** Steps to reach {@code target}; never reaching it counts as infinity. */
    static ToDoubleFunction<RunResult> stepsTo(double target) {
        return run -> {
            long s = run.stepsTo(target);
            return s < 0 ? Double.POSITIVE_INFINITY : s;
        };
    }

    static String pct(double v) {
        return Double.isNaN(v) ? "NaN" : String.format(Locale.ROOT, "%.3f", v);
    }

    static String num(double v) {
        if (Double.isInfinite(v)) {
            return "never";
        }
        return Double.isNaN(v) ? "NaN" : String.format(Locale.ROOT, "%.4g", v);
    }

    /** A row of per-seed values formatted with {@code fmt}, then their mean. */
    static List<String> row(String label, double[] v, java.util.function.DoubleFunction<String> fmt) {
        List<String> out = new ArrayList<>();
        out.add(label);
        for (double x : v) {
            out.add(fmt.apply(x));
        }
        double m = Results.mean(v);
        out.add(fmt.apply(m));
        return out;
    }

    static List<String> header(String first, long[] seeds) {
        List<String> out = new ArrayList<>();
        out.add(first);
        for (long s : seeds) {
            out.add("seed " + s);
        }
        out.add("mean");
        return out;
    }
}
