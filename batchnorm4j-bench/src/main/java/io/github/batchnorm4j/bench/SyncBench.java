package io.github.batchnorm4j.bench;

import io.github.batchnorm4j.dist.Communicator;

import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.nn.norm.SyncBatchNorm;
import io.github.batchnorm4j.tensor.Tensor;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Measures what synchronizing BatchNorm costs on one rank of a group: a stack of {@code layers} BN layers over a
 * {@code [batch, channels, size, size]} input, forward then backward, timed per step for plain {@link BatchNorm}
 * (statistics of this rank only) and for {@link SyncBatchNorm} over the group, alternating the two so that drift
 * hits both alike. Every step starts after a barrier (not timed) so that ranks start together. Reported values are
 * medians over the timed steps, then the maximum over ranks (a step is as slow as its slowest rank).
 */
public final class SyncBench {
    /**
     * @param bnStepMicros     median step time with local BatchNorm, µs
     * @param syncStepMicros   median step time with SyncBatchNorm, µs
     * @param commStepMicros   median time inside the SyncBN collectives per step, µs (waits included)
     * @param layers           BN layers per step
     * @param ranks            group size
     * @param imagesPerStep    images per step over all ranks
     */
    public record Result(double bnStepMicros, double syncStepMicros, double commStepMicros, int layers, int ranks,
                         long imagesPerStep) {
        /** Extra time per layer and step that synchronization costs, µs. */
        public double overheadPerLayerMicros() {
            return (syncStepMicros - bnStepMicros) / layers;
        }

        /** Time in collectives per layer and step (two collectives), µs. */
        public double commPerLayerMicros() {
            return commStepMicros / layers;
        }

        /** Global images per second with SyncBatchNorm. */
        public double syncImagesPerSecond() {
            return imagesPerStep / (syncStepMicros * 1e-6);
        }

        /** Images per second with local BatchNorm (all ranks together). */
        public double bnImagesPerSecond() {
            return imagesPerStep / (bnStepMicros * 1e-6);
        }
    }

    /**
     * What one run measures: {@code layers} BN layers over a per-rank input {@code [batch, channels, size, size]},
     * {@code warmup} untimed and {@code steps} timed steps.
     */
    public record Config(int layers, int batch, int channels, int size, int warmup, int steps) {
        /** @throws IllegalArgumentException naming the first value out of range */
        public Config {
            if (layers < 1 || batch < 1 || channels < 1 || size < 1 || steps < 1 || warmup < 0) {
                throw new IllegalArgumentException("Expected layers, batch, channels, size, steps >= 1 and warmup"
                        + " >= 0, got " + layers + ", " + batch + ", " + channels + ", " + size + ", " + steps + ", "
                        + warmup);
            }
        }
    }

    /** One row of the report: the backend ({@code local}, {@code threads}, {@code mpi}) and its figures. */
    public record Row(String backend, Result result) {}

    /** Marks rank 0's result line in an MPI worker's output. */
    private static final String RESULT = "SYNC-BENCH-RESULT ";

    private SyncBench() {}

    /** {@link #run(Communicator, int, int, int, int, int, int)} with the values of {@code c}. */
    public static Result run(Communicator comm, Config c) {
        return run(comm, c.layers(), c.batch(), c.channels(), c.size(), c.warmup(), c.steps());
    }

    /** Runs the benchmark on this rank of {@code comm}; every rank gets the group's result (the slowest rank's). */
    public static Result run(Communicator comm, int layers, int batch, int channels, int size, int warmup,
                             int steps) {
        TimingCommunicator timed = new TimingCommunicator(comm);
        BatchNorm[] plain = new BatchNorm[layers];
        BatchNorm[] sync = new BatchNorm[layers];
        for (int i = 0; i < layers; i++) {
            plain[i] = new BatchNorm(channels);
            sync[i] = new SyncBatchNorm(channels, timed);
            plain[i].reuseBuffers(true);
            sync[i].reuseBuffers(true);
        }
        SplittableRandom rng = new SplittableRandom(17 + comm.rank());
        Tensor x = Tensor.zeros(batch, channels, size, size);
        Tensor dy = Tensor.zeros(batch, channels, size, size);
        for (int i = 0; i < x.numel(); i++) {
            x.data()[i] = (float) rng.nextGaussian();
            dy.data()[i] = (float) rng.nextGaussian();
        }
        double[] tBn = new double[steps];
        double[] tSync = new double[steps];
        double[] tComm = new double[steps];
        for (int s = -warmup; s < steps; s++) {
            comm.barrier();
            double a = step(plain, x, dy);
            comm.barrier();
            timed.reset();
            double b = step(sync, x, dy);
            double c = timed.nanos() / 1e3;
            if (s >= 0) {
                tBn[s] = a;
                tSync[s] = b;
                tComm[s] = c;
            }
        }
        double[] mine = {Measure.median(tBn), Measure.median(tSync), Measure.median(tComm)};
        double[] all = new double[3 * comm.size()];
        comm.allGather(mine, 0, 3, all, 0);
        double[] worst = new double[3];
        for (int r = 0; r < comm.size(); r++) {
            for (int j = 0; j < 3; j++) {
                worst[j] = Math.max(worst[j], all[3 * r + j]);
            }
        }
        return new Result(worst[0], worst[1], worst[2], layers, comm.size(), (long) batch * comm.size());
    }

    /** One forward and backward through the stack; µs. */
    private static double step(BatchNorm[] stack, Tensor x, Tensor dy) {
        long t0 = System.nanoTime();
        Tensor y = x;
        for (BatchNorm bn : stack) {
            y = bn.forward(y);
        }
        Tensor g = dy;
        for (int i = stack.length - 1; i >= 0; i--) {
            g = stack[i].backward(g);
        }
        return (System.nanoTime() - t0) / 1e3;
    }

    /** The line an MPI worker's rank 0 prints for {@link #runUnderMpi} to read back. */
    public static String workerLine(Result r) {
        return String.format(Locale.ROOT, RESULT + "%.3f %.3f %.3f", r.bnStepMicros(), r.syncStepMicros(),
                r.commStepMicros());
    }

    /**
     * Runs {@code worker} (a java command line that runs {@link #run(Communicator, Config)} on an MPI world and
     * prints {@link #workerLine} on rank 0) as {@code n} processes under {@code mpirun}; null, with a note on
     * stderr, when {@code mpirun} is not on the PATH.
     *
     * @throws IllegalStateException when the job fails or prints no result line (its output in the message)
     */
    public static Result runUnderMpi(int n, Config c, List<String> worker) throws IOException,
            InterruptedException {
        Path mpirun = null;
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "mpirun"))) {
                mpirun = Path.of(dir, "mpirun");
                break;
            }
        }
        if (mpirun == null) {
            System.err.println("bench sync: mpirun not found (apt-get install openmpi-bin); skipping the MPI rows");
            return null;
        }
        List<String> cmd = new ArrayList<>(List.of(mpirun.toString(), "--oversubscribe", "-np", Integer.toString(n)));
        boolean root = "root".equals(System.getProperty("user.name"));
        if (root) {
            cmd.add("--allow-run-as-root");
        }
        cmd.addAll(worker);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        if (root) {
            pb.environment().put("OMPI_ALLOW_RUN_AS_ROOT", "1");
            pb.environment().put("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
        }
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IllegalStateException("Expected the MPI benchmark job to succeed, got exit "
                    + (p.isAlive() ? "timeout" : p.exitValue()) + ":\n" + output);
        }
        for (String line : output.split("\n")) {
            if (line.startsWith(RESULT)) {
                String[] v = line.substring(RESULT.length()).trim().split(" ");
                return new Result(Double.parseDouble(v[0]), Double.parseDouble(v[1]), Double.parseDouble(v[2]),
                        c.layers(), n, (long) c.batch() * n);
            }
        }
        throw new IllegalStateException("Expected a result line from rank 0, got:\n" + output);
    }

    /** The report: a header naming the machine and the configuration, one table row per result, the method. */
    public static String markdown(Config c, List<Row> rows) {
        StringBuilder sb = new StringBuilder();
        sb.append("# bn4j bench sync\n\n");
        sb.append(String.format(Locale.ROOT, "%s, %d CPUs, Java %s. %d BN layers of [%d, %d, %d, %d] per rank"
                        + " (per-rank batch %d), forward + backward; %d warm-up and %d timed steps, medians, slowest"
                        + " rank. Other processes may have been running.%n%n",
                Instant.now().toString().substring(0, 16).replace('T', ' ') + " UTC",
                Runtime.getRuntime().availableProcessors(), Runtime.version(), c.layers(), c.batch(), c.channels(),
                c.size(), c.size(), c.batch(), c.warmup(), c.steps()));
        sb.append("| backend | ranks | BN step (µs) | SyncBN step (µs) | SyncBN overhead per layer per step (µs) "
                + "| in collectives per layer per step (µs) | BN images/s | SyncBN images/s |\n");
        sb.append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Row row : rows) {
            Result r = row.result();
            sb.append(String.format(Locale.ROOT, "| %s | %d | %.1f | %.1f | %.1f | %.1f | %.0f | %.0f |%n",
                    row.backend(), r.ranks(), r.bnStepMicros(), r.syncStepMicros(), r.overheadPerLayerMicros(),
                    r.commPerLayerMicros(), r.bnImagesPerSecond(), r.syncImagesPerSecond()));
        }
        sb.append("\nOverhead = (SyncBN step - BN step) / layers; a SyncBN layer makes two collectives per step"
                + " (an all-gather of 1 + 2C doubles forward, an all-reduce of 2C doubles backward). Images/s count"
                + " all ranks' images. With more ranks than free cores the ranks share cores, so the N-rank rows"
                + " measure contention as much as communication.\n");
        return sb.toString();
    }
}
