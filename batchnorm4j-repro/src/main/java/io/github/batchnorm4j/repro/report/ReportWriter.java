package io.github.batchnorm4j.repro.report;

import io.github.batchnorm4j.io.AtomicFiles;
import io.github.batchnorm4j.io.Json;
import io.github.batchnorm4j.repro.ClaimResult;
import io.github.batchnorm4j.repro.Criterion;
import io.github.batchnorm4j.repro.GateTable;
import io.github.batchnorm4j.repro.Plot;
import io.github.batchnorm4j.repro.Reproduction;
import io.github.batchnorm4j.repro.RunResult;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Writes a reproduction's outputs into a folder: {@code index.html} (self-contained, inline SVG, no network),
 * {@code results.json} (the verdicts) and {@code runs.jsonl} (every evaluation of
 * every run). Each file is written atomically.
 */
public final class ReportWriter {
    private ReportWriter() {}

    public static void write(Path dir, Reproduction.Outcome o, String version, String dataDescription)
            throws IOException {
        AtomicFiles.write(dir.resolve("results.json"), resultsJson(o, version, dataDescription)
                .getBytes(StandardCharsets.UTF_8));
        AtomicFiles.write(dir.resolve("runs.jsonl"), runsJsonl(o).getBytes(StandardCharsets.UTF_8));
        AtomicFiles.write(dir.resolve("index.html"), html(o, version, dataDescription).getBytes(StandardCharsets.UTF_8));
    }

    static String num(double v) {
        if (Double.isNaN(v)) {
            return "null";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "1e308" : "-1e308"; // JSON has no infinity; "never reached" steps
        }
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }

    static String bool(Boolean b) {
        return b == null ? "null" : b.toString();
    }

    public static String resultsJson(Reproduction.Outcome o, String version, String data) {
        StringBuilder b = new StringBuilder("{\"version\": ").append(Json.quote(version)).append(", \"seeds\": [");
        long[] seeds = o.settings().seeds();
        for (int i = 0; i < seeds.length; i++) {
            b.append(i > 0 ? ", " : "").append(seeds[i]);
        }
        b.append("], \"quick\": ").append(o.settings().quick()).append(", \"threads\": ").append(o.workers())
                .append(", \"data\": ").append(Json.quote(data)).append(", \"seconds\": ").append(num(round(o.seconds())))
                .append(", \"claims\": [");
        for (int k = 0; k < o.claims().size(); k++) {
            ClaimResult c = o.claims().get(k);
            b.append(k > 0 ? ", " : "").append("\n  {\"id\": ").append(c.id()).append(", \"experiment\": ")
                    .append(Json.quote(c.experiment())).append(", \"name\": ").append(Json.quote(c.name()))
                    .append(", \"passed\": ").append(bool(c.passed())).append(", \"seconds\": ")
                    .append(num(round(c.seconds()))).append(", \"criteria\": [");
            for (int i = 0; i < c.criteria().size(); i++) {
                Criterion cr = c.criteria().get(i);
                b.append(i > 0 ? ", " : "").append("\n    {\"id\": ").append(Json.quote(cr.id())).append(", \"gate\": ")
                        .append(cr.gate()).append(", \"passed\": ").append(bool(cr.passed())).append(", \"metric\": ")
                        .append(Json.quote(cr.metric())).append(", \"value\": ").append(num(cr.value()))
                        .append(", \"threshold\": ").append(num(cr.threshold())).append(", \"per_seed\": [");
                for (int s = 0; s < cr.perSeed().length; s++) {
                    b.append(s > 0 ? ", " : "").append(num(cr.perSeed()[s]));
                }
                b.append("], \"direction\": ").append(Json.quote(cr.atMost() ? "<=" : ">="));
                GateTable.Gate g = cr.gate() ? GateTable.shipped().get(o.settings(), cr.id()) : null;
                if (g != null) {
                    Boolean agrees = io.github.batchnorm4j.repro.Agreement.agrees(cr, g, o.settings());
                    b.append(", \"protocol_threshold\": ").append(num(g.protocol())).append(", \"calibration\": ")
                            .append(Json.quote(g.status())).append(", \"twin_mean\": ").append(num(g.twinMean()))
                            .append(", \"twin_sd\": ").append(num(g.twinSd())).append(", \"agrees_with_twin\": ")
                            .append(bool(agrees));
                }
                b.append("}");
            }
            b.append("]}");
        }
        return b.append("\n]}\n").toString();
    }

    private static double round(double s) {
        return Math.round(s * 10) / 10.0;
    }

    static String runsJsonl(Reproduction.Outcome o) {
        StringBuilder b = new StringBuilder();
        for (RunResult r : o.results().all()) {
            for (int i = 0; i < r.evalSteps().length; i++) {
                b.append("{\"experiment\": ").append(Json.quote(r.spec().experiment())).append(", \"variant\": ")
                        .append(Json.quote(r.spec().variant())).append(", \"seed\": ").append(r.spec().seed())
                        .append(", \"step\": ").append(r.evalSteps()[i]).append(", \"test_acc\": ")
                        .append(num(r.testAcc()[i])).append(", \"test_loss\": ").append(num(r.testLoss()[i]))
                        .append(", \"diverged\": ").append(r.diverged() && r.divergedAt() <= r.evalSteps()[i])
                        .append(", \"wall_s\": ").append(num(round(r.seconds()))).append("}\n");
            }
        }
        return b.toString();
    }

    static String html(Reproduction.Outcome o, String version, String data) {
        StringBuilder b = new StringBuilder();
        b.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>batchnorm4j: "
                + "reproducing the claims about Batch Normalization</title><style>")
                .append("body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;"
                        + "color:#222;line-height:1.45}table{border-collapse:collapse;margin:1em 0;font-size:.9em}"
                        + "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,"
                        + "th:first-child{text-align:left}.pass{color:#157f1f;font-weight:bold}.fail{color:#b00020;"
                        + "font-weight:bold}.na{color:#777;font-weight:bold}.quick{background:#fff3c4;padding:.5em}"
                        + "svg.plot{display:block;margin:1em 0;background:#fff}svg .title{font-size:14px;"
                        + "font-weight:bold}svg .tick{font-size:11px;fill:#555}svg .axis{font-size:12px}"
                        + "svg .legend{font-size:12px}section{border-top:1px solid #ddd;margin-top:2em}"
                        + "svg .pt{opacity:0;cursor:crosshair}svg .pt:hover{opacity:1}figure{margin:0}"
                        + "figcaption.hover{font-size:.85em;color:#444;min-height:1.2em}.summary{background:#f3f6fa;"
                        + "border:1px solid #cfd8e3;padding:.6em 1em;border-radius:4px}td.ours{font-weight:bold}"
                        + "table.papers td,table.papers th{text-align:left}.moved{color:#555;font-size:.85em}")
                .append("</style></head><body>\n");
        b.append("<h1>Reproducing the claims about Batch Normalization</h1>\n<p>batchnorm4j ").append(Svg.esc(version))
                .append(" &middot; data: ").append(Svg.esc(data)).append(" &middot; seeds ")
                .append(Svg.esc(java.util.Arrays.toString(o.settings().seeds()))).append(" &middot; ")
                .append(o.workers()).append(" runs in parallel, one thread each &middot; ")
                .append(String.format(Locale.ROOT, "%.1f minutes", o.seconds() / 60)).append("</p>\n");
        GateTable gates = GateTable.shipped();
        b.append(Summary.html(o, gates));
        if (o.settings().quick()) {
            b.append("<p class=\"quick\">Quick run: one seed, every run a tenth as long as in the full protocol. "
                    + "Quick mode has gates of its own, calibrated on the quick runs of the PyTorch twin, so a PASS "
                    + "(quick) means the effect shows already in these short runs. The full verdicts come from "
                    + "<code>./bn4j reproduce</code> (three seeds, full length).</p>\n");
        }
        if (!gates.calibrated(o.settings())) {
            b.append("<p class=\"quick\">The gates of this mode are not calibrated on the PyTorch twin (its results "
                    + "for this mode are not in this build): the protocol's original thresholds apply.</p>\n");
        }
        b.append("<p>Protocol: <code>docs/protocol.md</code> in the batchnorm4j repository (revision 1): every "
                + "setting and criterion is fixed there in advance, and the gates are calibrated on a PyTorch twin of "
                + "the whole protocol (10 seeds) that never saw our results. A claim passes when all its gating "
                + "criteria pass; report-only criteria are shown in grey. Beside each gated value the report shows "
                + "the twin's mean &plusmn; standard deviation over its seeds and whether ours agrees with it "
                + "(our mean within the twin's mean &plusmn; 3&middot;sd/&radic;n; report only). Hover over a plot "
                + "point to read its values.</p>\n");
        b.append("<table><tr><th>claim</th><th>experiment</th><th>verdict</th><th>run time (s)</th></tr>\n");
        for (ClaimResult c : o.claims()) {
            b.append("<tr><td><a href=\"#claim-").append(c.id()).append("\">").append(c.id()).append(". ")
                    .append(Svg.esc(c.name())).append("</a></td><td>").append(c.experiment()).append("</td><td>")
                    .append(verdict(c.passed(), o.settings().quick())).append("</td><td>")
                    .append(String.format(Locale.ROOT, "%.0f", c.seconds())).append("</td></tr>\n");
        }
        b.append("</table>\n");
        for (ClaimResult c : o.claims()) {
            b.append("<section id=\"claim-").append(c.id()).append("\"><h2>Claim ").append(c.id()).append(": ")
                    .append(Svg.esc(c.name())).append(" (").append(c.experiment()).append(") &mdash; ")
                    .append(verdict(c.passed(), o.settings().quick())).append("</h2>\n");
            b.append("<p><b>Claim.</b> ").append(Svg.esc(c.claim())).append("</p>\n<p><b>Setup.</b> ")
                    .append(Svg.esc(c.setup())).append("</p>\n");
            b.append(papers(c.id()));
            for (Plot p : c.plots()) {
                b.append("<figure>").append(Svg.render(p)).append("<figcaption class=\"hover\" data-for=\"")
                        .append(p.id()).append("\">&nbsp;</figcaption></figure>\n");
            }
            b.append("<p><b>Measured.</b> ").append(Svg.esc(c.findings())).append("</p>\n");
            b.append(CriteriaTable.html(o.settings(), c, gates));
            if (!c.table().isEmpty()) {
                b.append("<table>");
                for (int i = 0; i < c.table().size(); i++) {
                    String tag = i == 0 ? "th" : "td";
                    b.append("<tr>");
                    for (String cell : c.table().get(i)) {
                        b.append('<').append(tag).append('>').append(Svg.esc(cell)).append("</").append(tag).append('>');
                    }
                    b.append("</tr>\n");
                }
                b.append("</table>\n");
            }
            b.append("</section>\n");
        }
        // A self-check anyone can read in the page's attributes (and the headless-browser test does): every plot
        // must have drawn, visible content.
        b.append("<script>(function(){var svgs=document.querySelectorAll('svg.plot'),drawn=0;"
                + "svgs.forEach(function(s){var ok=false;s.querySelectorAll('.series').forEach(function(e){"
                + "var r=e.getBBox();if(r.width>0||r.height>0){ok=true;}});if(ok){drawn++;}else{"
                + "console.error('plot '+s.id+' has no drawn content');}});"
                + "document.body.setAttribute('data-plots',svgs.length);"
                + "document.body.setAttribute('data-plots-drawn',drawn);"
                + "document.querySelectorAll('svg.plot .pt').forEach(function(c){c.addEventListener('mouseenter',"
                + "function(){var cap=document.querySelector('figcaption[data-for=\"'+c.ownerSVGElement.id+'\"]');"
                + "var t=c.querySelector('title');if(cap&&t){cap.textContent=t.textContent;}});});})();</script>\n");
        return b.append("</body></html>\n").toString();
    }

    /** The sources' own figures for a claim, as a small table. */
    private static String papers(int claim) {
        List<PaperFigures.Figure> figs = PaperFigures.BY_CLAIM.getOrDefault(claim, List.of());
        if (figs.isEmpty()) {
            return "";
        }
        StringBuilder b = new StringBuilder("<table class=\"papers\"><tr><th>the papers report</th><th>setting</th>"
                + "<th>figure</th></tr>\n");
        for (PaperFigures.Figure f : figs) {
            b.append("<tr><td>").append(Svg.esc(f.source())).append("</td><td>").append(Svg.esc(f.setting()))
                    .append("</td><td>").append(Svg.esc(f.figure())).append("</td></tr>\n");
        }
        return b.append("</table>\n").toString();
    }

    static String fmt(double v) {
        if (Double.isInfinite(v)) {
            return "never";
        }
        return Double.isNaN(v) ? "NaN" : String.format(Locale.ROOT, "%.4g", v);
    }

    static String verdict(Boolean passed, boolean quick) {
        String q = quick ? " (quick)" : "";
        if (passed == null) {
            return "<span class=\"na\">not yet available</span>";
        }
        return passed ? "<span class=\"pass\">PASS" + q + "</span>" : "<span class=\"fail\">FAIL" + q + "</span>";
    }

    /** For tests: the SVG ids of every plot of an outcome. */
    static List<String> plotIds(Reproduction.Outcome o) {
        return o.claims().stream().flatMap(c -> c.plots().stream()).map(Plot::id).toList();
    }
}
