package io.github.batchnorm4j.dist.mpi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rank lost on another host, with two hosts made on this machine: two network namespaces joined by a veth pair
 * (a private /30 that exists only inside them), each rank in its own network, pid and UTS namespace (host names
 * {@code hosta} and {@code hostb}), Open MPI over TCP between them, launched by {@code mpirun --host A,B} whose
 * {@code plm_rsh_agent} is a script that enters host B's namespaces instead of using ssh. Rank 1 (on hostb) is then
 * killed, or stopped; rank 0 must exit non-zero within 30 s naming rank 1 and hostb. The collectives' stall timeout
 * is set to 300 s, so only the cross-host detection can meet the bound.
 *
 * <p>Needs root, {@code ip} (iproute2), {@code unshare} (util-linux) and Open MPI; otherwise every test is skipped
 * with the reason. The namespaces, the veth pair and every process in them are removed afterwards.
 */
class TwoHostLostRankTest {
    static final long BOUND_S = 120;
    static String nsA;
    static String nsB;
    static String ipA;
    static String ipB;
    static String subnet;
    @TempDir
    static Path dir;
    static Path agent;
    static String whyNot;

    static int sh(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return -1;
        }
        return p.exitValue();
    }

    static boolean onPath(String exe) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, exe))) {
                return true;
            }
        }
        return Files.isExecutable(Path.of("/usr/sbin", exe)) || Files.isExecutable(Path.of("/sbin", exe));
    }

    @BeforeAll
    static void makeTwoHosts() throws Exception {
        if (!System.getProperty("os.name").startsWith("Linux")) {
            whyNot = "network namespaces need Linux";
        } else if (!onPath("ip")) {
            whyNot = "'ip' (iproute2) is not installed";
        } else if (!onPath("unshare")) {
            whyNot = "'unshare' (util-linux) is not installed";
        } else if (MpiJob.mpirun() == null || !MpiCommunicator.libraryAvailable()) {
            whyNot = "Open MPI (mpirun, libmpi.so.40) is not installed";
        } else if (!"0".equals(new String(new ProcessBuilder("id", "-u").start().getInputStream().readAllBytes(),
                StandardCharsets.UTF_8).strip())) {
            whyNot = "creating network namespaces needs root";
        }
        if (whyNot != null) {
            return;
        }
        long id = ProcessHandle.current().pid() % 200 + 20;
        nsA = "bn4j" + id + "a";
        nsB = "bn4j" + id + "b";
        ipA = "10.254." + id + ".1";
        ipB = "10.254." + id + ".2";
        subnet = "10.254." + id + ".0/30";
        String vA = "bn4jv" + id + "a";
        String vB = "bn4jv" + id + "b";
        String[][] steps = {
            {"ip", "netns", "add", nsA}, {"ip", "netns", "add", nsB},
            {"ip", "link", "add", vA, "type", "veth", "peer", "name", vB},
            {"ip", "link", "set", vA, "netns", nsA}, {"ip", "link", "set", vB, "netns", nsB},
            {"ip", "-n", nsA, "addr", "add", ipA + "/30", "dev", vA},
            {"ip", "-n", nsB, "addr", "add", ipB + "/30", "dev", vB},
            {"ip", "-n", nsA, "link", "set", vA, "up"}, {"ip", "-n", nsB, "link", "set", vB, "up"},
            {"ip", "-n", nsA, "link", "set", "lo", "up"}, {"ip", "-n", nsB, "link", "set", "lo", "up"}};
        for (String[] s : steps) {
            if (sh(s) != 0) {
                whyNot = "could not set up the namespaces: '" + String.join(" ", s) + "' failed";
                return;
            }
        }
        agent = dir.resolve("enter-host");
        Files.writeString(agent, "#!/bin/sh\n"
                + "# plm_rsh_agent for the test: $1 is the host (an address), the rest the command for its shell.\n"
                + "host=$1; shift\n"
                + "case $host in\n"
                + "  " + ipB + ") exec ip netns exec " + nsB
                + " unshare --uts --pid --fork --mount-proc sh -c \"hostname hostb; $*\" ;;\n"
                + "  *) echo \"enter-host: unknown host $host\" >&2; exit 1 ;;\n"
                + "esac\n");
        Files.setPosixFilePermissions(agent, PosixFilePermissions.fromString("rwx------"));
    }

    @AfterAll
    static void removeTwoHosts() throws Exception {
        if (nsA == null) {
            return;
        }
        for (String ns : new String[] {nsA, nsB}) {
            killAllIn(ns);
            sh("ip", "netns", "del", ns); // also removes the veth pair
        }
    }

    /** SIGKILL to every process in the network namespace (what a test left running there). */
    static void killAllIn(String ns) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("ip", "netns", "pids", ns).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(10, TimeUnit.SECONDS);
        for (String pid : out.split("\\s+")) {
            if (!pid.isBlank()) {
                ProcessHandle.of(Long.parseLong(pid)).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    /** The process on this machine in pid namespace {@code pidns} whose command line names the scenario class. */
    static long hostPid(String pidns) throws IOException {
        try (var s = Files.list(Path.of("/proc"))) {
            for (Path p : s.toList()) {
                String n = p.getFileName().toString();
                if (!n.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    if (Files.readSymbolicLink(p.resolve("ns/pid")).toString().equals(pidns)
                            && Files.readString(p.resolve("cmdline")).contains(MpiScenarios.class.getName())) {
                        return Long.parseLong(n);
                    }
                } catch (IOException e) {
                    // a process that ended meanwhile
                }
            }
        }
        return -1;
    }

    /** mpirun in host A's namespaces, rank 0 there and rank 1 on host B through the agent. */
    static MpiJob.Result job(String signal, AtomicLong actedAt) throws Exception {
        Assumptions.assumeTrue(whyNot == null, () -> "two hosts on one machine: " + whyNot);
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", nsA, "unshare", "--uts", "sh", "-c",
                "hostname hosta && exec \"$0\" \"$@\"", MpiJob.mpirun().toString(), "--allow-run-as-root",
                "--leave-session-attached", "-np", "2", "--host", ipA + "," + ipB,
                "--mca", "plm_rsh_agent", agent.toString(), "--mca", "plm_rsh_no_tree_spawn", "1",
                "--mca", "btl", "tcp,self", "--mca", "btl_tcp_if_include", subnet,
                "--mca", "oob_tcp_if_include", subnet));
        cmd.addAll(MpiJob.javaCommand());
        cmd.add("wait-for-kill");
        Pattern ready = Pattern.compile("READY rank 1 pid \\d+ pidns (\\S+)");
        AtomicReference<String> error = new AtomicReference<>();
        MpiJob.Result r = MpiJob.runCommand(cmd, BOUND_S, java.util.Map.of("BN4J_TEST_STALL_SECONDS", "300"), line -> {
            Matcher m = ready.matcher(line);
            if (m.find()) {
                try {
                    long pid = hostPid(m.group(1));
                    if (pid < 0) {
                        error.set("rank 1's process was not found in " + m.group(1));
                        return;
                    }
                    Thread.sleep(500); // a few collectives and heartbeats first
                    new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).start().waitFor();
                    actedAt.set(System.nanoTime());
                } catch (IOException | InterruptedException e) {
                    error.set(e.toString());
                }
            }
        });
        r.output().lines().filter(l -> l.startsWith("bn4j: rank") || l.contains("mpirun noticed"))
                .forEach(l -> System.out.println("two hosts, " + signal + ": " + l)); // what the survivor said
        assertEquals(null, error.get(), r.output());
        assertNotEquals(0, actedAt.get(), "rank 1 never became ready:\n" + r.output());
        return r;
    }

    @Test
    void aRankKilledOnTheOtherHostIsNamedByTheSurvivorWithin30s() throws Exception {
        AtomicLong killedAt = new AtomicLong();
        MpiJob.Result r = job("KILL", killedAt);
        double after = (System.nanoTime() - killedAt.get()) / 1e9;
        assertNotEquals(-1, r.exitCode(), "the job hung after rank 1 was killed:\n" + r.output());
        assertNotEquals(0, r.exitCode(), r.output());
        assertTrue(after < 30, "the job took " + after + " s to end after the kill:\n" + r.output());
        assertTrue(r.output().contains("bn4j: rank 0/2:") && r.output().contains("lost rank 1 on host hostb"),
                "rank 0 did not name rank 1 on hostb:\n" + r.output());
    }

    @Test
    void aRankStoppedOnTheOtherHostIsNamedByTheSurvivorWithin30s() throws Exception {
        AtomicLong stoppedAt = new AtomicLong();
        MpiJob.Result r = job("STOP", stoppedAt);
        double after = (System.nanoTime() - stoppedAt.get()) / 1e9;
        assertNotEquals(-1, r.exitCode(), "the job hung after rank 1 was stopped:\n" + r.output());
        assertTrue(after < 30, "the job took " + after + " s to end after the stop:\n" + r.output());
        assertTrue(r.output().contains("bn4j: rank 0/2: lost rank 1 on host hostb (no heartbeat for"),
                "rank 0 did not name rank 1 on hostb:\n" + r.output());
        assertTrue(r.output().contains("exiting with status " + MpiCommunicator.EXIT_PEER_LOST), r.output());
        killAllIn(nsB); // the stopped rank
    }
}
