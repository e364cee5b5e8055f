package io.github.batchnorm4j.models;

import java.util.List;
import java.util.Map;

/**
 * What {@link ModelFactory} builds: an architecture ({@code mlp}, {@code cnn}, {@code resnet}), a normalization
 * ({@code bn}, {@code none}, {@code ln}, {@code gn}), an activation ({@code relu}, {@code sigmoid}), a width (hidden
 * units of the MLP, channels of the first convolution otherwise), the input {@code [C, H, W]} and the classes.
 */
public record ModelSpec(String model, String norm, String activation, int width, int[] input, int classes) {
    public static final List<String> MODELS = List.of("mlp", "cnn", "resnet");
    public static final List<String> NORMS = List.of("bn", "none", "ln", "gn");
    public static final List<String> ACTIVATIONS = List.of("relu", "sigmoid");

    public ModelSpec {
        check("model", model, MODELS);
        check("norm", norm, NORMS);
        check("activation", activation, ACTIVATIONS);
        if (width <= 0) {
            throw new IllegalArgumentException("Expected a width > 0, got " + width);
        }
        if (input.length != 3 || input[0] <= 0 || input[1] <= 0 || input[2] <= 0) {
            throw new IllegalArgumentException("Expected an input shape [C, H, W] of positive sizes, got "
                    + java.util.Arrays.toString(input));
        }
        if (classes < 2) {
            throw new IllegalArgumentException("Expected at least 2 classes, got " + classes);
        }
        input = input.clone();
        if (model.equals("cnn") && (input[1] % 4 != 0 || input[2] % 4 != 0)) {
            throw new IllegalArgumentException("Expected an input height and width divisible by 4 for the cnn's two"
                    + " 2x2 pools, got " + input[1] + "x" + input[2]);
        }
        if (model.equals("resnet") && !activation.equals("relu")) {
            throw new IllegalArgumentException("Expected activation relu for resnet (its blocks use ReLU), got "
                    + activation);
        }
    }

    /** Fashion-MNIST-shaped defaults: 1x28x28 input, 10 classes, width 100 (mlp), 32 (cnn) or 16 (resnet). */
    public static ModelSpec of(String model, String norm, String activation) {
        int width = switch (model) {
            case "mlp" -> 100;
            case "cnn" -> 32;
            default -> 16;
        };
        return new ModelSpec(model, norm, activation, width, new int[] {1, 28, 28}, 10);
    }

    private static void check(String what, String value, List<String> allowed) {
        if (!allowed.contains(value)) {
            throw new IllegalArgumentException("Expected " + what + " one of " + String.join("|", allowed) + ", got "
                    + value);
        }
    }

    /** The spec as metadata strings (stored in checkpoints to rebuild the model). */
    public Map<String, String> toMetadata() {
        return Map.of("model", model, "norm", norm, "activation", activation, "width", Integer.toString(width),
                "input", input[0] + "x" + input[1] + "x" + input[2], "classes", Integer.toString(classes));
    }

    /** Inverse of {@link #toMetadata()}. */
    public static ModelSpec fromMetadata(Map<String, String> m) {
        try {
            String[] in = m.get("input").split("x");
            return new ModelSpec(m.get("model"), m.get("norm"), m.get("activation"), Integer.parseInt(m.get("width")),
                    new int[] {Integer.parseInt(in[0]), Integer.parseInt(in[1]), Integer.parseInt(in[2])},
                    Integer.parseInt(m.get("classes")));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("Expected model metadata (model, norm, activation, width, input, classes),"
                    + " got " + m, e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ModelSpec s && s.model.equals(model) && s.norm.equals(norm) && s.activation.equals(activation)
                && s.width == width && java.util.Arrays.equals(s.input, input) && s.classes == classes;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(model, norm, activation, width, java.util.Arrays.hashCode(input), classes);
    }

    @Override
    public int[] input() {
        return input.clone();
    }
}
