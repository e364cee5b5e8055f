package io.github.batchnorm4j.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Small self-contained SVG charts for the training report: line charts of (step, value) series and histograms.
 * Every drawn series carries {@code class="series"} so that the page's check script can tell a drawn plot from an
 * empty one. Non-finite values are left out of a line (it breaks there).
 */
final class SvgChart {
    static final int W = 420;
    static final int H = 220;
    private static final int LEFT = 58;
    private static final int RIGHT = 12;
    private static final int TOP = 26;
    private static final int BOTTOM = 34;
    static final String[] COLORS = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf",
        "#7f7f7f"};

    /** One line: its name (legend), points as parallel arrays, and whether it is dashed. */
    record Series(String name, double[] x, double[] y, boolean dashed) {}

    private SvgChart() {}

    /** A line chart; null when no series has a finite point (nothing to draw). */
    static String lines(String id, String title, String xLabel, List<Series> series, boolean logY) {
        double x0 = Double.POSITIVE_INFINITY;
        double x1 = Double.NEGATIVE_INFINITY;
        double y0 = Double.POSITIVE_INFINITY;
        double y1 = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (int i = 0; i < s.x.length; i++) {
                double y = logY ? Math.log10(s.y[i]) : s.y[i];
                if (Double.isFinite(s.x[i]) && Double.isFinite(y)) {
                    x0 = Math.min(x0, s.x[i]);
                    x1 = Math.max(x1, s.x[i]);
                    y0 = Math.min(y0, y);
                    y1 = Math.max(y1, y);
                }
            }
        }
        if (x0 > x1) {
            return null;
        }
        if (x1 == x0) {
            x0 -= 0.5;
            x1 += 0.5;
        }
        if (y1 == y0) {
            double pad = Math.max(Math.abs(y0) * 0.05, 1e-6);
            y0 -= pad;
            y1 += pad;
        }
        StringBuilder b = open(id, title);
        axes(b, x0, x1, y0, y1, xLabel, logY);
        int k = 0;
        for (Series s : series) {
            String color = COLORS[k % COLORS.length];
            StringBuilder pts = new StringBuilder();
            List<String> paths = new ArrayList<>();
            for (int i = 0; i < s.x.length; i++) {
                double y = logY ? Math.log10(s.y[i]) : s.y[i];
                if (!Double.isFinite(y) || !Double.isFinite(s.x[i])) {
                    if (pts.length() > 0) {
                        paths.add(pts.toString());
                        pts.setLength(0);
                    }
                    continue;
                }
                pts.append(pts.length() == 0 ? "M" : "L").append(fmt(px(s.x[i], x0, x1))).append(',')
                        .append(fmt(py(y, y0, y1)));
            }
            if (pts.length() > 0) {
                paths.add(pts.toString());
            }
            for (String d : paths) {
                // A single point is drawn as a dot so that it has a visible extent.
                if (!d.contains("L")) {
                    String[] xy = d.substring(1).split(",");
                    b.append("<circle class=\"series\" cx=\"").append(xy[0]).append("\" cy=\"").append(xy[1])
                            .append("\" r=\"2.5\" fill=\"").append(color).append("\"/>");
                } else {
                    b.append("<path class=\"series\" d=\"").append(d).append("\" fill=\"none\" stroke=\"")
                            .append(color).append("\" stroke-width=\"1.5\"")
                            .append(s.dashed ? " stroke-dasharray=\"4 3\"" : "").append("/>");
                }
            }
            b.append("<text x=\"").append(LEFT + 6 + (k % 3) * 118).append("\" y=\"").append(TOP + 12 + (k / 3) * 12)
                    .append("\" font-size=\"10\" fill=\"").append(color).append("\">").append(esc(s.name))
                    .append("</text>");
            k++;
        }
        return b.append("</svg>").toString();
    }

    /** A histogram of {@code values} in {@code bins} bins; null without finite values. */
    static String histogram(String id, String title, double[] values, int bins) {
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (double v : values) {
            if (Double.isFinite(v)) {
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
        if (lo > hi) {
            return null;
        }
        if (hi == lo) {
            lo -= 0.5;
            hi += 0.5;
        }
        int[] count = new int[bins];
        for (double v : values) {
            if (Double.isFinite(v)) {
                count[Math.min(bins - 1, (int) ((v - lo) / (hi - lo) * bins))]++;
            }
        }
        int max = 1;
        for (int c : count) {
            max = Math.max(max, c);
        }
        StringBuilder b = open(id, title);
        axes(b, lo, hi, 0, max, "value", false);
        double bw = (double) (W - LEFT - RIGHT) / bins;
        for (int i = 0; i < bins; i++) {
            if (count[i] == 0) {
                continue;
            }
            double top = py(count[i], 0, max);
            b.append("<rect class=\"series\" x=\"").append(fmt(LEFT + i * bw + 0.5)).append("\" y=\"")
                    .append(fmt(top)).append("\" width=\"").append(fmt(Math.max(1, bw - 1))).append("\" height=\"")
                    .append(fmt(H - BOTTOM - top)).append("\" fill=\"").append(COLORS[0]).append("\"/>");
        }
        return b.append("</svg>").toString();
    }

    private static StringBuilder open(String id, String title) {
        StringBuilder b = new StringBuilder();
        b.append("<svg class=\"plot\" id=\"").append(esc(id)).append("\" xmlns=\"http://www.w3.org/2000/svg\" width=\"")
                .append(W).append("\" height=\"").append(H).append("\" viewBox=\"0 0 ").append(W).append(' ').append(H)
                .append("\" role=\"img\"><title>").append(esc(title)).append("</title>");
        b.append("<text x=\"").append(LEFT).append("\" y=\"14\" font-size=\"12\" font-weight=\"bold\">")
                .append(esc(title)).append("</text>");
        return b;
    }

    private static void axes(StringBuilder b, double x0, double x1, double y0, double y1, String xLabel, boolean log) {
        int right = W - RIGHT;
        int bottom = H - BOTTOM;
        b.append("<path d=\"M").append(LEFT).append(',').append(TOP).append("V").append(bottom).append("H").append(right)
                .append("\" fill=\"none\" stroke=\"#444\"/>");
        for (int t = 0; t <= 4; t++) {
            double v = y0 + (y1 - y0) * t / 4;
            double y = py(v, y0, y1);
            b.append("<text x=\"").append(LEFT - 4).append("\" y=\"").append(fmt(y + 3))
                    .append("\" font-size=\"9\" text-anchor=\"end\">").append(label(log ? Math.pow(10, v) : v))
                    .append("</text><path d=\"M").append(LEFT).append(',').append(fmt(y)).append("H").append(right)
                    .append("\" stroke=\"#eee\"/>");
            double xv = x0 + (x1 - x0) * t / 4;
            b.append("<text x=\"").append(fmt(px(xv, x0, x1))).append("\" y=\"").append(bottom + 12)
                    .append("\" font-size=\"9\" text-anchor=\"middle\">").append(label(xv)).append("</text>");
        }
        b.append("<text x=\"").append((LEFT + right) / 2).append("\" y=\"").append(H - 4)
                .append("\" font-size=\"10\" text-anchor=\"middle\">").append(esc(xLabel)).append("</text>");
    }

    private static double px(double x, double x0, double x1) {
        return LEFT + (x - x0) / (x1 - x0) * (W - LEFT - RIGHT);
    }

    private static double py(double y, double y0, double y1) {
        return H - BOTTOM - (y - y0) / (y1 - y0) * (H - BOTTOM - TOP);
    }

    static String label(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e6) {
            return Long.toString((long) v);
        }
        return String.format(Locale.ROOT, "%.3g", v);
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
