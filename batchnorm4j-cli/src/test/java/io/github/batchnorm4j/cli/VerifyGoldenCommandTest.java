package io.github.batchnorm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.io.SafeTensors;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code bn4j verify-golden}: output format and exit status 0 (all pass), 1 (a failure), 2 (malformed). */
class VerifyGoldenCommandTest {
    /** Surefire runs in the module directory; the committed cases live at the repository root. */
    private static final Path CASES = Path.of("..", "golden", "cases");

    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    /** Runs the CLI as {@link Main#run} does, capturing its output. */
    private int bn4j(String... args) {
        return new CommandLine(new Main()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err)).execute(args);
    }

    private List<String> lines() {
        return out.toString().lines().toList();
    }

    private void copy(String name) throws IOException {
        Files.copy(CASES.resolve(name + ".safetensors"), dir.resolve(name + ".safetensors"));
    }

    /** Writes a copy of a committed case whose expected y is off by 1e-3 at one element (a hundred tolerances). */
    private void wrongCopy(String name, String as) throws IOException {
        SafeTensors.Contents c = SafeTensors.read(CASES.resolve(name + ".safetensors"));
        Map<String, SafeTensors.Entry> t = new LinkedHashMap<>(c.tensors());
        float[] y = t.get("y").toFloats();
        y[3] += 1e-3f;
        t.put("y", SafeTensors.Entry.f32(y, t.get("y").shape()));
        SafeTensors.write(dir.resolve(as + ".safetensors"), t, c.metadata());
    }

    @Test
    void allPassingCasesExitZeroInNameOrder() throws IOException {
        copy("ln_last_train");
        copy("bn2d_cl_train");
        copy("gn_g3_train");
        assertEquals(0, bn4j("verify-golden", dir.toString()), err.toString());
        List<String> l = lines();
        assertEquals(4, l.size(), out.toString());
        assertTrue(l.get(0).startsWith("bn2d_cl_train ") && l.get(0).endsWith("  pass"), l.get(0));
        assertTrue(l.get(1).startsWith("gn_g3_train ") && l.get(1).endsWith("  pass"), l.get(1));
        assertTrue(l.get(2).startsWith("ln_last_train ") && l.get(2).endsWith("  pass"), l.get(2));
        assertEquals("3 passed, 0 failed", l.get(3));
        assertEquals("", err.toString());
    }

    @Test
    void aFailingCaseExitsOne() throws IOException {
        copy("bn2d_cl_train");
        wrongCopy("bn2d_train", "bn2d_train_wrong");
        assertEquals(1, bn4j("verify-golden", dir.toString()));
        List<String> l = lines();
        assertTrue(l.get(1).startsWith("bn2d_train_wrong ") && l.get(1).contains("(y: |A-E|")
                && l.get(1).endsWith("  FAIL"), l.get(1));
        assertEquals("1 passed, 1 failed", l.get(2));
    }

    @Test
    void aMalformedFileExitsTwoNamingTheFileAndTheProblem() throws IOException {
        copy("bn2d_cl_train");
        wrongCopy("bn2d_train", "bn2d_train_wrong");
        Path bad = Files.write(dir.resolve("a_bad.safetensors"), new byte[] {1, 2, 3});
        assertEquals(2, bn4j("verify-golden", dir.toString()));
        List<String> l = lines();
        assertEquals(String.format("%-44s malformed  FAIL", "a_bad"), l.get(0));
        assertEquals("1 passed, 2 failed", l.get(3));
        assertEquals("bn4j verify-golden: malformed case " + bad
                + ": file of 3 bytes is shorter than the 8-byte header length" + System.lineSeparator(), err.toString());
    }

    @Test
    void missingOrEmptyDirectoryExitsTwo() {
        Path none = dir.resolve("none");
        assertEquals(2, bn4j("verify-golden", none.toString()));
        assertEquals("bn4j verify-golden: expected a readable directory of golden cases, got " + none
                + System.lineSeparator(), err.toString());
        err.getBuffer().setLength(0);
        assertEquals(2, bn4j("verify-golden", dir.toString()));
        assertEquals("bn4j verify-golden: expected golden cases (*.safetensors) in " + dir + ", got none"
                + System.lineSeparator(), err.toString());
    }

    @Test
    void defaultDirectoryIsTheInstallationsCommittedCases() throws IOException {
        String old = System.getProperty("bn4j.home");
        System.setProperty("bn4j.home", "..");
        try {
            long n;
            try (var s = Files.list(CASES)) {
                n = s.filter(p -> p.toString().endsWith(".safetensors")).count();
            }
            assertEquals(0, bn4j("verify-golden"), out.toString());
            assertEquals(n + " passed, 0 failed", lines().getLast());
        } finally {
            if (old == null) {
                System.clearProperty("bn4j.home");
            } else {
                System.setProperty("bn4j.home", old);
            }
        }
    }
}
