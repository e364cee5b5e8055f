package io.github.batchnorm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.batchnorm4j.dist.mpi.MpiCommunicator;
import io.github.batchnorm4j.io.SafeTensors;
import io.github.batchnorm4j.tensor.Tensor;
import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mpirun -np 2 bn4j train --distributed --batch-size 32} for 10 steps must give the weights of
 * {@code bn4j train --batch-size 64} for 10 steps (worker-count invariance, SyncBatchNorm on), within 1e-5.
 * Skipped only when {@code mpirun} is not installed (CI installs openmpi-bin).
 */
class DistributedTrainTest {
    @TempDir
    Path dir;

    private static Path mpirun() {
        for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, "mpirun"))) {
                return Path.of(d, "mpirun");
            }
        }
        return null;
    }

    private static String classPath(Class<?>... anchors) throws URISyntaxException {
        List<String> parts = new ArrayList<>();
        for (Class<?> c : anchors) {
            parts.add(Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
        }
        return String.join(File.pathSeparator, parts);
    }

    @Test
    void tenStepsOnTwoRanksOfBatch32EqualOneProcessOfBatch64() throws Exception {
        compare("bn", 10, 1e-5, "SyncBatchNorm");
    }

    /**
     * BatchRenorm (r and d clipping from step 0) and GhostBatchNorm (virtual batches of 8 of the global batch) on
     * 2 ranks equal one process after 3 steps, within 1e-5.
     */
    @Test
    void batchRenormAndGhostBatchNormOnTwoRanksEqualOneProcess() throws Exception {
        compare("brn", 3, 1e-5, "SyncBatchNorm", "--rmax", "1.5", "--dmax", "0.5");
        compare("ghost", 3, 1e-5, "SyncBatchNorm", "--ghost-batch-size", "8");
    }

    private void compare(String norm, int steps, double tol, String syncLabel, String... extra) throws Exception {
        Path mpirun = mpirun();
        assumeTrue(mpirun != null, "mpirun not found on PATH: install Open MPI (apt-get install openmpi-bin) to run"
                + " the distributed training test");
        Path d = TrainCommandTest.data(Files.createDirectories(dir.resolve("d")));
        String[] common = TrainCommandTest.concat(new String[] {"--data", d.toString(), "--model", "mlp", "--width",
            "16", "--validation", "20", "--schedule", "constant", "--lr", "0.1", "--steps", Integer.toString(steps),
            "--no-progress", "--threads", "1", "--norm", norm}, extra);
        TrainCommandTest.Run single = TrainCommandTest.run(TrainCommandTest.concat(new String[] {"train",
            "--batch-size", "64", "--out", dir.resolve(norm + "-single").toString()}, common));
        assertEquals(0, single.code(), single.err());

        List<String> cmd = new ArrayList<>(List.of(mpirun.toString(), "--oversubscribe", "--allow-run-as-root",
                "-np", "2", Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx256m",
                "-cp", classPath(Main.class, Tensor.class, MpiCommunicator.class, picocli.CommandLine.class,
                        io.github.batchnorm4j.bench.SyncBench.class),
                Main.class.getName(), "train", "--distributed", "--batch-size", "32",
                "--out", dir.resolve(norm + "-dist").toString()));
        cmd.addAll(List.of(common));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("OMPI_ALLOW_RUN_AS_ROOT", "1");
        pb.environment().put("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
        pb.environment().put("OMPI_MCA_btl_vader_single_copy_mechanism", "none");
        Process p = pb.start();
        byte[] outBytes;
        try (var in = p.getInputStream()) {
            // A bounded wait: the output is read on this thread, so time out the process from another.
            Thread killer = Thread.ofPlatform().daemon().start(() -> {
                try {
                    if (!p.waitFor(180, TimeUnit.SECONDS)) {
                        p.descendants().forEach(ProcessHandle::destroyForcibly);
                        p.destroyForcibly();
                    }
                } catch (InterruptedException ignored) {
                    // test finished
                }
            });
            outBytes = in.readAllBytes();
            killer.interrupt();
        }
        String out = new String(outBytes, StandardCharsets.UTF_8);
        assertTrue(p.waitFor(10, TimeUnit.SECONDS), out);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("Data-parallel on 2 ranks: batch 32 per rank, global batch 64, " + syncLabel), out);
        // Rank 0 alone reports and writes.
        assertEquals(1, out.split("validation accuracy", -1).length - 1, out);

        Map<String, SafeTensors.Entry> a = SafeTensors.read(dir.resolve(norm + "-single/model.safetensors")).tensors();
        Map<String, SafeTensors.Entry> b = SafeTensors.read(dir.resolve(norm + "-dist/model.safetensors")).tensors();
        assertEquals(a.keySet(), b.keySet());
        assertFalse(a.isEmpty());
        for (String k : a.keySet()) {
            if (!a.get(k).dtype().equals("F32")) {
                assertTrue(java.util.Arrays.equals(a.get(k).toLongs(), b.get(k).toLongs()), k);
                continue;
            }
            float[] x = a.get(k).toFloats();
            float[] y = b.get(k).toFloats();
            for (int i = 0; i < x.length; i++) {
                assertTrue(Math.abs(x[i] - y[i]) <= tol, norm + " " + k + "[" + i + "]: " + x[i] + " vs " + y[i]);
            }
        }
    }
}
