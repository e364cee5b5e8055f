package io.github.batchnorm4j.functional;

/**
 * The <em>combine</em> phase of the statistics pipeline: turns the local statistics of this member's rows into
 * those of the whole group's batch (the concatenation of all members' rows, in member order), and sums the
 * backward reductions over the group. A null combine is the identity (one process). Every member must make the
 * same calls in the same order, also a member with no rows (it contributes count 0).
 */
public interface StatsCombine {

    /**
     * {@code blocks} independent blocks of {@code width} statistics; block {@code b} has one count
     * {@code count[b]} and its means and M2s at {@code mean[b*width ..]} and {@code m2[b*width ..]}. On entry the
     * local values, on return the merged values of the whole group (the same on every member), merged in member
     * order with {@link Moments#merge}.
     */
    void combine(double[] count, double[] mean, double[] m2, int blocks, int width);

    /** {@code buf[off..off+len)} becomes its element-wise sum over the group. */
    void sum(double[] buf, int off, int len);

    /**
     * For a value per member ({@code local}): {@code out[0]} = the sum over the members before this one,
     * {@code out[1]} = the sum over all members. Gives a member's rows their place in the group's batch.
     */
    void prefixSum(double local, double[] out);
}
