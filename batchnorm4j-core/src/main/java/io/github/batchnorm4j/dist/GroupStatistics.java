package io.github.batchnorm4j.dist;

import io.github.batchnorm4j.functional.Moments;
import io.github.batchnorm4j.functional.StatsCombine;
import java.util.Objects;

/**
 * The statistics pipeline's combine over a {@link Communicator} group: the statistics of the concatenation of all
 * ranks' batches (in rank order).
 *
 * <p><b>Forward</b>: one all-gather of every rank's {@code (n, mean[width], M2[width])} per block; every rank
 * merges them in rank order with {@link Moments#merge} (Chan et al.'s exact update; a rank with no rows
 * contributes {@code n = 0}, is skipped by the merge, but joins the collective). <b>Backward</b>: one all-reduce
 * of the packed reductions. Buffers grow to the largest message and are reused: no allocation per step.
 */
public final class GroupStatistics implements StatsCombine {
    private final Communicator comm;
    private double[] local = new double[0];
    private double[] gathered = new double[0];
    private final double[] one = new double[1];
    private final double[] all;

    public GroupStatistics(Communicator comm) {
        this.comm = Objects.requireNonNull(comm, "communicator");
        this.all = new double[comm.size()];
    }

    public Communicator communicator() {
        return comm;
    }

    @Override
    public void combine(double[] count, double[] mean, double[] m2, int blocks, int width) {
        int per = 1 + 2 * width;
        int len = blocks * per;
        if (local.length < len) {
            local = new double[len];
            gathered = new double[len * comm.size()];
        }
        for (int b = 0; b < blocks; b++) {
            local[b * per] = count[b];
            System.arraycopy(mean, b * width, local, b * per + 1, width);
            System.arraycopy(m2, b * width, local, b * per + 1 + width, width);
        }
        comm.allGather(local, 0, len, gathered, 0);
        for (int b = 0; b < blocks; b++) {
            double n = 0;
            for (int r = 0; r < comm.size(); r++) {
                int base = r * len + b * per;
                n = Moments.merge(n, mean, m2, b * width, gathered[base], gathered, base + 1, gathered,
                        base + 1 + width, width);
            }
            count[b] = n;
        }
    }

    @Override
    public void sum(double[] buf, int off, int len) {
        comm.allReduceSum(buf, off, len);
    }

    @Override
    public void prefixSum(double localValue, double[] out) {
        one[0] = localValue;
        comm.allGather(one, 0, 1, all, 0);
        double before = 0;
        double total = 0;
        for (int r = 0; r < all.length; r++) {
            if (r < comm.rank()) {
                before += all[r];
            }
            total += all[r];
        }
        out[0] = before;
        out[1] = total;
    }
}
