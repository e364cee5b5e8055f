package io.github.batchnorm4j.cli;

import io.github.batchnorm4j.io.SafeTensors;
import io.github.batchnorm4j.models.ModelFactory;
import io.github.batchnorm4j.models.ModelSpec;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.train.StateDicts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A trained model read back from {@code bn4j train}'s output: {@code model.safetensors} (PyTorch keys) or
 * {@code checkpoint.safetensors} (keys under {@code model.}, optimizer state ignored), or the run folder holding
 * them. The architecture comes from the {@code run.*} metadata; the number of classes from the classifier's
 * weight; the input shape from the caller (the data, or an option). Loading is strict: a state whose keys or shapes
 * do not match the rebuilt model is rejected with the full list of mismatches.
 *
 * @param mean the input normalisation {@code (x/255 - mean) / std} the model was trained with
 */
record SavedModel(Module model, ModelSpec spec, float mean, float std, Path file) {

    /** The file to read: {@code path} itself, or in a folder its model.safetensors, else its checkpoint. */
    static Path resolve(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            for (String name : new String[] {"model.safetensors", "checkpoint.safetensors"}) {
                if (Files.isRegularFile(path.resolve(name))) {
                    return path.resolve(name);
                }
            }
            throw new IOException("Expected model.safetensors or checkpoint.safetensors in " + path + ", got neither");
        }
        if (!Files.isRegularFile(path)) {
            throw new IOException("Expected a checkpoint file or run folder, got no such file " + path);
        }
        return path;
    }

    /** Reads {@code path} and rebuilds its model for inputs of shape {@code input} ({@code [C, H, W]}). */
    static SavedModel load(Path path, int[] input) throws IOException {
        Path file = resolve(path);
        SafeTensors.Contents c = SafeTensors.read(file);
        Map<String, String> meta = c.metadata();
        Map<String, SafeTensors.Entry> state = modelState(c.tensors());
        ModelSpec spec = spec(file, meta, input, classes(file, state));
        Module model = ModelFactory.build(spec, new SplittableRandom(0));
        try {
            StateDicts.load(model, state);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + " does not fit " + spec.model() + "/" + spec.norm() + "/"
                    + spec.activation() + " (width " + spec.width() + ", input " + shape(spec.input()) + "): "
                    + e.getMessage(), e);
        }
        model.eval();
        return new SavedModel(model, spec, number(file, meta, "normalization.mean"),
                number(file, meta, "normalization.std"), file);
    }

    /** The model's entries: all keys of a model file, the {@code model.}-prefixed ones of a checkpoint. */
    private static Map<String, SafeTensors.Entry> modelState(Map<String, SafeTensors.Entry> tensors) {
        boolean checkpoint = tensors.keySet().stream().anyMatch(k -> k.startsWith("optimizer."))
                || (!tensors.isEmpty() && tensors.keySet().stream().allMatch(k -> k.startsWith("model.")));
        if (!checkpoint) {
            return tensors;
        }
        Map<String, SafeTensors.Entry> out = new LinkedHashMap<>();
        tensors.forEach((k, v) -> {
            if (k.startsWith("model.")) {
                out.put(k.substring("model.".length()), v);
            }
        });
        return out;
    }

    /** Rows of the classifier: the weight of the last top-level layer ({@code <largest index>.weight}). */
    private static int classes(Path file, Map<String, SafeTensors.Entry> state) {
        int best = -1;
        int rows = -1;
        for (Map.Entry<String, SafeTensors.Entry> e : state.entrySet()) {
            String[] parts = e.getKey().split("\\.");
            if (parts.length == 2 && parts[1].equals("weight") && parts[0].matches("\\d{1,6}")
                    && e.getValue().shape().length == 2 && Integer.parseInt(parts[0]) > best) {
                best = Integer.parseInt(parts[0]);
                rows = e.getValue().shape()[0];
            }
        }
        if (rows < 0) {
            throw new IllegalArgumentException("Expected a classifier weight '<index>.weight' of shape [classes, features]"
                    + " in " + file + ", got keys " + state.keySet());
        }
        return rows;
    }

    private static ModelSpec spec(Path file, Map<String, String> meta, int[] input, int classes) {
        String model = meta.get("run.model");
        String norm = meta.get("run.norm");
        String activation = meta.get("run.activation");
        String width = meta.get("run.width");
        if (model == null || norm == null || activation == null || width == null) {
            throw new IllegalArgumentException("Expected run.model, run.norm, run.activation and run.width in the"
                    + " metadata of " + file + " (written by bn4j train), got " + meta.keySet());
        }
        int w;
        try {
            w = Integer.parseInt(width);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Expected an integer run.width in " + file + ", got " + width, e);
        }
        int resolved = w > 0 ? w : ModelSpec.of(model, norm, activation).width();
        return new ModelSpec(model, norm, activation, resolved, input, classes);
    }

    private static float number(Path file, Map<String, String> meta, String key) {
        String v = meta.get(key);
        try {
            return Float.parseFloat(v);
        } catch (NullPointerException | NumberFormatException e) {
            throw new IllegalArgumentException("Expected a number " + key + " in the metadata of " + file + ", got "
                    + v, e);
        }
    }

    /** Parses {@code CxHxW}. */
    static int[] parseShape(String s) {
        String[] p = s.split("x");
        try {
            if (p.length == 3) {
                int[] shape = {Integer.parseInt(p[0]), Integer.parseInt(p[1]), Integer.parseInt(p[2])};
                if (shape[0] > 0 && shape[1] > 0 && shape[2] > 0) {
                    return shape;
                }
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("Expected --input CxHxW of positive sizes such as 1x28x28, got " + s);
    }

    static String shape(int[] s) {
        return s[0] + "x" + s[1] + "x" + s[2];
    }
}
