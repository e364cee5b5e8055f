package io.github.batchnorm4j.repro;

/**
 * How a reproduction runs: the seeds, and the scale of every step count of the protocol (1 for the real
 * protocol; the quick version uses one seed and a tenth of the steps, with the same plots, and its verdicts are
 * marked "quick" because the criteria were fixed for the full protocol; tests use smaller scales still).
 */
public record Settings(long[] seeds, boolean quick, double scale) {
    public static final double QUICK_SCALE = 0.1;

    /** The full protocol ({@code quick = false}) or the quick one. */
    public static Settings of(long[] seeds, boolean quick) {
        return new Settings(seeds, quick, quick ? QUICK_SCALE : 1.0);
    }

    public Settings {
        if (seeds.length == 0) {
            throw new IllegalArgumentException("Expected at least one seed, got none");
        }
        if (!(scale > 0 && scale <= 1)) {
            throw new IllegalArgumentException("Expected a step scale in (0, 1], got " + scale);
        }
        seeds = seeds.clone();
    }

    /** The step count (or step interval) that is {@code full} in the full protocol. */
    public long steps(long full) {
        return Math.max(1, Math.round(full * scale));
    }

    /** The first seed (single-seed parts such as E6b and E8 use it). */
    public long firstSeed() {
        return seeds[0];
    }
}
