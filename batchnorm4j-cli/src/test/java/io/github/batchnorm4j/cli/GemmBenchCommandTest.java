package io.github.batchnorm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * {@code bn4j bench} is a parent command; {@code bench gemm} is wired under it and prints one JSON object with a
 * result per size.
 */
class GemmBenchCommandTest {
    @Test
    void benchIsAParentCommandOfTheBenchmarks() {
        for (String sub : new String[] {"kernels", "gemm", "train", "infer", "sync"}) {
            assertEquals(0, Main.run("bench", sub, "--help"), sub);
        }
        assertEquals(0, Main.run("bench", "--help"));
        assertTrue(Main.run("bench", "nosuch") != 0);
    }

    @Test
    void printsJsonForRequestedSizes() {
        PrintStream saved = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int rc;
        try {
            System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
            rc = Main.run("bench", "gemm", "--sizes", "8x9x10,3x2x1", "--min-ms", "1", "--reps", "1", "--json");
        } finally {
            System.setOut(saved);
        }
        String out = buf.toString(StandardCharsets.UTF_8).trim();
        assertEquals(0, rc, out);
        assertTrue(out.startsWith("{\"benchmark\":\"gemm\",\"threads\":1,\"results\":[{\"m\":8,\"n\":9,\"k\":10,\"gflops\":"),
                out);
        assertTrue(out.contains("{\"m\":3,\"n\":2,\"k\":1,\"gflops\":"), out);
    }
}
