package io.github.batchnorm4j.models;

import io.github.batchnorm4j.train.NormVariantConfig;
import io.github.batchnorm4j.train.RunConfig;
import io.github.batchnorm4j.train.StateDicts;
import io.github.batchnorm4j.train.TrainedModel;
import io.github.batchnorm4j.train.TrainingRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Saved models as a library API, in the one format {@code bn4j train}, {@code predict} and {@code export} use: a
 * safetensors file holding the model's state under PyTorch's {@code state_dict} keys ({@code 0.weight},
 * {@code 1.running_mean}, ...) and, in its metadata, the model file that rebuilds the architecture
 * ({@code model.file}, compact JSON with the input shape made explicit) and the input normalisation
 * ({@code normalization.mean}, {@code normalization.std}: images are read as {@code (x/255 − mean)/std}).
 *
 * <pre>{@code
 * ModelBuilder.Built built = ModelFile.read(Path.of("my-model.json"))
 *         .build(new ModelBuilder.Options(new int[] {784}, 10, new SplittableRandom(0)));
 * ... train built.model() ...
 * Models.save(Path.of("run/model.safetensors"), built);
 * TrainedModel back = Models.load(Path.of("run"));      // eval mode, same outputs bit for bit
 * }</pre>
 */
public final class Models {
    private Models() {}

    /**
     * Reads a model written by {@link #save} or {@code bn4j train}: a {@code .safetensors} file, or a run folder
     * (its {@code model.safetensors}, else its {@code checkpoint.safetensors}). The model comes back in eval mode.
     * A state whose keys or shapes do not fit the stored architecture is an error listing every mismatch.
     */
    public static TrainedModel load(Path path) throws IOException {
        return TrainedModel.load(path, null);
    }

    /**
     * {@link #load(Path)} for checkpoints of early {@code bn4j train} versions, which stored no model file: their
     * built-in model is rebuilt for {@code input} ({@code [C, H, W]}; null: 1x28x28). Ignored for other files.
     */
    public static TrainedModel load(Path path, int[] input) throws IOException {
        return TrainedModel.load(path, input);
    }

    /** {@link #save(Path, ModelBuilder.Built, float, float)} with mean 0 and std 1 (images read as x/255). */
    public static void save(Path file, ModelBuilder.Built built) throws IOException {
        save(file, built, 0f, 1f);
    }

    /**
     * Writes {@code built}'s model (its current parameters and buffers, whatever its mode) and architecture to
     * {@code file} atomically (temp file + rename); {@code file} a folder means {@code file/model.safetensors}.
     * Batch Renorm and Ghost BN layers without options of their own are rebuilt with the library's defaults.
     */
    public static void save(Path file, ModelBuilder.Built built, float mean, float std) throws IOException {
        if (!(std > 0) || !Float.isFinite(std) || !Float.isFinite(mean)) {
            throw new IllegalArgumentException("Expected a finite mean and a positive std, got " + mean + " and "
                    + std);
        }
        Path target = Files.isDirectory(file) ? file.resolve("model.safetensors") : file;
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("run.model", RunConfig.MODEL_FILE);
        meta.put(TrainingRun.MODEL_FILE_KEY, built.file().toJson());
        meta.put("normalization.mean", Float.toString(mean));
        meta.put("normalization.std", Float.toString(std));
        meta.putAll(NormVariantConfig.DEFAULT.toMetadata());
        StateDicts.save(built.model(), target, meta);
    }
}
