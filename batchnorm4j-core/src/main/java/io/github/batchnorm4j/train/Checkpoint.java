package io.github.batchnorm4j.train;

import io.github.batchnorm4j.io.SafeTensors;
import io.github.batchnorm4j.io.SafeTensors.Entry;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.optim.Optimizer;
import io.github.batchnorm4j.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A resumable training checkpoint in one safetensors file, written atomically so that a crash or a diverged run
 * never leaves a half-written one: the model state under {@code model.<PyTorch key>}, the optimizer state under
 * {@code optimizer.<param>.<slot>}, and in the metadata {@code formatVersion}, the trainer position
 * ({@code step}: optimizer steps done; the epoch and batch follow from it), the optimizer kind and step count,
 * and whatever the caller adds (the run configuration, the seed). No random-generator state is needed: the data
 * order is a pure function of {@code (seed, epoch)} and the models draw no random numbers while training.
 */
public final class Checkpoint {
    public static final String FORMAT_VERSION = "1";
    public static final String FILE_NAME = "checkpoint.safetensors";
    static final String MODEL = "model.";
    static final String OPTIMIZER = "optimizer.";

    private Checkpoint() {}

    /** Saves model, optimizer and position; {@code extra} metadata is stored as given. */
    public static void save(Path file, Module model, Optimizer opt, long step, Map<String, String> extra)
            throws IOException {
        Map<String, Entry> tensors = new LinkedHashMap<>();
        StateDicts.of(model).forEach((k, v) -> tensors.put(MODEL + k, v));
        for (Map.Entry<String, Tensor> e : opt.state().entrySet()) {
            tensors.put(OPTIMIZER + e.getKey(), StateDicts.f32(e.getValue()));
        }
        Map<String, String> meta = new LinkedHashMap<>(extra);
        meta.put("formatVersion", FORMAT_VERSION);
        meta.put("step", Long.toString(step));
        meta.put("optimizer", opt.kind());
        meta.put("optimizerSteps", Long.toString(opt.steps()));
        SafeTensors.write(file, tensors, meta);
    }

    /** Reads only the metadata and checks the format version (to rebuild the model before {@link #restore}). */
    public static Map<String, String> metadata(Path file) throws IOException {
        Map<String, String> meta = SafeTensors.read(file).metadata();
        check(file, meta);
        return meta;
    }

    private static void check(Path file, Map<String, String> meta) throws IOException {
        String v = meta.get("formatVersion");
        if (!FORMAT_VERSION.equals(v)) {
            throw new IOException(file + ": expected checkpoint formatVersion " + FORMAT_VERSION + ", got " + v);
        }
        if (meta.get("step") == null || meta.get("optimizerSteps") == null) {
            throw new IOException(file + ": expected 'step' and 'optimizerSteps' in the metadata, got " + meta.keySet());
        }
    }

    /** Restores model and optimizer from {@code file}; returns the metadata (position and caller's entries). */
    public static Map<String, String> restore(Path file, Module model, Optimizer opt) throws IOException {
        SafeTensors.Contents c = SafeTensors.read(file);
        check(file, c.metadata());
        if (!opt.kind().equals(c.metadata().get("optimizer"))) {
            throw new IOException(file + ": expected optimizer " + opt.kind() + ", got " + c.metadata().get("optimizer"));
        }
        Map<String, Entry> modelState = new LinkedHashMap<>();
        Map<String, float[]> optState = new LinkedHashMap<>();
        for (Map.Entry<String, Entry> e : c.tensors().entrySet()) {
            if (e.getKey().startsWith(MODEL)) {
                modelState.put(e.getKey().substring(MODEL.length()), e.getValue());
            } else if (e.getKey().startsWith(OPTIMIZER)) {
                optState.put(e.getKey().substring(OPTIMIZER.length()), e.getValue().toFloats());
            } else {
                throw new IOException(file + ": expected keys starting with 'model.' or 'optimizer.', got '"
                        + e.getKey() + "'");
            }
        }
        try {
            StateDicts.load(model, modelState);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
        long optSteps;
        try {
            optSteps = Long.parseLong(c.metadata().get("optimizerSteps"));
        } catch (NumberFormatException e) {
            throw new IOException(file + ": expected an integer optimizerSteps, got " + c.metadata().get("optimizerSteps"));
        }
        try {
            opt.loadState(optState, optSteps);
        } catch (IOException e) {
            throw new IOException(file + ": " + e.getMessage(), e); // name the file, as every other error here
        }
        return c.metadata();
    }
}
