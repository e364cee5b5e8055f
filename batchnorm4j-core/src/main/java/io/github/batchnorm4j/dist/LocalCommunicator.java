package io.github.batchnorm4j.dist;

/**
 * The single-process group: size 1, rank 0. Sums, gathers and broadcasts over one rank are identities, so code
 * written against {@link Communicator} runs unchanged (and with no overhead beyond a copy for gathers).
 */
public final class LocalCommunicator implements Communicator {
    /** The shared instance (stateless). */
    public static final LocalCommunicator INSTANCE = new LocalCommunicator();

    private LocalCommunicator() {}

    @Override
    public int rank() {
        return 0;
    }

    @Override
    public int size() {
        return 1;
    }

    @Override
    public void allReduceSum(double[] buf, int off, int len) {
        Communicator.checkRange("buffer", buf.length, off, len);
    }

    @Override
    public void allReduceSum(float[] buf, int off, int len) {
        Communicator.checkRange("buffer", buf.length, off, len);
    }

    @Override
    public void allGather(double[] send, int sendOff, int len, double[] recv, int recvOff) {
        Communicator.checkRange("send", send.length, sendOff, len);
        Communicator.checkRange("receive", recv.length, recvOff, len);
        System.arraycopy(send, sendOff, recv, recvOff, len);
    }

    @Override
    public void broadcast(float[] buf, int off, int len, int root) {
        Communicator.checkRange("buffer", buf.length, off, len);
        Communicator.checkRoot(root, 1);
    }

    @Override
    public void broadcast(double[] buf, int off, int len, int root) {
        Communicator.checkRange("buffer", buf.length, off, len);
        Communicator.checkRoot(root, 1);
    }

    @Override
    public void broadcast(byte[] buf, int off, int len, int root) {
        Communicator.checkRange("buffer", buf.length, off, len);
        Communicator.checkRoot(root, 1);
    }

    @Override
    public void barrier() {}

    @Override
    public void abort(String reason, int exitCode) {
        throw new CommunicatorException("rank 0/1 aborted: " + reason);
    }

    @Override
    public void close() {}

    @Override
    public String toString() {
        return "LocalCommunicator";
    }
}
