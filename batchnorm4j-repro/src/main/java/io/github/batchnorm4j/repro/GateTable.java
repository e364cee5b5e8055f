package io.github.batchnorm4j.repro;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The gate table {@code reproduce} judges with: for every gating criterion and mode (full, quick), the threshold
 * calibrated on the PyTorch twin of the protocol, with its provenance (the protocol's original threshold, the
 * floor, what happened to it, and the twin's figures). It is the resource {@code gates.tsv}, written only by
 * {@link Calibration} from the twin's committed results; nothing else sets a threshold.
 */
public final class GateTable {
    /** The columns of {@code gates.tsv}, in order. */
    static final String HEADER = "id\tmode\tkind\tdirection\tprotocol\tfloor\tthreshold\tstatus\ttwin_n\ttwin_mean"
            + "\ttwin_sd\tsampled_n\tsampled_worst\tsampled_sd\ttwin_pass";

    /**
     * One gate in one mode. {@code twinMean}/{@code twinSd}: the twin's per-seed values of the criterion (10
     * seeds); {@code sampled*}: the values the calibration judged (per seed, or per 3-seed triple for gates on a
     * mean); {@code twinPass}: how many of those meet {@code threshold}.
     */
    public record Gate(String id, String mode, String kind, boolean atMost, double protocol, double floor,
                       double threshold, String status, int twinN, double twinMean, double twinSd, int sampledN,
                       double sampledWorst, double sampledSd, int twinPass) {

        String row() {
            return String.join("\t", id, mode, kind, atMost ? "<=" : ">=", fmt(protocol), fmt(floor), fmt(threshold),
                    status, Integer.toString(twinN), fmt(twinMean), fmt(twinSd), Integer.toString(sampledN),
                    fmt(sampledWorst), fmt(sampledSd), Integer.toString(twinPass));
        }

        static Gate parse(String line) {
            String[] f = line.split("\t", -1);
            if (f.length != 15) {
                throw new IllegalArgumentException("gates.tsv: expected 15 columns, got " + f.length + ": " + line);
            }
            return new Gate(f[0], f[1], f[2], f[3].equals("<="), num(f[4]), num(f[5]), num(f[6]), f[7],
                    Integer.parseInt(f[8]), num(f[9]), num(f[10]), Integer.parseInt(f[11]), num(f[12]), num(f[13]),
                    Integer.parseInt(f[14]));
        }
    }

    private static volatile GateTable resource;

    private final Map<String, Gate> gates;

    GateTable(List<Gate> list) {
        gates = new LinkedHashMap<>();
        for (Gate g : list) {
            gates.put(g.id() + "/" + g.mode(), g);
        }
    }

    /** The table shipped with the library. */
    public static GateTable shipped() {
        GateTable t = resource;
        if (t == null) {
            try (InputStream in = GateTable.class.getResourceAsStream("gates.tsv")) {
                // Before the first calibration there is no table: the protocol's own thresholds apply.
                t = in == null ? new GateTable(List.of()) : parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            resource = t;
        }
        return t;
    }

    static GateTable parse(String text) {
        List<Gate> list = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new java.io.StringReader(text))) {
            String header = r.readLine();
            if (!HEADER.equals(header)) {
                throw new IllegalArgumentException("gates.tsv: unexpected header " + header);
            }
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (!line.isBlank()) {
                    list.add(Gate.parse(line));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new GateTable(list);
    }

    String format() {
        StringBuilder b = new StringBuilder(HEADER).append('\n');
        for (Gate g : gates.values()) {
            b.append(g.row()).append('\n');
        }
        return b.toString();
    }

    public List<Gate> all() {
        return new ArrayList<>(gates.values());
    }

    /** The gate {@code id} in the mode of {@code s}, or null when the table does not hold it. */
    public Gate get(Settings s, String id) {
        return gates.get(id + "/" + mode(s));
    }

    /** "full" or "quick" for the protocol's two scales; null for any other scale (tests), which no gate covers. */
    /** Whether this table holds calibrated gates for the mode of {@code s} (else the protocol's thresholds apply). */
    public boolean calibrated(Settings s) {
        String m = mode(s);
        return m != null && gates.values().stream().anyMatch(g -> g.mode().equals(m));
    }

    static String mode(Settings s) {
        if (s.scale() == 1.0 && !s.quick()) {
            return "full";
        }
        return s.quick() && s.scale() == Settings.QUICK_SCALE ? "quick" : null;
    }

    /**
     * {@code c} with every gating criterion judged against this table's threshold. A gate the table lacks is an
     * error, except exactness gates (never calibrated, their threshold is the protocol's); a table whose
     * protocol threshold differs from the code's means the table is stale, also an error.
     */
    public ClaimResult apply(Settings s, ClaimResult c) {
        if (!calibrated(s)) {
            return c;
        }
        List<Criterion> out = new ArrayList<>();
        for (Criterion cr : c.criteria()) {
            if (!cr.gate()) {
                out.add(cr);
                continue;
            }
            Gate g = get(s, cr.id());
            if (g == null) {
                if (GateRules.rule(cr.id()).kind() != GateRules.Kind.EXACT) {
                    throw new IllegalStateException("gates.tsv has no " + mode(s) + " gate " + cr.id()
                            + "; run tools/twin/calibrate");
                }
                out.add(cr);
                continue;
            }
            if (!same(g.protocol(), cr.threshold()) || g.atMost() != cr.atMost()) {
                throw new IllegalStateException("gates.tsv is stale for " + cr.id() + " (" + mode(s) + "): protocol "
                        + "threshold " + fmt(g.protocol()) + " there, " + fmt(cr.threshold())
                        + " in the code; run tools/twin/calibrate");
            }
            out.add(cr.withThreshold(g.threshold()));
        }
        return new ClaimResult(c.id(), c.experiment(), c.name(), ClaimResult.verdict(out), c.seconds(), out, c.plots(),
                c.table(), c.claim(), c.setup(), c.findings());
    }

    private static boolean same(double a, double b) {
        return a == b || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
    }

    static String fmt(double v) {
        if (Double.isNaN(v)) {
            return "NaN";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "inf" : "-inf";
        }
        String s = String.format(Locale.ROOT, "%.6g", v);
        if (s.contains("e")) {
            return s;
        }
        if (s.contains(".")) {
            s = s.replaceAll("0+$", "");
            s = s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
        }
        return s;
    }

    static double num(String s) {
        return switch (s) {
            case "NaN" -> Double.NaN;
            case "inf" -> Double.POSITIVE_INFINITY;
            case "-inf" -> Double.NEGATIVE_INFINITY;
            default -> Double.parseDouble(s);
        };
    }
}
