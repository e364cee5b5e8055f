package io.github.batchnorm4j.fuzz;

import io.github.batchnorm4j.data.Idx;
import io.github.batchnorm4j.io.SafeTensors;
import io.github.batchnorm4j.io.SafeTensors.Entry;
import io.github.batchnorm4j.train.Checkpoint;
import io.github.batchnorm4j.train.NormVariantConfig;
import io.github.batchnorm4j.train.RunConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes the committed seed corpus: a few valid inputs per target, each under
 * {@code src/test/resources/io/github/batchnorm4j/fuzz/<Target>Inputs/<method>/}, where Jazzer's regression mode
 * (every {@code ./test}) runs them and tools/fuzz starts from them. Run from the repository root with the test
 * classpath: {@code java -cp ... io.github.batchnorm4j.fuzz.FuzzSeeds batchnorm4j-core/src/test/resources}.
 */
public final class FuzzSeeds {
    private FuzzSeeds() {}

    public static void main(String[] args) throws IOException {
        Path res = Path.of(args[0], "io", "github", "batchnorm4j", "fuzz");
        Path tmp = Files.createTempDirectory("bn4j-seeds");

        Path st = dir(res, "SafeTensorsFuzzTest", "safetensors");
        Map<String, Entry> t = new LinkedHashMap<>();
        t.put("w", Entry.f32(new float[] {1, -2, 3.5f, 0, Float.NaN, 1e-30f}, 2, 3));
        t.put("d", Entry.f64(new double[] {0.25, -1e300}, 2));
        t.put("n", Entry.i64(new long[] {42}, 1));
        SafeTensors.write(st.resolve("three-dtypes"), t, Map.of("k", "v", "step", "7"));
        SafeTensors.write(st.resolve("metadata-only"), Map.of(), Map.of("a", "b"));
        SafeTensors.write(st.resolve("empty-tensor"), Map.of("e", Entry.f32(new float[0], 0, 4)), Map.of());

        Path js = dir(res, "JsonFuzzTest", "json");
        List<String> json = List.of("{\"a\": [1, 2.5e3, -7, true, false, null, \"x\\u00e9\\n\"]}", "[]", "12",
                "{\"__metadata__\": {\"k\": \"v\"}, \"t\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}",
                "\"\\ud83d\\ude00 \\\\ \\/\"", "[[[{\"deep\": [[]]}]]]", "-0.0e-5");
        for (int i = 0; i < json.size(); i++) {
            Files.writeString(js.resolve("seed-" + i), json.get(i), StandardCharsets.UTF_8);
        }

        for (boolean gz : new boolean[] {false, true}) {
            Path d = gz ? dir(res, "IdxGzipFuzzTest", "idxGzip") : dir(res, "IdxRawFuzzTest", "idxRaw");
            String ext = gz ? ".gz" : "";
            idx(tmp.resolve("images" + ext), d.resolve("images"), new int[] {3, 2, 2},
                    new byte[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, (byte) 255});
            idx(tmp.resolve("labels" + ext), d.resolve("labels"), new int[] {3}, new byte[] {0, 9, 1});
            idx(tmp.resolve("four" + ext), d.resolve("four-dims"), new int[] {1, 1, 2, 2}, new byte[] {1, 2, 3, 4});
        }

        Path gc = dir(res, "GoldenCaseFuzzTest", "goldenCase");
        for (String name : List.of("bn0d_c1_train", "gn_0d_g2_train", "bn1d_notrack_noaffine_train", "ln_eval")) {
            Path src = Path.of("golden", "cases", name + ".safetensors");
            if (Files.exists(src)) {
                Files.copy(src, gc.resolve(name), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }

        Path ck = dir(res, "CheckpointFuzzTest", "checkpoint");
        Map<String, String> meta = new LinkedHashMap<>(new RunConfig("mlp", "bn", "relu", 4, "sgd", 0.1, 0.9, false,
                0, true, "constant", 0, 1, 0.5, 4, 1, 2, 1, 0, true, null).toMetadata());
        meta.putAll(NormVariantConfig.DEFAULT.toMetadata());
        Checkpoint.save(ck.resolve("before-first-step"), CheckpointFuzzTest.MODEL, CheckpointFuzzTest.OPTIMIZER, 0,
                meta);
        CheckpointFuzzTest.OPTIMIZER.step(); // creates the momentum buffers
        Checkpoint.save(ck.resolve("after-one-step"), CheckpointFuzzTest.MODEL, CheckpointFuzzTest.OPTIMIZER, 1,
                meta);
        Path mf = dir(res, "ModelFileFuzzTest", "modelFile");
        for (String name : io.github.batchnorm4j.models.ModelFile.BUILTINS) {
            try (var in = io.github.batchnorm4j.models.ModelFile.class.getResourceAsStream(name + ".json")) {
                Files.write(mf.resolve("builtin-" + name), in.readAllBytes());
            }
        }
        Files.writeString(mf.resolve("small-mlp"), "{\"name\": \"m\", \"input\": [784], \"layers\": ["
                + "{\"type\": \"linear\", \"out\": 16}, {\"type\": \"batch_norm\", \"momentum\": null},"
                + " {\"type\": \"relu\"}, {\"type\": \"dropout\", \"p\": 0.2}, {\"type\": \"linear\","
                + " \"out\": \"${classes}\"}]}");
        Files.writeString(mf.resolve("small-cnn"), "{\"layers\": [{\"type\": \"conv2d\", \"out\": 4,"
                + " \"kernel\": 3, \"padding\": 1}, {\"type\": \"norm\", \"kind\": \"gn\"},"
                + " {\"type\": \"activation\", \"kind\": \"tanh\"}, {\"type\": \"max_pool2d\", \"kernel\": 2},"
                + " {\"type\": \"basic_block\", \"out\": 8, \"stride\": 2, \"norm\": \"ln\"},"
                + " {\"type\": \"layer_norm\"}, {\"type\": \"global_avg_pool2d\"}, {\"type\": \"linear\","
                + " \"out\": 10, \"bias\": false}]}");
        Files.writeString(mf.resolve("variants"), "{\"input\": [1, 6, 6], \"layers\": [{\"type\": \"flatten\"},"
                + " {\"type\": \"linear\", \"out\": \"${2*width}\"}, {\"type\": \"batch_renorm\","
                + " \"rmax\": \"3:100:500\", \"running_sigma\": \"sigma\"}, {\"type\": \"ghost_batch_norm\","
                + " \"virtual_batch\": 4}, {\"type\": \"instance_norm\"}, {\"type\": \"sigmoid\"},"
                + " {\"type\": \"linear\", \"out\": 10}]}");

        Path csv = dir(res, "CsvTableFuzzTest", "csvTable");
        Files.writeString(csv.resolve("numeric-labels"), "x,y,label\n1,2,0\n3.5,-4e-3,1\n\n0,0,1\n");
        Files.writeString(csv.resolve("quoted"), "\"x\",label,\"y\"\n\"1.5\",a,2\n\" 7 \",\"a,\"\"b\"\"\",3\n"
                + "1,0,2\n");
        Files.writeString(csv.resolve("bad-rows"), "label,x,y\na,1\nb,x,2\n0,1,2\n1,NaN,3\n1,4,5\n");

        Path img = dir(res, "ImageFolderFuzzTest", "imageFolder");
        java.awt.image.BufferedImage rgb = new java.awt.image.BufferedImage(4, 3,
                java.awt.image.BufferedImage.TYPE_INT_RGB);
        java.awt.image.BufferedImage gray = new java.awt.image.BufferedImage(3, 4,
                java.awt.image.BufferedImage.TYPE_BYTE_GRAY);
        for (int k = 0; k < 12; k++) {
            rgb.setRGB(k % 4, k / 4, k * 0x0a1b2c);
            gray.getRaster().setSample(k % 3, k / 3, 0, 20 * k);
        }
        javax.imageio.ImageIO.write(rgb, "png", img.resolve("rgb-png").toFile());
        javax.imageio.ImageIO.write(gray, "png", img.resolve("gray-png").toFile());
        javax.imageio.ImageIO.write(rgb, "jpg", img.resolve("rgb-jpeg").toFile());
        javax.imageio.ImageIO.write(gray, "bmp", img.resolve("gray-bmp").toFile());
        System.out.println("seeds written under " + res);
    }

    private static Path dir(Path res, String target, String method) throws IOException {
        return Files.createDirectories(res.resolve(target + "Inputs").resolve(method));
    }

    private static void idx(Path tmp, Path seed, int[] dims, byte[] data) throws IOException {
        Idx.write(tmp, dims, data);
        Files.copy(tmp, seed, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
}
