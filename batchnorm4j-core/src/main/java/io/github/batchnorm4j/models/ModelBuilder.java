package io.github.batchnorm4j.models;

import io.github.batchnorm4j.nn.AvgPool2d;
import io.github.batchnorm4j.nn.BasicBlock;
import io.github.batchnorm4j.nn.Conv2d;
import io.github.batchnorm4j.nn.Dropout;
import io.github.batchnorm4j.nn.Flatten;
import io.github.batchnorm4j.nn.GlobalAvgPool2d;
import io.github.batchnorm4j.nn.Identity;
import io.github.batchnorm4j.nn.Linear;
import io.github.batchnorm4j.nn.MaxPool2d;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.ReLU;
import io.github.batchnorm4j.nn.Sequential;
import io.github.batchnorm4j.nn.Sigmoid;
import io.github.batchnorm4j.nn.Tanh;
import io.github.batchnorm4j.train.NormVariantConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.IntFunction;
import java.util.random.RandomGenerator;

/**
 * Builds a {@link ModelFile} into a {@link Sequential}, inferring every shape from the input. Layer types and
 * their fields (defaults as PyTorch's):
 * <ul>
 * <li>{@code linear}: {@code out}, {@code bias}; needs a 1-D input {@code [features]};</li>
 * <li>{@code conv2d}: {@code out}, {@code kernel}, {@code stride} (1), {@code padding} (0), {@code bias};</li>
 * <li>norms: {@code batch_norm} ({@code eps} 1e-5, {@code momentum} 0.1 or null, {@code affine},
 *     {@code track_running_stats}), {@code batch_renorm} (also {@code rmax}, {@code dmax}: LIMIT or
 *     "LIMIT:START:END", {@code running_sigma}: variance|sigma), {@code ghost_batch_norm} (also
 *     {@code virtual_batch}), {@code frozen_batch_norm} ({@code eps}), {@code layer_norm}
 *     ({@code normalized_shape}: a suffix of the input shape, default all of it; {@code eps},
 *     {@code elementwise_affine}), {@code group_norm} ({@code groups}, {@code eps}, {@code affine}),
 *     {@code instance_norm} ({@code eps}, {@code momentum}, {@code affine} false, {@code track_running_stats}
 *     false); and {@code norm} with {@code kind} one of bn, brn, ghost, ln, gn, in, none (the names of
 *     {@code bn4j train --norm}: ln on a [C, H, W] input is GroupNorm with one group, gn takes the largest of 8,
 *     4, 2, 1 groups dividing the channels, none is no layer at all);</li>
 * <li>activations {@code relu}, {@code sigmoid}, {@code tanh}, and {@code activation} with {@code kind};</li>
 * <li>{@code max_pool2d}, {@code avg_pool2d}: {@code kernel}, {@code stride} (= kernel);
 *     {@code global_avg_pool2d} ([C, H, W] to [C]); {@code flatten}; {@code dropout} ({@code p} 0.5);
 *     {@code identity};</li>
 * <li>{@code basic_block}: ResNet's residual block, {@code out}, {@code stride} (1), {@code norm} (a kind or a
 *     norm type without options, default batch_norm).</li>
 * </ul>
 * A linear or conv2d layer without an explicit {@code bias} has none when a norm layer follows it (the norm
 * subtracts a mean, and its beta takes the bias's place); the summary says so. The first layer with parameters,
 * when linear or conv2d, skips computing the gradient of the input (nothing needs the gradient of the data).
 * Weights are drawn from {@code rng} in layer order, as PyTorch's constructors do.
 */
public final class ModelBuilder {
    /**
     * The most parameters and buffers a model file may ask for by default (2^28 values, 1 GiB of float32), so that
     * a few bytes of JSON cannot make us allocate without limit; {@link Options#maxParameters} changes it.
     */
    public static final long MAX_PARAMETERS = 1L << 28;
    /** The most values one item may have at any layer (the input and every layer's output), 2^26. */
    public static final long MAX_ITEM_VALUES = 1L << 26;
    static final List<String> NORM_TYPES = List.of("batch_norm", "batch_renorm", "ghost_batch_norm",
            "frozen_batch_norm", "layer_norm", "group_norm", "instance_norm");
    static final List<String> NORM_KINDS = List.of("bn", "brn", "ghost", "ln", "gn", "in", "none");
    static final List<String> ACTIVATIONS = List.of("relu", "sigmoid", "tanh");
    static final List<String> TYPES = List.of("linear", "conv2d", "batch_norm", "batch_renorm", "ghost_batch_norm",
            "frozen_batch_norm", "layer_norm", "group_norm", "instance_norm", "norm", "relu", "sigmoid", "tanh",
            "activation", "max_pool2d", "avg_pool2d", "global_avg_pool2d", "flatten", "dropout", "identity",
            "basic_block");

    /**
     * What a build needs besides the file.
     *
     * @param input             the data's item shape, used when the file declares no input
     * @param classes           the value of the {@code ${classes}} variable (the data's class count)
     * @param variant           defaults of batch_renorm and ghost_batch_norm layers without their own settings
     * @param batchNormOverride when not null, makes every batch_norm, batch_renorm and ghost_batch_norm layer
     *                          that has no options of its own (given the channel count; e.g. a timed BatchNorm)
     * @param maxParameters     the most parameters and buffers (values) the model may hold, checked layer by layer
     *                          before anything of the layer is allocated ({@link #MAX_PARAMETERS} by default)
     */
    public record Options(int[] input, int classes, RandomGenerator rng, NormVariantConfig variant,
                          IntFunction<? extends Module> batchNormOverride, long maxParameters) {
        public Options {
            java.util.Objects.requireNonNull(rng, "rng");
            variant = variant == null ? NormVariantConfig.DEFAULT : variant;
            input = input == null ? null : input.clone();
            if (maxParameters <= 0) {
                throw new IllegalArgumentException("Expected a positive maxParameters, got " + maxParameters);
            }
        }

        public Options(int[] input, int classes, RandomGenerator rng, NormVariantConfig variant,
                       IntFunction<? extends Module> batchNormOverride) {
            this(input, classes, rng, variant, batchNormOverride, MAX_PARAMETERS);
        }

        public Options(int[] input, int classes, RandomGenerator rng) {
            this(input, classes, rng, NormVariantConfig.DEFAULT, null);
        }
    }

    /** One line of the summary: the layer's state-key prefix, type, output shape, parameter count and a note. */
    public record Row(String name, String type, int[] output, long parameters, long buffers, String note) {}

    /**
     * The built model, the file with its input made explicit (what checkpoints store), and the summary rows.
     */
    public record Built(Sequential model, ModelFile file, int[] input, int[] output, List<Row> rows) {
        /** A Keras-like table: layer (type), output shape, parameters, notes; then the totals. */
        public String summary() {
            return ModelSummary.format(this);
        }

        public long parameters() {
            return rows.stream().mapToLong(Row::parameters).sum();
        }
    }

    private final ModelFile file;
    private final Options options;
    private final String source;

    ModelBuilder(ModelFile file, Options options) {
        this.file = file;
        this.options = options;
        this.source = file.source();
    }

    /** A layer object with its resolved type (a norm or activation kind already turned into its layer type). */
    private record Spec(LayerFields fields, String type, String kind) {}

    Built build() {
        int[] input = file.input() != null ? file.input() : options.input();
        if (input == null) {
            throw new IllegalArgumentException(source + ": $.input: expected the input shape (the data gives none)");
        }
        checkItem("$.input", input);
        List<Spec> specs = resolve();
        Sequential seq = new Sequential();
        List<Row> rows = new ArrayList<>();
        int[] shape = input.clone();
        boolean paramsSeen = false;
        long budget = options.maxParameters();
        for (int i = 0; i < specs.size(); i++) {
            Spec s = specs.get(i);
            String next = i + 1 < specs.size() ? specs.get(i + 1).type : null;
            String[] note = {""};
            long asked = values(s, shape);
            if (asked > budget) {
                throw s.fields.fault("expected a model of at most " + options.maxParameters() + " parameters and"
                        + " buffers, got more with this layer (" + asked + " for it)");
            }
            budget -= asked;
            Module m;
            try {
                m = layer(s, shape, next, note);
            } catch (IllegalArgumentException e) {
                // A layer's own constructor names no file; say where in which file it came from.
                if (e.getMessage() != null && e.getMessage().startsWith(source)) {
                    throw e;
                }
                throw s.fields.fault(e.getMessage());
            }
            int[] out = outputShape(s, shape);
            checkItem(s.fields.path, out);
            long params = m.namedParameters().values().stream().mapToLong(p -> p.value().numel()).sum();
            long buffers = m.namedBuffers().values().stream().mapToLong(t -> t.numel()).sum();
            if (!paramsSeen && params > 0) {
                paramsSeen = true;
                if (m instanceof Linear l) {
                    l.setInputGradient(false);
                } else if (m instanceof Conv2d c) {
                    c.setInputGradient(false);
                }
            }
            rows.add(new Row(Integer.toString(seq.size()), s.type, out,
                    params, buffers, note[0]));
            seq.add(m);
            shape = out;
        }
        if (shape.length != 1) {
            throw new IllegalArgumentException(source + ": $.layers: expected the last layer to output class scores"
                    + " [classes], got " + ModelSummary.shape(shape) + " (end with flatten and linear)");
        }
        if (shape[0] < options.classes()) {
            throw new IllegalArgumentException(source + ": $.layers[" + (file.layers().size() - 1) + "]: expected at"
                    + " least " + options.classes() + " outputs (the data's classes), got " + shape[0]);
        }
        return new Built(seq, file.withInput(input), input, shape, rows);
    }

    /** Checks every layer object's type and turns norm/activation kinds into layer types; drops norm kind none. */
    private List<Spec> resolve() {
        List<Spec> out = new ArrayList<>();
        List<Object> layers = file.layers();
        for (int i = 0; i < layers.size(); i++) {
            String path = "$.layers[" + i + "]";
            if (!(layers.get(i) instanceof Map<?, ?> m)) {
                throw ModelFile.fault(source, path, "a layer object {\"type\": ...}", layers.get(i));
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> fields = (Map<String, Object>) m;
            Object t = fields.get("type");
            if (!(t instanceof String type) || !TYPES.contains(type)) {
                throw ModelFile.fault(source, path + ".type", "a layer type (" + String.join(", ", TYPES) + ")", t);
            }
            LayerFields f = new LayerFields(source, path, type, fields);
            if (type.equals("norm")) {
                String kind = f.allow("kind").string("kind", null, NORM_KINDS);
                if (kind == null) {
                    throw f.fault("expected field \"kind\" (" + String.join(", ", NORM_KINDS) + ") for norm, got none");
                }
                if (!kind.equals("none")) {
                    out.add(new Spec(f, kindType(kind), kind));
                }
            } else if (type.equals("activation")) {
                String kind = f.allow("kind").string("kind", null, ACTIVATIONS);
                if (kind == null) {
                    throw f.fault("expected field \"kind\" (" + String.join(", ", ACTIVATIONS) + ") for activation,"
                            + " got none");
                }
                out.add(new Spec(f, kind, null));
            } else {
                out.add(new Spec(f, type, null));
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException(source + ": $.layers: expected at least one layer, got only norm"
                    + " kind none");
        }
        return out;
    }

    private static String kindType(String kind) {
        return switch (kind) {
            case "bn" -> "batch_norm";
            case "brn" -> "batch_renorm";
            case "ghost" -> "ghost_batch_norm";
            case "ln" -> "layer_norm";
            case "gn" -> "group_norm";
            case "in" -> "instance_norm";
            default -> throw new IllegalArgumentException("no layer for norm kind " + kind);
        };
    }

    private Module layer(Spec s, int[] in, String next, String[] note) {
        LayerFields f = s.fields;
        RandomGenerator rng = options.rng();
        switch (s.type) {
            case "linear" -> {
                f.allow("out", "bias");
                needRank(f, in, 1, "a 1-D input [features] (add {\"type\": \"flatten\"} before it)");
                return new Linear(in[0], f.integer("out", 1, 1 << 24), bias(f, next, note), rng);
            }
            case "conv2d" -> {
                f.allow("out", "kernel", "stride", "padding", "bias");
                needRank(f, in, 3, "a [channels, height, width] input");
                int out = f.integer("out", 1, 1 << 20);
                int k = f.integer("kernel", 1, 1024);
                int stride = f.integer("stride", 1, 1024, 1);
                int pad = f.integer("padding", 0, 1024, 0);
                return new Conv2d(in[0], out, k, stride, pad, bias(f, next, note), rng);
            }
            case "relu", "sigmoid", "tanh" -> {
                if (s.fields.type.equals(s.type)) {
                    f.allow();
                }
                return s.type.equals("relu") ? new ReLU() : s.type.equals("sigmoid") ? new Sigmoid() : new Tanh();
            }
            case "max_pool2d", "avg_pool2d" -> {
                f.allow("kernel", "stride");
                needRank(f, in, 3, "a [channels, height, width] input");
                int k = f.integer("kernel", 1, 1024);
                int stride = f.integer("stride", 1, 1024, k);
                return s.type.equals("max_pool2d") ? new MaxPool2d(k, stride) : new AvgPool2d(k, stride);
            }
            case "global_avg_pool2d" -> {
                f.allow();
                needRank(f, in, 3, "a [channels, height, width] input");
                return new GlobalAvgPool2d();
            }
            case "flatten" -> {
                f.allow();
                return new Flatten();
            }
            case "identity" -> {
                f.allow();
                return new Identity();
            }
            case "dropout" -> {
                f.allow("p");
                // Its own generator, seeded from the model's: the masks do not shift the weights' draws.
                return new Dropout(f.number("p", 0, 1, 0.5), new SplittableRandom(rng.nextLong()));
            }
            case "basic_block" -> {
                f.allow("out", "stride", "norm");
                needRank(f, in, 3, "a [channels, height, width] input");
                int out = f.integer("out", 1, 1 << 20);
                int stride = f.integer("stride", 1, 64, 1);
                Object norm = f.raw("norm");
                String kind = norm == null ? "batch_norm" : norm instanceof String str ? str : null;
                if (kind == null || !(NORM_KINDS.contains(kind) || NORM_TYPES.contains(kind))) {
                    throw f.fault("norm", "a norm kind (" + String.join(", ", NORM_KINDS) + ") or type ("
                            + String.join(", ", NORM_TYPES) + ")", norm);
                }
                String type = NORM_KINDS.contains(kind) ? (kind.equals("none") ? "none" : kindType(kind)) : kind;
                int h = (in[1] - 1) / stride + 1;
                int w = (in[2] - 1) / stride + 1;
                return new BasicBlock(in[0], out, stride, ch -> type.equals("none") ? new Identity()
                        : Norms.build(new LayerFields(source, f.path + ".norm", type, Map.of()), type,
                        NORM_KINDS.contains(kind) ? kind : null, new int[] {ch, h, w}, options), rng);
            }
            default -> {
                return Norms.build(f, s.type, s.kind, in, options);
            }
        }
    }

    /**
     * An upper bound of the parameters and buffers the layer will hold, from its fields and input shape alone
     * (nothing allocated). A field fault or a wrong input rank gives 0 here: {@link #layer} reports it.
     */
    private static long values(Spec s, int[] in) {
        LayerFields f = s.fields;
        try {
            return switch (s.type) {
                case "linear" -> in.length == 1 ? mul(in[0] + 1L, f.integer("out", 1, 1 << 24)) : 0;
                case "conv2d" -> in.length == 3 ? mul(mul(in[0], square(f.integer("kernel", 1, 1024))) + 1,
                        f.integer("out", 1, 1 << 20)) : 0;
                case "basic_block" -> {
                    long out = in.length == 3 ? f.integer("out", 1, 1 << 20) : 0;
                    yield mul(out, 10L * in[0] + 9L * out + 12);
                }
                // LayerNorm's affine parameters cover at most the whole item; the other norms hold 4 per channel.
                case "layer_norm" -> 2 * numel(in);
                default -> NORM_TYPES.contains(s.type) ? 4L * in[0] : 0;
            };
        } catch (IllegalArgumentException e) {
            return 0;
        }
    }

    private static long square(int k) {
        return (long) k * k;
    }

    private static long numel(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n = mul(n, d);
        }
        return n;
    }

    /** a·b for non-negative a, b, saturating at Long.MAX_VALUE (a file's sizes may multiply past 2^63). */
    private static long mul(long a, long b) {
        return Math.multiplyHigh(a, b) != 0 || a * b < 0 ? Long.MAX_VALUE : a * b;
    }

    private void checkItem(String path, int[] shape) {
        if (numel(shape) > MAX_ITEM_VALUES) {
            throw new IllegalArgumentException(source + ": " + path + ": expected at most " + MAX_ITEM_VALUES
                    + " values per item, got " + ModelSummary.shape(shape) + " = " + numel(shape));
        }
    }

    private static void needRank(LayerFields f, int[] in, int rank, String what) {
        if (in.length != rank) {
            throw f.fault(f.type + " expects " + what + ", got " + ModelSummary.shape(in));
        }
    }

    private static boolean bias(LayerFields f, String next, String[] note) {
        if (f.has("bias")) {
            return f.bool("bias", true);
        }
        if (next != null && NORM_TYPES.contains(next)) {
            note[0] = "no bias: " + next + " follows";
            return false;
        }
        return true;
    }

    private int[] outputShape(Spec s, int[] in) {
        LayerFields f = s.fields;
        return switch (s.type) {
            case "linear" -> new int[] {f.integer("out", 1, 1 << 24)};
            case "conv2d" -> {
                int k = f.integer("kernel", 1, 1024);
                int st = f.integer("stride", 1, 1024, 1);
                int p = f.integer("padding", 0, 1024, 0);
                yield spatial(f, f.integer("out", 1, 1 << 20), (in[1] + 2 * p - k) / st + 1,
                        (in[2] + 2 * p - k) / st + 1, in);
            }
            case "max_pool2d", "avg_pool2d" -> {
                int k = f.integer("kernel", 1, 1024);
                int st = f.integer("stride", 1, 1024, k);
                yield spatial(f, in[0], in[1] < k ? 0 : (in[1] - k) / st + 1, in[2] < k ? 0 : (in[2] - k) / st + 1,
                        in);
            }
            case "basic_block" -> {
                int st = f.integer("stride", 1, 64, 1);
                yield new int[] {f.integer("out", 1, 1 << 20), (in[1] - 1) / st + 1, (in[2] - 1) / st + 1};
            }
            case "global_avg_pool2d" -> new int[] {in[0]};
            case "flatten" -> new int[] {(int) numel(in)}; // the input passed checkItem: below 2^26
            default -> in.clone();
        };
    }

    private static int[] spatial(LayerFields f, int c, int h, int w, int[] in) {
        if (h <= 0 || w <= 0) {
            throw f.fault(f.type + " leaves no output for its input " + ModelSummary.shape(in) + " (the window is"
                    + " larger than the padded input)");
        }
        return new int[] {c, h, w};
    }
}
