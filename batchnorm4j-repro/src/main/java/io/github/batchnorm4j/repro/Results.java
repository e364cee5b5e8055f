package io.github.batchnorm4j.repro;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/** All run results of a reproduction, looked up by experiment, variant and seed. */
public final class Results {
    private final Map<String, RunResult> byKey = new LinkedHashMap<>();
    private final long[] seeds;

    public Results(long[] seeds) {
        this.seeds = seeds.clone();
    }

    public synchronized void add(RunResult r) {
        byKey.put(r.spec().key(), r);
    }

    public long[] seeds() {
        return seeds.clone();
    }

    public synchronized RunResult get(String experiment, String variant, long seed) {
        RunResult r = byKey.get(experiment + "/" + variant + "/s" + seed);
        if (r == null) {
            throw new IllegalStateException("No run " + experiment + "/" + variant + "/s" + seed);
        }
        return r;
    }

    public synchronized boolean has(String experiment, String variant, long seed) {
        return byKey.containsKey(experiment + "/" + variant + "/s" + seed);
    }

    /** The per-seed values of {@code f} for one variant. */
    public double[] perSeed(String experiment, String variant, ToDoubleFunction<RunResult> f) {
        double[] v = new double[seeds.length];
        for (int i = 0; i < seeds.length; i++) {
            v[i] = f.applyAsDouble(get(experiment, variant, seeds[i]));
        }
        return v;
    }

    public synchronized List<RunResult> all() {
        return new ArrayList<>(byKey.values());
    }

    /** Sum of the run times of one experiment's runs. */
    public synchronized double seconds(String experiment) {
        return byKey.values().stream().filter(r -> r.spec().experiment().equals(experiment))
                .mapToDouble(RunResult::seconds).sum();
    }

    static double mean(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return s / v.length;
    }

    static double min(double[] v) {
        double m = Double.POSITIVE_INFINITY;
        for (double x : v) {
            m = Math.min(m, x);
        }
        return m;
    }

    static double max(double[] v) {
        double m = Double.NEGATIVE_INFINITY;
        for (double x : v) {
            m = Math.max(m, x);
        }
        return m;
    }
}
