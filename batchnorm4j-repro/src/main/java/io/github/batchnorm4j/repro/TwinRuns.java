package io.github.batchnorm4j.repro;

import io.github.batchnorm4j.io.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * The runs of the PyTorch twin of the protocol ({@code tools/twin}): the plan it executed (what {@code bn4j
 * reproduce --plan} writes) and its results, one JSON object per run, read back as {@link RunResult}s so that
 * the very criterion code of the experiments judges them. Files ending in {@code .gz} are read gunzipped.
 */
public final class TwinRuns {
    private final Map<String, RunResult> byKey;

    private TwinRuns(Map<String, RunResult> byKey) {
        this.byKey = byKey;
    }

    /** Reads {@code plan} (the specs) and {@code results} (the twin's records); every record must be in the plan. */
    public static TwinRuns read(Path plan, Path results) throws IOException {
        Map<String, RunSpec> specs = new LinkedHashMap<>();
        for (String line : lines(plan)) {
            RunSpec spec = spec(object(line, plan));
            specs.put(spec.key(), spec);
        }
        Map<String, RunResult> runs = new LinkedHashMap<>();
        for (String line : lines(results)) {
            Map<String, Object> o = object(line, results);
            String key = (String) o.get("key");
            RunSpec spec = specs.get(key);
            if (spec == null) {
                throw new IllegalArgumentException(results + ": run " + key + " is not in the plan " + plan);
            }
            runs.put(key, result(spec, o));
        }
        return new TwinRuns(runs);
    }

    /** The number of runs read. */
    public int size() {
        return byKey.size();
    }

    /** Whether every run of {@code specs} is present. */
    public boolean covers(List<RunSpec> specs) {
        return specs.stream().allMatch(s -> byKey.containsKey(s.key()));
    }

    /** The runs of {@code seeds} as a {@link Results}, as if a reproduction with these seeds had made them. */
    public Results results(long[] seeds) {
        Results r = new Results(seeds);
        java.util.Set<Long> want = new java.util.HashSet<>();
        for (long s : seeds) {
            want.add(s);
        }
        for (RunResult run : byKey.values()) {
            if (want.contains(run.spec().seed())) {
                r.add(run);
            }
        }
        return r;
    }

    private static List<String> lines(Path p) throws IOException {
        try (InputStream in = p.toString().endsWith(".gz") ? new GZIPInputStream(Files.newInputStream(p))
                : Files.newInputStream(p);
             BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            return r.lines().filter(l -> !l.isBlank()).toList();
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(String line, Path file) {
        Object o = Json.parse(line);
        if (!(o instanceof Map)) {
            throw new IllegalArgumentException(file + ": expected one JSON object per line");
        }
        return (Map<String, Object>) o;
    }

    static RunSpec spec(Map<String, Object> o) {
        return new RunSpec((String) o.get("key"), (String) o.get("experiment"), (String) o.get("variant"),
                num(o, "seed").longValue(), RunSpec.Arch.valueOf((String) o.get("arch")), ints(o.get("hidden")),
                RunSpec.Activation.valueOf((String) o.get("activation")), RunSpec.Norm.valueOf((String) o.get("norm")),
                num(o, "dropout").doubleValue(), num(o, "init_scale").doubleValue(),
                num(o, "batch_size").intValue(), num(o, "lr").doubleValue(), num(o, "momentum").doubleValue(),
                num(o, "steps").longValue(), longs(o.get("eval_at")), num(o, "train_subset").intValue(),
                num(o, "probe_every").longValue(), num(o, "grad_every").longValue(),
                (Boolean) o.get("precise_bn"), (Boolean) o.get("keep_model"), num(o, "rmax_limit").doubleValue(),
                num(o, "dmax_limit").doubleValue());
    }

    @SuppressWarnings("unchecked")
    static RunResult result(RunSpec spec, Map<String, Object> o) {
        List<Object> probe = (List<Object>) o.getOrDefault("probe", List.of());
        double[][][] p = null;
        if (probe != null && !probe.isEmpty()) {
            p = new double[probe.size()][][];
            for (int t = 0; t < p.length; t++) {
                List<Object> units = (List<Object>) probe.get(t);
                p[t] = new double[units.size()][];
                for (int u = 0; u < p[t].length; u++) {
                    p[t][u] = doubles(units.get(u));
                }
            }
        }
        Object precise = o.get("precise_acc");
        double[] pre = precise instanceof List ? doubles(precise)
                : precise instanceof Number n ? new double[] {n.doubleValue()} : new double[0];
        Object trainAcc = o.get("train_acc");
        return new RunResult(spec, longs(o.get("eval_steps")), doubles(o.get("test_acc")), doubles(o.get("test_loss")),
                Boolean.TRUE.equals(o.get("diverged")), num(o, "diverged_at").longValue(),
                num(o, "seconds").doubleValue(), longs(o.getOrDefault("probe_steps", List.of())), p,
                longs(o.getOrDefault("grad_steps", List.of())), doubles(o.getOrDefault("grad_ratio", List.of())), pre,
                trainAcc instanceof Number n ? n.doubleValue() : Double.NaN, null);
    }

    private static Number num(Map<String, Object> o, String k) {
        Object v = o.get(k);
        if (!(v instanceof Number n)) {
            throw new IllegalArgumentException("Expected a number for \"" + k + "\", got " + v);
        }
        return n;
    }

    @SuppressWarnings("unchecked")
    private static double[] doubles(Object v) {
        if (v == null) {
            return new double[0];
        }
        List<Object> l = (List<Object>) v;
        double[] d = new double[l.size()];
        for (int i = 0; i < d.length; i++) {
            d[i] = l.get(i) == null ? Double.NaN : ((Number) l.get(i)).doubleValue();
        }
        return d;
    }

    @SuppressWarnings("unchecked")
    private static long[] longs(Object v) {
        List<Object> l = (List<Object>) v;
        long[] d = new long[l.size()];
        for (int i = 0; i < d.length; i++) {
            d[i] = ((Number) l.get(i)).longValue();
        }
        return d;
    }

    private static int[] ints(Object v) {
        long[] l = longs(v);
        int[] d = new int[l.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = (int) l[i];
        }
        return d;
    }
}
