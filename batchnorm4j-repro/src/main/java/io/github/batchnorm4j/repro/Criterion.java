package io.github.batchnorm4j.repro;

/**
 * One acceptance criterion of the protocol, evaluated. {@code value} is the number compared with
 * {@code threshold} (for per-seed criteria, the worst seed), {@code perSeed} the per-seed values where the
 * criterion is per seed (else empty). {@code passed} is null only when a building block is missing.
 */
public record Criterion(String id, boolean gate, Boolean passed, String metric, double value, double threshold,
                        double[] perSeed) {

    /** A report-only copy of this criterion. */
    public Criterion reportOnly() {
        return new Criterion(id, false, passed, metric, value, threshold, perSeed);
    }
}
