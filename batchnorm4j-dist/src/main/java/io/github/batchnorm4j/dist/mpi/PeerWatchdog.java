package io.github.batchnorm4j.dist.mpi;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Makes a lost rank end the job promptly, with a message naming it, instead of leaving the survivors blocked in a
 * collective forever.
 *
 * <p>Three mechanisms, whichever fires first:
 * <ol>
 *   <li>A daemon thread polls, every 50 ms, the processes of the ranks that run on this host (pids exchanged at
 *       start-up; "this host" = same host name and pid namespace). When one is gone before this rank finalized,
 *       it prints {@code lost rank K (pid P on host H is gone)} and halts with {@link MpiCommunicator#EXIT_PEER_LOST}.</li>
 *   <li>The same thread bounds the time spent inside one collective by the stall timeout: a rank on another host
 *       that stops answering is reported with the collective and the ranks on other hosts, then the process halts
 *       with the same status.</li>
 *   <li>The ranks on other hosts are watched through a {@link Heartbeat}: one that is gone (its port answers
 *       "unreachable") or silent for longer than the heartbeat timeout (10 s by default) is reported as
 *       {@code lost rank K on host H (...)} and this rank halts with the same status.</li>
 *   <li>Open MPI's {@code mpirun} itself usually terminates the job when a rank dies (it prints
 *       {@code mpirun noticed that process rank K ... exited on signal ...}) by sending SIGTERM to the survivors;
 *       a shutdown hook then prints which local ranks are already gone, and the JVM exits with 143.</li>
 * </ol>
 * A rank that finishes normally calls MPI_Finalize (which waits for all ranks) after {@link #stop()}, so
 * normal exits are never reported.
 */
final class PeerWatchdog {
    private static final long POLL_MS = 50;

    private final int rank;
    private final int size;
    private final long stallNanos;
    private long[] pids = new long[0];
    private String[] hosts = new String[0];
    private String myHost = "";
    private volatile String inFlight;
    private volatile long inFlightSince;
    private volatile boolean stopped;
    private Thread thread;
    private Heartbeat heartbeat;
    private boolean warnedNeverHeard;

    PeerWatchdog(int rank, int size, Duration stallTimeout) {
        this.rank = rank;
        this.size = size;
        this.stallNanos = stallTimeout.toNanos();
    }

    /** A host identity that differs between containers sharing a host name: host name plus pid namespace. */
    static String hostKey(String host) {
        try {
            return host + "|" + Files.readSymbolicLink(Path.of("/proc/self/ns/pid"));
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return host;
        }
    }

    void setPeers(long[] pids, String[] hosts, String myHost) {
        this.pids = pids;
        this.hosts = hosts;
        this.myHost = myHost;
    }

    /** Watches the ranks on other hosts through {@code hb} (already given its peers) from {@link #start()} on. */
    void setHeartbeat(Heartbeat hb) {
        this.heartbeat = hb;
    }

    boolean sameHost(int r) {
        return myHost.equals(hosts[r]);
    }

    private String[] displayHosts() {
        String[] d = new String[hosts.length];
        for (int r = 0; r < d.length; r++) {
            d[r] = displayHost(hosts[r]);
        }
        return d;
    }

    String describePeers() {
        StringBuilder sb = new StringBuilder();
        for (int r = 0; r < size; r++) {
            sb.append(r == 0 ? "" : ", ").append("rank ").append(r).append(" pid ").append(pids[r]).append(" on ")
                    .append(displayHost(hosts[r]));
        }
        return sb.toString();
    }

    void enter(String op) {
        inFlightSince = System.nanoTime();
        inFlight = op;
    }

    void leave() {
        inFlight = null;
    }

    void start() {
        if (heartbeat != null) {
            heartbeat.start();
        }
        thread = new Thread(this::loop, "bn4j-mpi-watchdog");
        thread.setDaemon(true);
        thread.start();
        Runtime.getRuntime().addShutdownHook(new Thread(this::onShutdown, "bn4j-mpi-shutdown"));
    }

    /** Called before MPI_Finalize or MPI_Abort: from now on peers may exit. */
    void stop() {
        stopped = true;
        if (heartbeat != null) {
            heartbeat.stop();
        }
    }

    private void loop() {
        while (!stopped) {
            try {
                TimeUnit.MILLISECONDS.sleep(POLL_MS);
            } catch (InterruptedException e) {
                return;
            }
            if (stopped) {
                return;
            }
            List<Integer> lost = lostLocalRanks();
            if (!lost.isEmpty()) {
                fail("lost " + describe(lost) + currentCollective());
            }
            if (heartbeat != null) {
                List<String> remote = heartbeat.lost(displayHosts());
                if (!remote.isEmpty()) {
                    fail("lost " + String.join(", ", remote) + currentCollective());
                }
                if (!warnedNeverHeard && !heartbeat.neverHeard().isEmpty()) {
                    warnedNeverHeard = true;
                    System.err.println("bn4j: rank " + rank + "/" + size + ": no heartbeat ever arrived from ranks "
                            + heartbeat.neverHeard() + " (UDP blocked between the hosts?); a loss there is bounded"
                            + " by --dist-timeout only");
                }
            }
            String op = inFlight;
            long waited = System.nanoTime() - inFlightSince;
            if (op != null && waited > stallNanos) {
                fail("no progress for " + TimeUnit.NANOSECONDS.toSeconds(waited) + " s in " + op + "; "
                        + remoteRanks());
            }
        }
    }

    private void fail(String what) {
        if (stopped) {
            return;
        }
        System.err.println("bn4j: rank " + rank + "/" + size + ": " + what + "; exiting with status "
                + MpiCommunicator.EXIT_PEER_LOST);
        System.err.flush();
        Runtime.getRuntime().halt(MpiCommunicator.EXIT_PEER_LOST);
    }

    private void onShutdown() {
        if (stopped) {
            return;
        }
        List<Integer> lost = lostLocalRanks();
        List<String> remote = heartbeat == null ? List.of() : heartbeat.probeNow(displayHosts(), 100);
        System.err.println("bn4j: rank " + rank + "/" + size + ": stopping before MPI_Finalize"
                + currentCollective() + (lost.isEmpty() ? "" : "; lost " + describe(lost))
                + (remote.isEmpty() ? "" : "; lost " + String.join(", ", remote)));
        System.err.flush();
    }

    private String currentCollective() {
        String op = inFlight;
        return op == null ? "" : " while waiting in " + op + " for "
                + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - inFlightSince) + " ms";
    }

    private List<Integer> lostLocalRanks() {
        List<Integer> lost = new ArrayList<>();
        for (int r = 0; r < pids.length; r++) {
            if (r != rank && myHost.equals(hosts[r])
                    && !ProcessHandle.of(pids[r]).map(ProcessHandle::isAlive).orElse(false)) {
                lost.add(r);
            }
        }
        return lost;
    }

    private String describe(List<Integer> ranks) {
        StringBuilder sb = new StringBuilder(ranks.size() == 1 ? "rank " : "ranks ");
        for (int i = 0; i < ranks.size(); i++) {
            int r = ranks.get(i);
            sb.append(i == 0 ? "" : ", ").append(r).append(" (pid ").append(pids[r]).append(" on host ")
                    .append(displayHost(hosts[r])).append(" is gone)");
        }
        return sb.toString();
    }

    private String remoteRanks() {
        List<Integer> remote = new ArrayList<>();
        for (int r = 0; r < hosts.length; r++) {
            if (!myHost.equals(hosts[r])) {
                remote.add(r);
            }
        }
        return remote.isEmpty() ? "the other ranks are alive on this host but did not join (busy for longer than the"
                + " timeout, or calling a different collective)"
                : "ranks on other hosts, which are not watched from here, may be lost: " + remote;
    }

    private static String displayHost(String key) {
        int bar = key.indexOf('|');
        return bar < 0 ? key : key.substring(0, bar);
    }
}
