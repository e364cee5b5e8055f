package io.github.batchnorm4j.diag;

import io.github.batchnorm4j.io.AtomicFiles;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.tensor.MemoryFormat;
import io.github.batchnorm4j.tensor.Tensor;
import io.github.batchnorm4j.train.TrainerCallback;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Records, over training, how the activations of chosen layers evolve (the BN paper's Figure 1b/c and the
 * usual health metrics), every {@code every} training steps:
 * <ul>
 *   <li>{@code input_p15}, {@code input_p50}, {@code input_p85}: percentiles of the layer's <em>input</em> at one
 *       unit (index {@code unit} of dimension 1: a feature of {@code (N, F)} input, a channel of
 *       {@code (N, C, ...)} input, over all its {@code N} or {@code N·spatial} values in the batch), with linear
 *       interpolation between order statistics ({@code pos = p/100 · (n - 1)}, NumPy's default);</li>
 *   <li>{@code output_mean}, {@code output_std}: mean and (population) standard deviation of the layer's output;</li>
 *   <li>{@code grad_mean}, {@code grad_std}: the same for the gradient of the loss with respect to that output.</li>
 * </ul>
 * The layers are observed through {@link Probe}s installed only during the training steps it samples. Series are
 * keyed {@code "<layer>/<metric>"} and can be written as CSV ({@code step,layer,metric,value}) for a report.
 */
public final class ActivationTracker implements TrainerCallback {
    /** One recorded value. */
    public record Point(long step, double value) {}

    public static final List<String> METRICS = List.of("input_p15", "input_p50", "input_p85", "output_mean",
            "output_std", "grad_mean", "grad_std");

    private final Set<String> layers;
    private final int unit;
    private final long every;
    private final Map<String, List<Point>> series = new LinkedHashMap<>();
    private Probes.Installation probes;
    private long step;

    /**
     * @param layers dotted names of the layers to observe (as in {@code namedParameters}, without the suffix)
     * @param unit   the unit whose input percentiles are recorded (clamped to the layer's width)
     * @param every  record every this many training steps (step 0 included)
     */
    public ActivationTracker(List<String> layers, int unit, long every) {
        if (layers.isEmpty()) {
            throw new IllegalArgumentException("Expected at least one layer to track, got none");
        }
        if (unit < 0) {
            throw new IllegalArgumentException("Expected unit >= 0, got unit=" + unit);
        }
        if (every <= 0) {
            throw new IllegalArgumentException("Expected every > 0, got every=" + every);
        }
        this.layers = new LinkedHashSet<>(layers);
        this.unit = unit;
        this.every = every;
    }

    @Override
    public void beforeTrainStep(Module model, long step, Tensor input) {
        if (step % every != 0) {
            return;
        }
        Map<String, Module> named = Probes.named(model);
        for (String name : layers) {
            if (!named.containsKey(name)) {
                throw new IllegalArgumentException("Expected a layer name of the model " + named.keySet()
                        + ", got '" + name + "'");
            }
        }
        this.step = step;
        probes = Probes.install(model, (name, m) -> layers.contains(name), new Probe.Listener() {
            @Override
            public void onForward(String name, Module layer, Tensor in, Tensor out) {
                double[] unitValues = unitValues(in, Math.min(unit, in.rank() >= 2 ? in.dim(1) - 1 : 0));
                Arrays.sort(unitValues);
                add(name, "input_p15", percentile(unitValues, 15));
                add(name, "input_p50", percentile(unitValues, 50));
                add(name, "input_p85", percentile(unitValues, 85));
                double[] ms = meanStd(out.data());
                add(name, "output_mean", ms[0]);
                add(name, "output_std", ms[1]);
            }

            @Override
            public void onBackward(String name, Module layer, Tensor gradOutput, Tensor gradInput) {
                double[] ms = meanStd(gradOutput.data());
                add(name, "grad_mean", ms[0]);
                add(name, "grad_std", ms[1]);
            }
        });
    }

    @Override
    public void afterTrainStep(Module model, long step, double loss) {
        if (probes != null) {
            probes.remove();
            probes = null;
        }
    }

    private void add(String layer, String metric, double value) {
        series.computeIfAbsent(layer + "/" + metric, k -> new ArrayList<>()).add(new Point(step, value));
    }

    /** All series recorded so far, keyed {@code "<layer>/<metric>"} (copies). */
    public Map<String, List<Point>> series() {
        Map<String, List<Point>> out = new LinkedHashMap<>();
        series.forEach((k, v) -> out.put(k, List.copyOf(v)));
        return out;
    }

    /** One series ({@code layer}, one of {@link #METRICS}); empty when nothing was recorded. */
    public List<Point> series(String layer, String metric) {
        return List.copyOf(series.getOrDefault(layer + "/" + metric, List.of()));
    }

    /** CSV text {@code step,layer,metric,value}, one line per point, series in recording order. */
    public String toCsv() {
        StringBuilder sb = new StringBuilder("step,layer,metric,value\n");
        for (Map.Entry<String, List<Point>> e : series.entrySet()) {
            int slash = e.getKey().lastIndexOf('/');
            String layer = e.getKey().substring(0, slash);
            String metric = e.getKey().substring(slash + 1);
            for (Point p : e.getValue()) {
                sb.append(p.step()).append(',').append(layer).append(',').append(metric).append(',')
                        .append(String.format(Locale.ROOT, "%.9g", p.value())).append('\n');
            }
        }
        return sb.toString();
    }

    /** Writes {@link #toCsv()} atomically. */
    public void writeCsv(Path file) throws IOException {
        AtomicFiles.write(file, toCsv().getBytes(StandardCharsets.UTF_8));
    }

    /** Values of unit {@code u} (index along dimension 1) over the batch and spatial positions. */
    static double[] unitValues(Tensor x, int u) {
        if (x.rank() < 2) {
            return Arrays.stream(toDoubles(x.data())).toArray();
        }
        int n = x.dim(0), c = x.dim(1), s = x.spatialSize();
        boolean last = x.format() == MemoryFormat.CHANNELS_LAST || x.rank() == 2;
        float[] d = x.data();
        double[] out = new double[n * s];
        int k = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < s; j++) {
                out[k++] = d[last ? (i * s + j) * c + u : (i * c + u) * s + j];
            }
        }
        return out;
    }

    private static double[] toDoubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    /** Percentile {@code p} in [0, 100] of sorted values, linear interpolation between order statistics. */
    static double percentile(double[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        double pos = p / 100 * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    /** Mean and population standard deviation, two passes in double. */
    static double[] meanStd(float[] v) {
        if (v.length == 0) {
            return new double[] {Double.NaN, Double.NaN};
        }
        double s = 0;
        for (float f : v) {
            s += f;
        }
        double mean = s / v.length;
        double q = 0;
        for (float f : v) {
            double t = f - mean;
            q += t * t;
        }
        return new double[] {mean, Math.sqrt(q / v.length)};
    }
}
