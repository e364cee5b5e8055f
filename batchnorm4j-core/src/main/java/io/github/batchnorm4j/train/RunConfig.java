package io.github.batchnorm4j.train;

import io.github.batchnorm4j.models.ModelSpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything that defines a training run, stored as strings in each checkpoint's metadata so that
 * {@code --resume} rebuilds the identical model, optimizer, schedule and data pipeline.
 *
 * @param width           model width, 0 for the model's default
 * @param optimizer       {@code sgd}, {@code adam} or {@code adamw}
 * @param momentum        SGD momentum (ignored by Adam)
 * @param noDecayNormBias exclude norm gamma/beta and biases from weight decay
 * @param schedule        {@code constant}, {@code step} or {@code cosine}
 * @param stepSize        steps between decays of the {@code step} schedule
 * @param epochs          run length in epochs, used when {@code steps} is 0
 * @param validation      items of the training file held out for validation
 * @param data            data folder ({@code --data}), or null to use BN4J_DATA / Debian's folder
 * @param accumulate      micro-batches of {@code batchSize} per optimizer step ({@code --accumulate}, 1: none)
 */
public record RunConfig(String model, String norm, String activation, int width, String optimizer, double lr,
                        double momentum, boolean nesterov, double weightDecay, boolean noDecayNormBias,
                        String schedule, long warmupSteps, long stepSize, double gamma, int batchSize, int epochs,
                        long steps, long seed, int validation, boolean dropLast, String data, int accumulate) {
    public static final List<String> OPTIMIZERS = List.of("sgd", "adam", "adamw");
    public static final List<String> SCHEDULES = List.of("constant", "step", "cosine");
    /** The {@code model} of a run whose model comes from a model file (stored as {@code model.file} metadata). */
    public static final String MODEL_FILE = "file";

    public RunConfig {
        if (!OPTIMIZERS.contains(optimizer)) {
            throw new IllegalArgumentException("Expected optimizer one of sgd|adam|adamw, got " + optimizer);
        }
        if (!SCHEDULES.contains(schedule)) {
            throw new IllegalArgumentException("Expected schedule one of constant|step|cosine, got " + schedule);
        }
        if (batchSize <= 0) {
            throw new IllegalArgumentException("Expected a batch size > 0, got " + batchSize);
        }
        if (steps < 0 || epochs < 0 || (steps == 0 && epochs == 0)) {
            throw new IllegalArgumentException("Expected epochs > 0 or steps > 0, got epochs " + epochs + ", steps "
                    + steps);
        }
        if (validation < 0) {
            throw new IllegalArgumentException("Expected a validation size >= 0, got " + validation);
        }
        if (!(lr > 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("Expected a learning rate > 0, got " + lr);
        }
        if (width < 0) {
            throw new IllegalArgumentException("Expected a width >= 0 (0: the model's default), got " + width);
        }
        if (accumulate < 1) {
            throw new IllegalArgumentException("Expected --accumulate >= 1 (micro-batches per optimizer step), got "
                    + accumulate);
        }
        // validates the three names; a model file's layers are checked when it is built
        ModelSpec.of(model.equals(MODEL_FILE) ? "mlp" : model, norm, activation);
    }

    /** Without gradient accumulation (one batch per optimizer step). */
    public RunConfig(String model, String norm, String activation, int width, String optimizer, double lr,
                     double momentum, boolean nesterov, double weightDecay, boolean noDecayNormBias, String schedule,
                     long warmupSteps, long stepSize, double gamma, int batchSize, int epochs, long steps, long seed,
                     int validation, boolean dropLast, String data) {
        this(model, norm, activation, width, optimizer, lr, momentum, nesterov, weightDecay, noDecayNormBias, schedule,
                warmupSteps, stepSize, gamma, batchSize, epochs, steps, seed, validation, dropLast, data, 1);
    }

    /**
     * Total optimizer steps for {@code batchesPerEpoch} batches (micro-batches with {@code accumulate > 1}): an
     * epoch has {@code floor(batchesPerEpoch / accumulate)} optimizer steps.
     */
    public long totalSteps(int batchesPerEpoch) {
        return steps > 0 ? steps : (long) epochs * (batchesPerEpoch / accumulate);
    }

    public Map<String, String> toMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("model", model);
        m.put("norm", norm);
        m.put("activation", activation);
        m.put("width", Integer.toString(width));
        m.put("optimizer", optimizer);
        m.put("lr", Double.toString(lr));
        m.put("momentum", Double.toString(momentum));
        m.put("nesterov", Boolean.toString(nesterov));
        m.put("weightDecay", Double.toString(weightDecay));
        m.put("noDecayNormBias", Boolean.toString(noDecayNormBias));
        m.put("schedule", schedule);
        m.put("warmupSteps", Long.toString(warmupSteps));
        m.put("stepSize", Long.toString(stepSize));
        m.put("gamma", Double.toString(gamma));
        m.put("batchSize", Integer.toString(batchSize));
        m.put("epochs", Integer.toString(epochs));
        m.put("steps", Long.toString(steps));
        m.put("seed", Long.toString(seed));
        m.put("validation", Integer.toString(validation));
        m.put("dropLast", Boolean.toString(dropLast));
        if (data != null) {
            m.put("data", data);
        }
        m.put("accumulate", Integer.toString(accumulate));
        Map<String, String> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put("run." + k, v));
        return out;
    }

    public static RunConfig fromMetadata(Map<String, String> meta) {
        try {
            java.util.function.Function<String, String> g = k -> {
                String v = meta.get("run." + k);
                if (v == null) {
                    throw new IllegalArgumentException("missing run." + k);
                }
                return v;
            };
            return new RunConfig(g.apply("model"), g.apply("norm"), g.apply("activation"),
                    Integer.parseInt(g.apply("width")), g.apply("optimizer"), Double.parseDouble(g.apply("lr")),
                    Double.parseDouble(g.apply("momentum")), Boolean.parseBoolean(g.apply("nesterov")),
                    Double.parseDouble(g.apply("weightDecay")), Boolean.parseBoolean(g.apply("noDecayNormBias")),
                    g.apply("schedule"), Long.parseLong(g.apply("warmupSteps")), Long.parseLong(g.apply("stepSize")),
                    Double.parseDouble(g.apply("gamma")), Integer.parseInt(g.apply("batchSize")),
                    Integer.parseInt(g.apply("epochs")), Long.parseLong(g.apply("steps")),
                    Long.parseLong(g.apply("seed")), Integer.parseInt(g.apply("validation")),
                    Boolean.parseBoolean(g.apply("dropLast")), meta.get("run.data"),
                    Integer.parseInt(meta.getOrDefault("run.accumulate", "1"))); // older checkpoints: none
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("Expected a checkpoint with the run configuration (run.* metadata), got "
                    + "an invalid one: " + e.getMessage(), e);
        }
    }

    /** This configuration with {@code count} validation items (a fraction resolved against the data). */
    public RunConfig withValidation(int count) {
        return new RunConfig(model, norm, activation, width, optimizer, lr, momentum, nesterov, weightDecay,
                noDecayNormBias, schedule, warmupSteps, stepSize, gamma, batchSize, epochs, steps, seed, count,
                dropLast, data, accumulate);
    }

    /** This configuration with a different length (for extending a resumed run). */
    public RunConfig withLength(int newEpochs, long newSteps) {
        return new RunConfig(model, norm, activation, width, optimizer, lr, momentum, nesterov, weightDecay,
                noDecayNormBias, schedule, warmupSteps, stepSize, gamma, batchSize, newEpochs, newSteps, seed,
                validation, dropLast, data, accumulate);
    }
}
