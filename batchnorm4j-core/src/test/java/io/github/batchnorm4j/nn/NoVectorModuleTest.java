package io.github.batchnorm4j.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.batchnorm4j.tensor.Tensor;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The library without {@code --add-modules jdk.incubator.vector}: a JVM started without it (surefire's own JVM has
 * it) runs {@link NoVectorModuleProbe} — convolution (RowDots and GEMM paths), BatchNorm, ReLU and Linear, forward
 * and backward — prints one notice, and gives bit for bit the numbers of the scalar kernels forced with
 * {@code -Dbn4j.kernels=scalar} in a JVM that has the module; those agree with this JVM's vector kernels up to
 * float rounding.
 */
class NoVectorModuleTest {
    private static final String NOTICE = "bn4j: jdk.incubator.vector is not available, using the scalar kernels;"
            + " pass --add-modules jdk.incubator.vector to the JVM for the vector kernels";

    @Test
    void forwardAndBackwardWithoutTheModuleEqualTheScalarKernelsBitForBit() throws Exception {
        Result plain = launch(List.of());
        Result forced = launch(List.of("--add-modules", "jdk.incubator.vector", "-Dbn4j.kernels=scalar"));
        assertEquals(0, plain.rc, "without the module: " + plain.stderr);
        assertEquals(0, forced.rc, "scalar forced: " + forced.stderr);
        assertEquals(List.of(NOTICE), plain.stderr.lines().filter(l -> !l.isBlank()).toList(),
                "exactly one notice, nothing else, on stderr");
        assertTrue(plain.stdout.startsWith("kernels=ScalarDenseKernels\n"), plain.stdout);
        assertTrue(forced.stdout.startsWith("kernels=ScalarDenseKernels\n"), forced.stdout);
        assertEquals(forced.stdout, plain.stdout, "no-module numbers differ from the scalar kernels'");

        Map<String, float[]> scalar = parse(plain.stdout);
        Map<String, float[]> vector = NoVectorModuleProbe.run(); // this JVM: the Vector API kernels
        assertEquals(vector.keySet(), scalar.keySet());
        assertTrue(vector.size() >= 10, "outputs, gradients and statistics: " + vector.keySet());
        for (String name : vector.keySet()) {
            float[] v = vector.get(name);
            float[] s = scalar.get(name);
            assertEquals(v.length, s.length, name);
            double scale = 0;
            for (float f : v) {
                scale = Math.max(scale, Math.abs(f));
            }
            for (int i = 0; i < v.length; i++) {
                if (!(Math.abs(v[i] - s[i]) <= 1e-5 * (1 + scale))) {
                    fail(name + "[" + i + "]: vector " + v[i] + ", scalar " + s[i]);
                }
            }
        }
        float[] dx = scalar.get("dx");
        double norm = 0;
        for (float f : dx) {
            norm += (double) f * f;
        }
        assertTrue(norm > 1e-6, "dx must carry the random dy back (norm " + Math.sqrt(norm) + ")");
    }

    private record Result(int rc, String stdout, String stderr) {}

    private static Result launch(List<String> jvmFlags) throws IOException, InterruptedException {
        String cp = location(NoVectorModuleProbe.class) + File.pathSeparator + location(Tensor.class);
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmFlags);
        cmd.addAll(List.of("-Xmx512m", "-cp", cp, NoVectorModuleProbe.class.getName()));
        Path err = Files.createTempFile("bn4j-novector", ".err");
        try {
            Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail("timed out: " + cmd);
            }
            // The JDK's own "Using incubator modules" warning is not ours.
            String stderr = Files.readString(err).lines().filter(l -> !l.startsWith("WARNING: Using incubator modules"))
                    .reduce("", (a, b) -> a + b + "\n");
            return new Result(p.exitValue(), out, stderr);
        } finally {
            Files.deleteIfExists(err);
        }
    }

    private static String location(Class<?> c) {
        try {
            return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, float[]> parse(String stdout) {
        Map<String, float[]> out = new java.util.LinkedHashMap<>();
        stdout.lines().skip(1).forEach(line -> {
            String[] f = line.split(" ");
            float[] v = new float[f.length - 1];
            for (int i = 1; i < f.length; i++) {
                v[i - 1] = Float.intBitsToFloat(Integer.parseUnsignedInt(f[i], 16));
            }
            out.put(f[0], v);
        });
        return out;
    }
}
