package io.github.batchnorm4j.models;

import io.github.batchnorm4j.io.Json;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A model described as JSON in PyTorch's module vocabulary (snake_case):
 * {@code {"input": [784], "layers": [{"type": "linear", "out": 64}, {"type": "batch_norm"}, {"type": "relu"},
 * {"type": "linear", "out": 10}]}}. The layers form an {@code nn.Sequential}: layer {@code i}'s parameters are
 * the state keys {@code i.weight}, {@code i.bias}, ... Shapes follow from {@code input} ({@code [features]} or
 * {@code [C, H, W]}; when absent, from the data). {@link ModelBuilder} lists the layer types and their fields.
 *
 * <p>A string value that is exactly {@code ${name}} or {@code ${k*name}} is a variable, replaced before the
 * layers are read: {@code classes} (the data's class count), and in the built-in models {@code width},
 * {@code norm} and {@code activation} ({@code bn4j train --width --norm --activation}). The built-in models
 * {@code mlp}, {@code cnn} and {@code resnet} are such files, shipped as resources ({@link #builtin}).
 *
 * <p>Every fault is reported with the JSON path of the value ({@code $.layers[2].kernel}) and what was expected.
 */
public final class ModelFile {
    /** Most layers a model file may list (a bound on what a file can make us build). */
    public static final int MAX_LAYERS = 1000;
    /** Largest model file read, in bytes. */
    public static final long MAX_BYTES = 1 << 20;
    public static final List<String> BUILTINS = List.of("mlp", "cnn", "resnet");
    private static final Pattern VARIABLE = Pattern.compile("\\$\\{(?:(\\d{1,6})\\*)?([a-z_]{1,32})}");
    private static final Pattern AT_CHARACTER = Pattern.compile("(.*) at character (\\d+)$");

    private final String source;
    private final Map<String, Object> root;

    private ModelFile(String source, Map<String, Object> root) {
        this.source = source;
        this.root = root;
    }

    /** Reads and parses {@code file} (syntax only; the layers are checked by {@link #build}). */
    public static ModelFile read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException("Expected a model file (JSON), got no such file " + file);
        }
        if (Files.size(file) > MAX_BYTES) {
            throw new IOException(file + ": expected a model file of at most " + MAX_BYTES + " bytes, got "
                    + Files.size(file));
        }
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (CharacterCodingException e) {
            throw new IOException(file + ": expected a model file in UTF-8, got bytes that are not UTF-8");
        }
        return parse(text, file.toString());
    }

    /** Parses {@code text}; {@code source} names it in error messages (a file name). */
    public static ModelFile parse(String text, String source) {
        Object v;
        try {
            v = Json.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": expected valid JSON, got " + where(text, e.getMessage()), e);
        }
        if (!(v instanceof Map<?, ?> m)) {
            throw fault(source, "$", "an object with \"layers\"", v);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> root = (Map<String, Object>) m;
        for (String k : root.keySet()) {
            if (!List.of("input", "layers", "name").contains(k)) {
                throw new IllegalArgumentException(source + ": $." + k + ": unexpected field (a model file has"
                        + " input, layers, name)");
            }
        }
        if (!(root.get("layers") instanceof List<?> layers)) {
            throw fault(source, "$.layers", "a list of layers", root.get("layers"));
        }
        if (layers.isEmpty() || layers.size() > MAX_LAYERS) {
            throw new IllegalArgumentException(source + ": $.layers: expected 1 to " + MAX_LAYERS + " layers, got "
                    + layers.size());
        }
        return new ModelFile(source, root);
    }

    /** The built-in model {@code name} ({@code mlp}, {@code cnn}, {@code resnet}), with its variables unset. */
    public static ModelFile builtin(String name) {
        if (!BUILTINS.contains(name)) {
            throw new IllegalArgumentException("Expected a built-in model " + String.join("|", BUILTINS) + ", got "
                    + name);
        }
        try (InputStream in = ModelFile.class.getResourceAsStream(name + ".json")) {
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), "built-in model " + name);
        } catch (IOException | NullPointerException e) {
            throw new IllegalStateException("the built-in model file " + name + ".json is missing", e);
        }
    }

    /** The file's {@code name}, or null. */
    public String name() {
        return root.get("name") instanceof String s ? s : null;
    }

    /** Where it came from (for messages). */
    public String source() {
        return source;
    }

    /** The declared input shape, or null when absent (then the data decides). */
    public int[] input() {
        if (!root.containsKey("input")) {
            return null;
        }
        if (!(root.get("input") instanceof List<?> l) || l.isEmpty() || l.size() > 3) {
            throw fault(source, "$.input", "[features] or [channels, height, width]", root.get("input"));
        }
        int[] shape = new int[l.size()];
        for (int k = 0; k < shape.length; k++) {
            if (!(l.get(k) instanceof Long n) || n <= 0 || n > 1 << 24) {
                throw fault(source, "$.input[" + k + "]", "a positive integer", l.get(k));
            }
            shape[k] = (int) (long) n;
        }
        if (shape.length == 2) {
            throw fault(source, "$.input", "[features] or [channels, height, width]", l);
        }
        return shape;
    }

    /** This file with {@code input} set to {@code shape} (when the file has none, or to resolve variables). */
    public ModelFile withInput(int[] shape) {
        Map<String, Object> m = new LinkedHashMap<>(root);
        List<Object> in = new ArrayList<>();
        for (int d : shape) {
            in.add((long) d);
        }
        m.put("input", in);
        return new ModelFile(source, m);
    }

    /**
     * This file with every variable replaced by {@code values} (String or Long values; {@code ${k*name}} needs a
     * Long). A variable without a value is an error naming its path.
     */
    public ModelFile withVariables(Map<String, Object> values) {
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) substitute(root, "$", values);
        return new ModelFile(source, m);
    }

    /** The variable names used in this file. */
    public List<String> variables() {
        List<String> out = new ArrayList<>();
        collect(root, out);
        return out;
    }

    private static void collect(Object node, List<String> out) {
        if (node instanceof String s) {
            Matcher mt = VARIABLE.matcher(s);
            if (mt.matches() && !out.contains(mt.group(2))) {
                out.add(mt.group(2));
            }
        } else if (node instanceof Map<?, ?> m) {
            m.values().forEach(v -> collect(v, out));
        } else if (node instanceof List<?> l) {
            l.forEach(v -> collect(v, out));
        }
    }

    private Object substitute(Object node, String path, Map<String, Object> values) {
        if (node instanceof String s) {
            Matcher mt = VARIABLE.matcher(s);
            if (!mt.matches()) {
                return s;
            }
            Object v = values.get(mt.group(2));
            if (v == null) {
                throw new IllegalArgumentException(source + ": " + path + ": expected a variable with a value "
                        + values.keySet() + ", got " + s);
            }
            if (mt.group(1) != null) {
                if (!(v instanceof Long n)) {
                    throw new IllegalArgumentException(source + ": " + path + ": expected a numeric variable in " + s
                            + ", got " + mt.group(2) + " = " + v);
                }
                return Long.parseLong(mt.group(1)) * n;
            }
            return v;
        }
        if (node instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            m.forEach((k, v) -> out.put((String) k, substitute(v, path + "." + k, values)));
            return out;
        }
        if (node instanceof List<?> l) {
            List<Object> out = new ArrayList<>();
            for (int k = 0; k < l.size(); k++) {
                out.add(substitute(l.get(k), path + "[" + k + "]", values));
            }
            return out;
        }
        return node;
    }

    /** The layer objects (unchecked maps; {@link ModelBuilder} checks them). */
    List<Object> layers() {
        return (List<Object>) root.get("layers");
    }

    /** Builds the model; see {@link ModelBuilder#build}. */
    public ModelBuilder.Built build(ModelBuilder.Options options) {
        return new ModelBuilder(this, options).build();
    }

    /** The file as compact JSON (stored in checkpoints, so a saved model rebuilds from its metadata alone). */
    public String toJson() {
        return Json.write(root);
    }

    static IllegalArgumentException fault(String source, String path, String expected, Object got) {
        return new IllegalArgumentException(source + ": " + path + ": expected " + expected + ", got " + show(got));
    }

    /** A JSON value as it reads in a file, shortened. */
    static String show(Object v) {
        if (v == null) {
            return "null";
        }
        String s = v instanceof String str ? Json.quote(str) : Json.write(v);
        return s.length() > 60 ? s.substring(0, 57) + "..." : s;
    }

    /** Turns the reader's "... at character N" into "... at line L, column C". */
    private static String where(String text, String message) {
        Matcher mt = AT_CHARACTER.matcher(message);
        if (!mt.matches()) {
            return message;
        }
        int at = Integer.parseInt(mt.group(2));
        int line = 1;
        int col = 1;
        for (int k = 0; k < Math.min(at, text.length()); k++) {
            if (text.charAt(k) == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        return mt.group(1) + " at line " + line + ", column " + col;
    }
}
