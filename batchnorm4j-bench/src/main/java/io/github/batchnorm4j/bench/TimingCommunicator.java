package io.github.batchnorm4j.bench;

import io.github.batchnorm4j.dist.Communicator;

/**
 * A {@link Communicator} decorator that counts the calls and the wall time spent in collectives (including the
 * wait for slower ranks), for benchmarks and step statistics.
 */
final class TimingCommunicator implements Communicator {
    private final Communicator inner;
    private long nanos;
    private long calls;

    TimingCommunicator(Communicator inner) {
        this.inner = inner;
    }

    /** Nanoseconds spent inside collectives since creation or {@link #reset()}. */
    public long nanos() {
        return nanos;
    }

    /** Collectives called since creation or {@link #reset()}. */
    public long calls() {
        return calls;
    }

    public void reset() {
        nanos = 0;
        calls = 0;
    }

    private void add(long t0) {
        nanos += System.nanoTime() - t0;
        calls++;
    }

    @Override
    public int rank() {
        return inner.rank();
    }

    @Override
    public int size() {
        return inner.size();
    }

    @Override
    public void allReduceSum(double[] buf, int off, int len) {
        long t0 = System.nanoTime();
        inner.allReduceSum(buf, off, len);
        add(t0);
    }

    @Override
    public void allReduceSum(float[] buf, int off, int len) {
        long t0 = System.nanoTime();
        inner.allReduceSum(buf, off, len);
        add(t0);
    }

    @Override
    public void allGather(double[] send, int sendOff, int len, double[] recv, int recvOff) {
        long t0 = System.nanoTime();
        inner.allGather(send, sendOff, len, recv, recvOff);
        add(t0);
    }

    @Override
    public void broadcast(float[] buf, int off, int len, int root) {
        long t0 = System.nanoTime();
        inner.broadcast(buf, off, len, root);
        add(t0);
    }

    @Override
    public void broadcast(double[] buf, int off, int len, int root) {
        long t0 = System.nanoTime();
        inner.broadcast(buf, off, len, root);
        add(t0);
    }

    @Override
    public void broadcast(byte[] buf, int off, int len, int root) {
        long t0 = System.nanoTime();
        inner.broadcast(buf, off, len, root);
        add(t0);
    }

    @Override
    public void barrier() {
        long t0 = System.nanoTime();
        inner.barrier();
        add(t0);
    }

    @Override
    public void abort(String reason, int exitCode) {
        inner.abort(reason, exitCode);
    }

    @Override
    public void close() {
        inner.close();
    }
}
