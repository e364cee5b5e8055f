package io.github.batchnorm4j.repro.report;

import io.github.batchnorm4j.repro.Agreement;
import io.github.batchnorm4j.repro.ClaimResult;
import io.github.batchnorm4j.repro.Criterion;
import io.github.batchnorm4j.repro.GateTable;
import io.github.batchnorm4j.repro.Settings;

/**
 * A claim's criteria as an HTML table: our values per seed and their mean, the threshold applied (and the
 * protocol's original where the calibration moved it), the PyTorch twin's mean ± sd over its seeds, the agreement
 * check, and the verdict.
 */
final class CriteriaTable {
    private CriteriaTable() {}

    static String html(Settings s, ClaimResult c, GateTable gates) {
        StringBuilder b = new StringBuilder("<table><tr><th>criterion</th><th>metric</th><th>ours per seed</th>"
                + "<th>ours (judged value)</th><th>threshold</th><th>PyTorch twin, mean &plusmn; sd (seeds)</th>"
                + "<th>agrees with twin</th><th>verdict</th></tr>\n");
        for (Criterion cr : c.criteria()) {
            GateTable.Gate g = cr.gate() ? gates.get(s, cr.id()) : null;
            b.append("<tr").append(cr.gate() ? "" : " style=\"color:#777\"").append("><td>").append(cr.id())
                    .append(cr.gate() ? "" : " (report)").append("</td><td>").append(Svg.esc(cr.metric()))
                    .append("</td><td>");
            for (int i = 0; i < cr.perSeed().length; i++) {
                b.append(i > 0 ? ", " : "").append(ReportWriter.fmt(cr.perSeed()[i]));
            }
            b.append("</td><td class=\"ours\">").append(ReportWriter.fmt(cr.value())).append("</td><td>")
                    .append(cr.atMost() ? "&le; " : "&ge; ").append(ReportWriter.fmt(cr.threshold()));
            if (g != null && !g.status().equals("kept")) {
                b.append(" <span class=\"moved\">(").append(g.status()).append("; protocol ")
                        .append(ReportWriter.fmt(g.protocol())).append(")</span>");
            }
            b.append("</td><td>");
            if (g != null) {
                b.append(ReportWriter.fmt(g.twinMean())).append(" &plusmn; ").append(ReportWriter.fmt(g.twinSd()))
                        .append(" (").append(g.twinN()).append(')');
            }
            b.append("</td><td>");
            Boolean agrees = g == null ? null : Agreement.agrees(cr, g, s);
            b.append(agrees == null ? "" : agrees ? "yes" : "<b>no</b>");
            b.append("</td><td>").append(ReportWriter.verdict(cr.passed(), s.quick())).append("</td></tr>\n");
        }
        return b.append("</table>\n").toString();
    }
}
