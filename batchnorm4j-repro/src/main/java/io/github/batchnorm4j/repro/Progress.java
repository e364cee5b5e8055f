package io.github.batchnorm4j.repro;

import java.io.PrintStream;
import java.util.Locale;

/** A one-line terminal progress bar over the estimated work of all runs: percentage, runs done, ETA. */
final class Progress {
    private final PrintStream out;
    private final double total;
    private final int runs;
    private final long start = System.nanoTime();
    private double done;
    private int finished;
    private long lastPrint;
    private final boolean tty = System.console() != null;

    Progress(PrintStream out, double total, int runs) {
        this.out = out;
        this.total = Math.max(total, 1);
        this.runs = runs;
    }

    synchronized void advance(double work, String key) {
        done += work;
        long now = System.nanoTime();
        if (now - lastPrint > (tty ? 250_000_000L : 10_000_000_000L)) {
            lastPrint = now;
            print(key);
        }
    }

    synchronized void finished(double rest) {
        done += rest;
        finished++;
    }

    synchronized void done() {
        print("done");
        if (tty) {
            out.println();
        }
    }

    private void print(String key) {
        double f = Math.min(1, done / total);
        double elapsed = (System.nanoTime() - start) / 1e9;
        double eta = f > 0.01 ? elapsed * (1 - f) / f : Double.NaN;
        int w = 30, fill = (int) Math.round(f * w);
        String bar = "#".repeat(fill) + "-".repeat(w - fill);
        String line = String.format(Locale.ROOT, "[%s] %5.1f%%  runs %d/%d  %s elapsed  ETA %s  %s", bar, 100 * f,
                finished, runs, clock(elapsed), Double.isNaN(eta) ? "?" : clock(eta), key);
        if (tty) {
            out.print("\r" + line + "   ");
        } else {
            out.println(line);
        }
        out.flush();
    }

    private static String clock(double s) {
        long t = Math.round(s);
        return String.format(Locale.ROOT, "%d:%02d", t / 60, t % 60);
    }
}
