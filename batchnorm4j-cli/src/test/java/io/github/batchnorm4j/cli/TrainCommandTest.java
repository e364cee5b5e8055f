package io.github.batchnorm4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.data.Idx;
import io.github.batchnorm4j.io.SafeTensors;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainCommandTest {
    @TempDir
    Path dir;

    /** 120 training and 20 test items of 8x8 in 10 classes (the label sets the brightness of one row). */
    static Path data(Path dir) throws IOException {
        SplittableRandom rng = new SplittableRandom(5);
        for (String prefix : new String[] {"train", "t10k"}) {
            int n = prefix.equals("train") ? 120 : 20;
            byte[] px = new byte[n * 64];
            byte[] lb = new byte[n];
            for (int i = 0; i < n; i++) {
                lb[i] = (byte) rng.nextInt(10);
                for (int k = 0; k < 64; k++) {
                    px[i * 64 + k] = (byte) (rng.nextInt(50) + (k / 8 == lb[i] % 8 ? 200 : 0));
                }
            }
            Idx.write(dir.resolve(prefix + "-images-idx3-ubyte"), new int[] {n, 8, 8}, px);
            Idx.write(dir.resolve(prefix + "-labels-idx1-ubyte.gz"), new int[] {n}, lb);
        }
        return dir;
    }

    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int code = Main.run(args);
            return new Run(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    static Map<String, SafeTensors.Entry> ck(Path out) throws IOException {
        return SafeTensors.read(out.resolve("checkpoint.safetensors")).tensors();
    }

    @Test
    void trainsThenResumesToTheSameBitsAsOneRun() throws IOException {
        Path d = data(Files.createDirectories(dir.resolve("d")));
        String[] common = {"--data", d.toString(), "--model", "mlp", "--width", "8", "--batch-size", "10",
            "--validation", "20", "--schedule", "constant", "--no-progress", "--threads", "1"};
        Run full = run(concat(new String[] {"train", "--steps", "14", "--out", dir.resolve("full").toString()}, common));
        assertEquals(0, full.code(), full.err());
        assertTrue(full.out().contains("test accuracy"), full.out());
        Run part = run(concat(new String[] {"train", "--steps", "6", "--out", dir.resolve("part").toString()}, common));
        assertEquals(0, part.code(), part.err());
        Run rest = run("train", "--resume", dir.resolve("part").toString(), "--steps", "14", "--no-progress");
        assertEquals(0, rest.code(), rest.err());
        assertTrue(rest.err().contains("Resuming " + dir.resolve("part") + " at step 6"), rest.err());
        Map<String, SafeTensors.Entry> a = ck(dir.resolve("full"));
        Map<String, SafeTensors.Entry> b = ck(dir.resolve("part"));
        assertEquals(a.keySet(), b.keySet());
        a.forEach((k, v) -> assertArrayEquals(v.bytes(), b.get(k).bytes(), k));
    }

    @Test
    void missingDataSaysHowToGetIt() throws IOException {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        Run r = run("train", "--data", empty.toString(), "--out", dir.resolve("o").toString());
        assertEquals(1, r.code());
        assertEquals("bn4j train: Expected Fashion-MNIST (or MNIST) IDX files train-images-idx3-ubyte[.gz],"
                + " train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz], got none"
                + " in --data " + empty + ". To get them on Debian: sudo apt-get install dataset-fashion-mnist (installs into"
                + " /usr/share/datasets/fashion-mnist); or download the four files of Fashion-MNIST and pass --data DIR"
                + " or set BN4J_DATA=DIR.", r.err().strip());
    }

    @Test
    void divergenceExitsWithTheStep() throws IOException {
        Path d = data(Files.createDirectories(dir.resolve("d")));
        Run r = run("train", "--data", d.toString(), "--norm", "none", "--width", "8", "--batch-size", "10",
                "--validation", "20", "--lr", "1e30", "--momentum", "0", "--warmup-steps", "0", "--schedule",
                "constant", "--steps", "20", "--checkpoint-every", "1", "--no-progress", "--out",
                dir.resolve("nan").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().matches("(?s).*bn4j train: Loss is (NaN|\\+Infinity) at step \\d+ .*; training stopped, the"
                + " last checkpoint \\(step \\d+\\) in .*checkpoint.safetensors is intact\\s*"), r.err());
    }

    /**
     * {@code --accumulate 2} trains (one optimizer step per two batches), is stored in the checkpoint so that a
     * resumed run continues to the same bits as one run, and a bad value is one clear line.
     */
    @Test
    void accumulateIsStoredAndResumesBitIdentically() throws IOException {
        Path d = data(Files.createDirectories(dir.resolve("d")));
        String[] common = {"--data", d.toString(), "--model", "mlp", "--width", "8", "--batch-size", "10",
            "--accumulate", "2", "--validation", "20", "--schedule", "constant", "--no-progress", "--threads", "1"};
        Run full = run(concat(new String[] {"train", "--steps", "7", "--out", dir.resolve("full").toString()}, common));
        assertEquals(0, full.code(), full.err());
        Run part = run(concat(new String[] {"train", "--steps", "3", "--out", dir.resolve("part").toString()}, common));
        assertEquals(0, part.code(), part.err());
        Run rest = run("train", "--resume", dir.resolve("part").toString(), "--steps", "7", "--no-progress");
        assertEquals(0, rest.code(), rest.err());
        Map<String, SafeTensors.Entry> a = ck(dir.resolve("full"));
        Map<String, SafeTensors.Entry> b = ck(dir.resolve("part"));
        a.forEach((k, v) -> assertArrayEquals(v.bytes(), b.get(k).bytes(), k));
        long counters = a.keySet().stream().filter(k -> k.endsWith("num_batches_tracked")).peek(
                k -> assertEquals(7, a.get(k).toLongs()[0], k + ": one running update per optimizer step")).count();
        assertEquals(3, counters, "the MLP's three BatchNorm layers");
        Run bad = run(concat(new String[] {"train", "--steps", "1", "--accumulate", "0", "--out",
            dir.resolve("bad").toString()}, new String[] {"--data", d.toString(), "--no-progress"}));
        assertEquals(1, bad.code());
        assertEquals("bn4j train: Expected --accumulate >= 1 (micro-batches per optimizer step), got 0",
                bad.err().strip());
    }

    @Test
    void skipPolicyGoesOnThenStopsAtTheLimitOfSkipsInARow() throws IOException {
        Path d = data(Files.createDirectories(dir.resolve("d")));
        // lr 1e30 sends the weights to infinity within a few steps; from then on every step is non-finite.
        Run r = run("train", "--data", d.toString(), "--norm", "none", "--width", "8", "--batch-size", "10",
                "--validation", "20", "--lr", "1e30", "--momentum", "0", "--warmup-steps", "0", "--schedule",
                "constant", "--steps", "40", "--no-progress", "--on-nonfinite", "skip", "--max-skips", "3", "--out",
                dir.resolve("skip").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().matches("(?s).*bn4j train: (Loss is (NaN|\\+Infinity)|A gradient is NaN or infinite) at"
                + " step \\d+ .*; skipped steps in a row: 3, the limit; training stopped, .*\\(--max-skips 3\\)\\s*"),
                r.err());
        String metrics = Files.readString(dir.resolve("skip").resolve("metrics.jsonl"));
        assertEquals(3, metrics.split("\"event\": \"skip\"", -1).length - 1, metrics);
    }

    static String[] concat(String[] a, String[] b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
