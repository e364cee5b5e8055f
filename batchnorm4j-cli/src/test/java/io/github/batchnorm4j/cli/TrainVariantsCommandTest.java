package io.github.batchnorm4j.cli;

import static io.github.batchnorm4j.cli.TrainCommandTest.data;
import static io.github.batchnorm4j.cli.TrainCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.cli.TrainCommandTest.Run;
import io.github.batchnorm4j.io.SafeTensors;
import io.github.batchnorm4j.train.Checkpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code train --norm brn|ghost}, {@code --freeze-bn --init-from}, and the diagnostics printed by default. */
class TrainVariantsCommandTest {
    @TempDir
    Path dir;

    private String[] args(Path d, String out, long steps, String... extra) {
        List<String> a = new ArrayList<>(List.of("train", "--data", d.toString(), "--model", "mlp", "--width", "8",
                "--batch-size", "10", "--validation", "20", "--schedule", "constant", "--no-progress", "--threads",
                "1", "--steps", Long.toString(steps), "--out", dir.resolve(out).toString()));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    private static Map<String, SafeTensors.Entry> model(Path out) throws IOException {
        return SafeTensors.read(out.resolve("model.safetensors")).tensors();
    }

    @Test
    void ghostRunWarnsOnceAboutItsVirtualBatchAndResumesToTheSameBits() throws IOException {
        Path d = data(Files.createDirectories(dir.resolve("d")));
        Run full = run(args(d, "full", 10, "--norm", "ghost", "--ghost-batch-size", "4"));
        assertEquals(0, full.code(), full.err());
        String warning = "[bn4j] Small-batch statistics: GhostBatchNorm '2' from 4 samples (virtual batch 4); ";
        assertEquals(1, full.err().split(java.util.regex.Pattern.quote(warning), -1).length - 1, full.err());
        Run part = run(args(d, "part", 6, "--norm", "ghost", "--ghost-batch-size", "4", "--no-diagnostics"));
        assertEquals(0, part.code(), part.err());
        assertFalse(part.err().contains("[bn4j]"), part.err());
        Map<String, String> meta = Checkpoint.metadata(dir.resolve("part").resolve(Checkpoint.FILE_NAME));
        assertEquals("4", meta.get("variant.ghostBatchSize"));
        Run rest = run("train", "--resume", dir.resolve("part").toString(), "--steps", "10", "--no-progress");
        assertEquals(0, rest.code(), rest.err());
        Map<String, SafeTensors.Entry> a = model(dir.resolve("full"));
        Map<String, SafeTensors.Entry> b = model(dir.resolve("part"));
        assertEquals(a.keySet(), b.keySet());
        for (String k : a.keySet()) {
            assertArrayEquals(a.get(k).bytes(), b.get(k).bytes(), k);
        }
        // 10 steps of 10 samples in virtual batches of 4, 4, 2: 30 running-statistics updates
        assertEquals(30, java.nio.ByteBuffer.wrap(a.get("2.num_batches_tracked").bytes())
                .order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong());
    }

    @Test
    void trackWritesActivationPercentilesAndMoments() throws IOException {
        Path d = data(Files.createDirectories(dir.resolve("d")));
        Run r = run(args(d, "track", 6, "--activation", "sigmoid", "--track", "3,9", "--track-unit", "2",
                "--track-every", "2"));
        assertEquals(0, r.code(), r.err());
        List<String> lines = Files.readAllLines(dir.resolve("track").resolve("activations.csv"));
        assertEquals("step,layer,metric,value", lines.get(0));
        // 2 layers x 7 metrics x steps 0, 2, 4
        assertEquals(1 + 2 * 7 * 3, lines.size());
        assertTrue(lines.contains(lines.stream().filter(l -> l.startsWith("4,9,input_p85,")).findFirst().orElse("-")));
        Run bad = run(args(d, "bad", 2, "--track", "3.weight"));
        assertEquals(1, bad.code());
        assertEquals("bn4j train: --track: Expected a layer name of the model [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], got"
                + " '3.weight'", bad.err().strip());
    }

    @Test
    void batchRenormRunStoresItsSchedules() throws IOException {
        Path d = data(Files.createDirectories(dir.resolve("d")));
        Run r = run(args(d, "brn", 6, "--norm", "brn", "--rmax", "2:1:4", "--dmax", "1.5"));
        assertEquals(0, r.code(), r.err());
        assertFalse(r.err().contains("normalises each channel"), "BatchRenorm is the remedy, not reported: " + r.err());
        Map<String, String> meta = Checkpoint.metadata(dir.resolve("brn").resolve(Checkpoint.FILE_NAME));
        assertEquals("1.0:2.0:1:4", meta.get("variant.rmax"));
        assertEquals("1.5:1.5:0:0", meta.get("variant.dmax"));
        assertEquals("variance", meta.get("variant.brnRunningSigma"));
        assertEquals("brn", meta.get("run.norm"));
    }

    @Test
    void batchRenormRunCanKeepThePapersRunningSigma() throws IOException {
        Path d = data(Files.createDirectories(dir.resolve("d")));
        Run r = run(args(d, "brn-sigma", 6, "--norm", "brn", "--brn-running-sigma", "sigma"));
        assertEquals(0, r.code(), r.err());
        Map<String, String> meta = Checkpoint.metadata(dir.resolve("brn-sigma").resolve(Checkpoint.FILE_NAME));
        assertEquals("sigma", meta.get("variant.brnRunningSigma"));
        Run bad = run(args(d, "brn-bad", 6, "--norm", "brn", "--brn-running-sigma", "std"));
        assertEquals(1, bad.code(), bad.err());
        assertEquals("bn4j train: Expected --brn-running-sigma variance or sigma, got std", bad.err().strip());
    }

    @Test
    void freezeBnFineTunesWithTheStatisticsOfTheInitialModel() throws IOException {
        Path d = data(Files.createDirectories(dir.resolve("d")));
        Run base = run(args(d, "base", 6));
        assertEquals(0, base.code(), base.err());
        Path init = dir.resolve("base").resolve("model.safetensors");
        Run ft = run(args(d, "ft", 4, "--freeze-bn", "--init-from", init.toString()));
        assertEquals(0, ft.code(), ft.err());
        Map<String, SafeTensors.Entry> a = model(dir.resolve("base"));
        Map<String, SafeTensors.Entry> b = model(dir.resolve("ft"));
        assertEquals(a.keySet(), b.keySet(), "FrozenBatchNorm keeps BatchNorm's state keys");
        for (String k : List.of("2.weight", "2.bias", "2.running_mean", "2.running_var", "2.num_batches_tracked",
                "5.running_var", "8.running_mean")) {
            assertArrayEquals(a.get(k).bytes(), b.get(k).bytes(), k + " stays frozen");
        }
        assertFalse(java.util.Arrays.equals(a.get("1.weight").bytes(), b.get("1.weight").bytes()),
                "the linear layers are fine-tuned");
        Run missing = run(args(d, "x", 4, "--freeze-bn"));
        assertEquals(1, missing.code());
        assertEquals("bn4j train: Expected --init-from FILE with --freeze-bn (frozen statistics must come from a"
                + " trained model), got none", missing.err().strip());
        Run gn = run(args(d, "y", 4, "--freeze-bn", "--norm", "gn", "--init-from", init.toString()));
        assertEquals(1, gn.code());
        assertEquals("bn4j train: Expected --norm bn, brn or ghost with --freeze-bn, got --norm gn", gn.err().strip());
        assertTrue(base.err().contains("[bn4j] Small-batch statistics: BatchNorm '2' from 10 samples (batch 10);"),
                base.err());
    }
}
