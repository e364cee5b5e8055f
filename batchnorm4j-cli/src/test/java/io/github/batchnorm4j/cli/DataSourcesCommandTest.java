package io.github.batchnorm4j.cli;

import static io.github.batchnorm4j.cli.TrainCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.batchnorm4j.data.DataLocator;
import io.github.batchnorm4j.data.DataSet;
import io.github.batchnorm4j.data.DataSource;
import io.github.batchnorm4j.data.Idx;
import io.github.batchnorm4j.train.Checkpoint;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import io.github.batchnorm4j.onnx.proto.Onnx.ModelProto;
import io.github.batchnorm4j.onnx.proto.Onnx.NodeProto;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** train, predict and export on a CSV table and on folders of images (generated, and real Fashion-MNIST PNGs). */
class DataSourcesCommandTest {
    @TempDir
    Path dir;

    static final String[] SPECIES = {"cat", "dog", "eel"};

    /**
     * 150 rows of 4 features far from 0 and of very different scales ({@code 1000 + 100 * signal}, ...): the class
     * sets the sign pattern of the signals, so standardised features separate it easily.
     */
    static Path csv(Path file, long seed) throws IOException {
        SplittableRandom rng = new SplittableRandom(seed);
        StringBuilder b = new StringBuilder("w,x,species,y,z\n");
        for (int i = 0; i < 150; i++) {
            int c = i % 3;
            double[] s = {c == 0 ? 1 : -1, c == 1 ? 1 : -1, c == 2 ? 1 : -1, rng.nextGaussian()};
            b.append(String.format(Locale.ROOT, "%.3f,%.5f,%s,%.1f,%.3f%n", 1000 + 100 * (s[0] + 0.3 * rng.nextGaussian()),
                    0.001 * (s[1] + 0.3 * rng.nextGaussian()), SPECIES[c], -5e4 + 1e4 * (s[2] + 0.3 * rng.nextGaussian()),
                    s[3]));
        }
        return Files.writeString(file, b.toString());
    }

    static double accuracy(String out) {
        Matcher m = Pattern.compile("accuracy ([0-9.]+)").matcher(out);
        assertTrue(m.find(), out);
        return Double.parseDouble(m.group(1));
    }

    @Test
    void aCsvTableTrainsPredictsAndExportsWithTheTrainingSplitsStandardisation() throws IOException {
        Path table = csv(dir.resolve("animals.csv"), 3);
        Path model = Files.writeString(dir.resolve("table.json"), "{\"layers\": [{\"type\": \"linear\", \"out\": 16},"
                + " {\"type\": \"batch_norm\"}, {\"type\": \"relu\"}, {\"type\": \"linear\", \"out\": \"${classes}\"}]}");
        Path run = dir.resolve("run");
        TrainCommandTest.Run t = run("train", "--model-file", model.toString(), "--data", table.toString(), "--label",
                "species", "--validation", "0.2", "--optimizer", "adam", "--lr", "0.01", "--batch-size", "20",
                "--epochs", "8", "--warmup-steps", "0", "--no-progress", "--threads", "1", "--out", run.toString());
        assertEquals(0, t.code(), t.err());
        assertTrue(t.err().contains("Model, input (N, 4)"), t.err());
        assertTrue(t.err().contains(": 120 training items, batch 20, 48 steps"), t.err());
        assertTrue(accuracy(t.out()) >= 0.9, t.out()); // validation accuracy on the 30 held-out rows
        Map<String, String> meta = Checkpoint.metadata(run.resolve("checkpoint.safetensors"));
        assertEquals("csv", meta.get("data.kind"));
        assertEquals("[\"cat\", \"dog\", \"eel\"]", meta.get("data.classes"));
        assertEquals("[\"w\", \"x\", \"y\", \"z\"]", meta.get("data.columns"));
        // The stored standardisation is that of the 120 training rows: recompute it from the same split.
        DataLocator.Splits s = DataSource.load(table.toString(), null, new DataSource.Options("species", false, null,
                null));
        DataSet train = s.train().split(30, 0)[0];
        float[][] ms = train.featureMeanStd();
        double[] sum = new double[4];
        float[] row = new float[4];
        for (int i = 0; i < train.size(); i++) {
            train.copyItem(i, row, 0, 0f, 1f);
            for (int k = 0; k < 4; k++) {
                sum[k] += row[k];
            }
        }
        String[] stored = meta.get("normalization.feature_mean").split(",");
        for (int k = 0; k < 4; k++) {
            assertEquals(sum[k] / train.size(), Float.parseFloat(stored[k]), 1e-3 * Math.abs(ms[0][k]) + 1e-9,
                    "feature " + k);
        }
        // predict reads a CSV whose columns are in another order, through the stored columns and classes.
        List<String> lines = Files.readAllLines(csv(dir.resolve("other.csv"), 4));
        StringBuilder swapped = new StringBuilder();
        for (String l : lines) {
            String[] f = l.split(",");
            swapped.append(String.join(",", f[4], f[2], f[3], f[1], f[0])).append('\n');
        }
        Path other = Files.writeString(dir.resolve("swapped.csv"), swapped.toString());
        TrainCommandTest.Run p = run("predict", "--checkpoint", run.toString(), "--data", other.toString());
        assertEquals(0, p.code(), p.err());
        assertTrue(p.out().contains("all of " + other + ": 150 items"), p.out());
        assertTrue(accuracy(p.out()) >= 0.9, p.out());
        Path onnx = dir.resolve("table.onnx");
        TrainCommandTest.Run e = run("export", "--checkpoint", run.toString(), "--onnx", onnx.toString());
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().contains("input [N, 4], output [N, 3]); inputs are the raw columns [w, x, y, z]"
                + " (standardised inside the graph)\nclasses (output order): cat, dog, eel"), e.out());
        List<String> ops = ModelProto.parseFrom(Files.readAllBytes(onnx)).getGraph().getNodeList().stream()
                .map(NodeProto::getOpType).toList();
        assertEquals(List.of("Mul", "Add", "Gemm", "BatchNormalization", "Relu", "Gemm", "Identity"), ops);
    }

    @Test
    void aCsvRunResumesToTheSameBitsWithItsStoredLabelAndSplit() throws IOException {
        Path table = csv(dir.resolve("animals.csv"), 8);
        String[] common = {"--data", table.toString(), "--label", "species", "--model", "mlp", "--width", "8",
            "--validation", "0.2", "--batch-size", "20", "--schedule", "constant", "--no-progress", "--threads", "1"};
        TrainCommandTest.Run full = run(TrainCommandTest.concat(new String[] {"train", "--steps", "12", "--out",
            dir.resolve("full").toString()}, common));
        assertEquals(0, full.code(), full.err());
        TrainCommandTest.Run part = run(TrainCommandTest.concat(new String[] {"train", "--steps", "5", "--out",
            dir.resolve("part").toString()}, common));
        assertEquals(0, part.code(), part.err());
        TrainCommandTest.Run rest = run("train", "--resume", dir.resolve("part").toString(), "--steps", "12",
                "--no-progress", "--threads", "1");
        assertEquals(0, rest.code(), rest.err());
        var a = io.github.batchnorm4j.io.SafeTensors.read(dir.resolve("full/checkpoint.safetensors")).tensors();
        var b = io.github.batchnorm4j.io.SafeTensors.read(dir.resolve("part/checkpoint.safetensors")).tensors();
        assertEquals(a.keySet(), b.keySet());
        a.forEach((k, v) -> assertArrayEquals(v.bytes(), b.get(k).bytes(), k));
    }

    @Test
    void badCsvRowsAreReportedWithFileAndLineOrSkippedAndCounted() throws IOException {
        Path bad = Files.writeString(dir.resolve("bad.csv"), "a,b,label\n1,2,x\n3,4\n5,six,y\n\n7,8,y\n9,10,x\n");
        String[] args = {"train", "--data", bad.toString(), "--label", "label", "--validation", "0", "--batch-size",
            "2", "--steps", "1", "--no-progress", "--out", dir.resolve("o").toString()};
        TrainCommandTest.Run r = run(args);
        assertEquals(1, r.code());
        assertEquals("bn4j train: " + bad + ":3: expected 3 fields (as the header), got 2 (--skip-bad skips such"
                + " rows)", r.err().strip());
        TrainCommandTest.Run skip = run(TrainCommandTest.concat(args, new String[] {"--skip-bad"}));
        assertEquals(0, skip.code(), skip.err());
        assertTrue(skip.err().contains("Skipped 2 bad rows of " + bad + " (--skip-bad)"), skip.err());
        Files.writeString(bad, "a,b,label\n1,2,x\n5,six,y\n");
        assertEquals("bn4j train: " + bad + ":3: expected a number in column 'b', got 'six' (--skip-bad skips such"
                + " rows)", run(args).err().strip());
        assertEquals("bn4j train: Expected --label COLUMN naming the class column of the CSV file " + bad
                + ", got none", run("train", "--data", bad.toString(), "--no-progress").err().strip());
        assertEquals("bn4j train: " + bad + ":1: expected a column 'kind' (--label) in the header, got [a, b, label]",
                run("train", "--data", bad.toString(), "--label", "kind", "--no-progress").err().strip());
        Files.writeString(bad, "a,b,label\n1,2,\"x\n");
        assertEquals("bn4j train: " + bad + ":2: expected a closing quote, got the end of the line (--skip-bad skips"
                + " such rows)", run(args).err().strip());
    }

    /** Writes {@code n} RGB images of {@code size}x{@code size} per class: class c is bright in channel c. */
    static void images(Path root, int n, int size, long seed) throws IOException {
        SplittableRandom rng = new SplittableRandom(seed);
        for (int c = 0; c < 3; c++) {
            Path sub = Files.createDirectories(root.resolve(SPECIES[c]));
            for (int i = 0; i < n; i++) {
                BufferedImage im = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
                for (int y = 0; y < size; y++) {
                    for (int x = 0; x < size; x++) {
                        int[] rgb = new int[3];
                        for (int k = 0; k < 3; k++) {
                            rgb[k] = Math.min(255, rng.nextInt(90) + (k == c ? 150 : 0));
                        }
                        im.setRGB(x, y, rgb[0] << 16 | rgb[1] << 8 | rgb[2]);
                    }
                }
                ImageIO.write(im, i % 2 == 0 ? "png" : "jpg", sub.resolve("im" + i + (i % 2 == 0 ? ".png" : ".jpg"))
                        .toFile());
            }
        }
    }

    @Test
    void anImageFolderIsResizedToTheModelsInputAndTrainsPredictsAndExports() throws IOException {
        Path folder = dir.resolve("pictures");
        images(folder, 12, 12, 5);
        Path model = Files.writeString(dir.resolve("conv.json"), "{\"input\": [3, 8, 8], \"layers\": [{\"type\":"
                + " \"conv2d\", \"out\": 4, \"kernel\": 3, \"padding\": 1}, {\"type\": \"batch_norm\"}, {\"type\":"
                + " \"relu\"}, {\"type\": \"global_avg_pool2d\"}, {\"type\": \"linear\", \"out\": \"${classes}\"}]}");
        Path run = dir.resolve("run");
        TrainCommandTest.Run t = run("train", "--model-file", model.toString(), "--data", folder.toString(),
                "--validation", "6", "--optimizer", "adam", "--lr", "0.05", "--batch-size", "10", "--epochs", "10",
                "--warmup-steps", "0", "--no-progress", "--threads", "1", "--out", run.toString());
        assertEquals(0, t.code(), t.err());
        assertTrue(t.err().contains(": 30 training items, batch 10, 30 steps"), t.err());
        Map<String, String> meta = Checkpoint.metadata(run.resolve("checkpoint.safetensors"));
        assertEquals("images", meta.get("data.kind"));
        assertEquals("[\"cat\", \"dog\", \"eel\"]", meta.get("data.classes"));
        Path fresh = dir.resolve("fresh");
        images(fresh, 5, 20, 6); // other images, of another size: scaled to 8x8 as in training
        TrainCommandTest.Run p = run("predict", "--checkpoint", run.toString(), "--data", fresh.toString());
        assertEquals(0, p.code(), p.err());
        assertTrue(p.out().contains("all of " + fresh + ": 15 items"), p.out());
        assertTrue(accuracy(p.out()) >= 0.9, p.out());
        TrainCommandTest.Run e = run("export", "--checkpoint", run.toString(), "--onnx", dir.resolve("i.onnx")
                .toString());
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().contains("input [N, 3,8,8], output [N, 3]); normalise inputs as (x/255 - "), e.out());
    }

    @Test
    void unreadableImagesAreReportedOrSkipped() throws IOException {
        Path folder = dir.resolve("pictures");
        images(folder, 3, 8, 7);
        Path broken = Files.writeString(folder.resolve("dog/broken.png"), "not an image");
        String[] args = {"train", "--data", folder.toString(), "--validation", "0", "--batch-size", "2", "--steps",
            "1", "--no-progress", "--out", dir.resolve("o").toString(), "--model", "mlp", "--width", "4"};
        TrainCommandTest.Run r = run(args);
        assertEquals(1, r.code());
        assertEquals("bn4j train: " + broken + ": expected a PNG or JPEG image, got a file javax.imageio cannot read"
                + " (--skip-bad skips such files)", r.err().strip());
        TrainCommandTest.Run skip = run(TrainCommandTest.concat(args, new String[] {"--skip-bad"}));
        assertEquals(0, skip.code(), skip.err());
        assertTrue(skip.err().contains("Skipped 1 bad images of " + folder + " (--skip-bad)"), skip.err());
        assertTrue(skip.err().contains("Model \"mlp\", input (N, 3, 8, 8)"), skip.err());
    }

    static final String[] FASHION = {"t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker",
        "bag", "ankle-boot"};

    /** The first {@code n} images of an IDX pair written as grayscale PNGs into {@code root/<class>/}. */
    static void png(Path images, Path labels, int n, Path root) throws IOException {
        Idx.Array im = Idx.read(images);
        Idx.Array lb = Idx.read(labels);
        for (int i = 0; i < n; i++) {
            BufferedImage b = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
            b.getRaster().setDataElements(0, 0, 28, 28, java.util.Arrays.copyOfRange(im.data(), i * 784, (i + 1) * 784));
            Path sub = Files.createDirectories(root.resolve(FASHION[lb.data()[i] & 0xff]));
            ImageIO.write(b, "png", sub.resolve(String.format(Locale.ROOT, "%05d.png", i)).toFile());
        }
    }

    @Test
    void realFashionMnistImagesAsPngsReadBackExactlyAndTrain() throws IOException {
        Path fm = DataLocator.DEBIAN_FASHION_MNIST;
        assumeTrue(Files.isRegularFile(fm.resolve("train-images-idx3-ubyte.gz")),
                "Debian's dataset-fashion-mnist is not installed here (.ci/run installs it)");
        Path folder = dir.resolve("fashion");
        png(fm.resolve("train-images-idx3-ubyte.gz"), fm.resolve("train-labels-idx1-ubyte.gz"), 600,
                folder.resolve("train"));
        png(fm.resolve("t10k-images-idx3-ubyte.gz"), fm.resolve("t10k-labels-idx1-ubyte.gz"), 200,
                folder.resolve("test"));
        // The PNGs hold the IDX bytes exactly: the folder's test split is the first 200 test images, by class.
        DataLocator.Splits s = DataSource.load(folder.toString(), null, DataSource.Options.DEFAULT);
        assertArrayEquals(new int[] {1, 28, 28}, s.test().itemShape());
        Idx.Array im = Idx.read(fm.resolve("t10k-images-idx3-ubyte.gz"));
        Idx.Array lb = Idx.read(fm.resolve("t10k-labels-idx1-ubyte.gz"));
        List<String> classes = s.info().classes();
        float[] got = new float[784];
        int k = 0;
        for (String name : classes) {
            for (int i = 0; i < 200; i++) {
                if (FASHION[lb.data()[i] & 0xff].equals(name)) {
                    s.test().copyItem(k, got, 0, 0f, 1f);
                    assertEquals(name, classes.get(s.test().label(k)));
                    for (int p = 0; p < 784; p++) {
                        assertEquals((im.data()[i * 784 + p] & 0xff) / 255f, got[p], 1e-6f, "image " + i);
                    }
                    k++;
                }
            }
        }
        assertEquals(200, k);
        Path run = dir.resolve("run");
        TrainCommandTest.Run t = run("train", "--data", folder.toString(), "--model", "mlp", "--width", "32",
                "--optimizer", "adam", "--batch-size", "20", "--epochs", "3", "--validation", "0.1", "--warmup-steps",
                "0", "--no-progress",
                "--threads", "1", "--out", run.toString());
        assertEquals(0, t.code(), t.err());
        assertTrue(t.out().contains("test accuracy"), t.out());
        TrainCommandTest.Run p = run("predict", "--checkpoint", run.toString(), "--data", folder.toString());
        assertEquals(0, p.code(), p.err());
        assertTrue(p.out().contains(", test split: 200 items"), p.out());
        // 540 training images, 3 epochs: far above chance (0.1), well below Fashion-MNIST's full-data accuracy
        assertTrue(accuracy(p.out()) > 0.5, p.out());
        TrainCommandTest.Run e = run("export", "--checkpoint", run.toString(), "--onnx", dir.resolve("f.onnx")
                .toString(), "--fold");
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().contains("classes (output order): ankle-boot, bag, coat, dress, pullover, sandal, shirt,"
                + " sneaker, t-shirt, trouser"), e.out());
    }
}
