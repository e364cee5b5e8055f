package io.github.batchnorm4j.golden;

import io.github.batchnorm4j.io.SafeTensors;
import io.github.batchnorm4j.io.SafeTensors.MalformedFileException;
import io.github.batchnorm4j.tensor.MemoryFormat;
import io.github.batchnorm4j.tensor.Shapes;
import io.github.batchnorm4j.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * One golden case: a safetensors file holding the configuration of a normalization call (metadata), its float32
 * inputs and PyTorch's float64 results rounded to float32 (docs/golden-format.md describes the format).
 *
 * <p>{@link #read} validates everything before a case can run: every metadata key the op needs, with a
 * well-formed value; exactly the tensors the configuration implies, all F32, with consistent shapes and finite
 * values. Anything else is a {@link MalformedFileException} whose message names the file and what is wrong.
 * Tensors are held logically NCHW-contiguous, as stored.
 */
public final class GoldenCase {
    /** File suffix of a case; the case name is the file name without it. */
    public static final String SUFFIX = ".safetensors";

    /** Inputs and expected tensors in the order they are checked; which are present depends on the options. */
    static final List<String> EXPECTED = List.of("y", "grad_x", "grad_weight", "grad_bias",
            "running_mean_after", "running_var_after");

    private final String name;
    private final GoldenOp op;
    private final boolean training;
    private final double eps;
    private final Double momentum;
    private final boolean affine;
    private final boolean trackRunningStats;
    private final long numBatchesTracked;
    private final int numGroups;
    private final int[] normalizedShape;
    private final MemoryFormat memoryFormat;
    private final boolean masked;
    private final Map<String, Tensor> tensors;

    private GoldenCase(String name, Metadata m, Map<String, Tensor> tensors) {
        this.name = name;
        this.op = m.op;
        this.training = m.training;
        this.eps = m.eps;
        this.momentum = m.momentum;
        this.affine = m.affine;
        this.trackRunningStats = m.track;
        this.numBatchesTracked = m.numBatchesTracked;
        this.numGroups = m.numGroups;
        this.normalizedShape = m.normalizedShape;
        this.memoryFormat = m.memoryFormat;
        this.masked = m.masked;
        this.tensors = Collections.unmodifiableMap(tensors);
    }

    /** The case files ({@code *.safetensors}) directly in {@code dir}, sorted by name. */
    public static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(SUFFIX) && Files.isRegularFile(p))
                    .sorted()
                    .toList();
        }
    }

    /** The case name of a file: its file name without {@link #SUFFIX}. */
    public static String nameOf(Path file) {
        String f = file.getFileName().toString();
        return f.endsWith(SUFFIX) ? f.substring(0, f.length() - SUFFIX.length()) : f;
    }

    /** Reads and validates one case; a {@link MalformedFileException} says which file and what is wrong. */
    public static GoldenCase read(Path file) throws IOException {
        SafeTensors.Contents contents = SafeTensors.read(file);
        Metadata m = new Metadata(file, contents.metadata());
        Map<String, Tensor> tensors = checkTensors(file, m, contents.tensors());
        return new GoldenCase(nameOf(file), m, tensors);
    }

    /** The tensor names this configuration needs, inputs first, in a fixed order. */
    static List<String> requiredTensors(boolean affine, boolean track) {
        return requiredTensors(affine, track, false);
    }

    /** The same for a masked case ({@code masked}: a {@code mask} input after {@code grad_y}). */
    static List<String> requiredTensors(boolean affine, boolean track, boolean masked) {
        List<String> names = new ArrayList<>(List.of("x", "grad_y"));
        if (masked) {
            names.add("mask");
        }
        if (affine) {
            names.addAll(List.of("weight", "bias"));
        }
        if (track) {
            names.addAll(List.of("running_mean", "running_var"));
        }
        names.addAll(List.of("y", "grad_x"));
        if (affine) {
            names.addAll(List.of("grad_weight", "grad_bias"));
        }
        if (track) {
            names.addAll(List.of("running_mean_after", "running_var_after"));
        }
        return names;
    }

    private static Map<String, Tensor> checkTensors(Path file, Metadata m, Map<String, SafeTensors.Entry> entries)
            throws MalformedFileException {
        List<String> required = requiredTensors(m.affine, m.track, m.masked);
        for (String r : required) {
            if (!entries.containsKey(r)) {
                throw new MalformedFileException(file, "missing tensor '" + r + "'" + why(r, m));
            }
        }
        for (String present : entries.keySet()) {
            if (!required.contains(present)) {
                throw new MalformedFileException(file, "unexpected tensor '" + present + "'; with affine="
                        + m.affine + (m.masked ? ", masked=true" : "") + " and track_running_stats=" + m.track
                        + " a " + m.op.key()
                        + " case holds exactly " + String.join(", ", required));
            }
        }
        for (String r : required) {
            SafeTensors.Entry e = entries.get(r);
            if (!e.dtype().equals("F32")) {
                throw new MalformedFileException(file, "tensor '" + r + "': expected dtype F32, got " + e.dtype());
            }
        }
        int[] x = entries.get("x").shape();
        checkInputShape(file, m, x);
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String r : required) {
            SafeTensors.Entry e = entries.get(r);
            int[] want = expectedShape(r, m, x);
            if (!Arrays.equals(e.shape(), want)) {
                String whose = want == x ? " (the shape of x)" : "";
                throw new MalformedFileException(file, "tensor '" + r + "': expected shape " + Shapes.str(want)
                        + whose + ", got " + Shapes.str(e.shape()));
            }
            float[] v = e.toFloats();
            for (int i = 0; i < v.length; i++) {
                if (!Float.isFinite(v[i])) {
                    throw new MalformedFileException(file, "tensor '" + r + "': expected finite values, got "
                            + v[i] + " at index " + i);
                }
                if (r.equals("mask") && v[i] != 0f && v[i] != 1f) {
                    throw new MalformedFileException(file, "tensor 'mask': expected values 0 or 1, got " + v[i]
                            + " at index " + i);
                }
            }
            out.put(r, Tensor.of(v, e.shape()));
        }
        return out;
    }

    private static String why(String tensor, Metadata m) {
        if (tensor.contains("weight") || tensor.contains("bias")) {
            return " (affine is true)";
        }
        if (tensor.startsWith("running")) {
            return " (track_running_stats is true)";
        }
        if (tensor.equals("mask")) {
            return " (masked is true)";
        }
        return "";
    }

    private static void checkInputShape(Path file, Metadata m, int[] x) throws MalformedFileException {
        if (m.op == GoldenOp.LAYER_NORM) {
            int r = m.normalizedShape.length;
            if (x.length < r || !Arrays.equals(Arrays.copyOfRange(x, x.length - r, x.length), m.normalizedShape)) {
                throw new MalformedFileException(file, "tensor 'x': expected shape [*, "
                        + Shapes.str(m.normalizedShape).substring(1) + " (normalized_shape "
                        + Metadata.joined(m.normalizedShape) + "), got " + Shapes.str(x));
            }
        } else if (x.length < m.op.minRank() || x.length > m.op.maxRank()) {
            throw new MalformedFileException(file, "tensor 'x': expected a " + m.op.minRank() + "-D to "
                    + m.op.maxRank() + "-D shape for " + m.op.key() + ", got " + Shapes.str(x));
        }
        for (int d : x) {
            if (d == 0) {
                throw new MalformedFileException(file, "tensor 'x': expected no zero dimension, got "
                        + Shapes.str(x));
            }
        }
        if (m.memoryFormat == MemoryFormat.CHANNELS_LAST && x.length != 4 && x.length != 5) {
            throw new MalformedFileException(file, "metadata 'memory_format': channels_last needs a 4-D or 5-D x,"
                    + " got x of shape " + Shapes.str(x));
        }
        if (m.op == GoldenOp.GROUP_NORM && x[1] % m.numGroups != 0) {
            throw new MalformedFileException(file, "metadata 'num_groups': expected a divisor of the " + x[1]
                    + " channels of x, got " + m.numGroups);
        }
    }

    /** The shape tensor {@code name} must have, given x's shape. */
    private static int[] expectedShape(String name, Metadata m, int[] x) {
        return switch (name) {
            case "x", "grad_y", "y", "grad_x" -> x;
            case "mask" -> Shapes.without(x, 1); // x's shape without the channels
            case "weight", "bias", "grad_weight", "grad_bias" ->
                    m.op == GoldenOp.LAYER_NORM ? m.normalizedShape : new int[] {x[1]};
            default -> new int[] {x[1]}; // running statistics, one per channel
        };
    }

    public String name() {
        return name;
    }

    public GoldenOp op() {
        return op;
    }

    public boolean training() {
        return training;
    }

    public double eps() {
        return eps;
    }

    /** Weight of the new batch in the running update, or null for the cumulative average. */
    public Double momentum() {
        return momentum;
    }

    public boolean affine() {
        return affine;
    }

    public boolean trackRunningStats() {
        return trackRunningStats;
    }

    /** {@code num_batches_tracked} before the call. */
    public long numBatchesTracked() {
        return numBatchesTracked;
    }

    /** GroupNorm's group count (0 for other ops). */
    public int numGroups() {
        return numGroups;
    }

    /** LayerNorm's normalized shape (null for other ops). */
    public int[] normalizedShape() {
        return normalizedShape == null ? null : normalizedShape.clone();
    }

    /** The layout the implementation must run: channels-last means its NHWC path. */
    public MemoryFormat memoryFormat() {
        return memoryFormat;
    }

    /** Whether the case is masked: statistics over the valid positions of its {@code mask} tensor. */
    public boolean masked() {
        return masked;
    }

    /** Tensor {@code name} (contiguous, shared: do not modify), or null when the case has none of that name. */
    public Tensor tensor(String name) {
        return tensors.get(name);
    }

    /** Names of the tensors present, inputs first. */
    public List<String> tensorNames() {
        return List.copyOf(tensors.keySet());
    }
}
