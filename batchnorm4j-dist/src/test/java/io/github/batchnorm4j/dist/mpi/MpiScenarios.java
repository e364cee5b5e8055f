package io.github.batchnorm4j.dist.mpi;

import io.github.batchnorm4j.dist.Communicator;
import io.github.batchnorm4j.dist.LocalCommunicator;
import io.github.batchnorm4j.dist.TinyTraining;
import io.github.batchnorm4j.dist.VariantTraining;
import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.nn.norm.SyncBatchNorm;
import io.github.batchnorm4j.tensor.Tensor;
import java.time.Duration;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The programs the MPI tests launch with {@code mpirun -np N java ... MpiScenarios <scenario> [args]}. Each rank
 * checks its own results against values it computes independently (a single-process reference on the whole
 * batch, or sums it can work out from the rank numbers) and exits 0 only when they agree; it prints
 * {@code OK rank r} on success.
 */
public final class MpiScenarios {
    private MpiScenarios() {}

    public static void main(String[] args) throws Exception {
        String stall = System.getenv("BN4J_TEST_STALL_SECONDS");
        MpiCommunicator comm = MpiCommunicator.world(Duration.ofSeconds(stall == null ? 60 : Long.parseLong(stall)));
        try {
            // Several scenarios per launch keep the number of (slow to start) MPI jobs small.
            for (String scenario : args) {
                String[] a = scenario.split(":");
                switch (a[0]) {
                    case "collectives" -> collectives(comm);
                    case "syncbn" -> syncBn(comm, Arrays.stream(a[1].split(",")).mapToInt(Integer::parseInt)
                            .toArray());
                    case "train" -> train(comm, Integer.parseInt(a[1]), Integer.parseInt(a[2]));
                    case "maskedsyncbn" -> maskedSyncBn(comm, Arrays.stream(a[1].split(",")).mapToInt(
                            Integer::parseInt).toArray());
                    case "variants" -> variants(comm, Arrays.stream(a[1].split(",")).mapToInt(Integer::parseInt)
                            .toArray());
                    case "wait-for-kill" -> waitForKill(comm);
                    case "stall" -> stall(comm);
                    case "fail-on-1" -> {
                        if (comm.rank() == 1) {
                            throw new IllegalStateException("deliberate failure on rank 1");
                        }
                        comm.allReduceSum(new double[1]);
                    }
                    default -> throw new IllegalArgumentException("Expected a scenario, got " + scenario);
                }
                comm.barrier();
                System.out.println("PASS rank " + comm.rank() + " " + scenario);
            }
        } catch (Throwable t) {
            t.printStackTrace();
            System.err.println("FAILED rank " + comm.rank() + ": " + t);
            System.err.flush();
            comm.abort("scenario failed: " + t, 2);
        }
        comm.close();
        System.out.println("OK rank " + comm.rank());
    }

    private static void require(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    private static void collectives(Communicator c) {
        int n = c.size();
        double[] d = new double[5];
        float[] f = new float[3];
        for (int i = 0; i < d.length; i++) {
            d[i] = (c.rank() + 1) * (i + 0.5);
        }
        for (int i = 0; i < f.length; i++) {
            f[i] = c.rank() * 10 + i;
        }
        c.allReduceSum(d, 1, 3);
        c.allReduceSum(f);
        double tri = n * (n + 1) / 2.0;
        require(d[0] == 0.5 * (c.rank() + 1) && d[4] == 4.5 * (c.rank() + 1), "untouched ends " + Arrays.toString(d));
        for (int i = 1; i < 4; i++) {
            require(d[i] == tri * (i + 0.5), "allReduce double " + Arrays.toString(d));
        }
        for (int i = 0; i < 3; i++) {
            require(f[i] == 10f * (n * (n - 1) / 2) + n * i, "allReduce float " + Arrays.toString(f));
        }
        double[] recv = new double[2 * n];
        c.allGather(new double[] {c.rank(), -c.rank()}, 0, 2, recv, 0);
        for (int r = 0; r < n; r++) {
            require(recv[2 * r] == r && recv[2 * r + 1] == -r, "allGather " + Arrays.toString(recv));
        }
        int root = n - 1;
        float[] bf = {c.rank(), 1};
        double[] bd = {c.rank() * 2.0};
        byte[] bb = {(byte) c.rank()};
        c.broadcast(bf, 0, 2, root);
        c.broadcast(bd, 0, 1, root);
        c.broadcast(bb, 0, 1, 0);
        require(bf[0] == root && bf[1] == 1 && bd[0] == 2.0 * root && bb[0] == 0, "broadcast");
        c.barrier();
        // A large buffer exercises the scratch growth and the large-message path.
        float[] big = new float[1 << 18];
        Arrays.fill(big, 1f);
        c.allReduceSum(big);
        for (float v : big) {
            require(v == n, "large allReduce");
        }
    }

    /** SyncBN on this rank's rows equals BatchNorm on the whole batch (which every rank computes itself). */
    private static void syncBn(Communicator c, int[] split) {
        require(split.length == c.size(), "split " + Arrays.toString(split) + " for " + c.size() + " ranks");
        int total = Arrays.stream(split).sum();
        int ch = 5;
        int s = 6;
        float[] x = gaussian(21, total * ch * s);
        float[] dy = gaussian(22, total * ch * s);
        BatchNorm single = new BatchNorm(ch);
        SyncBatchNorm sync = new SyncBatchNorm(ch, c);
        for (BatchNorm bn : new BatchNorm[] {single, sync}) {
            for (int i = 0; i < ch; i++) {
                bn.weight().data()[i] = 1 + 0.3f * i;
                bn.bias().data()[i] = 0.2f * i;
            }
        }
        float[] y1 = single.forward(Tensor.of(x, total, ch, s)).data();
        float[] dx1 = single.backward(Tensor.of(dy, total, ch, s)).data();
        int from = Arrays.stream(split, 0, c.rank()).sum();
        int per = ch * s;
        int rows = split[c.rank()];
        float[] xs = Arrays.copyOfRange(x, from * per, (from + rows) * per);
        float[] dys = Arrays.copyOfRange(dy, from * per, (from + rows) * per);
        float[] y2 = sync.forward(Tensor.of(xs, rows, ch, s)).data();
        float[] dx2 = sync.backward(Tensor.of(dys, rows, ch, s)).data();
        close(y1, from * per, y2, "y");
        close(dx1, from * per, dx2, "dx");
        close(single.runningMean().data(), 0, sync.runningMean().data(), "running_mean");
        close(single.runningVar().data(), 0, sync.runningVar().data(), "running_var");
        float[] dg = sync.weight().grad().data().clone();
        float[] db = sync.bias().grad().data().clone();
        c.allReduceSum(dg);
        c.allReduceSum(db);
        close(single.weight().grad().data(), 0, dg, "sum of dgamma");
        close(single.bias().grad().data(), 0, db, "sum of dbeta");
    }

    /**
     * Masked SyncBN on this rank's rows (mask [N, L], ragged) equals masked BatchNorm on the whole batch: output,
     * input gradient, running statistics, summed gamma gradient.
     */
    private static void maskedSyncBn(Communicator c, int[] split) {
        require(split.length == c.size(), "split " + Arrays.toString(split) + " for " + c.size() + " ranks");
        int total = Arrays.stream(split).sum();
        int ch = 3;
        int len = 5;
        float[] x = gaussian(31, total * ch * len);
        float[] dy = gaussian(32, total * ch * len);
        float[] m = new float[total * len];
        for (int i = 0; i < m.length; i++) {
            m[i] = i % len < 2 || (i * 7) % 3 == 0 ? 1f : 0f; // two valid positions per row, then a pattern
        }
        BatchNorm single = new BatchNorm(ch);
        SyncBatchNorm sync = new SyncBatchNorm(ch, c);
        float[] y1 = single.forward(Tensor.of(x, total, ch, len), Tensor.of(m, total, len)).data();
        float[] dx1 = single.backward(Tensor.of(dy, total, ch, len)).data();
        int from = Arrays.stream(split, 0, c.rank()).sum();
        int rows = split[c.rank()];
        int per = ch * len;
        float[] y2 = sync.forward(Tensor.of(Arrays.copyOfRange(x, from * per, (from + rows) * per), rows, ch, len),
                Tensor.of(Arrays.copyOfRange(m, from * len, (from + rows) * len), rows, len)).data();
        float[] dx2 = sync.backward(Tensor.of(Arrays.copyOfRange(dy, from * per, (from + rows) * per), rows, ch,
                len)).data();
        close(y1, from * per, y2, "masked y");
        close(dx1, from * per, dx2, "masked dx");
        close(single.runningMean().data(), 0, sync.runningMean().data(), "masked running_mean");
        close(single.runningVar().data(), 0, sync.runningVar().data(), "masked running_var");
        float[] dg = sync.weight().grad().data().clone();
        c.allReduceSum(dg);
        close(single.weight().grad().data(), 0, dg, "sum of masked dgamma");
    }

    static void close(float[] expected, int from, float[] got, String what) {
        for (int i = 0; i < got.length; i++) {
            double e = expected[from + i];
            require(Math.abs(e - got[i]) <= 1e-5 * Math.max(1, Math.abs(e)),
                    what + " at " + i + ": expected " + e + ", got " + got[i]);
        }
    }

    static float[] gaussian(long seed, int n) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (rng.nextGaussian() * 1.5 - 0.3);
        }
        return v;
    }

    /**
     * 10 SGD steps of {@link TinyTraining} on this group with per-rank batch {@code b} must equal 10 steps of one
     * process with batch {@code N*b} (computed here too), within 1e-5 for every weight and buffer.
     */
    private static void train(Communicator c, int n, int b) {
        float[] single = TinyTraining.train(LocalCommunicator.INSTANCE, n, b * c.size(), 10, true);
        float[] mine = TinyTraining.train(c, n, b, 10, true);
        double d = TinyTraining.maxDiff(single, mine);
        System.out.println("rank " + c.rank() + ": max |w_dist - w_single| after 10 steps = " + d);
        require(d <= 1e-5, "weights differ from the single-process run by " + d);
    }

    /**
     * The MLP and the CNN with BatchNorm, BatchRenorm and GhostBatchNorm (synchronized) on per-rank batches
     * {@code split} equal one process with the global batch (computed here too): within 1e-6 of the state's scale
     * after 1 step and 1e-5 after 3 steps ({@link VariantTraining}).
     */
    private static void variants(Communicator c, int[] split) {
        require(split.length == c.size(), "split " + Arrays.toString(split) + " for " + c.size() + " ranks");
        int total = Arrays.stream(split).sum();
        for (String model : new String[] {"mlp", "cnn"}) {
            for (String norm : new String[] {"bn", "brn", "ghost"}) {
                for (int steps : new int[] {1, 3}) {
                    float[] single = VariantTraining.train(LocalCommunicator.INSTANCE, model, norm, new int[] {total},
                            steps);
                    float[] mine = VariantTraining.train(c, model, norm, split, steps);
                    double d = VariantTraining.relDiff(single, mine);
                    double tol = steps == 1 ? 1e-6 : 1e-5;
                    System.out.println("rank " + c.rank() + ": " + model + " " + norm + " " + steps + " steps: "
                            + d);
                    require(d <= tol, model + " " + norm + " after " + steps + " steps differs by " + d);
                }
            }
        }
    }

    /** Rank 1 stays alive but never joins; rank 0 waits in MPI_Allreduce until its stall timeout fires. */
    private static void stall(Communicator c) throws InterruptedException {
        if (c.rank() == 1) {
            Thread.sleep(120_000);
        }
        c.allReduceSum(new double[1]);
        throw new IllegalStateException("the all-reduce returned although rank 1 never joined");
    }

    /** Runs collectives until killed from outside; prints this rank's pid for the test to kill. */
    private static void waitForKill(Communicator c) throws InterruptedException {
        String ns;
        try {
            ns = java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/self/ns/pid")).toString();
        } catch (java.io.IOException | UnsupportedOperationException e) {
            ns = "?";
        }
        // The pid namespace lets a test on the machine find this process when it runs in a namespace of its own.
        System.out.println("READY rank " + c.rank() + " pid " + ProcessHandle.current().pid() + " pidns " + ns);
        System.out.flush();
        double[] buf = new double[4];
        long end = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (System.nanoTime() < end) {
            c.allReduceSum(buf);
            Thread.sleep(20);
        }
        throw new IllegalStateException("nobody was killed within 120 s");
    }
}
