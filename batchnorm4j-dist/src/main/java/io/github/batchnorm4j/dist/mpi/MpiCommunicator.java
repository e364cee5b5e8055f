package io.github.batchnorm4j.dist.mpi;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.github.batchnorm4j.dist.Communicator;
import io.github.batchnorm4j.dist.CommunicatorException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * {@link Communicator} over {@code MPI_COMM_WORLD} of Open MPI, called through the JDK's foreign-function API
 * (no JNI, no Java bindings): one process per rank, launched by {@code mpirun -np N ...}.
 *
 * <p>Data goes through a native scratch buffer (copied in and out): Java arrays must not be pinned across a
 * collective that may wait for other processes. Calls are serialized ({@code MPI_THREAD_SERIALIZED}); the error
 * handler of the world communicator is {@code MPI_ERRORS_RETURN}, so a failing call becomes a
 * {@link CommunicatorException} naming the function and Open MPI's error text.
 *
 * <p>A lost rank must not hang the others: a {@link PeerWatchdog} watches the processes of the ranks on this
 * host, the ranks on other hosts through a {@link Heartbeat}, and the time spent inside one collective; it names
 * the lost rank and its host and exits non-zero (see there).
 */
public final class MpiCommunicator implements Communicator {
    /** Exit status of a rank that stops because another rank was lost or a collective stalled. */
    public static final int EXIT_PEER_LOST = 70;
    /** Silence after which a rank on another host counts as lost (seconds; environment BN4J_DIST_HEARTBEAT_TIMEOUT). */
    public static final double DEFAULT_HEARTBEAT_TIMEOUT_S = 10;

    private static MpiCommunicator world;

    private final MpiLibrary lib;
    private final int rank;
    private final int size;
    private final PeerWatchdog watchdog;
    private MemorySegment scratch = MemorySegment.NULL;
    private volatile boolean closed;

    private MpiCommunicator(MpiLibrary lib, int rank, int size, Duration stallTimeout) {
        this.lib = lib;
        this.rank = rank;
        this.size = size;
        this.watchdog = new PeerWatchdog(rank, size, stallTimeout);
    }

    /** True when this process was started by Open MPI's {@code mpirun}/{@code mpiexec} (or a PMIx launcher). */
    public static boolean launchedByMpirun() {
        return System.getenv("OMPI_COMM_WORLD_SIZE") != null || System.getenv("PMIX_RANK") != null;
    }

    /** True when Open MPI's {@code libmpi.so.40} can be loaded. */
    public static boolean libraryAvailable() {
        return MpiLibrary.available();
    }

    /**
     * Initializes MPI (once per process) and returns the world communicator.
     *
     * @param stallTimeout how long one collective may wait before this rank gives up on the others (the bound for
     *                     losses the watchdog cannot see directly, such as a rank on another host)
     */
    public static synchronized MpiCommunicator world(Duration stallTimeout) {
        if (world != null) {
            return world;
        }
        MpiLibrary lib = MpiLibrary.load();
        int rank;
        int size;
        String host;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment provided = a.allocate(JAVA_INT);
            int rc = (int) lib.initThread.invokeExact(MemorySegment.NULL, MemorySegment.NULL,
                    MpiLibrary.MPI_THREAD_SERIALIZED, provided);
            check(lib, "MPI_Init_thread", rc, -1, 0);
            int level = provided.get(JAVA_INT, 0);
            if (level < MpiLibrary.MPI_THREAD_SERIALIZED) {
                throw new CommunicatorException("Expected MPI thread support >= MPI_THREAD_SERIALIZED (2), got "
                        + level);
            }
            check(lib, "MPI_Comm_set_errhandler", (int) lib.commSetErrhandler.invokeExact(lib.commWorld,
                    lib.errorsReturn), -1, 0);
            MemorySegment out = a.allocate(JAVA_INT);
            check(lib, "MPI_Comm_rank", (int) lib.commRank.invokeExact(lib.commWorld, out), -1, 0);
            rank = out.get(JAVA_INT, 0);
            check(lib, "MPI_Comm_size", (int) lib.commSize.invokeExact(lib.commWorld, out), rank, 0);
            size = out.get(JAVA_INT, 0);
            MemorySegment name = a.allocate(MpiLibrary.MPI_MAX_PROCESSOR_NAME);
            check(lib, "MPI_Get_processor_name", (int) lib.processorName.invokeExact(name, out), rank, size);
            host = name.getString(0);
        } catch (CommunicatorException e) {
            throw e;
        } catch (Throwable t) {
            throw new CommunicatorException("MPI initialization failed: " + t, t);
        }
        MpiCommunicator c = new MpiCommunicator(lib, rank, size, stallTimeout);
        Heartbeat hb;
        try {
            hb = new Heartbeat(rank, size, heartbeatTimeout(stallTimeout).toNanos());
        } catch (java.io.IOException e) {
            throw new CommunicatorException("rank " + rank + "/" + size + ": cannot open the heartbeat socket: " + e, e);
        }
        c.exchangePeers(host, hb);
        c.watchdog.start();
        world = c;
        return c;
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return size;
    }

    /** Host name and process id of every rank, as exchanged at start-up. */
    public String describePeers() {
        return watchdog.describePeers();
    }

    @Override
    public synchronized void allReduceSum(double[] buf, int off, int len) {
        Communicator.checkRange("buffer", buf.length, off, len);
        MemorySegment seg = scratch((long) len * Double.BYTES);
        MemorySegment.copy(buf, off, seg, JAVA_DOUBLE, 0, len);
        allReduceInPlace(seg, len, lib.typeDouble);
        MemorySegment.copy(seg, JAVA_DOUBLE, 0, buf, off, len);
    }

    @Override
    public synchronized void allReduceSum(float[] buf, int off, int len) {
        Communicator.checkRange("buffer", buf.length, off, len);
        MemorySegment seg = scratch((long) len * Float.BYTES);
        MemorySegment.copy(buf, off, seg, JAVA_FLOAT, 0, len);
        allReduceInPlace(seg, len, lib.typeFloat);
        MemorySegment.copy(seg, JAVA_FLOAT, 0, buf, off, len);
    }

    /** MPI_Allreduce(MPI_IN_PLACE, seg, len, type, MPI_SUM) under the watchdog, return code checked. */
    private void allReduceInPlace(MemorySegment seg, int len, MemorySegment type) {
        int rc;
        watchdog.enter("MPI_Allreduce");
        try {
            rc = (int) lib.allreduce.invokeExact(MpiLibrary.MPI_IN_PLACE, seg, len, type, lib.opSum, lib.commWorld);
        } catch (Throwable t) {
            throw failed("MPI_Allreduce", t);
        } finally {
            watchdog.leave();
        }
        check(lib, "MPI_Allreduce", rc, rank, size);
    }

    @Override
    public synchronized void allGather(double[] send, int sendOff, int len, double[] recv, int recvOff) {
        Communicator.checkRange("send", send.length, sendOff, len);
        long total = (long) len * size;
        Communicator.checkRange("receive", recv.length, recvOff, (int) Math.min(Integer.MAX_VALUE, total));
        MemorySegment seg = scratch((len + total) * Double.BYTES);
        MemorySegment in = seg.asSlice(0, (long) len * Double.BYTES);
        MemorySegment out = seg.asSlice((long) len * Double.BYTES, total * Double.BYTES);
        MemorySegment.copy(send, sendOff, in, JAVA_DOUBLE, 0, len);
        int rc;
        watchdog.enter("MPI_Allgather");
        try {
            rc = (int) lib.allgather.invokeExact(in, len, lib.typeDouble, out, len, lib.typeDouble, lib.commWorld);
        } catch (Throwable t) {
            throw failed("MPI_Allgather", t);
        } finally {
            watchdog.leave();
        }
        check(lib, "MPI_Allgather", rc, rank, size);
        MemorySegment.copy(out, JAVA_DOUBLE, 0, recv, recvOff, (int) total);
    }

    @Override
    public synchronized void broadcast(float[] buf, int off, int len, int root) {
        Communicator.checkRange("buffer", buf.length, off, len);
        Communicator.checkRoot(root, size);
        MemorySegment seg = scratch((long) len * Float.BYTES);
        MemorySegment.copy(buf, off, seg, JAVA_FLOAT, 0, len);
        bcast(seg, len, lib.typeFloat, root);
        MemorySegment.copy(seg, JAVA_FLOAT, 0, buf, off, len);
    }

    @Override
    public synchronized void broadcast(double[] buf, int off, int len, int root) {
        Communicator.checkRange("buffer", buf.length, off, len);
        Communicator.checkRoot(root, size);
        MemorySegment seg = scratch((long) len * Double.BYTES);
        MemorySegment.copy(buf, off, seg, JAVA_DOUBLE, 0, len);
        bcast(seg, len, lib.typeDouble, root);
        MemorySegment.copy(seg, JAVA_DOUBLE, 0, buf, off, len);
    }

    @Override
    public synchronized void broadcast(byte[] buf, int off, int len, int root) {
        Communicator.checkRange("buffer", buf.length, off, len);
        Communicator.checkRoot(root, size);
        MemorySegment seg = scratch(len);
        MemorySegment.copy(buf, off, seg, JAVA_BYTE, 0, len);
        bcast(seg, len, lib.typeByte, root);
        MemorySegment.copy(seg, JAVA_BYTE, 0, buf, off, len);
    }

    private void bcast(MemorySegment seg, int len, MemorySegment type, int root) {
        int rc;
        watchdog.enter("MPI_Bcast");
        try {
            rc = (int) lib.bcast.invokeExact(seg, len, type, root, lib.commWorld);
        } catch (Throwable t) {
            throw failed("MPI_Bcast", t);
        } finally {
            watchdog.leave();
        }
        check(lib, "MPI_Bcast", rc, rank, size);
    }

    @Override
    public synchronized void barrier() {
        checkOpen("barrier");
        int rc;
        watchdog.enter("MPI_Barrier");
        try {
            rc = (int) lib.barrier.invokeExact(lib.commWorld);
        } catch (Throwable t) {
            throw failed("MPI_Barrier", t);
        } finally {
            watchdog.leave();
        }
        check(lib, "MPI_Barrier", rc, rank, size);
    }

    /** Prints the reason, then MPI_Abort (mpirun terminates every rank); halts with the code if that returns. */
    @Override
    public void abort(String reason, int exitCode) {
        System.err.println("bn4j: rank " + rank + "/" + size + " aborting the job: " + reason);
        System.err.flush();
        watchdog.stop();
        try {
            int rc = (int) lib.abort.invokeExact(lib.commWorld, exitCode);
        } catch (Throwable ignored) {
            // fall through to halt
        }
        Runtime.getRuntime().halt(exitCode);
    }

    /** MPI_Finalize: every rank must call it once, after its last collective. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        watchdog.stop();
        int rc;
        try {
            rc = (int) lib.finalizeHandle.invokeExact();
        } catch (Throwable t) {
            throw failed("MPI_Finalize", t);
        }
        check(lib, "MPI_Finalize", rc, rank, size);
    }

    @Override
    public String toString() {
        return "MpiCommunicator[rank " + rank + "/" + size + "]";
    }

    /** The heartbeat timeout: BN4J_DIST_HEARTBEAT_TIMEOUT seconds, else 10 s; never longer than the stall timeout. */
    static Duration heartbeatTimeout(Duration stallTimeout) {
        String env = System.getenv("BN4J_DIST_HEARTBEAT_TIMEOUT");
        double s = DEFAULT_HEARTBEAT_TIMEOUT_S;
        if (env != null) {
            try {
                s = Double.parseDouble(env);
            } catch (NumberFormatException e) {
                throw new CommunicatorException("Expected BN4J_DIST_HEARTBEAT_TIMEOUT in seconds, got '" + env + "'");
            }
            if (!(s > 0)) {
                throw new CommunicatorException("Expected BN4J_DIST_HEARTBEAT_TIMEOUT > 0, got " + env);
            }
        }
        Duration d = Duration.ofNanos((long) (s * 1e9));
        return d.compareTo(stallTimeout) < 0 ? d : stallTimeout;
    }

    /** Exchanges (pid, host, heartbeat address) so that the watchdog can tell which rank is gone. */
    private void exchangePeers(String host, Heartbeat hb) {
        int name0 = 8;
        int hb0 = 8 + MpiLibrary.MPI_MAX_PROCESSOR_NAME;
        int rec = hb0 + Heartbeat.RECORD;
        MemorySegment seg = scratch((long) rec * (size + 1));
        MemorySegment mine = seg.asSlice(0, rec);
        MemorySegment all = seg.asSlice(rec, (long) rec * size);
        mine.fill((byte) 0);
        mine.set(JAVA_LONG, 0, ProcessHandle.current().pid());
        byte[] name = PeerWatchdog.hostKey(host).getBytes(StandardCharsets.UTF_8);
        MemorySegment.copy(name, 0, mine, JAVA_BYTE, name0, Math.min(name.length, hb0 - name0 - 1));
        byte[] beat;
        try {
            beat = hb.record();
        } catch (java.io.IOException e) {
            throw new CommunicatorException("rank " + rank + "/" + size + ": heartbeat address: " + e, e);
        }
        MemorySegment.copy(beat, 0, mine, JAVA_BYTE, hb0, beat.length);
        int rc;
        try {
            rc = (int) lib.allgather.invokeExact(mine, rec, lib.typeByte, all, rec, lib.typeByte, lib.commWorld);
        } catch (Throwable t) {
            throw failed("MPI_Allgather", t);
        }
        check(lib, "MPI_Allgather", rc, rank, size);
        long[] pids = new long[size];
        String[] hosts = new String[size];
        byte[][] beats = new byte[size][];
        for (int r = 0; r < size; r++) {
            MemorySegment s = all.asSlice((long) r * rec, rec);
            pids[r] = s.get(JAVA_LONG, 0);
            hosts[r] = s.asSlice(name0, hb0 - name0).getString(0);
            beats[r] = s.asSlice(hb0, Heartbeat.RECORD).toArray(JAVA_BYTE);
        }
        watchdog.setPeers(pids, hosts, PeerWatchdog.hostKey(host));
        boolean[] same = new boolean[size];
        for (int r = 0; r < size; r++) {
            same[r] = watchdog.sameHost(r);
        }
        try {
            hb.setPeers(beats, same);
        } catch (java.io.IOException e) {
            throw new CommunicatorException("rank " + rank + "/" + size + ": heartbeat peers: " + e, e);
        }
        watchdog.setHeartbeat(hb);
    }

    private MemorySegment scratch(long bytes) {
        checkOpen("a collective");
        if (scratch.byteSize() < bytes) {
            // Freed by the GC once unreachable; grows only, so steady-state steps do not allocate.
            scratch = Arena.ofAuto().allocate(Math.max(bytes, 2 * scratch.byteSize()), 64);
        }
        return scratch.asSlice(0, bytes);
    }

    private void checkOpen(String op) {
        if (closed) {
            throw new IllegalStateException("rank " + rank + ": " + op + " called after close() (MPI_Finalize)");
        }
    }

    private CommunicatorException failed(String fn, Throwable t) {
        return new CommunicatorException("rank " + rank + "/" + size + ": " + fn + " could not be called: " + t, t);
    }

    private static void check(MpiLibrary lib, String fn, int rc, int rank, int size) {
        if (rc != MpiLibrary.MPI_SUCCESS) {
            String who = rank < 0 ? "" : "rank " + rank + "/" + size + ": ";
            throw new CommunicatorException(who + fn + " failed: " + lib.errorText(rc));
        }
    }
}
