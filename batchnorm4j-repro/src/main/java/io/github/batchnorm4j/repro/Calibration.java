package io.github.batchnorm4j.repro;

import io.github.batchnorm4j.io.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The gate calibration of docs/protocol.md: reads only the PyTorch twin's results (seeds 100-109, full and quick),
 * judges them with the experiments' own criterion code, and writes the gate table. A gate the twin passes for every
 * seed (per-seed and single-seed gates) or for every one of the 120 seed triples (gates on a mean) keeps the
 * protocol's threshold; otherwise it moves to the twin's worst value minus one standard deviation of the judged
 * values (plus, for &lt;= gates), never past the claim's substance floor ({@link GateRules}). A protocol threshold
 * looser than its floor is tightened to the floor.
 *
 * <p>Usage: {@code Calibration TWIN_DIR GATES_TSV [PROTOCOL_MD]}, where TWIN_DIR holds
 * {@code plan/{full,quick}.jsonl} and {@code results/{full,quick}/runs.jsonl.gz} (the committed results).
 */
public final class Calibration {
    /** The experiments calibrated: E8's exactness gates are never moved. */
    static final Set<Integer> CLAIMS = Set.of(1, 2, 3, 4, 5, 6, 7);

    private Calibration() {}

    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            System.err.println("usage: Calibration TWIN_DIR GATES_TSV [PROTOCOL_MD]");
            System.exit(2);
        }
        Path twin = Path.of(args[0]);
        GateTable table = compute(twin);
        AtomicFiles.write(Path.of(args[1]), table.format().getBytes(StandardCharsets.UTF_8));
        System.out.println("Wrote " + table.all().size() + " gates to " + args[1]);
        if (args.length > 2) {
            Path md = Path.of(args[2]);
            String doc = Files.readString(md);
            AtomicFiles.write(md, ProtocolTable.splice(doc, ProtocolTable.markdown(table)).getBytes(StandardCharsets.UTF_8));
            System.out.println("Updated the gate table in " + md);
        }
    }

    /** The gate table computed from the twin's committed plans and results under {@code twinDir}. */
    public static GateTable compute(Path twinDir) throws IOException {
        List<GateTable.Gate> gates = new ArrayList<>();
        for (String mode : new String[] {"full", "quick"}) {
            Path plan = twinDir.resolve("plan").resolve(mode + ".jsonl");
            Path results = twinDir.resolve("results").resolve(mode).resolve("runs.jsonl.gz");
            if (!Files.exists(results)) {
                System.err.println("Calibration: no " + mode + " results of the twin yet; " + mode
                        + " mode keeps the protocol's thresholds");
                continue;
            }
            gates.addAll(calibrate(TwinRuns.read(plan, results), mode.equals("quick")));
        }
        return new GateTable(gates);
    }

    /** What the twin's runs say about every gate in one mode. */
    static List<GateTable.Gate> calibrate(TwinRuns twin, boolean quick) {
        long[] seeds = twinSeeds(twin, quick);
        // Per seed: each seed judged on its own (per-seed and single-seed gates, and the per-seed figures shown).
        Map<String, Criterion> protocol = new LinkedHashMap<>();
        Map<String, double[]> perSeed = new LinkedHashMap<>();
        for (int i = 0; i < seeds.length; i++) {
            for (Criterion c : judge(twin, new long[] {seeds[i]}, quick)) {
                protocol.putIfAbsent(c.id(), c);
                perSeed.computeIfAbsent(c.id(), k -> new double[seeds.length])[i] =
                        c.perSeed().length > 0 ? c.perSeed()[0] : c.value();
            }
        }
        // Triples: gates on a mean over three seeds (the full protocol's three seeds).
        Map<String, List<Double>> triples = new LinkedHashMap<>();
        for (int a = 0; a < (quick ? 0 : seeds.length); a++) {
            for (int b = a + 1; b < seeds.length; b++) {
                for (int c = b + 1; c < seeds.length; c++) {
                    for (Criterion cr : judge(twin, new long[] {seeds[a], seeds[b], seeds[c]}, quick)) {
                        if (GateRules.rule(cr.id()).kind() == GateRules.Kind.MEAN) {
                            triples.computeIfAbsent(cr.id(), k -> new ArrayList<>()).add(cr.value());
                        }
                    }
                }
            }
        }
        Map<String, GateTable.Gate> out = new LinkedHashMap<>();
        Map<String, double[]> sampledById = new LinkedHashMap<>();
        for (Criterion c : protocol.values()) {
            GateRules.Rule rule = GateRules.rule(c.id());
            // Quick mode runs one seed, so there even a gate "on a mean" judges a single seed's value.
            double[] sampled = rule.kind() == GateRules.Kind.MEAN && !quick
                    ? triples.get(c.id()).stream().mapToDouble(Double::doubleValue).toArray() : perSeed.get(c.id());
            out.put(c.id(), gate(c, rule, quick, perSeed.get(c.id()), sampled));
            sampledById.put(c.id(), sampled);
        }
        for (GateRules.Rule rule : GateRules.RULES.values()) {
            if (rule.pairedWith() != null && out.containsKey(rule.id()) && out.get(rule.id()).atMost()) {
                keepRatio(out, rule, sampledById);
            }
        }
        return new ArrayList<>(out.values());
    }

    private static long[] twinSeeds(TwinRuns twin, boolean quick) {
        long[] seeds = java.util.stream.LongStream.rangeClosed(100, 109).toArray();
        List<RunSpec> need = Plan.perSeed(seeds, quick, CLAIMS);
        if (!twin.covers(need)) {
            throw new IllegalStateException("The twin's " + (quick ? "quick" : "full") + " results lack runs of "
                    + "seeds 100-109 (" + twin.size() + " of " + need.size() + " runs present)");
        }
        return seeds;
    }

    /** Every gating criterion of claims 1-7 on the twin's runs of {@code seeds}, at the protocol's thresholds. */
    private static List<Criterion> judge(TwinRuns twin, long[] seeds, boolean quick) {
        Settings s = Settings.of(seeds, quick);
        Results r = twin.results(seeds);
        List<Criterion> out = new ArrayList<>();
        for (Experiment e : Reproduction.EXPERIMENTS) {
            if (CLAIMS.contains(e.claim())) {
                for (Criterion c : e.evaluate(s, r, null).criteria()) {
                    if (c.gate()) {
                        out.add(c);
                    }
                }
            }
        }
        return out;
    }

    static GateTable.Gate gate(Criterion c, GateRules.Rule rule, boolean quick, double[] seedValues,
                                       double[] sampled) {
        double floor = quick ? rule.quickFloor() : rule.floor();
        double protocol = c.threshold();
        boolean all = Arrays.stream(sampled).allMatch(v -> c.meets(v, protocol));
        double worst = worst(sampled, c.atMost());
        double sd = sd(sampled);
        double threshold;
        String status;
        if (all) {
            threshold = protocol;
            status = "kept";
        } else if (Double.isFinite(worst) && Double.isFinite(sd)) {
            threshold = round(c.atMost() ? worst + sd : worst - sd, c.atMost());
            status = "moved";
        } else {
            threshold = Double.isNaN(floor) ? protocol : floor; // a NaN or "never" cannot be moved past
            status = "floor";
        }
        if (!Double.isNaN(floor) && floor != threshold && c.meets(floor, threshold)) { // looser than the floor
            status = all ? "tightened" : "floor";
            threshold = floor;
        }
        return gate(c, rule, quick, floor, threshold, status, seedValues, sampled);
    }

    private static GateTable.Gate gate(Criterion c, GateRules.Rule rule, boolean quick, double floor, double threshold,
                                       String status, double[] seedValues, double[] sampled) {
        int pass = (int) Arrays.stream(sampled).filter(v -> c.meets(v, threshold)).count();
        return new GateTable.Gate(c.id(), quick ? "quick" : "full", rule.kind().name().toLowerCase(Locale.ROOT),
                c.atMost(), c.threshold(), floor, threshold, status, seedValues.length, Results.mean(seedValues),
                sd(seedValues), sampled.length, worst(sampled, c.atMost()), sd(sampled), pass);
    }

    /** A ratio pair (E1b, E4a): the &lt;= gate's threshold stays at most ratio x the &gt;= gate's. */
    static void keepRatio(Map<String, GateTable.Gate> out, GateRules.Rule low, Map<String, double[]> sampled) {
        GateTable.Gate lo = out.get(low.id()), hi = out.get(low.pairedWith());
        if (hi == null || lo.threshold() <= low.ratio() * hi.threshold()) {
            return;
        }
        if (!lo.status().equals("kept")) {
            out.put(lo.id(), with(lo, low.ratio() * hi.threshold(), "floor", sampled.get(lo.id())));
        } else {
            out.put(hi.id(), with(hi, lo.threshold() / low.ratio(), hi.status().equals("kept") ? "tightened" : "floor",
                    sampled.get(hi.id())));
        }
    }

    private static GateTable.Gate with(GateTable.Gate g, double threshold, String status, double[] sampled) {
        int pass = sampled == null ? g.twinPass() : (int) Arrays.stream(sampled)
                .filter(v -> !Double.isNaN(v) && (g.atMost() ? v <= threshold : v >= threshold)).count();
        return new GateTable.Gate(g.id(), g.mode(), g.kind(), g.atMost(), g.protocol(), g.floor(), threshold, status,
                g.twinN(), g.twinMean(), g.twinSd(), g.sampledN(), g.sampledWorst(), g.sampledSd(), pass);
    }

    /** Rounded to 3 significant digits, outwards (looser), so a printed threshold is what is applied. */
    static double round(double v, boolean atMost) {
        if (v == 0 || !Double.isFinite(v)) {
            return v;
        }
        double scale = Math.pow(10, Math.floor(Math.log10(Math.abs(v))) - 2);
        double r = atMost ? Math.ceil(v / scale) * scale : Math.floor(v / scale) * scale;
        return Double.parseDouble(String.format(Locale.ROOT, "%.3g", r));
    }

    static double worst(double[] v, boolean atMost) {
        double w = atMost ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
        for (double x : v) {
            if (Double.isNaN(x)) {
                return Double.NaN;
            }
            w = atMost ? Math.max(w, x) : Math.min(w, x);
        }
        return w;
    }

    /** The sample standard deviation (n - 1). */
    static double sd(double[] v) {
        if (v.length < 2) {
            return Double.NaN;
        }
        double m = Results.mean(v), s = 0;
        for (double x : v) {
            s += (x - m) * (x - m);
        }
        return Math.sqrt(s / (v.length - 1));
    }
}
