package io.github.batchnorm4j.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ThreadCommunicatorTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    /** Rank r's deterministic test vector, so that every rank can compute the expected sums independently. */
    private static double[] vector(int rank, int len) {
        SplittableRandom rng = new SplittableRandom(100 + rank);
        double[] v = new double[len];
        for (int i = 0; i < len; i++) {
            v[i] = rng.nextDouble(-1, 1);
        }
        return v;
    }

    @Test
    void allReduceSumsInRankOrderOnEveryRank() {
        for (int size : new int[] {1, 2, 3}) {
            int len = 37;
            List<double[]> out = ThreadCommunicator.run(size, TIMEOUT, c -> {
                double[] buf = new double[len + 2];
                System.arraycopy(vector(c.rank(), len), 0, buf, 1, len);
                c.allReduceSum(buf, 1, len);
                return buf;
            });
            double[] expected = new double[len + 2];
            for (int r = 0; r < size; r++) {
                double[] v = vector(r, len);
                for (int i = 0; i < len; i++) {
                    expected[i + 1] = r == 0 ? v[i] : expected[i + 1] + v[i];
                }
            }
            for (double[] got : out) {
                assertArrayEquals(expected, got, 0.0, "size " + size);
            }
        }
    }

    @Test
    void floatAllReduceAddsInFloat() {
        List<float[]> out = ThreadCommunicator.run(3, TIMEOUT, c -> {
            float[] buf = {c.rank() + 0.5f, 1e8f, -c.rank()};
            c.allReduceSum(buf);
            return buf;
        });
        float[] expected = {0.5f + 1.5f + 2.5f, 1e8f + 1e8f + 1e8f, 0f - 1f - 2f};
        for (float[] got : out) {
            assertArrayEquals(expected, got, 0f);
        }
    }

    @Test
    void allGatherPlacesContributionsByRank() {
        List<double[]> out = ThreadCommunicator.run(3, TIMEOUT, c -> {
            double[] recv = new double[1 + 3 * 4];
            c.allGather(vector(c.rank(), 4), 0, 4, recv, 1);
            return recv;
        });
        double[] expected = new double[13];
        for (int r = 0; r < 3; r++) {
            System.arraycopy(vector(r, 4), 0, expected, 1 + 4 * r, 4);
        }
        for (double[] got : out) {
            assertArrayEquals(expected, got, 0.0);
        }
    }

    @Test
    void broadcastCopiesTheRootsValues() {
        List<Object[]> out = ThreadCommunicator.run(3, TIMEOUT, c -> {
            float[] f = {c.rank(), 10 * c.rank()};
            double[] d = {c.rank() * 3.0};
            byte[] b = {(byte) c.rank(), 7};
            c.broadcast(f, 0, 2, 2);
            c.broadcast(d, 0, 1, 1);
            c.broadcast(b, 0, 2, 0);
            c.barrier();
            return new Object[] {f, d, b};
        });
        for (Object[] o : out) {
            assertArrayEquals(new float[] {2, 20}, (float[]) o[0]);
            assertArrayEquals(new double[] {3.0}, (double[]) o[1]);
            assertArrayEquals(new byte[] {0, 7}, (byte[]) o[2]);
        }
    }

    @Test
    void aMissingRankTimesOutNamingIt() {
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            List<ThreadCommunicator> g = ThreadCommunicator.group(3, Duration.ofMillis(300));
            Thread[] t = new Thread[2];
            CommunicatorException[] caught = new CommunicatorException[2];
            for (int r = 0; r < 2; r++) {
                int rr = r;
                t[r] = new Thread(() -> {
                    try {
                        g.get(rr).allReduceSum(new double[4]);
                    } catch (CommunicatorException e) {
                        caught[rr] = e;
                    }
                });
                t[r].start();
            }
            for (Thread th : t) {
                th.join();
            }
            // Exactly one waiting rank times out; the other sees the broken group with the timed-out rank's reason.
            // (the other rank's message quotes the timed-out one, so look for the one that does not say "failed")
            String timedOut = caught[0].getMessage().contains("failed") ? caught[1].getMessage()
                    : caught[0].getMessage();
            int who = timedOut.startsWith("rank 0/3") ? 0 : 1;
            assertEquals("rank " + who + "/3: allReduceSum(double[]) timed out after 300 ms waiting for rank(s) [2]",
                    timedOut);
            String other = caught[1 - who].getMessage();
            assertEquals("rank " + (1 - who) + "/3: allReduceSum(double[]) failed, " + timedOut, other);
        });
    }

    @Test
    void aFailingRankAbortsTheOthersInsteadOfHanging() {
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> ThreadCommunicator.run(3, Duration.ofSeconds(60), c -> {
                        if (c.rank() == 1) {
                            throw new IllegalStateException("boom on rank 1");
                        }
                        c.barrier();
                        return null;
                    }));
            assertEquals("boom on rank 1", e.getMessage());
        });
    }

    @Test
    void mismatchedCollectivesAreReported() {
        CommunicatorException e = assertThrows(CommunicatorException.class,
                () -> ThreadCommunicator.run(2, TIMEOUT, c -> {
                    c.allReduceSum(new double[c.rank() == 0 ? 3 : 5]);
                    return null;
                }));
        assertEquals("rank 0/2: ranks called different collectives: rank 0 allReduceSum(double[]) len=3;"
                + " rank 1 allReduceSum(double[]) len=5", e.getMessage());
    }

    @Test
    void badArgumentsAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LocalCommunicator.INSTANCE.allReduceSum(new double[3], 2, 2));
        assertEquals("Expected buffer range [off, off+len) within an array of length 3, got off=2, len=2",
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> LocalCommunicator.INSTANCE.broadcast(new float[3], 0, 3, 1));
        assertEquals("Expected root in [0, 1), got root=1", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ThreadCommunicator.group(0, TIMEOUT));
        assertEquals("Expected a group size >= 1, got 0", e.getMessage());
    }

    @Test
    void localCommunicatorIsTheIdentity() {
        Communicator c = LocalCommunicator.INSTANCE;
        double[] d = {1, 2};
        c.allReduceSum(d);
        assertArrayEquals(new double[] {1, 2}, d);
        double[] recv = new double[2];
        c.allGather(d, 0, 2, recv, 0);
        assertArrayEquals(d, recv);
        assertEquals(0, c.rank());
        assertEquals(1, c.size());
    }
}
