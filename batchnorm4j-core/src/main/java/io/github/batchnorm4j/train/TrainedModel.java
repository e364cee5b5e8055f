package io.github.batchnorm4j.train;

import io.github.batchnorm4j.data.DataInfo;
import io.github.batchnorm4j.data.DataSet;
import io.github.batchnorm4j.infer.Predictor;
import io.github.batchnorm4j.io.SafeTensors;
import io.github.batchnorm4j.models.ModelBuilder;
import io.github.batchnorm4j.models.ModelFactory;
import io.github.batchnorm4j.models.ModelFile;
import io.github.batchnorm4j.models.ModelSpec;
import io.github.batchnorm4j.nn.Module;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A trained model read back from {@code bn4j train}'s output: {@code model.safetensors} (PyTorch keys) or
 * {@code checkpoint.safetensors} (keys under {@code model.}, optimizer state ignored), or the run folder holding
 * them. The architecture is the model file stored in the metadata ({@code model.file}); checkpoints written before
 * model files are rebuilt from their {@code run.*} metadata, with the classes from the classifier's weight and
 * the input shape from the caller. Loading is strict: a state whose keys or shapes do not match the rebuilt model
 * is rejected with the full list of mismatches. The model is returned in eval mode.
 *
 * @param description  what it is, for messages ({@code mlp/bn/relu}, or the model file's name)
 * @param input        the per-item input shape the model takes
 * @param mean         the input normalisation {@code (x/255 - mean) / std} of images (0 and 1 for tables)
 * @param featureMean  a table's per-feature standardisation {@code (x - featureMean) / featureStd}, else null
 * @param data         the data description of the run (class names, CSV columns)
 */
public record TrainedModel(Module model, String description, int[] input, int classes, float mean, float std,
                           float[] featureMean, float[] featureStd, DataInfo data, Path file) {

    /**
     * The model prepared for serving ({@link Predictor}: BN folded, Conv2d + ReLU fused, buffers kept between
     * calls); inputs are prepared as for {@link #model()}. The model itself is not changed.
     */
    public Predictor predictor() {
        return Predictor.of(model);
    }

    /** The file to read: {@code path} itself, or in a folder its model.safetensors, else its checkpoint. */
    public static Path resolve(Path path) throws IOException {
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

    /**
     * Reads {@code path} and rebuilds its model; {@code input} ({@code [C, H, W]}) is used only for checkpoints
     * without a stored model file (null: 1x28x28).
     */
    public static TrainedModel load(Path path, int[] input) throws IOException {
        Path file = resolve(path);
        SafeTensors.Contents c = SafeTensors.read(file);
        Map<String, String> meta = c.metadata();
        Map<String, SafeTensors.Entry> state = modelState(c.tensors());
        Module model;
        String description;
        int[] in;
        int classes;
        String stored = meta.get(TrainingRun.MODEL_FILE_KEY);
        if (stored != null) {
            ModelFile mf = ModelFile.parse(stored, file + " (model file)");
            ModelBuilder.Built b = mf.build(new ModelBuilder.Options(null, 0, new SplittableRandom(0),
                    NormVariantConfig.fromMetadata(meta), null));
            model = b.model();
            in = b.input();
            classes = b.output()[0];
            String run = meta.get("run.model");
            description = RunConfig.MODEL_FILE.equals(run) ? (mf.name() != null ? mf.name() : "model file")
                    : run + "/" + meta.get("run.norm") + "/" + meta.get("run.activation");
        } else {
            ModelSpec spec = spec(file, meta, input == null ? new int[] {1, 28, 28} : input, classes(file, state));
            model = ModelFactory.build(spec, new SplittableRandom(0));
            in = spec.input();
            classes = spec.classes();
            description = spec.model() + "/" + spec.norm() + "/" + spec.activation();
        }
        try {
            StateDicts.load(model, state);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + " does not fit " + description + " (input "
                    + Arrays.toString(in) + "): " + e.getMessage(), e);
        }
        model.eval();
        return new TrainedModel(model, description, in, classes, number(file, meta, "normalization.mean"),
                number(file, meta, "normalization.std"), floats(file, meta, "normalization.feature_mean"),
                floats(file, meta, "normalization.feature_std"), DataInfo.fromMetadata(meta), file);
    }

    /**
     * {@code set} as this model reads it: a table standardised with the training statistics, images seen with the
     * model's input shape (same size).
     */
    public DataSet prepare(DataSet set) {
        DataSet s = set;
        if (s.isFeatures()) {
            if (featureMean == null) {
                throw new IllegalArgumentException("Expected image data for " + description + " (trained on "
                        + data.kind() + "), got a table");
            }
            s = s.standardized(featureMean, featureStd);
        } else if (featureMean != null) {
            throw new IllegalArgumentException("Expected a CSV table for " + description + " (trained on one), got"
                    + " images");
        }
        if (!Arrays.equals(s.itemShape(), input)) {
            if (s.itemSize() != Arrays.stream(input).reduce(1, (a, b) -> a * b)) {
                throw new IllegalArgumentException("Expected items of " + Arrays.toString(input) + " for "
                        + description + ", got " + Arrays.toString(s.itemShape()));
            }
            s = s.withItemShape(input);
        }
        return s;
    }

    /** The metadata of the file {@link #resolve} finds for {@code path}. */
    public static Map<String, String> metadata(Path path) throws IOException {
        return SafeTensors.read(resolve(path)).metadata();
    }

    /** The input shape of the stored model file in {@code meta}, or null (none stored, or it declares none). */
    public static int[] storedInput(Map<String, String> meta) {
        String stored = meta.get(TrainingRun.MODEL_FILE_KEY);
        return stored == null ? null : ModelFile.parse(stored, "model file").input();
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

    private static float[] floats(Path file, Map<String, String> meta, String key) {
        String v = meta.get(key);
        if (v == null) {
            return null;
        }
        try {
            String[] p = v.split(",");
            float[] out = new float[p.length];
            for (int k = 0; k < p.length; k++) {
                out[k] = Float.parseFloat(p[k]);
            }
            return out;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Expected comma-separated numbers " + key + " in the metadata of "
                    + file + ", got " + v, e);
        }
    }

    /** Parses {@code CxHxW}. */
    public static int[] parseShape(String s) {
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
}
