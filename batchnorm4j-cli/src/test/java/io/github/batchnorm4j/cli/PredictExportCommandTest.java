package io.github.batchnorm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.onnx.proto.Onnx.ModelProto;
import io.github.batchnorm4j.onnx.proto.Onnx.NodeProto;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PredictExportCommandTest {
    @TempDir
    static Path dir;
    static Path data;
    static Path run;

    @BeforeAll
    static void trainSmallModel() throws IOException {
        data = TrainCommandTest.data(Files.createDirectories(dir.resolve("d")));
        run = dir.resolve("run");
        TrainCommandTest.Run r = TrainCommandTest.run("train", "--data", data.toString(), "--model", "mlp", "--width",
                "8", "--batch-size", "10", "--validation", "20", "--steps", "12", "--no-progress", "--threads", "1",
                "--out", run.toString());
        assertEquals(0, r.code(), r.err());
    }

    private static List<float[]> logits(Path csv) throws IOException {
        return Files.readAllLines(csv).stream().skip(1).map(l -> {
            String[] p = l.split(",");
            float[] v = new float[p.length];
            for (int i = 0; i < p.length; i++) {
                v[i] = Float.parseFloat(p[i]);
            }
            return v;
        }).toList();
    }

    /** A model saved from Java with Models.save predicts exactly as the trained run it was copied from. */
    @Test
    void predictReadsAModelSavedFromJava() throws IOException {
        io.github.batchnorm4j.train.TrainedModel trained = io.github.batchnorm4j.models.Models.load(run);
        io.github.batchnorm4j.models.ModelBuilder.Built built = io.github.batchnorm4j.models.ModelFile.builtin("mlp")
                .withVariables(java.util.Map.of("classes", 10L, "width", 8L, "norm", "bn", "activation", "relu"))
                .build(new io.github.batchnorm4j.models.ModelBuilder.Options(trained.input(), 10,
                        new java.util.SplittableRandom(99)));
        java.util.Map<String, io.github.batchnorm4j.io.SafeTensors.Entry> state =
                io.github.batchnorm4j.train.StateDicts.of(trained.model());
        io.github.batchnorm4j.train.StateDicts.load(built.model(), state);
        Path saved = dir.resolve("from-java.safetensors");
        io.github.batchnorm4j.models.Models.save(saved, built, trained.mean(), trained.std());
        Path a = dir.resolve("java-a.csv");
        Path b = dir.resolve("java-b.csv");
        assertEquals(0, TrainCommandTest.run("predict", "--checkpoint", run.toString(), "--data", data.toString(),
                "--logits", a.toString()).code());
        TrainCommandTest.Run r = TrainCommandTest.run("predict", "--checkpoint", saved.toString(), "--data",
                data.toString(), "--logits", b.toString());
        assertEquals(0, r.code(), r.err());
        List<float[]> x = logits(a);
        List<float[]> y = logits(b);
        assertEquals(x.size(), y.size());
        for (int i = 0; i < x.size(); i++) {
            org.junit.jupiter.api.Assertions.assertArrayEquals(x.get(i), y.get(i));
        }
    }

    @Test
    void predictPrintsAccuracyAndConfusionMatrix() {
        TrainCommandTest.Run r = TrainCommandTest.run("predict", "--checkpoint", run.toString(), "--data",
                data.toString(), "--threads", "1");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("mlp/bn/relu), test split: 20 items, eval mode"), r.out());
        assertTrue(r.out().matches("(?s).*accuracy \\d\\.\\d{4} \\(\\d+/20\\).*"), r.out());
        assertTrue(r.out().contains("confusion matrix (rows: true class, columns: predicted class)"), r.out());
        // The matrix has one row per class and its entries add up to the number of items.
        String[] lines = r.out().split("\n");
        long total = 0;
        int rows = 0;
        for (String l : lines) {
            if (l.matches("\\s+\\d+ (\\s+\\d+){10}")) {
                String[] p = l.trim().split("\\s+");
                for (int i = 1; i < p.length; i++) {
                    total += Long.parseLong(p[i]);
                }
                rows++;
            }
        }
        assertEquals(10, rows, r.out());
        assertEquals(20, total);
    }

    @Test
    void foldedLogitsMatchUnfoldedAndCheckpointFileWorksToo() throws IOException {
        Path a = dir.resolve("a.csv");
        Path b = dir.resolve("b.csv");
        assertEquals(0, TrainCommandTest.run("predict", "--checkpoint", run.resolve("model.safetensors").toString(),
                "--data", data.toString(), "--logits", a.toString()).code());
        TrainCommandTest.Run r = TrainCommandTest.run("predict", "--checkpoint",
                run.resolve("checkpoint.safetensors").toString(), "--data", data.toString(), "--fold", "--logits",
                b.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("wrote 20 rows of logits to " + b, r.out().trim());
        List<float[]> x = logits(a);
        List<float[]> y = logits(b);
        assertEquals(20, x.size());
        double diff = 0, scale = 0;
        for (int i = 0; i < x.size(); i++) {
            assertEquals(x.get(i)[0], y.get(i)[0]); // label
            for (int k = 1; k < x.get(i).length; k++) {
                diff = Math.max(diff, Math.abs(x.get(i)[k] - y.get(i)[k]));
                scale = Math.max(scale, Math.abs(x.get(i)[k]));
            }
        }
        assertTrue(diff <= 1e-5 * scale, "folded vs unfolded " + diff + " of " + scale);
    }

    @Test
    void preciseBnRecalibratesBeforePredicting() {
        TrainCommandTest.Run r = TrainCommandTest.run("predict", "--checkpoint", run.toString(), "--data",
                data.toString(), "--precise-bn", "3", "--batch-size", "40");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("PreciseBN: 3 BN layers recalibrated over 3 training batches"), r.err());
    }

    @Test
    void predictListsShapeMismatches() throws IOException {
        Path other = Files.createDirectories(dir.resolve("other"));
        // Same files, but images of 6x6 instead of 8x8: the stored model file says what the model takes.
        io.github.batchnorm4j.data.Idx.write(other.resolve("train-images-idx3-ubyte"), new int[] {3, 6, 6},
                new byte[3 * 36]);
        io.github.batchnorm4j.data.Idx.write(other.resolve("train-labels-idx1-ubyte"), new int[] {3}, new byte[3]);
        io.github.batchnorm4j.data.Idx.write(other.resolve("t10k-images-idx3-ubyte"), new int[] {2, 6, 6},
                new byte[2 * 36]);
        io.github.batchnorm4j.data.Idx.write(other.resolve("t10k-labels-idx1-ubyte"), new int[] {2}, new byte[2]);
        TrainCommandTest.Run r = TrainCommandTest.run("predict", "--checkpoint", run.toString(), "--data",
                other.toString());
        assertEquals(1, r.code());
        assertEquals("bn4j predict: Expected items of [1, 8, 8] for mlp/bn/relu, got [1, 6, 6]", r.err().trim());
    }

    @Test
    void exportWritesOnnxFoldedAndNot() throws IOException {
        Path plain = dir.resolve("plain.onnx");
        Path folded = dir.resolve("out/folded.onnx");
        TrainCommandTest.Run r = TrainCommandTest.run("export", "--checkpoint", run.toString(), "--onnx",
                plain.toString(), "--input", "1x8x8");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("wrote " + plain + " (mlp/bn/relu, input [N, 1,8,8], output [N, 10])"), r.out());
        r = TrainCommandTest.run("export", "--checkpoint", run.toString(), "--onnx", folded.toString(), "--input",
                "1x8x8", "--fold", "--softmax");
        assertEquals(0, r.code(), r.err());
        List<String> a = ModelProto.parseFrom(Files.readAllBytes(plain)).getGraph().getNodeList().stream()
                .map(NodeProto::getOpType).toList();
        List<String> b = ModelProto.parseFrom(Files.readAllBytes(folded)).getGraph().getNodeList().stream()
                .map(NodeProto::getOpType).toList();
        assertEquals(List.of("Flatten", "Gemm", "BatchNormalization", "Relu", "Gemm", "BatchNormalization", "Relu",
                "Gemm", "BatchNormalization", "Relu", "Gemm", "Identity"), a);
        assertEquals(List.of("Flatten", "Gemm", "Relu", "Gemm", "Relu", "Gemm", "Relu", "Gemm", "Softmax",
                "Identity"), b);
    }

    @Test
    void exportOfAMissingCheckpointSaysSo() {
        Path none = dir.resolve("nothing-here");
        TrainCommandTest.Run r = TrainCommandTest.run("export", "--checkpoint", none.toString(), "--onnx",
                dir.resolve("x.onnx").toString());
        assertEquals(1, r.code());
        assertEquals("bn4j export: Expected a checkpoint file or run folder, got no such file " + none, r.err().trim());
        assertTrue(Files.notExists(dir.resolve("x.onnx")));
    }

    @Test
    void benchInferMeasuresTheCheckpointAsJson() {
        TrainCommandTest.Run r = TrainCommandTest.run("bench", "infer", "--checkpoint", run.toString(),
                "--batch-size", "3", "--rounds", "2", "--min-ms", "5", "--json");
        assertEquals(0, r.code(), r.err());
        @SuppressWarnings("unchecked")
        java.util.Map<String, Object> json = (java.util.Map<String, Object>) io.github.batchnorm4j.io.Json.parse(
                r.out().trim());
        assertEquals(run.toString(), json.get("model"));
        assertEquals(3, ((Number) json.get("batch_size")).intValue());
        assertTrue(((Number) json.get("median_ms")).doubleValue() > 0, r.out());
    }

    @Test
    void benchInferAgainstOnnxRuntimeSaysWhenItIsMissing() {
        // ONNX Runtime is no dependency of the CLI (the launcher adds it for this option): one clear line.
        TrainCommandTest.Run r = TrainCommandTest.run("bench", "infer", "--vs-onnxruntime", "--rounds", "1");
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("--vs-onnxruntime: Expected ONNX Runtime's Java API on the class path"), r.err());
        TrainCommandTest.Run bad = TrainCommandTest.run("bench", "infer", "--checkpoint", dir.resolve("none")
                .toString(), "--json");
        assertEquals(1, bad.code());
        assertTrue(bad.err().startsWith("bn4j bench infer: --checkpoint "), bad.err());
        assertTrue(!bad.err().contains("\tat "), bad.err());
    }
}
