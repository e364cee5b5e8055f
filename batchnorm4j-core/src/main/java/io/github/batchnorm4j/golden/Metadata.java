package io.github.batchnorm4j.golden;

import io.github.batchnorm4j.io.SafeTensors.MalformedFileException;
import io.github.batchnorm4j.tensor.MemoryFormat;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The parsed {@code __metadata__} of a golden case. Keys every case needs: {@code op}, {@code training},
 * {@code eps}, {@code affine}, {@code memory_format}. BatchNorm and InstanceNorm also need {@code momentum},
 * {@code track_running_stats} and {@code num_batches_tracked}; GroupNorm needs {@code num_groups}, LayerNorm
 * {@code normalized_shape}. LayerNorm and GroupNorm may carry the running-statistics keys too (writers that emit
 * one schema for all ops do), but then {@code track_running_stats} must be false. Optional {@code masked}
 * ({@code true}: the case carries a {@code mask} tensor). Other keys are ignored.
 */
final class Metadata {
    final GoldenOp op;
    final boolean training;
    final double eps;
    final Double momentum;
    final boolean affine;
    final boolean track;
    final long numBatchesTracked;
    final int numGroups;
    final int[] normalizedShape;
    final MemoryFormat memoryFormat;
    final boolean masked;

    private final Path file;
    private final Map<String, String> md;

    Metadata(Path file, Map<String, String> md) throws MalformedFileException {
        this.file = file;
        this.md = md;
        String opName = required("op");
        op = GoldenOp.fromKey(opName);
        if (op == null) {
            throw invalid("op", "batch_norm, layer_norm, group_norm or instance_norm", opName);
        }
        training = bool("training", required("training"));
        eps = eps(required("eps"));
        affine = bool("affine", required("affine"));
        memoryFormat = memoryFormat(required("memory_format"));
        boolean stateful = op.mayTrackRunningStats();
        String mom = stateful ? required("momentum") : md.get("momentum");
        momentum = mom == null ? null : momentum(mom);
        String tr = stateful ? required("track_running_stats") : md.get("track_running_stats");
        track = tr != null && bool("track_running_stats", tr);
        if (track && !stateful) {
            throw invalid("track_running_stats", "false for " + op.key() + " (it has no running statistics)", tr);
        }
        String nbt = stateful ? required("num_batches_tracked") : md.get("num_batches_tracked");
        numBatchesTracked = nbt == null ? 0 : count(nbt);
        numGroups = op == GoldenOp.GROUP_NORM ? groups(required("num_groups")) : 0;
        normalizedShape = op == GoldenOp.LAYER_NORM ? shape(required("normalized_shape")) : null;
        String mk = md.get("masked");
        masked = mk != null && bool("masked", mk);
    }

    /** The comma-separated spelling used by {@code normalized_shape}. */
    static String joined(int[] shape) {
        return Arrays.stream(shape).mapToObj(Integer::toString).collect(Collectors.joining(","));
    }

    private String required(String key) throws MalformedFileException {
        String v = md.get(key);
        if (v == null) {
            throw new MalformedFileException(file, "missing metadata key '" + key + "'");
        }
        return v;
    }

    private MalformedFileException invalid(String key, String expected, String got) {
        return new MalformedFileException(file, "metadata '" + key + "': expected " + expected + ", got '" + got + "'");
    }

    private boolean bool(String key, String v) throws MalformedFileException {
        return switch (v) {
            case "true" -> true;
            case "false" -> false;
            default -> throw invalid(key, "true or false", v);
        };
    }

    private double eps(String v) throws MalformedFileException {
        double e = number(v);
        if (!(e > 0) || Double.isInfinite(e)) {
            throw invalid("eps", "a positive finite number", v);
        }
        return e;
    }

    private Double momentum(String v) throws MalformedFileException {
        if (v.equals("none")) {
            return null;
        }
        double m = number(v);
        if (!(m >= 0 && m <= 1)) {
            throw invalid("momentum", "a number in [0, 1] or none", v);
        }
        return m;
    }

    private long count(String v) throws MalformedFileException {
        try {
            long n = Long.parseLong(v);
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw invalid("num_batches_tracked", "an integer >= 0", v);
    }

    private int groups(String v) throws MalformedFileException {
        try {
            int g = Integer.parseInt(v);
            if (g >= 1) {
                return g;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw invalid("num_groups", "an integer >= 1", v);
    }

    private int[] shape(String v) throws MalformedFileException {
        try {
            int[] s = Arrays.stream(v.split(",", -1)).mapToInt(d -> Integer.parseInt(d.trim())).toArray();
            if (Arrays.stream(s).allMatch(d -> d >= 1)) {
                return s;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw invalid("normalized_shape", "comma-separated positive integers", v);
    }

    private MemoryFormat memoryFormat(String v) throws MalformedFileException {
        return switch (v) {
            case "contiguous" -> MemoryFormat.CONTIGUOUS;
            case "channels_last" -> MemoryFormat.CHANNELS_LAST;
            default -> throw invalid("memory_format", "contiguous or channels_last", v);
        };
    }

    /** Parses a decimal; NaN marks text that is not a number so the callers report it with their expectation. */
    private static double number(String v) {
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }
}
