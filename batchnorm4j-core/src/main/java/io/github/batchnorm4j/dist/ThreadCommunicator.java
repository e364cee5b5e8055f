package io.github.batchnorm4j.dist;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Function;

/**
 * A group of k workers that are threads of this process: the in-memory counterpart of MPI, used by the tests and
 * usable for data-parallel training on one multi-core machine.
 *
 * <p>Each collective is two rendezvous on a shared barrier: every rank publishes its buffer, waits, reads the
 * others' buffers into private scratch (sums run over ranks 0, 1, ..., size-1, so every rank computes the same
 * bits), waits again so that nobody overwrites a buffer still being read, then copies its result out. A rank that
 * does not arrive within the timeout breaks the barrier: the waiting ranks get a {@link CommunicatorException}
 * naming the ranks that did not arrive, never a hang. The ranks also check that they called the same collective
 * with the same length.
 */
public final class ThreadCommunicator implements Communicator {
    private final Group group;
    private final int rank;
    private double[] dScratch = new double[0];
    private float[] fScratch = new float[0];
    private boolean closed;

    private ThreadCommunicator(Group group, int rank) {
        this.group = group;
        this.rank = rank;
    }

    /**
     * Creates the {@code size} communicators of one group, in rank order; each must be used by one thread.
     *
     * @param timeout how long a rank waits for the others in one collective before failing
     */
    public static List<ThreadCommunicator> group(int size, Duration timeout) {
        if (size < 1) {
            throw new IllegalArgumentException("Expected a group size >= 1, got " + size);
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("Expected a positive timeout, got " + timeout);
        }
        Group g = new Group(size, timeout.toNanos());
        List<ThreadCommunicator> out = new ArrayList<>(size);
        for (int r = 0; r < size; r++) {
            out.add(new ThreadCommunicator(g, r));
        }
        return out;
    }

    /**
     * Runs {@code body} on {@code size} new threads, one per rank, and returns their results in rank order. If a
     * rank throws, the group is aborted (the others fail fast instead of waiting for the timeout) and the first
     * failure in rank order that is not a mere consequence of the abort is rethrown.
     */
    public static <T> List<T> run(int size, Duration timeout, Function<Communicator, T> body) {
        List<ThreadCommunicator> comms = group(size, timeout);
        List<T> results = new ArrayList<>(java.util.Collections.nCopies(size, null));
        Throwable[] errors = new Throwable[size];
        Thread[] threads = new Thread[size];
        for (int r = 0; r < size; r++) {
            int rr = r;
            threads[r] = new Thread(() -> {
                ThreadCommunicator c = comms.get(rr);
                try {
                    results.set(rr, body.apply(c));
                } catch (Throwable t) {
                    errors[rr] = t;
                    c.abort(t.toString(), 1);
                }
            }, "bn4j-rank-" + r);
            threads[r].start();
        }
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CommunicatorException("interrupted while waiting for the rank threads", e);
            }
        }
        // The root cause is the first failure that is not a consequence of another rank's failure.
        Throwable first = null;
        for (Throwable t : errors) {
            if (t != null && !(t instanceof CommunicatorException)) {
                first = t;
                break;
            }
        }
        for (int r = 0; first == null && r < size; r++) {
            first = errors[r];
        }
        if (first instanceof RuntimeException re) {
            throw re;
        }
        if (first instanceof Error e) {
            throw e;
        }
        if (first != null) {
            throw new CommunicatorException("a rank failed", first);
        }
        return results;
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return group.size;
    }

    @Override
    public void allReduceSum(double[] buf, int off, int len) {
        Communicator.checkRange("buffer", buf.length, off, len);
        String op = "allReduceSum(double[])";
        enter(op, buf, off, len, -1);
        if (dScratch.length < len) {
            dScratch = new double[len];
        }
        double[] acc = dScratch;
        for (int r = 0; r < group.size; r++) {
            double[] src = (double[]) group.bufs[r];
            int o = group.offs[r];
            if (r == 0) {
                System.arraycopy(src, o, acc, 0, len);
            } else {
                for (int i = 0; i < len; i++) {
                    acc[i] += src[o + i];
                }
            }
        }
        rendezvous(op);
        System.arraycopy(acc, 0, buf, off, len);
    }

    @Override
    public void allReduceSum(float[] buf, int off, int len) {
        Communicator.checkRange("buffer", buf.length, off, len);
        String op = "allReduceSum(float[])";
        enter(op, buf, off, len, -1);
        if (fScratch.length < len) {
            fScratch = new float[len];
        }
        float[] acc = fScratch;
        for (int r = 0; r < group.size; r++) {
            float[] src = (float[]) group.bufs[r];
            int o = group.offs[r];
            if (r == 0) {
                System.arraycopy(src, o, acc, 0, len);
            } else {
                for (int i = 0; i < len; i++) {
                    acc[i] += src[o + i]; // float addition in rank order, as MPI_SUM on MPI_FLOAT
                }
            }
        }
        rendezvous(op);
        System.arraycopy(acc, 0, buf, off, len);
    }

    @Override
    public void allGather(double[] send, int sendOff, int len, double[] recv, int recvOff) {
        Communicator.checkRange("send", send.length, sendOff, len);
        Communicator.checkRange("receive", recv.length, recvOff, (int) Math.min(Integer.MAX_VALUE,
                (long) len * group.size));
        String op = "allGather(double[])";
        enter(op, send, sendOff, len, -1);
        // recv is private to this rank, and the send buffers are only read until the second rendezvous.
        for (int r = 0; r < group.size; r++) {
            System.arraycopy((double[]) group.bufs[r], group.offs[r], recv, recvOff + r * len, len);
        }
        rendezvous(op);
    }

    @Override
    public void broadcast(float[] buf, int off, int len, int root) {
        Communicator.checkRange("buffer", buf.length, off, len);
        Communicator.checkRoot(root, group.size);
        enter("broadcast(float[])", buf, off, len, root);
        if (rank != root) {
            System.arraycopy((float[]) group.bufs[root], group.offs[root], buf, off, len);
        }
        rendezvous("broadcast(float[])");
    }

    @Override
    public void broadcast(double[] buf, int off, int len, int root) {
        Communicator.checkRange("buffer", buf.length, off, len);
        Communicator.checkRoot(root, group.size);
        enter("broadcast(double[])", buf, off, len, root);
        if (rank != root) {
            System.arraycopy((double[]) group.bufs[root], group.offs[root], buf, off, len);
        }
        rendezvous("broadcast(double[])");
    }

    @Override
    public void broadcast(byte[] buf, int off, int len, int root) {
        Communicator.checkRange("buffer", buf.length, off, len);
        Communicator.checkRoot(root, group.size);
        enter("broadcast(byte[])", buf, off, len, root);
        if (rank != root) {
            System.arraycopy((byte[]) group.bufs[root], group.offs[root], buf, off, len);
        }
        rendezvous("broadcast(byte[])");
    }

    @Override
    public void barrier() {
        checkUsable("barrier");
        rendezvous("barrier");
    }

    @Override
    public void abort(String reason, int exitCode) {
        group.abortReason = "rank " + rank + " aborted: " + reason;
        group.barrier.reset(); // ranks waiting now get BrokenBarrierException; later calls see abortReason
    }

    @Override
    public void close() {
        closed = true;
    }

    @Override
    public String toString() {
        return "ThreadCommunicator[rank " + rank + "/" + group.size + "]";
    }

    /** Publishes this rank's arguments, waits for all ranks, and checks that they called the same collective. */
    private void enter(String op, Object buf, int off, int len, int root) {
        checkUsable(op);
        group.bufs[rank] = buf;
        group.offs[rank] = off;
        group.lens[rank] = len;
        group.roots[rank] = root;
        group.ops[rank] = op;
        rendezvous(op);
        for (int r = 0; r < group.size; r++) {
            if (!op.equals(group.ops[r]) || group.lens[r] != len || group.roots[r] != root) {
                StringBuilder sb = new StringBuilder("rank " + rank + "/" + group.size
                        + ": ranks called different collectives:");
                for (int q = 0; q < group.size; q++) {
                    sb.append(" rank ").append(q).append(' ').append(group.ops[q]).append(" len=")
                            .append(group.lens[q]).append(group.roots[q] >= 0 ? " root=" + group.roots[q] : "")
                            .append(q + 1 < group.size ? ";" : "");
                }
                throw new CommunicatorException(sb.toString());
            }
        }
    }

    private void checkUsable(String op) {
        if (closed) {
            throw new IllegalStateException("rank " + rank + ": " + op + " called after close()");
        }
        String reason = group.abortReason;
        if (reason != null) {
            throw new CommunicatorException("rank " + rank + "/" + group.size + ": " + op + " failed, " + reason);
        }
    }

    /** Waits until every rank arrives here, or fails naming the ranks that did not arrive in time. */
    private void rendezvous(String op) {
        long mine = group.arrivals.incrementAndGet(rank);
        try {
            group.barrier.await(group.timeoutNanos, TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            List<Integer> missing = new ArrayList<>();
            for (int r = 0; r < group.size; r++) {
                if (group.arrivals.get(r) < mine) {
                    missing.add(r);
                }
            }
            String msg = "rank " + rank + "/" + group.size + ": " + op + " timed out after "
                    + TimeUnit.NANOSECONDS.toMillis(group.timeoutNanos) + " ms waiting for rank(s) "
                    + Arrays.toString(missing.stream().mapToInt(Integer::intValue).toArray());
            if (group.abortReason == null) {
                group.abortReason = msg;
            }
            throw new CommunicatorException(msg);
        } catch (BrokenBarrierException e) {
            // The rank that broke the barrier publishes its reason just after breaking it: give it a moment.
            String reason = group.abortReason;
            for (int i = 0; reason == null && i < 200; i++) {
                Thread.onSpinWait();
                try {
                    Thread.sleep(10);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    break;
                }
                reason = group.abortReason;
            }
            throw new CommunicatorException("rank " + rank + "/" + group.size + ": " + op + " failed, "
                    + (reason != null ? reason : "the group was broken by another rank"));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CommunicatorException("rank " + rank + "/" + group.size + ": interrupted in " + op, e);
        }
    }

    /** State shared by the ranks of one group. Slots are written before and read after a rendezvous. */
    private static final class Group {
        final int size;
        final long timeoutNanos;
        final CyclicBarrier barrier;
        final Object[] bufs;
        final int[] offs;
        final int[] lens;
        final int[] roots;
        final String[] ops;
        final AtomicLongArray arrivals;
        volatile String abortReason;

        Group(int size, long timeoutNanos) {
            this.size = size;
            this.timeoutNanos = timeoutNanos;
            this.barrier = new CyclicBarrier(size);
            this.bufs = new Object[size];
            this.offs = new int[size];
            this.lens = new int[size];
            this.roots = new int[size];
            this.ops = new String[size];
            this.arrivals = new AtomicLongArray(size);
        }
    }
}
