package io.github.batchnorm4j.models;

import java.util.List;
import java.util.Map;

/**
 * Typed, checked access to the fields of one layer object of a {@link ModelFile}; every fault names the JSON path
 * ({@code $.layers[3].kernel}) and what was expected.
 */
final class LayerFields {
    private final String source;
    final String path;
    final String type;
    private final Map<String, Object> fields;

    LayerFields(String source, String path, String type, Map<String, Object> fields) {
        this.source = source;
        this.path = path;
        this.type = type;
        this.fields = fields;
    }

    /** Rejects any field not in {@code allowed} ({@code type} is always allowed). */
    LayerFields allow(String... allowed) {
        List<String> ok = List.of(allowed);
        for (String k : fields.keySet()) {
            if (!k.equals("type") && !ok.contains(k)) {
                throw new IllegalArgumentException(source + ": " + path + "." + k + ": unexpected field for " + type
                        + " (it takes " + (ok.isEmpty() ? "no fields" : String.join(", ", ok)) + ")");
            }
        }
        return this;
    }

    boolean has(String name) {
        return fields.containsKey(name);
    }

    /** A required integer in {@code [min, max]}. */
    int integer(String name, int min, int max) {
        if (!fields.containsKey(name)) {
            throw new IllegalArgumentException(source + ": " + path + ": expected field \"" + name + "\" for " + type
                    + ", got none");
        }
        return integer(name, min, max, 0);
    }

    /** An optional integer in {@code [min, max]}. */
    int integer(String name, int min, int max, int otherwise) {
        if (!fields.containsKey(name)) {
            return otherwise;
        }
        Object v = fields.get(name);
        if (!(v instanceof Long n) || n < min || n > max) {
            throw fault(name, "an integer in [" + min + ", " + max + "]", v);
        }
        return (int) (long) n;
    }

    /** An optional number in {@code [min, max]}. */
    double number(String name, double min, double max, double otherwise) {
        if (!fields.containsKey(name)) {
            return otherwise;
        }
        Object v = fields.get(name);
        if (!(v instanceof Number n) || !(n.doubleValue() >= min && n.doubleValue() <= max)) {
            throw fault(name, "a number in [" + min + ", " + max + "]", v);
        }
        return n.doubleValue();
    }

    /** An optional momentum: a number in [0, 1], or null for the cumulative average. */
    Double momentum(double otherwise) {
        if (!fields.containsKey("momentum")) {
            return otherwise;
        }
        Object v = fields.get("momentum");
        if (v == null) {
            return null;
        }
        if (!(v instanceof Number n) || !(n.doubleValue() >= 0 && n.doubleValue() <= 1)) {
            throw fault("momentum", "a number in [0, 1] or null (cumulative average)", v);
        }
        return n.doubleValue();
    }

    boolean bool(String name, boolean otherwise) {
        if (!fields.containsKey(name)) {
            return otherwise;
        }
        Object v = fields.get(name);
        if (!(v instanceof Boolean b)) {
            throw fault(name, "true or false", v);
        }
        return b;
    }

    /** An optional string, one of {@code allowed} when that is not empty. */
    String string(String name, String otherwise, List<String> allowed) {
        if (!fields.containsKey(name)) {
            return otherwise;
        }
        Object v = fields.get(name);
        if (!(v instanceof String s) || (!allowed.isEmpty() && !allowed.contains(s))) {
            throw fault(name, allowed.isEmpty() ? "a string" : "one of " + String.join(", ", allowed), v);
        }
        return s;
    }

    Object raw(String name) {
        return fields.get(name);
    }

    IllegalArgumentException fault(String name, String expected, Object got) {
        return ModelFile.fault(source, path + "." + name, expected, got);
    }

    /** A fault of the layer as a whole (its input shape, its place). */
    IllegalArgumentException fault(String what) {
        return new IllegalArgumentException(source + ": " + path + ": " + what);
    }
}
