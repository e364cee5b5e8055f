package io.github.batchnorm4j.repro;

/**
 * One acceptance criterion of the protocol, evaluated. {@code value} is the number compared with
 * {@code threshold} (for per-seed criteria, the worst seed), {@code perSeed} the per-seed values where the
 * criterion is per seed (else empty), {@code atMost} whether the value must be &lt;= the threshold (else &gt;=).
 * {@code passed} is null only when a building block is missing.
 */
public record Criterion(String id, boolean gate, Boolean passed, String metric, double value, double threshold,
                        double[] perSeed, boolean atMost) {

    /** A report-only copy of this criterion. */
    public Criterion reportOnly() {
        return new Criterion(id, false, passed, metric, value, threshold, perSeed, atMost);
    }

    /** Whether {@code v} meets {@code t} in this criterion's direction (NaN never does). */
    public boolean meets(double v, double t) {
        return !Double.isNaN(v) && (atMost ? v <= t : v >= t);
    }

    /** This criterion judged against another threshold: per seed, every seed must meet it. */
    public Criterion withThreshold(double t) {
        if (perSeed.length == 0) {
            return new Criterion(id, gate, meets(value, t), metric, value, t, perSeed, atMost);
        }
        boolean ok = true;
        for (double v : perSeed) {
            ok &= meets(v, t);
        }
        return new Criterion(id, gate, ok, metric, value, t, perSeed, atMost);
    }
}
