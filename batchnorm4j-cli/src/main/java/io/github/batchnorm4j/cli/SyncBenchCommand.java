package io.github.batchnorm4j.cli;

import io.github.batchnorm4j.dist.Communicator;
import io.github.batchnorm4j.dist.LocalCommunicator;
import io.github.batchnorm4j.dist.SyncBenchmark;
import io.github.batchnorm4j.dist.ThreadCommunicator;
import io.github.batchnorm4j.dist.mpi.MpiCommunicator;
import io.github.batchnorm4j.io.AtomicFiles;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bn4j bench sync}: what SyncBatchNorm costs per layer and step, and the throughput of a BN stack on 1 vs
 * N ranks, for ranks as MPI processes (launched here with {@code mpirun}) and as threads of one process. See
 * {@link SyncBenchmark} for the method.
 */
@Command(name = "sync", mixinStandardHelpOptions = true,
        description = "Measure SyncBatchNorm overhead per layer per step (µs) and throughput on 1 vs N ranks.")
public final class SyncBenchCommand implements Callable<Integer> {
    private static final String RESULT = "SYNC-BENCH-RESULT ";

    @Option(names = "--ranks", split = ",", defaultValue = "1,2", description = "Group sizes (default 1,2).")
    List<Integer> ranks;

    @Option(names = "--layers", defaultValue = "8", description = "BN layers per step (default ${DEFAULT-VALUE}).")
    int layers;

    @Option(names = "--batch-size", defaultValue = "32", description = "Per-rank batch (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--channels", defaultValue = "64", description = "Channels (default ${DEFAULT-VALUE}).")
    int channels;

    @Option(names = "--size", defaultValue = "8", description = "Height = width (default ${DEFAULT-VALUE}).")
    int size;

    @Option(names = "--warmup", defaultValue = "100", description = "Untimed steps (default ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--steps", defaultValue = "200", description = "Timed steps (default ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--backends", split = ",", defaultValue = "mpi,threads",
            description = "Backends for N > 1: mpi, threads (default mpi,threads).")
    List<String> backends;

    @Option(names = "--out", description = "Also write the figures as Markdown to this file.")
    Path out;

    @Option(names = "--mpi-worker", hidden = true, description = "Internal: run as one rank under mpirun.")
    boolean mpiWorker;

    @Override
    public Integer call() throws Exception {
        check(layers > 0 && batch > 0 && channels > 0 && size > 0 && steps > 0 && warmup >= 0,
                "--layers, --batch-size, --channels, --size, --steps > 0 and --warmup >= 0", layers + ", " + batch
                        + ", " + channels + ", " + size + ", " + steps + ", " + warmup);
        if (mpiWorker) {
            return worker();
        }
        for (int n : ranks) { // every value checked before the first measurement
            check(n >= 1, "--ranks >= 1", Integer.toString(n));
        }
        for (String b : backends) {
            check(b.equals("mpi") || b.equals("threads"), "--backends among mpi, threads", b);
        }
        List<String[]> rows = new ArrayList<>();
        for (int n : ranks) {
            check(n >= 1, "--ranks >= 1", Integer.toString(n));
            if (n == 1) {
                rows.add(row("local", SyncBenchmark.run(LocalCommunicator.INSTANCE, layers, batch, channels, size,
                        warmup, steps)));
                continue;
            }
            for (String b : backends) {
                switch (b) {
                    case "threads" -> rows.add(row("threads", ThreadCommunicator.run(n, Duration.ofMinutes(5),
                            c -> SyncBenchmark.run(c, layers, batch, channels, size, warmup, steps)).get(0)));
                    case "mpi" -> {
                        SyncBenchmark.Result r = launchMpi(n);
                        if (r != null) {
                            rows.add(row("mpi", r));
                        }
                    }
                    default -> throw new IllegalArgumentException("Expected --backends among mpi, threads, got " + b);
                }
            }
        }
        String md = markdown(rows);
        System.out.print(md);
        if (out != null) {
            AtomicFiles.write(out, md.getBytes(StandardCharsets.UTF_8));
            System.out.println("wrote " + out);
        }
        return 0;
    }

    private static void check(boolean ok, String expected, String got) {
        if (!ok) {
            throw new IllegalArgumentException("Expected " + expected + ", got " + got);
        }
    }

    private Integer worker() {
        MpiCommunicator c = MpiCommunicator.world(Duration.ofMinutes(5));
        SyncBenchmark.Result r = SyncBenchmark.run(c, layers, batch, channels, size, warmup, steps);
        if (c.rank() == 0) {
            System.out.printf(Locale.ROOT, RESULT + "%.3f %.3f %.3f%n", r.bnStepMicros(), r.syncStepMicros(),
                    r.commStepMicros());
        }
        c.close();
        return 0;
    }

    /** Runs this benchmark as {@code n} MPI processes; null (with a note) when mpirun is missing. */
    private SyncBenchmark.Result launchMpi(int n) throws IOException, InterruptedException {
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
        cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-XX:+UseParallelGC",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "bench", "sync", "--mpi-worker",
                "--layers", Integer.toString(layers), "--batch-size", Integer.toString(batch),
                "--channels", Integer.toString(channels), "--size", Integer.toString(size),
                "--warmup", Integer.toString(warmup), "--steps", Integer.toString(steps)));
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
                return new SyncBenchmark.Result(Double.parseDouble(v[0]), Double.parseDouble(v[1]),
                        Double.parseDouble(v[2]), layers, n, (long) batch * n);
            }
        }
        throw new IllegalStateException("Expected a result line from rank 0, got:\n" + output);
    }

    private static String[] row(String backend, SyncBenchmark.Result r) {
        return new String[] {backend, Integer.toString(r.ranks()), f1(r.bnStepMicros()), f1(r.syncStepMicros()),
                f1(r.overheadPerLayerMicros()), f1(r.commPerLayerMicros()), f0(r.bnImagesPerSecond()),
                f0(r.syncImagesPerSecond())};
    }

    private static String f1(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    private static String f0(double v) {
        return String.format(Locale.ROOT, "%.0f", v);
    }

    private String markdown(List<String[]> rows) {
        StringBuilder sb = new StringBuilder();
        sb.append("# bn4j bench sync\n\n");
        sb.append(String.format(Locale.ROOT, "%s, %d CPUs, Java %s. %d BN layers of [%d, %d, %d, %d] per rank"
                        + " (per-rank batch %d), forward + backward; %d warm-up and %d timed steps, medians, slowest"
                        + " rank. Other processes may have been running.%n%n",
                Instant.now().toString().substring(0, 16).replace('T', ' ') + " UTC",
                Runtime.getRuntime().availableProcessors(), Runtime.version(), layers, batch, channels, size, size,
                batch, warmup, steps));
        sb.append("| backend | ranks | BN step (µs) | SyncBN step (µs) | SyncBN overhead per layer per step (µs) "
                + "| in collectives per layer per step (µs) | BN images/s | SyncBN images/s |\n");
        sb.append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (String[] r : rows) {
            sb.append("| ").append(String.join(" | ", r)).append(" |\n");
        }
        sb.append("\nOverhead = (SyncBN step - BN step) / layers; a SyncBN layer makes two collectives per step"
                + " (an all-gather of 1 + 2C doubles forward, an all-reduce of 2C doubles backward). Images/s count"
                + " all ranks' images. With more ranks than free cores the ranks share cores, so the N-rank rows"
                + " measure contention as much as communication.\n");
        return sb.toString();
    }
}
