package io.github.batchnorm4j.dist.mpi;

import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Launches {@code mpirun --oversubscribe --allow-run-as-root -np N java ... MpiScenarios <args>} as a subprocess
 * with a hard time bound (the whole process tree is killed when it is exceeded), capturing the merged output.
 */
final class MpiJob {
    record Result(int exitCode, String output, double seconds) {}

    private MpiJob() {}

    /** The {@code mpirun} on PATH, or null when Open MPI is not installed. */
    static Path mpirun() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(dir, "mpirun");
            if (!dir.isEmpty() && Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    static String classPath(Class<?>... anchors) {
        List<String> parts = new ArrayList<>();
        for (Class<?> c : anchors) {
            try {
                parts.add(Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
            } catch (URISyntaxException e) {
                throw new IllegalStateException(e);
            }
        }
        return String.join(File.pathSeparator, parts);
    }

    /**
     * Runs the job; {@code onLine} sees each output line as it arrives (used to find a pid to kill).
     *
     * @param timeoutSeconds bound after which the job is killed and the result has exit code -1
     */
    static Result run(int ranks, long timeoutSeconds, Consumer<String> onLine, String... scenario)
            throws IOException, InterruptedException {
        return run(ranks, timeoutSeconds, java.util.Map.of(), onLine, scenario);
    }

    /** As above, with extra environment variables for the ranks. */
    static Result run(int ranks, long timeoutSeconds, java.util.Map<String, String> env, Consumer<String> onLine,
                      String... scenario) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(mpirun().toString(), "--oversubscribe", "--allow-run-as-root",
                "-np", Integer.toString(ranks)));
        cmd.addAll(javaCommand());
        cmd.addAll(List.of(scenario));
        return runCommand(cmd, timeoutSeconds, env, onLine);
    }

    /** The rank's command line: this JVM's java running {@link MpiScenarios} (scenarios to be appended). */
    static List<String> javaCommand() {
        return List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector",
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx256m",
                "-cp", classPath(MpiScenarios.class, MpiCommunicator.class,
                        io.github.batchnorm4j.tensor.Tensor.class, io.github.batchnorm4j.dist.TinyTraining.class),
                MpiScenarios.class.getName());
    }

    /** Runs {@code cmd} (an mpirun command line) as {@link #run} does. */
    static Result runCommand(List<String> cmd, long timeoutSeconds, java.util.Map<String, String> env,
                             Consumer<String> onLine) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("OMPI_ALLOW_RUN_AS_ROOT", "1");
        pb.environment().put("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
        // Containers often forbid the cross-process memory attach that vader's single-copy mode uses.
        pb.environment().put("OMPI_MCA_btl_vader_single_copy_mechanism", "none");
        pb.environment().putAll(env);
        long start = System.nanoTime();
        Process p = pb.start();
        StringBuilder out = new StringBuilder();
        Thread reader = new Thread(() -> {
            try (var r = p.inputReader(StandardCharsets.UTF_8)) {
                String line;
                while ((line = r.readLine()) != null) {
                    synchronized (out) {
                        out.append(line).append('\n');
                    }
                    if (onLine != null) {
                        onLine.accept(line);
                    }
                }
            } catch (IOException ignored) {
                // the process was killed
            }
        });
        reader.setDaemon(true);
        reader.start();
        boolean done = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
        if (!done) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        reader.join(5000);
        double secs = (System.nanoTime() - start) / 1e9;
        synchronized (out) {
            return new Result(done ? p.exitValue() : -1, out.toString(), secs);
        }
    }
}
