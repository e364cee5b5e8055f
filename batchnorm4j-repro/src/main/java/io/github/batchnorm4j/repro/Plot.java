package io.github.batchnorm4j.repro;

import java.util.List;

/**
 * A line chart: series of (x, y) points, each with an optional min–max band (over seeds). Rendered as inline SVG
 * by the report.
 */
public record Plot(String id, String title, String xLabel, String yLabel, boolean logX, List<Series> series,
                   double yMin, double yMax) {

    /** One line; {@code lo}/{@code hi} are the band (null for none). */
    public record Series(String name, double[] x, double[] y, double[] lo, double[] hi) {}
}
