package io.github.batchnorm4j.repro.report;

import io.github.batchnorm4j.repro.Agreement;
import io.github.batchnorm4j.repro.ClaimResult;
import io.github.batchnorm4j.repro.Criterion;
import io.github.batchnorm4j.repro.GateTable;
import io.github.batchnorm4j.repro.Reproduction;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The one-screen summary at the top of the report: what reproduced and what did not, in plain words. */
final class Summary {
    private Summary() {}

    static String html(Reproduction.Outcome o, GateTable gates) {
        boolean quick = o.settings().quick();
        List<String> passed = new ArrayList<>(), failed = new ArrayList<>(), open = new ArrayList<>();
        List<String> disagree = new ArrayList<>();
        int compared = 0;
        for (ClaimResult c : o.claims()) {
            String name = c.id() + ". " + Svg.esc(c.name());
            if (c.passed() == null) {
                open.add(name);
            } else if (c.passed()) {
                passed.add(name);
            } else {
                List<String> why = new ArrayList<>();
                for (Criterion cr : c.criteria()) {
                    if (cr.gate() && Boolean.FALSE.equals(cr.passed())) {
                        why.add(String.format(Locale.ROOT, "%s %s (%s %s)", cr.id(), ReportWriter.fmt(cr.value()),
                                cr.atMost() ? "needs &le;" : "needs &ge;", ReportWriter.fmt(cr.threshold())));
                    }
                }
                failed.add(name + ": " + String.join("; ", why));
            }
            for (Criterion cr : c.criteria()) {
                GateTable.Gate g = cr.gate() ? gates.get(o.settings(), cr.id()) : null;
                Boolean a = g == null ? null : Agreement.agrees(cr, g, o.settings());
                if (a != null) {
                    compared++;
                    if (!a) {
                        disagree.add(String.format(Locale.ROOT, "%s (ours %s, twin %s &plusmn; %s)", cr.id(),
                                ReportWriter.fmt(Agreement.ours(cr)), ReportWriter.fmt(g.twinMean()),
                                ReportWriter.fmt(g.twinSd())));
                    }
                }
            }
        }
        String q = quick ? " (quick)" : "";
        StringBuilder b = new StringBuilder("<div class=\"summary\"><h2 style=\"margin-top:.2em\">In short</h2>\n");
        b.append(String.format(Locale.ROOT, "<p><b>%d of %d claims reproduced%s</b> with seeds %s.</p>\n",
                passed.size(), o.claims().size(), q, java.util.Arrays.toString(o.settings().seeds())));
        if (!passed.isEmpty()) {
            b.append("<p><span class=\"pass\">Reproduced").append(q).append(":</span> ")
                    .append(String.join("; ", passed)).append(".</p>\n");
        }
        if (!failed.isEmpty()) {
            b.append("<p><span class=\"fail\">Did not reproduce").append(q).append(":</span></p><ul>");
            for (String f : failed) {
                b.append("<li>").append(f).append("</li>");
            }
            b.append("</ul>\n");
        }
        if (!open.isEmpty()) {
            b.append("<p><span class=\"na\">Not decided:</span> ").append(String.join("; ", open)).append(".</p>\n");
        }
        if (compared > 0) {
            b.append(String.format(Locale.ROOT, "<p>Against the PyTorch twin of the protocol: our value agrees on %d "
                    + "of %d gated metrics", compared - disagree.size(), compared));
            b.append(disagree.isEmpty() ? ".</p>\n" : "; it differs on " + String.join(", ", disagree)
                    + " (report only; see the claims below).</p>\n");
        }
        return b.append("</div>\n").toString();
    }
}
