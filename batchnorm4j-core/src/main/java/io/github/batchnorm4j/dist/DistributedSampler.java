package io.github.batchnorm4j.dist;

/**
 * Which items of an epoch each rank trains on, so that N ranks with per-rank batch {@code b} see exactly the
 * batches of one process with batch {@code N*b} (worker-count invariance).
 *
 * <p>Every rank computes the same epoch order (a seeded permutation of the data set, a pure function of seed and
 * epoch). Global batch {@code g} is positions {@code [g*G, g*G + m)} of that order, with {@code G = N*b} and
 * {@code m = min(G, n - g*G)}; rank {@code r} takes the contiguous slice
 * {@code [g*G + floor(r*m/N), g*G + floor((r+1)*m/N))}. For full batches that is {@code b} items per rank, in rank
 * order; a final partial batch (without drop-last) is split as evenly as possible. The concatenation of the
 * slices in rank order is the single-process batch, which is what SyncBatchNorm and the count-weighted gradient
 * average need to reproduce the single-process step. {@code --batch-size} is the per-rank batch, PyTorch DDP's
 * convention.
 */
public final class DistributedSampler {
    private final int datasetSize;
    private final int perRankBatch;
    private final int rank;
    private final int worldSize;
    private final boolean dropLast;

    public DistributedSampler(int datasetSize, int perRankBatch, int rank, int worldSize, boolean dropLast) {
        if (worldSize < 1 || rank < 0 || rank >= worldSize) {
            throw new IllegalArgumentException("Expected 0 <= rank < world size, got rank " + rank + " of "
                    + worldSize);
        }
        if (perRankBatch <= 0) {
            throw new IllegalArgumentException("Expected a per-rank batch size > 0, got " + perRankBatch);
        }
        long global = (long) perRankBatch * worldSize;
        if (global > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("Expected a global batch (batch size x ranks) of at most "
                    + Integer.MAX_VALUE + ", got " + global);
        }
        if (datasetSize < 0 || (dropLast && datasetSize < global)) {
            throw new IllegalArgumentException("Expected at least one full global batch of " + global + " ("
                    + perRankBatch + " per rank x " + worldSize + " ranks) with drop-last, got " + datasetSize
                    + " items");
        }
        this.datasetSize = datasetSize;
        this.perRankBatch = perRankBatch;
        this.rank = rank;
        this.worldSize = worldSize;
        this.dropLast = dropLast;
    }

    /** {@code N * b}: the batch one process would use for the same trajectory. */
    public int globalBatchSize() {
        return perRankBatch * worldSize;
    }

    public int perRankBatch() {
        return perRankBatch;
    }

    /** Global batches per epoch: {@code floor(n/G)} with drop-last, {@code ceil(n/G)} otherwise. */
    public int batchesPerEpoch() {
        int g = globalBatchSize();
        return dropLast ? datasetSize / g : (datasetSize + g - 1) / g;
    }

    /** Number of items in global batch {@code g} (all ranks together). */
    public int globalCount(int g) {
        checkBatch(g);
        return Math.min(globalBatchSize(), datasetSize - g * globalBatchSize());
    }

    /** First position (in the epoch order) of this rank's slice of global batch {@code g}. */
    public int from(int g) {
        return start(g, rank);
    }

    /** End (exclusive) position of this rank's slice of global batch {@code g}. */
    public int to(int g) {
        return start(g, rank + 1);
    }

    /** Items of this rank in global batch {@code g}. */
    public int localCount(int g) {
        return to(g) - from(g);
    }

    private int start(int g, int r) {
        int m = globalCount(g);
        return g * globalBatchSize() + (int) ((long) r * m / worldSize);
    }

    private void checkBatch(int g) {
        if (g < 0 || g >= batchesPerEpoch()) {
            throw new IllegalArgumentException("Expected a batch index in [0, " + batchesPerEpoch() + "), got " + g);
        }
    }
}
