package io.github.batchnorm4j.repro;

import io.github.batchnorm4j.io.Json;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The runs a reproduction executes: every run of the chosen experiments, each once (experiments share runs; a
 * shared run keeps every extra that any of them asks for). The PyTorch twin of the protocol executes exactly this
 * list, written by {@link #toJsonLines}, so both implementations run the same settings and evaluation points.
 */
public final class Plan {
    private Plan() {}

    /** The runs of {@code claims} under {@code s}, in the order the experiments list them. */
    public static List<RunSpec> of(Settings s, Set<Integer> claims) {
        Map<String, RunSpec> specs = new LinkedHashMap<>();
        for (Experiment e : Reproduction.EXPERIMENTS) {
            if (claims.contains(e.claim())) {
                for (RunSpec spec : e.runs(s)) {
                    specs.merge(spec.key(), spec, Plan::union);
                }
            }
        }
        return new ArrayList<>(specs.values());
    }

    /**
     * The twin's plan: the runs of every seed on its own, so that the single-seed parts (E6b, E8) exist for each
     * seed too and every per-seed criterion can be computed for every seed.
     */
    public static List<RunSpec> perSeed(long[] seeds, boolean quick, Set<Integer> claims) {
        Map<String, RunSpec> specs = new LinkedHashMap<>();
        for (long seed : seeds) {
            for (RunSpec spec : of(Settings.of(new long[] {seed}, quick), claims)) {
                specs.merge(spec.key(), spec, Plan::union);
            }
        }
        return new ArrayList<>(specs.values());
    }

    /** Two experiments may ask for the same run with different extras (probe, kept model): keep all extras. */
    static RunSpec union(RunSpec a, RunSpec b) {
        RunSpec r = a;
        if (b.probeEvery() > 0 && r.probeEvery() == 0) {
            r = r.withProbe(b.probeEvery());
        }
        if (b.keepModel() && !r.keepModel()) {
            r = r.withKeepModel();
        }
        if (b.preciseBn() && !r.preciseBn()) {
            r = r.withPreciseBn();
        }
        return r;
    }

    /** One JSON object per line and run, with the fields of {@link RunSpec} in snake_case. */
    public static String toJsonLines(List<RunSpec> runs) {
        StringBuilder b = new StringBuilder();
        for (RunSpec r : runs) {
            b.append("{\"key\": ").append(Json.quote(r.key()))
                    .append(", \"experiment\": ").append(Json.quote(r.experiment()))
                    .append(", \"variant\": ").append(Json.quote(r.variant()))
                    .append(", \"seed\": ").append(r.seed())
                    .append(", \"arch\": ").append(Json.quote(r.arch().name()))
                    .append(", \"hidden\": ").append(Arrays.toString(r.hidden()))
                    .append(", \"activation\": ").append(Json.quote(r.activation().name()))
                    .append(", \"norm\": ").append(Json.quote(r.norm().name()))
                    .append(", \"dropout\": ").append(r.dropout())
                    .append(", \"init_scale\": ").append(r.initScale())
                    .append(", \"batch_size\": ").append(r.batchSize())
                    .append(", \"lr\": ").append(r.lr())
                    .append(", \"momentum\": ").append(r.momentum())
                    .append(", \"steps\": ").append(r.steps())
                    .append(", \"eval_at\": [").append(Arrays.stream(r.evalAt()).mapToObj(Long::toString)
                            .collect(Collectors.joining(", "))).append(']')
                    .append(", \"precise_at\": [").append(Arrays.stream(preciseAt(r)).mapToObj(Long::toString)
                            .collect(Collectors.joining(", "))).append(']')
                    .append(", \"train_subset\": ").append(r.trainSubset())
                    .append(", \"probe_every\": ").append(r.probeEvery())
                    .append(", \"grad_every\": ").append(r.gradEvery())
                    .append(", \"precise_bn\": ").append(r.preciseBn())
                    .append(", \"keep_model\": ").append(r.keepModel())
                    .append(", \"rmax_limit\": ").append(r.rmaxLimit())
                    .append(", \"dmax_limit\": ").append(r.dmaxLimit())
                    .append("}\n");
        }
        return b.toString();
    }

    /** The evaluation steps at which a PreciseBN run also measures PreciseBN accuracy: its last five. */
    static long[] preciseAt(RunSpec r) {
        if (!r.preciseBn()) {
            return new long[0];
        }
        long[] e = r.evalAt();
        return Arrays.copyOfRange(e, Math.max(0, e.length - RunResult.FINAL_EVALUATIONS), e.length);
    }
}
