package io.github.batchnorm4j.cli;

import static io.github.batchnorm4j.cli.TrainCommandTest.data;
import static io.github.batchnorm4j.cli.TrainCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.io.SafeTensors;
import io.github.batchnorm4j.train.Checkpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelFileCommandTest {
    @TempDir
    Path dir;

    static final String MODEL = "{\"name\": \"small\", \"input\": [64], \"layers\": [{\"type\": \"linear\", \"out\": 16},"
            + " {\"type\": \"batch_norm\"}, {\"type\": \"relu\"}, {\"type\": \"linear\", \"out\": 10}]}";

    @Test
    void aModelFileTrainsResumesAndPredictsAndExportsFromTheCheckpointAlone() throws IOException {
        Path d = data(Files.createDirectories(dir.resolve("d")));
        Path model = Files.writeString(dir.resolve("small.json"), MODEL);
        String[] common = {"--model-file", model.toString(), "--data", d.toString(), "--batch-size", "20",
            "--validation", "0.2", "--optimizer", "adam", "--schedule", "constant", "--no-progress", "--threads", "1"};
        TrainCommandTest.Run full = run(TrainCommandTest.concat(new String[] {"train", "--steps", "10", "--out",
            dir.resolve("full").toString()}, common));
        assertEquals(0, full.code(), full.err());
        assertTrue(full.err().contains("""
                Model "small", input (N, 64)
                ---------------------------------------
                Layer (type)     Output shape   Param #
                ---------------------------------------
                0 (linear)       (N, 16)          1,024   no bias: batch_norm follows
                1 (batch_norm)   (N, 16)             32
                2 (relu)         (N, 16)              0
                3 (linear)       (N, 10)            170
                """), full.err());
        // --validation 0.2 of 120 items: 24 held out
        assertTrue(full.err().contains(": 96 training items, batch 20, 10 steps"), full.err());
        TrainCommandTest.Run part = run(TrainCommandTest.concat(new String[] {"train", "--steps", "4", "--out",
            dir.resolve("part").toString()}, common));
        assertEquals(0, part.code(), part.err());
        TrainCommandTest.Run rest = run("train", "--resume", dir.resolve("part").toString(), "--steps", "10",
                "--no-progress", "--threads", "1");
        assertEquals(0, rest.code(), rest.err());
        Map<String, SafeTensors.Entry> a = SafeTensors.read(dir.resolve("full/checkpoint.safetensors")).tensors();
        Map<String, SafeTensors.Entry> b = SafeTensors.read(dir.resolve("part/checkpoint.safetensors")).tensors();
        assertEquals(a.keySet(), b.keySet());
        a.forEach((k, v) -> assertArrayEquals(v.bytes(), b.get(k).bytes(), k));
        assertEquals("{\"name\": \"small\", \"input\": [64], \"layers\": [{\"type\": \"linear\", \"out\": 16},"
                + " {\"type\": \"batch_norm\"}, {\"type\": \"relu\"}, {\"type\": \"linear\", \"out\": 10}]}",
                Checkpoint.metadata(dir.resolve("full/checkpoint.safetensors")).get("model.file"));
        Files.delete(model); // the checkpoint is all predict and export need
        TrainCommandTest.Run p = run("predict", "--checkpoint", dir.resolve("full").toString(), "--data", d.toString());
        assertEquals(0, p.code(), p.err());
        assertTrue(p.out().contains("(small), test split: 20 items, eval mode"), p.out());
        TrainCommandTest.Run e = run("export", "--checkpoint", dir.resolve("full").toString(), "--onnx",
                dir.resolve("m.onnx").toString());
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().startsWith("wrote " + dir.resolve("m.onnx") + " (small, input [N, 64], output [N, 10])"),
                e.out());
    }

    @Test
    void checkpointsWrittenBeforeModelFilesStillPredict() throws IOException {
        Path d = data(Files.createDirectories(dir.resolve("d")));
        Path run = dir.resolve("run");
        TrainCommandTest.Run t = run("train", "--data", d.toString(), "--model", "mlp", "--width", "8", "--steps", "5",
                "--validation", "20", "--batch-size", "20", "--no-progress", "--threads", "1", "--out", run.toString());
        assertEquals(0, t.code(), t.err());
        TrainCommandTest.Run now = run("predict", "--checkpoint", run.toString(), "--data", d.toString());
        assertEquals(0, now.code(), now.err());
        // The same weights with the metadata of an older version: no model.file, no data.* keys.
        SafeTensors.Contents c = SafeTensors.read(run.resolve("model.safetensors"));
        Map<String, String> meta = new java.util.LinkedHashMap<>(c.metadata());
        meta.keySet().removeIf(k -> k.equals("model.file") || k.startsWith("data."));
        Path old = Files.createDirectories(dir.resolve("old")).resolve("model.safetensors");
        SafeTensors.write(old, c.tensors(), meta);
        TrainCommandTest.Run before = run("predict", "--checkpoint", old.toString(), "--data", d.toString());
        assertEquals(0, before.code(), before.err());
        assertEquals(now.out().substring(now.out().indexOf("accuracy")),
                before.out().substring(before.out().indexOf("accuracy")));
        assertTrue(before.out().contains("(mlp/bn/relu), test split: 20 items"), before.out());
    }

    @Test
    void aBadModelFileIsRejectedWithThePathOfTheFault() throws IOException {
        Path d = data(Files.createDirectories(dir.resolve("d")));
        Path model = Files.writeString(dir.resolve("bad.json"), "{\"input\": [1, 8, 8], \"layers\": [{\"type\":"
                + " \"conv2d\", \"out\": 4, \"kernel\": 3}, {\"type\": \"batch_norm\", \"momentum\": 2},"
                + " {\"type\": \"flatten\"}, {\"type\": \"linear\", \"out\": 10}]}");
        TrainCommandTest.Run r = run("train", "--model-file", model.toString(), "--data", d.toString(), "--steps", "1",
                "--no-progress", "--out", dir.resolve("o").toString());
        assertEquals(1, r.code());
        assertEquals("bn4j train: " + model + ": $.layers[1].momentum: expected a number in [0, 1] or null"
                + " (cumulative average), got 2", r.err().strip());
        TrainCommandTest.Run missing = run("train", "--model-file", dir.resolve("none.json").toString(), "--data",
                d.toString(), "--steps", "1", "--no-progress", "--out", dir.resolve("o").toString());
        assertEquals("bn4j train: Expected a model file (JSON), got no such file " + dir.resolve("none.json"),
                missing.err().strip());
        Path flat = Files.writeString(dir.resolve("flat.json"), "{\"input\": [63], \"layers\": [{\"type\": \"linear\","
                + " \"out\": 10}]}");
        TrainCommandTest.Run size = run("train", "--model-file", flat.toString(), "--data", d.toString(), "--steps",
                "1", "--no-progress", "--out", dir.resolve("o").toString());
        assertEquals("bn4j train: " + flat + ": expected the data to fit the model's input [63], got items of"
                + " [1, 8, 8]", size.err().strip());
    }

    @Test
    void aCnnAtBatchTwoWarnsOnceNamingTheLayersAndGroupNorm() throws IOException {
        Path d = data(Files.createDirectories(dir.resolve("d")));
        TrainCommandTest.Run r = run("train", "--model", "cnn", "--norm", "bn", "--batch-size", "2", "--width", "4",
                "--steps", "5", "--validation", "20", "--data", d.toString(), "--no-progress", "--threads", "1", "--out",
                dir.resolve("cnn").toString());
        assertEquals(0, r.code(), r.err());
        String warning = "[bn4j] Small-batch statistics: BatchNorm '1' from 2 samples (batch 2 x spatial 64 = 128"
                + " values per channel); BatchNorm '4' from 2 samples (batch 2 x spatial 64 = 128 values per channel);"
                + " BatchNorm '8' from 2 samples (batch 2 x spatial 16 = 32 values per channel); BatchNorm '11' from 2"
                + " samples (batch 2 x spatial 16 = 32 values per channel). With fewer than 8 samples (or 16 values)"
                + " per statistic the batch mean and variance are noise (the values of one sample are correlated, so"
                + " a large spatial size does not make up for few samples): training can diverge and evaluation"
                + " disagree with training. Remedies: GroupNorm or LayerNorm, which do not depend on the batch"
                + " (--norm gn|ln); BatchRenorm (--norm brn); a larger batch, or SyncBatchNorm over several processes"
                + " (--distributed); FrozenBatchNorm when fine-tuning a trained model (--freeze-bn).";
        assertEquals(1, r.err().split("Small-batch", -1).length - 1, r.err());
        assertTrue(r.err().contains(warning + "\n"), r.err());
        TrainCommandTest.Run gn = run("train", "--model", "cnn", "--norm", "gn", "--batch-size", "2", "--width", "4",
                "--steps", "2", "--validation", "20", "--data", d.toString(), "--no-progress", "--threads", "1", "--out",
                dir.resolve("gn").toString());
        assertEquals(0, gn.code(), gn.err());
        assertTrue(!gn.err().contains("[bn4j]"), gn.err());
    }
}
