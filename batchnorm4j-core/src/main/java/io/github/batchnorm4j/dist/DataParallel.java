package io.github.batchnorm4j.dist;

import io.github.batchnorm4j.nn.LongState;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.Parameter;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The data-parallel glue around one model replica per rank: identical start (broadcast from rank 0), the
 * per-step gradient all-reduce in fixed-size buckets, and reduction of metrics.
 *
 * <p>Gradient semantics. {@link #sumGradients}: each rank's gradients are those of its share of the global loss
 * (for a mean loss over the {@code n} rows of the global batch: its rows' losses divided by {@code n}, i.e. its
 * local mean loss times {@code n_r / n}, applied to the loss gradient <em>before</em> the backward pass); the
 * reducer sums them, giving exactly the single-process gradient with batch {@code n}. This is the form that stays
 * exact with synchronized BatchNorm layers and uneven per-rank batches: their backward couples the ranks, so every
 * rank's incoming gradient must be on the global loss's scale. {@link #allReduceGradients} takes local-mean
 * gradients and applies the weights {@code n_r / n} afterwards: the same result for models whose ranks are
 * independent in the backward pass (no synchronized statistics) or when all ranks have equal counts (PyTorch DDP's
 * average). BatchNorm gamma/beta gradients from SyncBatchNorm are per-rank shares and are summed once, like every
 * other parameter.
 *
 * <p>Buckets: the gradients, in parameter registration order, are viewed as one vector and reduced in chunks of
 * {@code bucketElements} floats through one reused buffer: no allocation per step, and a bounded number of
 * collectives ({@code ceil(total / bucketElements)}).
 */
public final class DataParallel {
    /** Default bucket: 1 Mi floats (4 MiB). */
    public static final int DEFAULT_BUCKET_ELEMENTS = 1 << 20;

    private final Module model;
    private final Communicator comm;
    private final List<Parameter> params;
    private final float[] bucket;
    private final long totalElements;

    public DataParallel(Module model, Communicator comm, int bucketElements) {
        if (bucketElements <= 0) {
            throw new IllegalArgumentException("Expected a bucket size > 0, got " + bucketElements);
        }
        this.model = model;
        this.comm = comm;
        this.params = new ArrayList<>(model.namedParameters().values());
        long total = 0;
        for (Parameter p : params) {
            total += p.data().length;
        }
        this.totalElements = total;
        this.bucket = new float[(int) Math.min(bucketElements, Math.max(1, total))];
    }

    public DataParallel(Module model, Communicator comm) {
        this(model, comm, DEFAULT_BUCKET_ELEMENTS);
    }

    public Communicator communicator() {
        return comm;
    }

    /** True on rank 0, the rank that writes checkpoints and logs. */
    public boolean isRoot() {
        return comm.rank() == 0;
    }

    /** Number of all-reduce calls per {@link #allReduceGradients}. */
    public int bucketsPerStep() {
        return (int) ((totalElements + bucket.length - 1) / bucket.length);
    }

    /**
     * Checks that every rank holds the same model structure, then copies rank 0's parameters and buffers
     * (running statistics, {@code num_batches_tracked}) to every rank.
     */
    public void broadcastInitialState() {
        checkSameStructure();
        for (Parameter p : params) {
            comm.broadcast(p.data(), 0, p.data().length, 0);
        }
        for (Tensor t : model.namedBuffers().values()) {
            comm.broadcast(t.data(), 0, t.data().length, 0);
        }
        Map<String, LongState> longs = model.namedLongBuffers();
        double[] v = new double[longs.size()];
        int i = 0;
        for (LongState s : longs.values()) {
            v[i++] = s.get();
        }
        comm.broadcast(v, 0, v.length, 0);
        i = 0;
        for (LongState s : longs.values()) {
            s.set((long) v[i++]);
        }
    }

    /**
     * Replaces every parameter gradient by the count-weighted sum over ranks {@code Σ_r (n_r/n) grad_r}.
     *
     * @param localCount  rows this rank used in the step
     * @param globalCount rows of all ranks together (the same on every rank)
     */
    public void allReduceGradients(int localCount, long globalCount) {
        if (localCount < 0 || globalCount <= 0 || localCount > globalCount) {
            throw new IllegalArgumentException("Expected 0 <= local count <= global count and global count > 0, got"
                    + " local " + localCount + ", global " + globalCount);
        }
        reduce((float) ((double) localCount / globalCount));
    }

    /**
     * Replaces every parameter gradient by its sum over the ranks: for gradients of each rank's share of the
     * global loss (see the class comment).
     */
    public void sumGradients() {
        reduce(1f);
    }

    /** {@code grad = Σ_r scale_r · grad_r}, bucket by bucket. */
    private void reduce(float scale) {
        int fill = 0;
        // Pass 1 fills buckets and reduces them; pass 2 (the same walk) copies results back, bucket by bucket.
        int pi = 0;
        int po = 0;
        int backPi = 0;
        int backPo = 0;
        while (pi < params.size()) {
            float[] g = params.get(pi).grad().data();
            int n = Math.min(g.length - po, bucket.length - fill);
            for (int i = 0; i < n; i++) {
                bucket[fill + i] = g[po + i] * scale;
            }
            fill += n;
            po += n;
            if (po == g.length) {
                pi++;
                po = 0;
            }
            if (fill == bucket.length || pi == params.size()) {
                comm.allReduceSum(bucket, 0, fill);
                int used = 0;
                while (used < fill) {
                    float[] d = params.get(backPi).grad().data();
                    int m = Math.min(d.length - backPo, fill - used);
                    System.arraycopy(bucket, used, d, backPo, m);
                    used += m;
                    backPo += m;
                    if (backPo == d.length) {
                        backPi++;
                        backPo = 0;
                    }
                }
                fill = 0;
            }
        }
    }

    /** Sums each value over the ranks (loss sums, correct counts, item counts) in one collective; in place. */
    public double[] sum(double... values) {
        comm.allReduceSum(values, 0, values.length);
        return values;
    }

    /** Every rank must build the same model: compare a fingerprint of names and shapes with rank 0's. */
    private void checkSameStructure() {
        StringBuilder sb = new StringBuilder();
        model.namedParameters().forEach((k, p) -> sb.append(k).append(p.value().shapeString()).append(';'));
        model.namedBuffers().forEach((k, t) -> sb.append(k).append(t.shapeString()).append(';'));
        model.namedLongBuffers().keySet().forEach(k -> sb.append(k).append(';'));
        double[] mine = {sb.toString().hashCode(), totalElements};
        double[] all = new double[2 * comm.size()];
        comm.allGather(mine, 0, 2, all, 0);
        for (int r = 0; r < comm.size(); r++) {
            if (all[2 * r] != all[0] || all[2 * r + 1] != all[1]) {
                throw new CommunicatorException("Expected every rank to build the same model as rank 0 ("
                        + (long) all[1] + " parameter values), got a different model on rank " + r + " ("
                        + (long) all[2 * r + 1] + " parameter values)");
            }
        }
    }
}
