package io.github.batchnorm4j.cli;

import io.github.batchnorm4j.bench.SyncBench;
import io.github.batchnorm4j.dist.LocalCommunicator;
import io.github.batchnorm4j.dist.ThreadCommunicator;
import io.github.batchnorm4j.dist.mpi.MpiCommunicator;
import io.github.batchnorm4j.io.AtomicFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bn4j bench sync}: what SyncBatchNorm costs per layer and step, and the throughput of a BN stack on 1 vs
 * N ranks, for ranks as MPI processes (launched with {@code mpirun}) and as threads of one process. The
 * measurement is {@link SyncBench}'s; this command parses the options and prints.
 */
@Command(name = "sync", mixinStandardHelpOptions = true,
        description = "Measure SyncBatchNorm overhead per layer per step (µs) and throughput on 1 vs N ranks.")
public final class SyncBenchCommand implements Callable<Integer> {
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
        SyncBench.Config config = new SyncBench.Config(layers, batch, channels, size, warmup, steps);
        if (mpiWorker) {
            MpiCommunicator c = MpiCommunicator.world(Duration.ofMinutes(5));
            SyncBench.Result r = SyncBench.run(c, config);
            if (c.rank() == 0) {
                System.out.println(SyncBench.workerLine(r));
            }
            c.close();
            return 0;
        }
        for (int n : ranks) { // every value checked before the first measurement
            check(n >= 1, "--ranks >= 1", Integer.toString(n));
        }
        for (String b : backends) {
            check(b.equals("mpi") || b.equals("threads"), "--backends among mpi, threads", b);
        }
        List<SyncBench.Row> rows = new ArrayList<>();
        for (int n : ranks) {
            if (n == 1) {
                rows.add(new SyncBench.Row("local", SyncBench.run(LocalCommunicator.INSTANCE, config)));
                continue;
            }
            for (String b : backends) {
                if (b.equals("threads")) {
                    rows.add(new SyncBench.Row("threads", ThreadCommunicator.run(n, Duration.ofMinutes(5),
                            c -> SyncBench.run(c, config)).get(0)));
                } else {
                    SyncBench.Result r = SyncBench.runUnderMpi(n, config, workerCommand());
                    if (r != null) {
                        rows.add(new SyncBench.Row("mpi", r));
                    }
                }
            }
        }
        String md = SyncBench.markdown(config, rows);
        System.out.print(md);
        if (out != null) {
            AtomicFiles.write(out, md.getBytes(StandardCharsets.UTF_8));
            System.out.println("wrote " + out);
        }
        return 0;
    }

    /** This command again, as one rank: the same JVM and class path, the hidden worker switch. */
    private List<String> workerCommand() {
        return List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-XX:+UseParallelGC",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "bench", "sync", "--mpi-worker",
                "--layers", Integer.toString(layers), "--batch-size", Integer.toString(batch),
                "--channels", Integer.toString(channels), "--size", Integer.toString(size),
                "--warmup", Integer.toString(warmup), "--steps", Integer.toString(steps));
    }

    private static void check(boolean ok, String expected, String got) {
        if (!ok) {
            throw new IllegalArgumentException("Expected " + expected + ", got " + got);
        }
    }
}
