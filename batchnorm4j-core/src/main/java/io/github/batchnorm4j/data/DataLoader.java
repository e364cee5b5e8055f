package io.github.batchnorm4j.data;

import io.github.batchnorm4j.tensor.Tensor;
import java.util.Arrays;

/**
 * Batches of a {@link DataSet} as {@code [B, C, H, W]} tensors of normalised pixels plus labels. With shuffling,
 * epoch {@code e} visits the items in a permutation that is a pure function of {@code (seed, e)}, so any batch of
 * any epoch can be rebuilt exactly, which is what makes resumed training bit-identical. With {@code dropLast}
 * a final partial batch is skipped. The returned {@link Batch} is reused by the next call (no per-step allocation).
 */
public final class DataLoader {
    private final DataSet data;
    private final int batchSize;
    private final boolean shuffle;
    private final boolean dropLast;
    private final long seed;
    private final float mean;
    private final float std;
    private final int[] order;
    private long orderEpoch = Long.MIN_VALUE;
    private final Batch full;
    private Batch partial;

    /** One batch: {@code input [B, C, H, W]} and {@code labels [B]}; valid until the next {@code batch} call. */
    public record Batch(Tensor input, int[] labels) {
        public int size() {
            return labels.length;
        }
    }

    public DataLoader(DataSet data, int batchSize, boolean shuffle, boolean dropLast, long seed, float mean,
                      float std) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("Expected a batch size > 0, got " + batchSize);
        }
        if (!(std > 0) || !Float.isFinite(mean)) {
            throw new IllegalArgumentException("Expected a finite mean and std > 0 for normalisation, got mean "
                    + mean + ", std " + std);
        }
        if (dropLast && data.size() < batchSize) {
            throw new IllegalArgumentException("Expected at least one full batch of " + batchSize
                    + " with drop-last, got " + data.size() + " items");
        }
        this.data = data;
        this.batchSize = batchSize;
        this.shuffle = shuffle;
        this.dropLast = dropLast;
        this.seed = seed;
        this.mean = mean;
        this.std = std;
        this.order = new int[data.size()];
        this.full = newBatch(batchSize);
    }

    private Batch newBatch(int n) {
        int[] shape = new int[1 + data.itemShape().length];
        shape[0] = n;
        System.arraycopy(data.itemShape(), 0, shape, 1, shape.length - 1);
        return new Batch(Tensor.zeros(shape), new int[n]);
    }

    public int batchSize() {
        return batchSize;
    }

    public DataSet dataSet() {
        return data;
    }

    /** Batches per epoch: {@code floor(n/B)} with drop-last, {@code ceil(n/B)} otherwise. */
    public int batchesPerEpoch() {
        int n = data.size();
        return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
    }

    /** Batch {@code b} of epoch {@code epoch}. */
    public Batch batch(long epoch, int b) {
        if (b < 0 || b >= batchesPerEpoch()) {
            throw new IllegalArgumentException("Expected a batch index in [0, " + batchesPerEpoch() + "), got " + b);
        }
        if (orderEpoch != epoch) {
            Arrays.setAll(order, i -> i);
            if (shuffle) {
                Shuffle.permute(order, Shuffle.forEpoch(seed, epoch));
            }
            orderEpoch = epoch;
        }
        int from = b * batchSize;
        int n = Math.min(batchSize, data.size() - from);
        Batch out = full;
        if (n != batchSize) {
            if (partial == null || partial.size() != n) {
                partial = newBatch(n);
            }
            out = partial;
        }
        float[] x = out.input().data();
        int item = data.itemSize();
        for (int i = 0; i < n; i++) {
            int k = order[from + i];
            data.copyItem(k, x, i * item, mean, std);
            out.labels()[i] = data.label(k);
        }
        return out;
    }
}
