package io.github.batchnorm4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.batchnorm4j.io.SafeTensors;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI as JPMS modules ({@code java -p ... -m io.github.batchnorm4j.cli/...}) and on the class path, each in a
 * fresh JVM, with and without {@code --add-modules jdk.incubator.vector}: {@code --help}, a short {@code train}
 * (picocli's reflection, the kernels, safetensors) and an ONNX {@code export} (protobuf's generated classes).
 * Without the Vector API the module and class-path runs write the same bytes.
 */
class ModulePathTest {
    private static final Pattern LIBRARY = Pattern.compile(
            "batchnorm4j-(core|dist|onnx|repro|bench)-[^/\\\\]*[0-9T](-SNAPSHOT)?\\.jar|picocli-[^/\\\\]*\\.jar|protobuf-java-[^/\\\\]*\\.jar");

    @TempDir
    static Path dir;

    @Test
    void runsOnTheModulePathAndTheClassPathWithAndWithoutTheVectorApi() throws Exception {
        Path data = TrainCommandTest.data(Files.createDirectories(dir.resolve("d")));
        String path = String.join(File.pathSeparator, libraryPath());
        String main = Main.class.getName();
        List<String> modules = List.of("-p", path, "-m", "io.github.batchnorm4j.cli/" + main);
        List<String> classes = List.of("-cp", path, main);
        Path modVec = runAll(data, "module-vector", List.of("--add-modules", "jdk.incubator.vector"), modules, false);
        Path modPlain = runAll(data, "module-plain", List.of(), modules, true);
        Path cpPlain = runAll(data, "classpath-plain", List.of(), classes, true);
        // Same kernels, same seed: the same weights (the metadata holds the output path, so compare tensors).
        Map<String, SafeTensors.Entry> a = SafeTensors.read(cpPlain.resolve("model.safetensors")).tensors();
        Map<String, SafeTensors.Entry> b = SafeTensors.read(modPlain.resolve("model.safetensors")).tensors();
        assertEquals(a.keySet(), b.keySet());
        assertTrue(a.size() >= 4, a.keySet().toString());
        for (String key : a.keySet()) {
            assertArrayEquals(a.get(key).bytes(), b.get(key).bytes(), "module path and class path differ in " + key);
        }
        assertTrue(Files.size(modVec.resolve("model.safetensors")) > 0);
    }

    /** --help, train and export in fresh JVMs; returns the training output folder. */
    private static Path runAll(Path data, String name, List<String> flags, List<String> launch, boolean notice)
            throws IOException, InterruptedException {
        Result help = java(flags, launch, "--help");
        assertEquals(0, help.rc, name + ": " + help.err);
        assertTrue(help.out.contains("train") && help.out.contains("export"), name + ": " + help.out);
        Path out = dir.resolve(name);
        Result train = java(flags, launch, "train", "--data", data.toString(), "--model", "mlp", "--width", "8",
                "--batch-size", "10", "--validation", "20", "--steps", "4", "--no-progress", "--threads", "1",
                "--out", out.toString());
        assertEquals(0, train.rc, name + ": " + train.err);
        assertEquals(notice, train.err.contains("jdk.incubator.vector is not available"), name + ": " + train.err);
        Path onnx = dir.resolve(name + ".onnx");
        Result export = java(flags, launch, "export", "--checkpoint", out.toString(), "--onnx", onnx.toString(),
                "--input", "1x8x8");
        assertEquals(0, export.rc, name + ": " + export.err);
        assertTrue(Files.size(onnx) > 100, name + ": ONNX file of " + Files.size(onnx) + " bytes");
        for (Result r : List.of(help, train, export)) {
            assertFalse(r.err.contains("Exception") || r.err.contains("\tat "), name + ": " + r.err);
        }
        return out;
    }

    /** The library's jars (or class folders) and its two dependencies, from this test's class path. */
    private static List<String> libraryPath() {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> keep = new ArrayList<>();
        for (String entry : cp.split(Pattern.quote(File.pathSeparator))) {
            Path p = Path.of(entry);
            String file = p.getFileName().toString();
            boolean classes = file.equals("classes") && p.getParent() != null
                    && p.getParent().getFileName().toString().equals("target")
                    && p.getParent().getParent().getFileName().toString()
                            .matches("batchnorm4j-(core|dist|onnx|repro|bench|cli)");
            if (classes || LIBRARY.matcher(file).matches()) {
                keep.add(entry);
            }
        }
        long found = keep.stream().filter(e -> e.contains("batchnorm4j-")).count();
        if (found != 6 || keep.size() != 8) {
            fail("Expected six batchnorm4j modules, picocli and protobuf on the test class path, got " + keep);
        }
        return keep;
    }

    private record Result(int rc, String out, String err) {}

    private static Result java(List<String> flags, List<String> launch, String... args)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(flags);
        cmd.addAll(List.of("-Xmx1g", "--enable-native-access=ALL-UNNAMED,io.github.batchnorm4j.dist"));
        cmd.addAll(launch);
        cmd.addAll(List.of(args));
        Path err = Files.createTempFile(dir, "err", ".txt");
        Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(180, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("timed out: " + cmd);
        }
        String stderr = Files.readString(err).lines()
                .filter(l -> !l.startsWith("WARNING: Using incubator modules"))
                .reduce("", (a, b) -> a + b + "\n");
        return new Result(p.exitValue(), out, stderr);
    }
}
