package io.github.batchnorm4j.dist.mpi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Real multi-process runs under Open MPI's mpirun (ranks oversubscribed on the CI machine's cores). Skipped only
 * when {@code mpirun} is not installed; CI installs openmpi-bin, so there they run.
 */
class MpiCommunicatorTest {
    private static final long BOUND_S = 120;

    @BeforeAll
    static void needsMpirun() {
        assumeTrue(MpiJob.mpirun() != null, "mpirun not found on PATH: install Open MPI (apt-get install"
                + " openmpi-bin) to run the MPI tests");
    }

    private static void assertAllPass(MpiJob.Result r, int ranks, String... scenarios) {
        assertEquals(0, r.exitCode(), r.output());
        for (int i = 0; i < ranks; i++) {
            for (String sc : scenarios) {
                assertTrue(r.output().contains("PASS rank " + i + " " + sc + "\n"), "rank " + i + " did not pass "
                        + sc + ":\n" + r.output());
            }
            assertTrue(r.output().contains("OK rank " + i + "\n"), "rank " + i + " did not finish:\n" + r.output());
        }
    }

    /**
     * On 2 ranks: every collective; SyncBN forward/backward equal to BatchNorm on the concatenated batch for the
     * even split 32+32 and the uneven 20+44; 10 SGD steps with batch 32 per rank equal to 10 steps of one process
     * with batch 64 (weights within 1e-5); the MLP and CNN with bn, brn and ghost on batches 5+7 equal one process;
     * masked SyncBN on 6+5 equals masked BatchNorm on the whole batch.
     */
    @Test
    void twoRanks() throws Exception {
        String[] sc = {"collectives", "syncbn:32,32", "syncbn:20,44", "train:200:32", "variants:5,7",
            "maskedsyncbn:6,5"};
        assertAllPass(MpiJob.run(2, BOUND_S, null, sc), 2, sc);
    }

    /**
     * On 3 ranks: the same with a zero-row rank (0+30+34), an odd split, 3 x 16 vs 48 with a partial batch, and the
     * variants on 2+0+9 (an empty rank; ghost batches of 4 across ranks), masked SyncBN on 4+0+7.
     */
    @Test
    void threeRanks() throws Exception {
        String[] sc = {"collectives", "syncbn:0,30,34", "syncbn:7,13,11", "train:150:16", "variants:2,0,9",
            "maskedsyncbn:4,0,7"};
        assertAllPass(MpiJob.run(3, BOUND_S, null, sc), 3, sc);
    }

    @Test
    void aKilledRankMakesTheOthersExitNonZeroWithin30sNamingIt() throws Exception {
        AtomicLong victim = new AtomicLong();
        AtomicLong killedAt = new AtomicLong();
        Pattern ready = Pattern.compile("READY rank 1 pid (\\d+)");
        MpiJob.Result r = MpiJob.run(3, BOUND_S, line -> {
            Matcher m = ready.matcher(line);
            if (m.find()) {
                long pid = Long.parseLong(m.group(1));
                victim.set(pid);
                killedAt.set(System.nanoTime());
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly); // SIGKILL
            }
        }, "wait-for-kill");
        assertNotEquals(0, victim.get(), "rank 1 never became ready:\n" + r.output());
        double afterKill = (System.nanoTime() - killedAt.get()) / 1e9;
        assertNotEquals(-1, r.exitCode(), "the job hung after rank 1 was killed:\n" + r.output());
        assertNotEquals(0, r.exitCode(), r.output());
        assertTrue(afterKill < 30, "the job took " + afterKill + " s to end after the kill:\n" + r.output());
        // Each survivor names the lost rank (watchdog), or mpirun does when it terminated them first.
        String lost = "lost rank 1 (pid " + victim.get() + " on host ";
        for (int survivor : new int[] {0, 2}) {
            boolean named = r.output().contains("bn4j: rank " + survivor + "/3: lost rank 1 (pid " + victim.get())
                    || r.output().contains("bn4j: rank " + survivor + "/3: stopping before MPI_Finalize");
            assertTrue(named, "rank " + survivor + " said nothing about the lost rank:\n" + r.output());
        }
        assertTrue(r.output().contains(lost) || r.output().contains("process rank 1 with PID"), r.output());
    }

    @Test
    void aRankThatNeverJoinsIsBoundedByTheStallTimeout() throws Exception {
        MpiJob.Result r = MpiJob.run(2, BOUND_S, java.util.Map.of("BN4J_TEST_STALL_SECONDS", "3"), null, "stall");
        assertNotEquals(-1, r.exitCode(), "the job hung:\n" + r.output());
        assertNotEquals(0, r.exitCode(), r.output());
        assertTrue(r.seconds() < 30, "took " + r.seconds() + " s:\n" + r.output());
        assertTrue(r.output().contains("bn4j: rank 0/2: no progress for 3 s in MPI_Allreduce; the other ranks are"
                + " alive on this host but did not join (busy for longer than the timeout, or calling a different"
                + " collective); exiting with status 70"), r.output());
    }

    @Test
    void aFailingRankAbortsTheWholeJob() throws Exception {
        MpiJob.Result r = MpiJob.run(2, BOUND_S, null, "fail-on-1");
        assertNotEquals(-1, r.exitCode(), "the job hung:\n" + r.output());
        assertNotEquals(0, r.exitCode(), r.output());
        assertTrue(r.seconds() < 30, "took " + r.seconds() + " s:\n" + r.output());
        assertTrue(r.output().contains("bn4j: rank 1/2 aborting the job: scenario failed:"
                + " java.lang.IllegalStateException: deliberate failure on rank 1"), r.output());
    }
}
