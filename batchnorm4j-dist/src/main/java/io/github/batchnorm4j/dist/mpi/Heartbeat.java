package io.github.batchnorm4j.dist.mpi;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.PortUnreachableException;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Liveness of the ranks on other hosts, which the process watch of {@link PeerWatchdog} cannot see: every rank
 * sends a small UDP datagram ({@code "BN4J"}, job nonce, rank) to every other rank every {@link #INTERVAL_MS} ms,
 * from the socket it receives on, and records when each rank was last heard and from which address.
 *
 * <p>A rank is lost when, having been heard, it stays silent for longer than the timeout (a process that hangs,
 * is stopped, or is cut off by the network), or as soon as the host it was heard from answers a probe with
 * "port unreachable" (its process is gone: the kernel closed its socket). A rank never heard at all (UDP blocked
 * between the hosts) is not declared lost: a warning is printed once and the stall timeout of the collectives
 * remains the bound. The socket is bound to every local address on an ephemeral port; the advertised addresses
 * (non-loopback IPv4 addresses of the interfaces that are up, or 127.0.0.1) and the port are exchanged with the
 * other start-up information.
 */
final class Heartbeat {
    static final int INTERVAL_MS = 250;
    /** Bytes of one rank's record in the start-up exchange: port, nonce, address count, up to 4 IPv4 addresses. */
    static final int RECORD = 32; // 2 + 8 + 1 + 4 * 4 = 27, padded so that records stay 8-byte aligned
    private static final int MAGIC = 0x424e344a; // "BN4J"

    private final int rank;
    private final int size;
    private final long timeoutNanos;
    private final long nonce;
    private final DatagramChannel socket;
    private final long[] lastSeen;
    private final InetSocketAddress[] heardFrom;
    private final DatagramChannel[] probes;
    private final boolean[] gone;
    private final boolean[] local;
    private List<InetSocketAddress>[] advertised;
    private long jobNonce;
    private long started;
    private volatile boolean stopped;

    Heartbeat(int rank, int size, long timeoutNanos) throws IOException {
        this.rank = rank;
        this.size = size;
        this.timeoutNanos = timeoutNanos;
        this.nonce = new java.security.SecureRandom().nextLong();
        this.socket = DatagramChannel.open(StandardProtocolFamily.INET).bind(new InetSocketAddress(0));
        this.lastSeen = new long[size];
        this.heardFrom = new InetSocketAddress[size];
        this.probes = new DatagramChannel[size];
        this.gone = new boolean[size];
        this.local = new boolean[size];
    }

    /** This rank's record for the start-up exchange. */
    byte[] record() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(RECORD);
        b.putShort((short) ((InetSocketAddress) socket.getLocalAddress()).getPort());
        b.putLong(nonce);
        List<Inet4Address> mine = localAddresses();
        b.put((byte) mine.size());
        for (Inet4Address a : mine) {
            b.put(a.getAddress());
        }
        return b.array();
    }

    private static List<Inet4Address> localAddresses() throws IOException {
        List<Inet4Address> out = new ArrayList<>();
        for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (!nif.isUp() || nif.isLoopback()) {
                continue;
            }
            for (InetAddress a : Collections.list(nif.getInetAddresses())) {
                if (a instanceof Inet4Address v4 && out.size() < 4) {
                    out.add(v4);
                }
            }
        }
        if (out.isEmpty()) {
            out.add((Inet4Address) InetAddress.getByAddress(new byte[] {127, 0, 0, 1}));
        }
        return out;
    }

    /**
     * Sets the peers from every rank's {@link #record()}; {@code sameHost[r]} marks the ranks the process watch
     * already covers (they are still sent heartbeats, but never probed).
     */
    @SuppressWarnings("unchecked")
    void setPeers(byte[][] records, boolean[] sameHost) throws IOException {
        advertised = new List[size];
        for (int r = 0; r < size; r++) {
            ByteBuffer b = ByteBuffer.wrap(records[r]);
            int port = b.getShort() & 0xffff;
            long n = b.getLong();
            if (r == 0) {
                jobNonce = n; // one value every rank knows: datagrams of another job are ignored
            }
            int count = Math.min(4, b.get() & 0xff);
            List<InetSocketAddress> l = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                byte[] ip = new byte[4];
                b.get(ip);
                l.add(new InetSocketAddress(InetAddress.getByAddress(ip), port));
            }
            advertised[r] = l;
            local[r] = sameHost[r];
        }
    }

    void start() {
        started = System.nanoTime();
        java.util.Arrays.fill(lastSeen, started);
        Thread send = new Thread(this::sendLoop, "bn4j-mpi-heartbeat-send");
        Thread recv = new Thread(this::receiveLoop, "bn4j-mpi-heartbeat-receive");
        send.setDaemon(true);
        recv.setDaemon(true);
        send.start();
        recv.start();
    }

    void stop() {
        stopped = true;
    }

    private void sendLoop() {
        ByteBuffer msg = ByteBuffer.allocate(16);
        msg.putInt(MAGIC).putLong(jobNonce).putInt(rank).flip();
        while (!stopped) {
            for (int r = 0; r < size; r++) {
                if (r == rank) {
                    continue;
                }
                InetSocketAddress to;
                synchronized (this) {
                    to = heardFrom[r];
                }
                // Until a peer is heard, every address it advertised is tried; then only the one it is heard from.
                for (InetSocketAddress a : to != null ? List.of(to) : advertised[r]) {
                    try {
                        socket.send(msg.duplicate(), a);
                    } catch (IOException e) {
                        // unreachable network or address: the peer counts as silent
                    }
                }
                if (to != null && !local[r]) {
                    probe(r, to);
                }
            }
            try {
                TimeUnit.MILLISECONDS.sleep(INTERVAL_MS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** One datagram on a socket connected to the peer's address: a pending "port unreachable" shows up here. */
    private void probe(int r, InetSocketAddress to) {
        try {
            if (probes[r] == null) {
                probes[r] = DatagramChannel.open(StandardProtocolFamily.INET).connect(to);
            }
            probes[r].write(ByteBuffer.wrap(new byte[] {0}));
        } catch (PortUnreachableException e) {
            synchronized (this) {
                gone[r] = true;
            }
        } catch (IOException e) {
            // a transient network error says nothing about the process
        }
    }

    private void receiveLoop() {
        ByteBuffer buf = ByteBuffer.allocate(64);
        while (!stopped) {
            try {
                buf.clear();
                SocketAddress from = socket.receive(buf);
                buf.flip();
                if (buf.remaining() == 16 && buf.getInt() == MAGIC && buf.getLong() == jobNonce) {
                    int r = buf.getInt();
                    if (r >= 0 && r < size && r != rank && from instanceof InetSocketAddress isa) {
                        synchronized (this) {
                            lastSeen[r] = System.nanoTime();
                            if (heardFrom[r] == null) {
                                heardFrom[r] = isa;
                            }
                        }
                    }
                }
            } catch (IOException e) {
                if (stopped) {
                    return;
                }
            }
        }
    }

    /** Ranks whose process is known to be gone (port unreachable), or that have been silent beyond the timeout. */
    synchronized List<String> lost(String[] hostNames) {
        List<String> out = new ArrayList<>();
        long now = System.nanoTime();
        for (int r = 0; r < size; r++) {
            if (r == rank || local[r]) {
                continue;
            }
            if (gone[r]) {
                out.add("rank " + r + " on host " + hostNames[r] + " (its process is gone: " + heardFrom[r]
                        + " answers port unreachable)");
            } else if (heardFrom[r] != null && now - lastSeen[r] > timeoutNanos) {
                out.add("rank " + r + " on host " + hostNames[r] + " (no heartbeat for "
                        + TimeUnit.NANOSECONDS.toMillis(now - lastSeen[r]) / 1000.0 + " s: hung, stopped or cut off)");
            }
        }
        return out;
    }

    /** Remote ranks never heard although the timeout has passed since the start (UDP blocked?). */
    synchronized List<Integer> neverHeard() {
        List<Integer> out = new ArrayList<>();
        if (System.nanoTime() - started > timeoutNanos) {
            for (int r = 0; r < size; r++) {
                if (r != rank && !local[r] && heardFrom[r] == null) {
                    out.add(r);
                }
            }
        }
        return out;
    }

    /**
     * At shutdown (e.g. mpirun's SIGTERM after a rank died elsewhere): probes every remote peer twice, some
     * milliseconds apart, so that a closed port is noticed now rather than at the next heartbeat.
     */
    List<String> probeNow(String[] hostNames, long waitMillis) {
        for (int round = 0; round < 2; round++) {
            for (int r = 0; r < size; r++) {
                InetSocketAddress to;
                synchronized (this) {
                    to = heardFrom[r];
                }
                if (r != rank && !local[r] && to != null) {
                    probe(r, to);
                }
            }
            try {
                TimeUnit.MILLISECONDS.sleep(waitMillis);
            } catch (InterruptedException e) {
                break;
            }
        }
        return lost(hostNames);
    }
}
