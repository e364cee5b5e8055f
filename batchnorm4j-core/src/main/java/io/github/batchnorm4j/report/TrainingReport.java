package io.github.batchnorm4j.report;

import io.github.batchnorm4j.diag.ActivationTracker;
import io.github.batchnorm4j.diag.Probes;
import io.github.batchnorm4j.diag.WarningSink;
import io.github.batchnorm4j.io.AtomicFiles;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.ReLU;
import io.github.batchnorm4j.nn.Sigmoid;
import io.github.batchnorm4j.nn.Tanh;
import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.nn.norm.FrozenBatchNorm;
import io.github.batchnorm4j.nn.norm.GroupNorm;
import io.github.batchnorm4j.nn.norm.InstanceNorm;
import io.github.batchnorm4j.nn.norm.LayerNorm;
import io.github.batchnorm4j.tensor.Tensor;
import io.github.batchnorm4j.train.TrainerCallback;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes {@code report.html} next to {@code metrics.jsonl} while a run trains, and once more at its end: the loss,
 * accuracy and learning-rate curves (read from {@code metrics.jsonl}, so a resumed run shows its whole history), per
 * normalization layer the running mean and variance over time (three channels and the 10th/50th/90th percentile
 * over all channels) and the distributions of γ and β, the 15th/50th/85th percentiles of tracked units' inputs
 * (the BN paper's Figure 1 view: by default the input of the last activation, unit 0), and the diagnostics that
 * fired. The page is self-contained (inline SVG, no network); each write is atomic (temp file and rename), so a
 * browser never sees half a page. Running statistics and activations are kept in memory: after a resume they start
 * at the resumed step.
 */
public final class TrainingReport implements TrainerCallback {
    /** At most this many points per recorded series (sampling every total/this steps). */
    static final int POINTS = 200;
    /** Rewrites per run while training (plus epoch ends and the end). */
    static final int REFRESHES = 25;
    static final int MAX_LAYERS = 8;

    private final Path file;
    private final Path metrics;
    private final WarningSink warnings;
    private final String title;
    private final String summary;
    private final long totalSteps;
    private final long sampleEvery;
    private final long refreshEvery;
    private final PrintStream errors;
    private ActivationTracker tracker;
    private boolean ownTracker;
    private boolean failed;
    private long step;
    /** Per norm layer: recorded running statistics, one row per sample. */
    final Map<String, Stats> stats = new LinkedHashMap<>();
    private Map<String, Module> norms;

    /** The running statistics of one layer over time. */
    static final class Stats {
        final List<Long> steps = new ArrayList<>();
        final List<double[]> mean = new ArrayList<>();
        final List<double[]> var = new ArrayList<>();
    }

    /**
     * @param dir        the run folder ({@code report.html} goes there; {@code metrics.jsonl} is read from there)
     * @param title      what is trained (model and data), for the heading
     * @param summary    the model summary table, shown as text
     * @param warnings   the diagnostics' warnings
     * @param totalSteps the run's length in optimizer steps
     */
    public TrainingReport(Path dir, String title, String summary, WarningSink warnings, long totalSteps,
                          PrintStream errors) {
        this.file = dir.resolve("report.html");
        this.metrics = dir.resolve("metrics.jsonl");
        this.title = title;
        this.summary = summary;
        this.warnings = warnings;
        this.totalSteps = totalSteps;
        this.sampleEvery = Math.max(1, totalSteps / POINTS);
        this.refreshEvery = Math.max(1, totalSteps / REFRESHES);
        this.errors = errors;
    }

    /** Shows the activations {@code t} records ({@code --track}) instead of the default tracked unit. */
    public void useTracker(ActivationTracker t) {
        this.tracker = t;
        this.ownTracker = false;
    }

    @Override
    public void beforeTrainStep(Module model, long step, Tensor input) {
        if (tracker == null) {
            String layer = defaultLayer(model);
            if (layer != null) {
                tracker = new ActivationTracker(List.of(layer), 0, sampleEvery);
                ownTracker = true;
            }
        }
        if (ownTracker) {
            tracker.beforeTrainStep(model, step, input);
        }
    }

    @Override
    public void afterTrainStep(Module model, long step, double loss) {
        if (ownTracker) {
            tracker.afterTrainStep(model, step, loss);
        }
        this.step = step + 1;
        if (step % sampleEvery == 0 || step + 1 == totalSteps) {
            sample(model, step + 1);
        }
        if ((step + 1) % refreshEvery == 0 && step + 1 < totalSteps) {
            write(model, null, false);
        }
    }

    @Override
    public void afterEpoch(Module model, int epoch) {
        write(model, null, false);
    }

    /** The final page, with the test result when there is one ({@code null}: none). */
    public void finish(Module model, double[] testAccuracyLoss) {
        write(model, testAccuracyLoss, true);
    }

    /** The input of the last activation (the pre-activation), else of the last norm layer; null without either. */
    static String defaultLayer(Module model) {
        String act = null;
        String norm = null;
        for (Map.Entry<String, Module> e : Probes.named(model).entrySet()) {
            Module m = e.getValue();
            if (e.getKey().contains(".")) {
                continue; // inside a block: its activations are not separate layers in the run order
            }
            if (m instanceof ReLU || m instanceof Sigmoid || m instanceof Tanh) {
                act = e.getKey();
            } else if (isNorm(m)) {
                norm = e.getKey();
            }
        }
        return act != null ? act : norm;
    }

    static boolean isNorm(Module m) {
        return m instanceof BatchNorm || m instanceof LayerNorm || m instanceof GroupNorm || m instanceof InstanceNorm
                || m instanceof FrozenBatchNorm;
    }

    private Map<String, Module> norms(Module model) {
        if (norms == null) {
            norms = new LinkedHashMap<>();
            for (Map.Entry<String, Module> e : Probes.named(model).entrySet()) {
                if (isNorm(e.getValue()) && norms.size() < MAX_LAYERS) {
                    norms.put(e.getKey(), e.getValue());
                }
            }
        }
        return norms;
    }

    private void sample(Module model, long at) {
        for (Map.Entry<String, Module> e : norms(model).entrySet()) {
            Tensor rm = e.getValue().namedBuffers().get("running_mean");
            Tensor rv = e.getValue().namedBuffers().get("running_var");
            if (rm == null || rv == null) {
                continue;
            }
            Stats s = stats.computeIfAbsent(e.getKey(), k -> new Stats());
            s.steps.add(at);
            s.mean.add(summary(rm.toContiguousArray()));
            s.var.add(summary(rv.toContiguousArray()));
        }
    }

    /** Channels 0, 1, 2 (NaN when absent) and the 10th, 50th and 90th percentiles over all channels. */
    static double[] summary(float[] v) {
        double[] out = new double[6];
        for (int k = 0; k < 3; k++) {
            out[k] = k < v.length ? v[k] : Double.NaN;
        }
        float[] sorted = v.clone();
        Arrays.sort(sorted);
        out[3] = percentile(sorted, 0.10);
        out[4] = percentile(sorted, 0.50);
        out[5] = percentile(sorted, 0.90);
        return out;
    }

    /** Linear interpolation between order statistics (NumPy's default). */
    static double percentile(float[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(sorted.length - 1, lo + 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    private void write(Module model, double[] test, boolean last) {
        if (failed) {
            return;
        }
        try {
            String html = ReportPage.render(this, model, test, last);
            AtomicFiles.write(file, html.getBytes(StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            failed = true; // the report is an aid: training goes on, and the reason is said once
            errors.println("[bn4j] could not write " + file + ": " + e.getMessage());
        }
    }

    Path metricsFile() {
        return metrics;
    }

    String title() {
        return title;
    }

    String modelSummary() {
        return summary;
    }

    List<String> warnings() {
        return warnings == null ? List.of() : warnings.emitted();
    }

    long step() {
        return step;
    }

    long totalSteps() {
        return totalSteps;
    }

    ActivationTracker tracker() {
        return tracker;
    }

    Map<String, Module> normLayers(Module model) {
        return norms(model);
    }
}
