package io.github.batchnorm4j.dist;

/**
 * A fixed group of {@link #size()} workers (ranks {@code 0..size-1}) that run the same program and meet in
 * collectives. Every rank must call the same collectives in the same order with the same lengths; a call returns
 * when the group has completed it. Failures (a lost rank, a timeout, mismatched calls) surface as
 * {@link CommunicatorException} on the surviving ranks instead of a hang, where the implementation can detect them.
 *
 * <p>Sums are computed in a fixed order for a given group size, so identical launches give bit-identical results.
 * Implementations: {@link LocalCommunicator} (size 1, the default), {@link ThreadCommunicator} (k workers as
 * threads of one process) and {@code MpiCommunicator} (module {@code batchnorm4j-dist}, Open MPI through FFM).
 */
public interface Communicator extends AutoCloseable {

    /** This worker's index in {@code [0, size)}. */
    int rank();

    /** Number of workers in the group. */
    int size();

    /** {@code buf[off..off+len)} becomes the element-wise sum of that range over all ranks. */
    void allReduceSum(double[] buf, int off, int len);

    /** {@code buf[off..off+len)} becomes the element-wise sum (in float) of that range over all ranks. */
    void allReduceSum(float[] buf, int off, int len);

    /**
     * Every rank contributes {@code send[sendOff..sendOff+len)}; afterwards
     * {@code recv[recvOff + r*len .. recvOff + (r+1)*len)} holds rank {@code r}'s contribution, for every r.
     */
    void allGather(double[] send, int sendOff, int len, double[] recv, int recvOff);

    /** {@code buf[off..off+len)} on every rank becomes rank {@code root}'s values. */
    void broadcast(float[] buf, int off, int len, int root);

    /** {@code buf[off..off+len)} on every rank becomes rank {@code root}'s values. */
    void broadcast(double[] buf, int off, int len, int root);

    /** {@code buf[off..off+len)} on every rank becomes rank {@code root}'s bytes. */
    void broadcast(byte[] buf, int off, int len, int root);

    /** Returns once every rank has entered the barrier. */
    void barrier();

    /**
     * Stops the whole group because of an unrecoverable error on this rank: the other ranks' pending and future
     * collectives fail (threads) or the job is terminated with {@code exitCode} (MPI). Does not return normally
     * for MPI.
     */
    void abort(String reason, int exitCode);

    /** Leaves the group (MPI_Finalize for MPI); collectives fail afterwards. */
    @Override
    void close();

    default void allReduceSum(double[] buf) {
        allReduceSum(buf, 0, buf.length);
    }

    default void allReduceSum(float[] buf) {
        allReduceSum(buf, 0, buf.length);
    }

    default void broadcast(float[] buf, int root) {
        broadcast(buf, 0, buf.length, root);
    }

    /** Checks a range argument of a collective; message names what was expected and what was received. */
    static void checkRange(String what, int arrayLength, int off, int len) {
        if (off < 0 || len < 0 || (long) off + len > arrayLength) {
            throw new IllegalArgumentException("Expected " + what + " range [off, off+len) within an array of length "
                    + arrayLength + ", got off=" + off + ", len=" + len);
        }
    }

    /** Checks a root rank. */
    static void checkRoot(int root, int size) {
        if (root < 0 || root >= size) {
            throw new IllegalArgumentException("Expected root in [0, " + size + "), got root=" + root);
        }
    }
}
