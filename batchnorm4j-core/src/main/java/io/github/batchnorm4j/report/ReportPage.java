package io.github.batchnorm4j.report;

import io.github.batchnorm4j.diag.ActivationTracker;
import io.github.batchnorm4j.io.Json;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.tensor.Tensor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The HTML of {@link TrainingReport}: self-contained, inline SVG, a check script that counts the drawn plots. */
final class ReportPage {
    private ReportPage() {}

    /** Points of metrics.jsonl: train (step, loss, accuracy, lr), eval (step, accuracy, loss). */
    private record Curves(List<double[]> train, List<double[]> eval) {}

    static String render(TrainingReport r, Module model, double[] test, boolean last) throws IOException {
        Curves c = curves(r);
        List<String> plots = new ArrayList<>();
        StringBuilder b = new StringBuilder("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
        if (!last) {
            b.append("<meta http-equiv=\"refresh\" content=\"15\">"); // while training, the page reloads itself
        }
        b.append("<title>Training report: ").append(SvgChart.esc(r.title())).append("</title><style>")
                .append("body{font-family:sans-serif;margin:1.5em;max-width:1350px;color:#222}")
                .append("h2{margin-top:1.6em;border-bottom:1px solid #ccc}.row{display:flex;flex-wrap:wrap;gap:8px}")
                .append("pre{background:#f6f6f6;padding:8px;overflow-x:auto;font-size:12px}")
                .append("li{margin-bottom:.5em}.muted{color:#666}</style></head><body>\n");
        b.append("<h1>Training report</h1><p>").append(SvgChart.esc(r.title())).append("<br><span class=\"muted\">")
                .append(last ? "finished at step " : "in progress: step ").append(r.step()).append(" of ")
                .append(r.totalSteps()).append("</span></p>\n");
        b.append(results(c, test));
        b.append("<h2>Loss, accuracy and learning rate</h2><div class=\"row\">");
        add(b, plots, SvgChart.lines("loss", "Loss", "step", List.of(
                series("train (batch)", c.train, 0, 1, false), series("validation", c.eval, 0, 2, true)), false));
        add(b, plots, SvgChart.lines("accuracy", "Accuracy", "step", List.of(
                series("train (batch)", c.train, 0, 2, false), series("validation", c.eval, 0, 1, true)), false));
        add(b, plots, SvgChart.lines("lr", "Learning rate", "step", List.of(series("lr", c.train, 0, 3, false)),
                false));
        b.append("</div>\n<h2>Diagnostics</h2>");
        List<String> w = r.warnings();
        if (w.isEmpty()) {
            b.append("<p>No diagnostic fired.</p>");
        } else {
            b.append("<ul>");
            for (String m : w) {
                b.append("<li>").append(SvgChart.esc(m.startsWith("[bn4j] ") ? m.substring(7) : m)).append("</li>");
            }
            b.append("</ul>");
        }
        b.append('\n').append(normSection(r, model, plots));
        b.append(activationSection(r, plots));
        b.append("<h2>Model</h2><pre>").append(SvgChart.esc(r.modelSummary())).append("</pre>\n");
        b.append("<script>(function(){var svgs=document.querySelectorAll('svg.plot'),drawn=0;"
                + "svgs.forEach(function(s){var ok=false;s.querySelectorAll('.series').forEach(function(e){"
                + "var r=e.getBBox();if(r.width>0||r.height>0){ok=true;}});if(ok){drawn++;}else{"
                + "console.error('plot '+s.id+' has no drawn content');}});"
                + "document.body.setAttribute('data-plots',svgs.length);"
                + "document.body.setAttribute('data-plots-drawn',drawn);})();</script>\n");
        return b.append("</body></html>\n").toString();
    }

    private static String results(Curves c, double[] test) {
        StringBuilder b = new StringBuilder("<p>");
        if (!c.train.isEmpty()) {
            double[] t = c.train.get(c.train.size() - 1);
            b.append(String.format(Locale.ROOT, "Last training batch (step %d): loss %.4f, accuracy %.4f. ",
                    (long) t[0], t[1], t[2]));
        }
        if (!c.eval.isEmpty()) {
            double[] e = c.eval.get(c.eval.size() - 1);
            b.append(String.format(Locale.ROOT, "Validation (step %d): accuracy %.4f, loss %.4f. ", (long) e[0], e[1],
                    e[2]));
        }
        if (test != null) {
            b.append(String.format(Locale.ROOT, "<b>Test: accuracy %.4f, loss %.4f.</b>", test[0], test[1]));
        }
        return b.append("</p>\n").toString();
    }

    private static String normSection(TrainingReport r, Module model, List<String> plots) {
        Map<String, Module> norms = r.normLayers(model);
        if (norms.isEmpty()) {
            return "<h2>Normalization layers</h2><p>The model has no normalization layer.</p>\n";
        }
        StringBuilder b = new StringBuilder("<h2>Normalization layers</h2><p class=\"muted\">Running statistics over"
                + " training (channels 0, 1, 2 and, dashed, the 10th/50th/90th percentile over all channels); γ"
                + " (weight) and β (bias) as they are now.</p>\n");
        for (Map.Entry<String, Module> e : norms.entrySet()) {
            String name = e.getKey();
            String id = name.replace('.', '_');
            b.append("<h3>").append(SvgChart.esc(name)).append(" (").append(e.getValue().getClass().getSimpleName())
                    .append(")</h3><div class=\"row\">");
            TrainingReport.Stats s = r.stats.get(name);
            if (s != null && !s.steps.isEmpty()) {
                add(b, plots, SvgChart.lines("mean-" + id, "running_mean of " + name, "step", stats(s, s.mean), false));
                add(b, plots, SvgChart.lines("var-" + id, "running_var of " + name, "step", stats(s, s.var), false));
            }
            Tensor g = tensor(e.getValue(), "weight");
            Tensor bt = tensor(e.getValue(), "bias");
            if (g != null) {
                add(b, plots, SvgChart.histogram("gamma-" + id, "γ of " + name + " (" + g.numel() + " values)",
                        doubles(g), 20));
            }
            if (bt != null) {
                add(b, plots, SvgChart.histogram("beta-" + id, "β of " + name + " (" + bt.numel() + " values)",
                        doubles(bt), 20));
            }
            if (s == null && g == null) {
                b.append("<p class=\"muted\">No running statistics and no affine parameters.</p>");
            }
            b.append("</div>\n");
        }
        return b.toString();
    }

    private static String activationSection(TrainingReport r, List<String> plots) {
        ActivationTracker t = r.tracker();
        StringBuilder b = new StringBuilder("<h2>Activations of tracked units</h2>");
        if (t == null) {
            return b.append("<p>No layer is tracked (the model has no activation or norm layer).</p>\n").toString();
        }
        b.append("<p class=\"muted\">The 15th, 50th and 85th percentile over the batch of one unit's input, as in"
                + " Figure 1 of the BN paper: with BatchNorm the distribution stays put while the network learns.</p>"
                + "<div class=\"row\">");
        Map<String, List<ActivationTracker.Point>> all = t.series();
        List<String> layers = new ArrayList<>();
        for (String key : all.keySet()) {
            String layer = key.substring(0, key.lastIndexOf('/'));
            if (!layers.contains(layer)) {
                layers.add(layer);
            }
        }
        for (String layer : layers) {
            List<SvgChart.Series> lines = new ArrayList<>();
            for (String m : List.of("input_p15", "input_p50", "input_p85")) {
                List<ActivationTracker.Point> p = all.getOrDefault(layer + "/" + m, List.of());
                double[] x = new double[p.size()];
                double[] y = new double[p.size()];
                for (int i = 0; i < x.length; i++) {
                    x[i] = p.get(i).step();
                    y[i] = p.get(i).value();
                }
                lines.add(new SvgChart.Series(m.substring(6), x, y, false));
            }
            add(b, plots, SvgChart.lines("act-" + layer.replace('.', '_'), "input of layer " + layer, "step", lines,
                    false));
        }
        return b.append("</div>\n").toString();
    }

    private static List<SvgChart.Series> stats(TrainingReport.Stats s, List<double[]> rows) {
        String[] names = {"channel 0", "channel 1", "channel 2", "p10", "p50", "p90"};
        List<SvgChart.Series> out = new ArrayList<>();
        for (int k = 0; k < 6; k++) {
            double[] x = new double[rows.size()];
            double[] y = new double[rows.size()];
            for (int i = 0; i < x.length; i++) {
                x[i] = s.steps.get(i);
                y[i] = rows.get(i)[k];
            }
            out.add(new SvgChart.Series(names[k], x, y, k >= 3));
        }
        return out;
    }

    private static Tensor tensor(Module m, String name) {
        if (m.namedParameters().get(name) != null) {
            return m.namedParameters().get(name).value();
        }
        return m.namedBuffers().get(name);
    }

    private static double[] doubles(Tensor t) {
        float[] f = t.toContiguousArray();
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    private static void add(StringBuilder b, List<String> plots, String svg) {
        if (svg != null) {
            b.append(svg);
            plots.add(svg);
        }
    }

    private static SvgChart.Series series(String name, List<double[]> rows, int xi, int yi, boolean dashed) {
        double[] x = new double[rows.size()];
        double[] y = new double[rows.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = rows.get(i)[xi];
            y[i] = rows.get(i)[yi];
        }
        return new SvgChart.Series(name, x, y, dashed);
    }

    private static Curves curves(TrainingReport r) throws IOException {
        List<double[]> train = new ArrayList<>();
        List<double[]> eval = new ArrayList<>();
        if (!Files.isRegularFile(r.metricsFile())) {
            return new Curves(train, eval);
        }
        for (String line : Files.readAllLines(r.metricsFile(), StandardCharsets.UTF_8)) {
            Object o;
            try {
                o = Json.parse(line);
            } catch (IllegalArgumentException e) {
                continue; // a line being written
            }
            if (o instanceof Map<?, ?> m) {
                if ("train".equals(m.get("event"))) {
                    train.add(new double[] {num(m.get("step")), num(m.get("loss")), num(m.get("accuracy")),
                        num(m.get("lr"))});
                } else if ("eval".equals(m.get("event"))) {
                    eval.add(new double[] {num(m.get("step")), num(m.get("accuracy")), num(m.get("loss"))});
                }
            }
        }
        return new Curves(train, eval);
    }

    private static double num(Object o) {
        return o instanceof Number n ? n.doubleValue() : Double.NaN;
    }
}
