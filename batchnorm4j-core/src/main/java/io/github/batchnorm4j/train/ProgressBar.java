package io.github.batchnorm4j.train;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line terminal progress bar: {@code [=====>    ] step/total loss images/s ETA}, redrawn in place with a
 * carriage return at most every 100 ms. When the output is not a terminal (a log file) it prints a plain line at
 * most every 10 seconds instead.
 */
public final class ProgressBar {
    private static final int WIDTH = 30;
    private final PrintStream out;
    private final long total;
    private final boolean terminal;
    private long lastDraw;

    public ProgressBar(PrintStream out, long total, boolean terminal) {
        this.out = out;
        this.total = total;
        this.terminal = terminal;
    }

    /** The bar's text for {@code done} of {@code total} steps. */
    static String render(long done, long total, double loss, double imagesPerSec, double etaSeconds) {
        int filled = total <= 0 ? WIDTH : (int) Math.min(WIDTH, WIDTH * done / total);
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < WIDTH; i++) {
            b.append(i < filled ? '=' : i == filled ? '>' : ' ');
        }
        long eta = Double.isFinite(etaSeconds) ? Math.max(0, Math.round(etaSeconds)) : 0;
        return b.append(String.format(Locale.ROOT, "] %d/%d loss %.4f %.0f img/s ETA %d:%02d:%02d", done, total, loss,
                imagesPerSec, eta / 3600, eta / 60 % 60, eta % 60)).toString();
    }

    /** Shows progress; {@code force} draws even if the last draw was recent (used at the end). */
    public void update(long done, double loss, double imagesPerSec, double etaSeconds, boolean force) {
        long now = System.nanoTime();
        if (!force && now - lastDraw < (terminal ? 100_000_000L : 10_000_000_000L)) {
            return;
        }
        lastDraw = now;
        String line = render(done, total, loss, imagesPerSec, etaSeconds);
        if (terminal) {
            out.print("\r" + line);
            out.flush();
        } else {
            out.println(line);
        }
    }

    /** Ends the in-place line so that later output starts on a fresh line. */
    public void finish() {
        if (terminal) {
            out.println();
        }
    }
}
