package io.github.batchnorm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Misuse of every command, one row each: the command must exit non-zero with exactly one line on stderr that starts
 * with {@code bn4j}, names the option or file at fault, and shows no stack trace; and it must leave no file behind
 * (every file under the work folder is compared before and after, so a half-written output or a stray temporary
 * file fails the row).
 */
class CliMisuseTest {
    @TempDir
    static Path dir;
    static Path data;
    static Path run;
    static Path junk;
    static Path empty;
    static Path text;
    static Path truncated;
    static Path lying;
    static Path folder;
    static Path emptyFolder;
    static Path badData;
    static Path truncatedData;
    static Path junkGolden;
    static Path junkRun;
    static Path unreadable;

    @BeforeAll
    static void fixtures() throws IOException {
        data = TrainCommandTest.data(Files.createDirectories(dir.resolve("d")));
        run = dir.resolve("run");
        TrainCommandTest.Run r = TrainCommandTest.run("train", "--data", data.toString(), "--width", "8",
                "--batch-size", "10", "--validation", "20", "--steps", "2", "--no-progress", "--threads", "1",
                "--out", run.toString());
        assertEquals(0, r.code(), r.err());
        junk = Files.write(dir.resolve("junk.safetensors"), "not a safetensors file, only some text".getBytes());
        empty = Files.write(dir.resolve("empty.safetensors"), new byte[0]);
        text = Files.writeString(dir.resolve("notes.txt"), "hello\n");
        byte[] ck = Files.readAllBytes(run.resolve("checkpoint.safetensors"));
        truncated = Files.write(dir.resolve("truncated.safetensors"), java.util.Arrays.copyOf(ck, ck.length / 2));
        byte[] lie = ck.clone();
        lie[5] = 0x7f; // the header length now claims ~140 TB
        lying = Files.write(dir.resolve("lying.safetensors"), lie);
        folder = Files.createDirectories(dir.resolve("folder"));
        Files.writeString(folder.resolve("keep.txt"), "x");
        emptyFolder = Files.createDirectories(dir.resolve("empty-folder"));
        badData = copyData("bad-data");
        Files.write(badData.resolve("train-images-idx3-ubyte"), new byte[] {0, 0, 8, 3, 0, 0, 0, 9, 0, 0});
        truncatedData = copyData("truncated-data");
        Path gz = truncatedData.resolve("train-labels-idx1-ubyte.gz");
        byte[] g = Files.readAllBytes(gz);
        Files.write(gz, java.util.Arrays.copyOf(g, g.length - 12));
        junkGolden = Files.createDirectories(dir.resolve("golden-junk"));
        Files.writeString(junkGolden.resolve("bn_bad_train.safetensors"), "garbage");
        junkRun = Files.createDirectories(dir.resolve("junk-run"));
        Files.copy(junk, junkRun.resolve("checkpoint.safetensors"));
        unreadable = Files.copy(run.resolve("model.safetensors"), dir.resolve("unreadable.safetensors"));
        Files.setPosixFilePermissions(unreadable, PosixFilePermissions.fromString("---------"));
        if (Files.isReadable(unreadable)) {
            // Permissions do not stop root: a file whose every read fails stands in for it.
            unreadable = Path.of("/proc/self/mem");
        }
    }

    static Path copyData(String name) throws IOException {
        Path d = Files.createDirectories(dir.resolve(name));
        try (Stream<Path> s = Files.list(data)) {
            for (Path p : s.toList()) {
                Files.copy(p, d.resolve(p.getFileName()));
            }
        }
        return d;
    }

    static String s(Path p) {
        return p.toString();
    }

    /** A train invocation on the small data set, writing (if it ever did) into a fresh folder. */
    static String[] train(String... more) {
        List<String> a = new ArrayList<>(List.of("train", "--data", s(data), "--no-progress", "--out",
                s(dir.resolve("never"))));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    /** Like {@link #train} with settings that would train (so that the row's fault is the only one). */
    static String[] small(String... more) {
        List<String> a = new ArrayList<>(List.of("train", "--data", s(data), "--width", "8", "--batch-size", "10",
                "--validation", "20", "--steps", "2", "--no-progress", "--out", s(dir.resolve("never"))));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    static String[] predict(String... more) {
        List<String> a = new ArrayList<>(List.of("predict", "--data", s(data)));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    static String[] of(String... a) {
        return a;
    }

    static Arguments row(String expect, String... args) {
        return Arguments.of(String.join(" ", args).replace(dir.toString(), "$DIR"), args, expect);
    }

    static Stream<Arguments> misuses() {
        String never = s(dir.resolve("never"));
        String onnx = s(dir.resolve("model.onnx"));
        return Stream.of(
                // train: option values
                row("--model", train("--model", "vgg")),
                row("--norm", train("--norm", "weird")),
                row("--activation", train("--activation", "swish")),
                row("--optimizer", train("--optimizer", "rmsprop")),
                row("--schedule", train("--schedule", "linear")),
                row("--batch-size", train("--batch-size", "0")),
                row("--batch-size", train("--batch-size", "ten")),
                row("--lr", train("--lr", "-1")),
                row("--lr", train("--lr", "NaN")),
                row("--epochs", of("train", "--data", s(data), "--epochs", "-1", "--out", never)),
                row("--steps", train("--steps", "-5")),
                row("--momentum", train("--momentum", "1.5")),
                row("--weight-decay", train("--weight-decay", "-1")),
                row("--validation", train("--validation", "-1")),
                row("--validation", train("--validation", "1000000")),
                row("--threads", train("--threads", "0")),
                row("--log-every", train("--log-every", "0")),
                row("--checkpoint-every", train("--checkpoint-every", "-1")),
                row("--on-nonfinite", train("--on-nonfinite", "ignore")),
                row("--max-skips", train("--on-nonfinite", "skip", "--max-skips", "0")),
                row("--ghost-batch-size", train("--norm", "ghost", "--ghost-batch-size", "0")),
                row("--rmax", train("--norm", "brn", "--rmax", "three")),
                row("--brn-running-sigma", train("--norm", "brn", "--brn-running-sigma", "median")),
                row("--track", small("--track", "99")),
                row("--width", train("--width", "-3")),
                row("--warmup-steps", train("--warmup-steps", "-1")),
                row("--gamma", train("--schedule", "step", "--gamma", "-1")),
                row("--seed", train("--seed", "abc")),
                row("--dist-timeout", train("--distributed", "--dist-timeout", "0")),
                row("--unknown-option", train("--unknown-option")),
                // train: conflicting options
                row("--no-sync-bn", small("--no-sync-bn")),
                row("--init-from", small("--freeze-bn")),
                row("--freeze-bn", small("--freeze-bn", "--norm", "ln", "--init-from", s(run.resolve("model.safetensors")))),
                row("--out", of("train", "--resume", s(run), "--out", never, "--no-progress")),
                // train: files
                row("/nonexistent-data", of("train", "--data", "/nonexistent-data", "--out", never)),
                row(s(text), of("train", "--data", s(text), "--out", never)),
                row("train-images-idx3-ubyte", of("train", "--data", s(badData), "--out", never, "--no-progress")),
                row("train-labels-idx1-ubyte.gz", of("train", "--data", s(truncatedData), "--out", never,
                        "--no-progress")),
                row(s(emptyFolder), of("train", "--resume", s(emptyFolder), "--no-progress")),
                row("checkpoint.safetensors", of("train", "--resume", s(junkRun), "--no-progress")),
                row("/nonexistent-run", of("train", "--resume", "/nonexistent-run", "--no-progress")),
                row(s(junk), small("--init-from", s(junk))),
                row(s(unreadable), small("--init-from", s(unreadable))),
                row(s(text), of("train", "--data", s(data), "--steps", "2", "--no-progress", "--out", s(text))),
                row(s(text), of("train", "--resume", s(text), "--no-progress")),
                row(s(folder), small("--init-from", s(folder))),
                row("--step-size", train("--schedule", "step", "--step-size", "0")),
                // predict
                row("--checkpoint", predict()),
                row("/nonexistent.safetensors", predict("--checkpoint", "/nonexistent.safetensors")),
                row(s(junk), predict("--checkpoint", s(junk))),
                row(s(empty), predict("--checkpoint", s(empty))),
                row(s(truncated), predict("--checkpoint", s(truncated))),
                row(s(lying), predict("--checkpoint", s(lying))),
                row(s(unreadable), predict("--checkpoint", s(unreadable))),
                row(s(folder), predict("--checkpoint", s(folder))),
                row("--split", predict("--checkpoint", s(run), "--split", "validation")),
                row("--batch-size", predict("--checkpoint", s(run), "--batch-size", "0")),
                row("--precise-bn", predict("--checkpoint", s(run), "--precise-bn", "-1")),
                row("--threads", predict("--checkpoint", s(run), "--threads", "-2")),
                row(s(text), predict("--checkpoint", s(run), "--logits", s(text.resolve("l.csv")))),
                row(s(folder), predict("--checkpoint", s(run), "--logits", s(folder))),
                row("train-images-idx3-ubyte", of("predict", "--checkpoint", s(run), "--data", s(badData), "--split",
                        "train")),
                // export
                row("--onnx", of("export", "--checkpoint", s(run))),
                row("--checkpoint", of("export", "--onnx", onnx)),
                row(s(junk), of("export", "--checkpoint", s(junk), "--onnx", onnx)),
                row(s(truncated), of("export", "--checkpoint", s(truncated), "--onnx", onnx)),
                row("--input", of("export", "--checkpoint", s(run), "--onnx", onnx, "--input", "28x28")),
                row("--input", of("export", "--checkpoint", s(run), "--onnx", onnx, "--input", "0x8x8")),
                row("input 3x8x8", of("export", "--checkpoint", s(run), "--onnx", onnx, "--input", "3x8x8")),
                row(s(folder), of("export", "--checkpoint", s(run), "--input", "1x8x8", "--onnx", s(folder))),
                row(s(text), of("export", "--checkpoint", s(run), "--input", "1x8x8", "--onnx",
                        s(text.resolve("m.onnx")))),
                // verify-golden
                row("/nonexistent-golden", of("verify-golden", "/nonexistent-golden")),
                row(s(emptyFolder), of("verify-golden", s(emptyFolder))),
                row("bn_bad_train.safetensors", of("verify-golden", s(junkGolden))),
                row(s(text), of("verify-golden", s(text))),
                row("extra", of("verify-golden", s(emptyFolder), "extra")),
                // bench (every row must be refused before any measurement starts)
                row("--sizes", of("bench", "gemm", "--sizes", "12x3")),
                row("--threads", of("bench", "gemm", "--threads", "0")),
                row("--reps", of("bench", "gemm", "--reps", "0")),
                row("--model", of("bench", "infer", "--model", "vgg")),
                row("--rounds", of("bench", "infer", "--rounds", "0")),
                row("--model", of("bench", "train", "--model", "vgg")),
                row("--backends", of("bench", "sync", "--backends", "carrier-pigeon")),
                row("--ranks", of("bench", "sync", "--ranks", "0")),
                row("--threads", of("bench", "kernels", "--threads", "0")),
                row("--min-ms", of("bench", "kernels", "--min-ms", "0")),
                row("--shapes", of("bench", "kernels", "--shapes", "7x7")),
                row("--sizes", of("bench", "gemm", "--sizes", "8x8x8,axbxc")),
                row("nosuch", of("bench", "nosuch")),
                // reproduce (likewise refused before it starts)
                row("--claims", of("reproduce", "--claims", "9", "--out", never)),
                row("--claims", of("reproduce", "--claims", "one", "--out", never)),
                row("--seeds", of("reproduce", "--seeds", "a,b", "--out", never)),
                row("--workers", of("reproduce", "--workers", "0", "--out", never)),
                row("/nonexistent-data", of("reproduce", "--data", "/nonexistent-data", "--out", never)),
                row(s(text), of("reproduce", "--out", s(text), "--data", s(data))),
                row(s(data), of("reproduce", "--data", s(data), "--claims", "1", "--out", never)),
                // top level
                row("frobnicate", of("frobnicate")));
    }

    static Map<String, String> files() throws IOException {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.toList()) {
                m.put(dir.relativize(p).toString(), Files.isDirectory(p) ? "dir"
                        : Files.size(p) + "@" + Files.getLastModifiedTime(p).toMillis());
            }
        }
        return m;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("misuses")
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a row that starts real work fails
    void misuseGivesOneClearLine(String label, String[] args, String expect) throws IOException {
        Map<String, String> before = files();
        TrainCommandTest.Run r = TrainCommandTest.run(args);
        String err = r.err().strip();
        assertNotEquals(0, r.code(), "exit status; stderr: " + r.err() + "\nstdout: " + r.out());
        assertFalse(err.isEmpty(), "no message");
        assertEquals(1, err.lines().count(), "expected one line, got:\n" + r.err());
        assertTrue(err.startsWith("bn4j"), err);
        assertTrue(err.contains(expect), "expected the line to name " + expect + ", got: " + err);
        assertFalse(err.contains("\tat ") || err.contains("Exception"), err);
        assertFalse(r.out().contains("Exception") || r.out().contains("Usage:"), r.out());
        assertEquals(before, files(), "files changed");
    }
}
