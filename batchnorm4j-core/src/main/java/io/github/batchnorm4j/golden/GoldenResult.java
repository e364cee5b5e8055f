package io.github.batchnorm4j.golden;

import java.util.List;
import java.util.Locale;

/**
 * The outcome of one golden case: one {@link Check} per expected tensor, or the error that stopped the run.
 *
 * @param name   the case name
 * @param checks the expected tensors compared, in {@link GoldenCase#EXPECTED} order (empty after an error)
 * @param error  why the implementation could not run the case (an exception it threw), or null
 */
public record GoldenResult(String name, List<Check> checks, String error) {
    public GoldenResult {
        checks = List.copyOf(checks);
    }

    /**
     * One expected tensor E against the actual A.
     *
     * @param tensor    the expected tensor's name ({@code y}, {@code grad_x}, ...)
     * @param maxError  {@code max|A - E|} (infinite when any difference is NaN)
     * @param tolerance the allowed maximum, {@code factor * max(1, max|E|)}
     */
    public record Check(String tensor, double maxError, double tolerance) {
        /** The error as a fraction of the tolerance: at most 1 passes. */
        public double ratio() {
            return maxError / tolerance;
        }

        public boolean passed() {
            return maxError <= tolerance;
        }
    }

    /** True when the case ran and every expected tensor is within its tolerance. */
    public boolean passed() {
        return error == null && !checks.isEmpty() && checks.stream().allMatch(Check::passed);
    }

    /** The check closest to (or furthest past) its tolerance; null after an error. */
    public Check worst() {
        Check w = null;
        for (Check c : checks) {
            if (w == null || !(c.ratio() <= w.ratio())) {
                w = c;
            }
        }
        return w;
    }

    /** One report line: name, worst error (as a fraction of the tolerance, and absolute) and pass or FAIL. */
    public String line() {
        String verdict = passed() ? "pass" : "FAIL";
        if (error != null) {
            return String.format(Locale.ROOT, "%-44s error: %s  %s", name, error, verdict);
        }
        Check w = worst();
        return String.format(Locale.ROOT, "%-44s worst %.3g of tolerance (%s: |A-E| %.2e, allowed %.2e)  %s",
                name, w.ratio(), w.tensor(), w.maxError(), w.tolerance(), verdict);
    }
}
