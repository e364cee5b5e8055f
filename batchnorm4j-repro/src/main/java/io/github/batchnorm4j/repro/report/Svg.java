package io.github.batchnorm4j.repro.report;

import io.github.batchnorm4j.repro.Plot;
import java.util.Locale;

/**
 * Renders a {@link Plot} as a self-contained inline SVG line chart: axes with ticks, one coloured polyline per
 * series, an optional shaded min–max band, a legend. Log-x plots use decade ticks. NaN points break lines.
 * Series differ in line style as well as colour, so the plots read in print: a series without normalization
 * ("no BN", "none") is dashed (then dash-dotted, dotted), a normalized one solid (then dash-dotted, dotted). Every point carries its values
 * as a tooltip ({@code <title>}), which the report's inline script also shows beside the plot on hover.
 */
public final class Svg {
    static final int W = 760, H = 360, L = 64, R = 220, T = 36, B = 48;
    static final String[] COLORS = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
            "#7f7f7f", "#bcbd22", "#17becf"};

    /** Dash patterns of the series that have a normalization; the plain nets get {@link #PLAIN}. */
    static final String[] DASHES = {"", "9 3 2 3", "2 3", "12 4"};
    static final String[] PLAIN = {"6 4", "6 3 1 3", "3 3"};

    private Svg() {}

    /** Whether a series is a net without normalization, by its label. */
    static boolean plain(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.contains("no bn") || n.startsWith("none") || n.contains("no norm") || n.contains("without");
    }

    /** The stroke-dasharray of the {@code k}-th normalized (or plain) series; empty = solid. */
    static String dash(String name, int k) {
        return plain(name) ? PLAIN[k % PLAIN.length] : DASHES[k % DASHES.length];
    }

    public static String render(Plot p) {
        double xmin = Double.POSITIVE_INFINITY, xmax = Double.NEGATIVE_INFINITY;
        double ymin = Double.POSITIVE_INFINITY, ymax = Double.NEGATIVE_INFINITY;
        for (Plot.Series s : p.series()) {
            for (int i = 0; i < s.x().length; i++) {
                double x = p.logX() ? Math.log10(s.x()[i]) : s.x()[i];
                if (!Double.isFinite(x) || !Double.isFinite(s.y()[i])) {
                    continue;
                }
                xmin = Math.min(xmin, x);
                xmax = Math.max(xmax, x);
                ymin = Math.min(ymin, s.lo() != null ? Math.min(s.lo()[i], s.y()[i]) : s.y()[i]);
                ymax = Math.max(ymax, s.hi() != null ? Math.max(s.hi()[i], s.y()[i]) : s.y()[i]);
            }
        }
        if (!Double.isNaN(p.yMin())) {
            ymin = Math.min(ymin, p.yMin());
            ymax = Math.max(ymax, p.yMax());
            if (p.yMin() == 0 && p.yMax() == 1) { // accuracy plots: zoom in on the data, keep a margin
                ymin = Math.max(0, Math.floor(ymin * 10) / 10);
                ymax = Math.min(1, Math.ceil(ymax * 10) / 10);
            }
        }
        if (!(xmax > xmin)) {
            xmax = xmin + 1;
        }
        if (!(ymax > ymin)) {
            ymax = ymin + 1;
        }
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" id=\"%s\" "
                + "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\">", p.id(), W, H, W, H));
        b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"20\" class=\"title\">%s</text>", L, esc(p.title())));
        Frame f = new Frame(xmin, xmax, ymin, ymax, p.logX());
        axes(b, f, p);
        int normalized = 0, plainCount = 0;
        for (int k = 0; k < p.series().size(); k++) {
            Plot.Series s = p.series().get(k);
            String color = COLORS[k % COLORS.length];
            if (s.lo() != null && s.hi() != null) {
                StringBuilder poly = new StringBuilder();
                for (int i = 0; i < s.x().length; i++) {
                    point(poly, f, s.x()[i], s.hi()[i]);
                }
                for (int i = s.x().length - 1; i >= 0; i--) {
                    point(poly, f, s.x()[i], s.lo()[i]);
                }
                if (poly.length() > 0) {
                    b.append("<polygon class=\"band\" fill=\"").append(color).append("\" fill-opacity=\"0.15\" "
                            + "stroke=\"none\" points=\"").append(poly.toString().trim()).append("\"/>");
                }
            }
            String dash = dash(s.name(), plain(s.name()) ? plainCount++ : normalized++);
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < s.x().length; i++) {
                if (!Double.isFinite(s.y()[i])) {
                    flush(b, line, color, dash);
                    continue;
                }
                point(line, f, s.x()[i], s.y()[i]);
            }
            flush(b, line, color, dash);
            for (int i = 0; i < s.x().length; i++) {
                double px = f.px(s.x()[i]), py = f.py(s.y()[i]);
                if (Double.isFinite(px) && Double.isFinite(py)) {
                    String band = s.lo() != null && s.hi() != null
                            ? String.format(Locale.ROOT, " (seeds %s to %s)", value(s.lo()[i]), value(s.hi()[i])) : "";
                    b.append(String.format(Locale.ROOT, "<circle class=\"pt\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\" "
                            + "fill=\"%s\"><title>%s: %s %s, %s %s%s</title></circle>", px, py, color, esc(s.name()),
                            esc(p.xLabel()), value(s.x()[i]), esc(p.yLabel()), value(s.y()[i]), band));
                }
            }
            int ly = T + 14 + 18 * k;
            b.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
                    + "stroke-width=\"2.5\"%s/><text x=\"%d\" y=\"%d\" class=\"legend\">%s</text>", W - R + 10,
                    ly - 4, W - R + 40, ly - 4, color, dash.isEmpty() ? "" : " stroke-dasharray=\"" + dash + "\"",
                    W - R + 46, ly, esc(s.name())));
        }
        return b.append("</svg>").toString();
    }

    private record Frame(double xmin, double xmax, double ymin, double ymax, boolean logX) {
        double px(double x) {
            double v = logX ? Math.log10(x) : x;
            return L + (v - xmin) / (xmax - xmin) * (W - L - R);
        }

        double py(double y) {
            return H - B - (y - ymin) / (ymax - ymin) * (H - T - B);
        }
    }

    private static void point(StringBuilder sb, Frame f, double x, double y) {
        double px = f.px(x), py = f.py(y);
        if (Double.isFinite(px) && Double.isFinite(py)) {
            sb.append(String.format(Locale.ROOT, "%.1f,%.1f ", px, py));
        }
    }

    /** A value as the tooltips show it: integers plainly, others to 4 significant digits. */
    static String value(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e9) {
            return Long.toString((long) v);
        }
        return String.format(Locale.ROOT, "%.4g", v);
    }

    private static void flush(StringBuilder b, StringBuilder line, String color, String dash) {
        if (line.length() > 0) {
            String pts = line.toString().trim();
            if (pts.indexOf(' ') < 0) { // a single point: draw a dot so it is visible
                String[] xy = pts.split(",");
                b.append("<circle class=\"series\" cx=\"").append(xy[0]).append("\" cy=\"").append(xy[1])
                        .append("\" r=\"3\" fill=\"").append(color).append("\"/>");
            } else {
                b.append("<polyline class=\"series\" fill=\"none\" stroke=\"").append(color)
                        .append("\" stroke-width=\"2\"")
                        .append(dash.isEmpty() ? "" : " stroke-dasharray=\"" + dash + "\"")
                        .append(" points=\"").append(pts).append("\"/>");
            }
            line.setLength(0);
        }
    }

    private static void axes(StringBuilder b, Frame f, Plot p) {
        b.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
                + "stroke=\"#999\"/>", L, T, W - L - R, H - T - B));
        for (int i = 0; i <= 5; i++) {
            double y = f.ymin() + (f.ymax() - f.ymin()) * i / 5;
            double py = f.py(y);
            b.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>"
                    + "<text x=\"%d\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\">%s</text>", L, W - R, py, py,
                    L - 6, py + 4, fmt(y)));
        }
        if (f.logX()) {
            for (int e = (int) Math.floor(f.xmin()); e <= (int) Math.ceil(f.xmax()); e++) {
                for (int m : new int[] {1, 2, 5}) {
                    double x = m * Math.pow(10, e);
                    double lx = Math.log10(x);
                    if (lx < f.xmin() - 1e-9 || lx > f.xmax() + 1e-9) {
                        continue;
                    }
                    xtick(b, f.px(x), fmt(x));
                }
            }
        } else {
            for (int i = 0; i <= 5; i++) {
                double x = f.xmin() + (f.xmax() - f.xmin()) * i / 5;
                xtick(b, f.px(x), fmt(x));
            }
        }
        b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" class=\"axis\" text-anchor=\"middle\">%s</text>",
                (L + W - R) / 2, H - 8, esc(p.xLabel() + (p.logX() ? " (log scale)" : ""))));
        b.append(String.format(Locale.ROOT, "<text x=\"14\" y=\"%d\" class=\"axis\" text-anchor=\"middle\" "
                + "transform=\"rotate(-90 14 %d)\">%s</text>", (T + H - B) / 2, (T + H - B) / 2, esc(p.yLabel())));
    }

    private static void xtick(StringBuilder b, double px, String label) {
        b.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#eee\"/>"
                + "<text x=\"%.1f\" y=\"%d\" class=\"tick\" text-anchor=\"middle\">%s</text>", px, px, T, H - B, px,
                H - B + 16, label));
    }

    static String fmt(double v) {
        double a = Math.abs(v);
        if (a != 0 && (a >= 1e5 || a < 1e-3)) {
            return String.format(Locale.ROOT, "%.0e", v);
        }
        if (a >= 1000) {
            return v % 1000 == 0 ? String.format(Locale.ROOT, "%.0fk", v / 1000)
                    : String.format(Locale.ROOT, "%.1fk", v / 1000);
        }
        return String.format(Locale.ROOT, "%.3g", v);
    }

    public static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
