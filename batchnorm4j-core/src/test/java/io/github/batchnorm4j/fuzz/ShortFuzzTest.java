package io.github.batchnorm4j.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The short, bounded fuzzing run of every test run: each fuzz target (every {@code *FuzzTest} class of this package
 * with a static {@code fuzzerTestOneInput(byte[])}) is fuzzed for {@code bn4j.fuzz.seconds} seconds (default 2) by
 * Jazzer's standalone driver in a child JVM, starting from the committed seeds, into a throw-away corpus. A finding
 * (an exception other than the documented one, an allocation over the bound, a timeout) fails the target with the
 * fuzzer's report. The regression replay of the seeds and of the past findings is the targets' own {@code @FuzzTest}
 * method; the long runs are {@code tools/fuzz}.
 */
class ShortFuzzTest {
    @TempDir
    Path work;

    static Path classes() throws URISyntaxException {
        return Path.of(ShortFuzzTest.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    /** The targets, found on disk, so that a new target needs no change here. */
    static Stream<String> targets() throws Exception {
        Path pkg = classes().resolve("io/github/batchnorm4j/fuzz");
        List<String> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(pkg)) {
            for (Path p : s.sorted().toList()) {
                String f = p.getFileName().toString();
                if (f.endsWith("FuzzTest.class")) {
                    Class<?> c = Class.forName("io.github.batchnorm4j.fuzz." + f.substring(0, f.length() - 6));
                    try {
                        c.getMethod("fuzzerTestOneInput", byte[].class);
                        out.add(c.getSimpleName());
                    } catch (NoSuchMethodException e) {
                        // not a target
                    }
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    @Timeout(value = 180, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void fuzzesWithoutFindings(String target) throws Exception {
        int seconds = Integer.getInteger("bn4j.fuzz.seconds", 2);
        Path seeds;
        try (Stream<Path> s = Files.list(classes().resolve("io/github/batchnorm4j/fuzz/" + target + "Inputs"))) {
            seeds = s.findFirst().orElseThrow();
        }
        Path corpus = Files.createDirectories(work.resolve("corpus"));
        Path findings = Files.createDirectories(work.resolve("findings"));
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-XX:+EnableDynamicAgentLoading", "-Xmx1g",
                "-cp", cp.replace(File.pathSeparator + File.pathSeparator, File.pathSeparator),
                "com.code_intelligence.jazzer.Jazzer", "--target_class=io.github.batchnorm4j.fuzz." + target,
                "--instrumentation_includes=io.github.batchnorm4j.**", "-max_total_time=" + seconds, "-timeout=10",
                "-rss_limit_mb=2500", "-max_len=65536", "-artifact_prefix=" + findings + File.separator,
                corpus.toString(), seeds.toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(work.resolve("log").toFile())
                .start();
        boolean done = p.waitFor(150, TimeUnit.SECONDS);
        if (!done) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        String log = Files.readString(work.resolve("log"), StandardCharsets.UTF_8);
        String tail = log.length() > 6000 ? log.substring(log.length() - 6000) : log;
        assertTrue(done, target + ": the fuzzer did not stop:\n" + tail);
        try (Stream<Path> s = Files.list(findings)) {
            assertEquals(List.of(), s.toList(), target + ": findings:\n" + tail);
        }
        assertEquals(0, p.exitValue(), target + ":\n" + tail);
        assertTrue(log.contains("Done "), target + ": no fuzzing happened:\n" + tail);
        assertFalse(log.contains("no interesting inputs were found"), target + ": not instrumented:\n" + tail);
    }
}
