package io.github.batchnorm4j.models;

import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.nn.norm.BatchRenorm;
import io.github.batchnorm4j.nn.norm.FrozenBatchNorm;
import io.github.batchnorm4j.nn.norm.GhostBatchNorm;
import io.github.batchnorm4j.nn.norm.GroupNorm;
import io.github.batchnorm4j.nn.norm.InstanceNorm;
import io.github.batchnorm4j.nn.norm.LayerNorm;
import io.github.batchnorm4j.nn.norm.NormOptions;
import io.github.batchnorm4j.nn.norm.RenormSchedule;
import io.github.batchnorm4j.train.NormVariantConfig;
import java.util.Arrays;
import java.util.List;

/** The normalization layers of a {@link ModelFile} (see {@link ModelBuilder} for the fields). */
final class Norms {
    private Norms() {}

    /**
     * The norm layer {@code type} for an input {@code in} ({@code [C]} or {@code [C, H, W]}); {@code kind} is the
     * {@code --norm} name it came from, or null for a layer written with its type.
     */
    static Module build(LayerFields f, String type, String kind, int[] in, ModelBuilder.Options o) {
        int c = in[0];
        boolean plain = onlyType(f);
        switch (type) {
            case "batch_norm" -> {
                allow(f, kind, "eps", "momentum", "affine", "track_running_stats");
                if (plain && o.batchNormOverride() != null) {
                    return o.batchNormOverride().apply(c);
                }
                return new BatchNorm(c, options(f, true));
            }
            case "batch_renorm" -> {
                allow(f, kind, "eps", "momentum", "affine", "track_running_stats", "rmax", "dmax", "running_sigma");
                if (plain && o.batchNormOverride() != null) {
                    return o.batchNormOverride().apply(c);
                }
                NormVariantConfig v = o.variant();
                RenormSchedule rmax = schedule(f, "rmax", v.rmax(), 1);
                RenormSchedule dmax = schedule(f, "dmax", v.dmax(), 0);
                BatchRenorm.RunningSigma rs = f.has("running_sigma")
                        ? NormVariantConfig.parseRunningSigma(f.string("running_sigma", null,
                        List.of("variance", "sigma"))) : v.runningSigma();
                return new BatchRenorm(c, options(f, true), rmax, dmax, rs);
            }
            case "ghost_batch_norm" -> {
                allow(f, kind, "eps", "momentum", "affine", "track_running_stats", "virtual_batch");
                if (plain && o.batchNormOverride() != null) {
                    return o.batchNormOverride().apply(c);
                }
                return new GhostBatchNorm(c, f.integer("virtual_batch", 1, 1 << 20, o.variant().ghostBatchSize()),
                        options(f, true));
            }
            case "frozen_batch_norm" -> {
                allow(f, kind, "eps");
                return new FrozenBatchNorm(c, f.number("eps", Double.MIN_VALUE, 1, 1e-5));
            }
            case "layer_norm" -> {
                allow(f, kind, "normalized_shape", "eps", "elementwise_affine");
                if (kind != null && in.length == 3) {
                    return new GroupNorm(1, c); // the --norm ln of a convolutional net: per-channel affine
                }
                int[] shape = normalizedShape(f, in);
                return new LayerNorm(shape, f.number("eps", Double.MIN_VALUE, 1, 1e-5),
                        f.bool("elementwise_affine", true));
            }
            case "group_norm" -> {
                allow(f, kind, "groups", "eps", "affine");
                int g = kind != null ? ModelFactory.groups(c) : f.integer("groups", 1, c);
                if (c % g != 0) {
                    throw f.fault("groups", "a divisor of the " + c + " channels", (long) g);
                }
                return new GroupNorm(g, c, f.number("eps", Double.MIN_VALUE, 1, 1e-5), f.bool("affine", true));
            }
            case "instance_norm" -> {
                allow(f, kind, "eps", "momentum", "affine", "track_running_stats");
                if (in.length != 3) {
                    throw f.fault("instance_norm expects a [channels, height, width] input, got "
                            + ModelSummary.shape(in));
                }
                return new InstanceNorm(c, new NormOptions(f.number("eps", Double.MIN_VALUE, 1, 1e-5),
                        f.momentum(0.1), f.bool("affine", false), f.bool("track_running_stats", false)));
            }
            default -> throw new IllegalStateException("not a norm type: " + type);
        }
    }

    /** A layer written with its type takes only its own fields; one made from a kind has none to check. */
    private static void allow(LayerFields f, String kind, String... names) {
        if (kind == null) {
            f.allow(names);
        }
    }

    private static boolean onlyType(LayerFields f) {
        for (String k : List.of("eps", "momentum", "affine", "track_running_stats", "rmax", "dmax", "running_sigma",
                "virtual_batch")) {
            if (f.has(k)) {
                return false;
            }
        }
        return true;
    }

    private static NormOptions options(LayerFields f, boolean defaults) {
        return new NormOptions(f.number("eps", Double.MIN_VALUE, 1, 1e-5), f.momentum(0.1), f.bool("affine", defaults),
                f.bool("track_running_stats", defaults));
    }

    private static RenormSchedule schedule(LayerFields f, String name, RenormSchedule otherwise, double base) {
        Object v = f.raw(name);
        if (v == null) {
            return otherwise;
        }
        try {
            if (v instanceof Number n) {
                return RenormSchedule.constant(n.doubleValue());
            }
            if (v instanceof String s) {
                return NormVariantConfig.parseSchedule(name, s, base);
            }
        } catch (IllegalArgumentException e) {
            // reported below with the path
        }
        throw f.fault(name, "a limit or \"LIMIT:START:END\" (e.g. \"3:5000:40000\")", v);
    }

    private static int[] normalizedShape(LayerFields f, int[] in) {
        Object v = f.raw("normalized_shape");
        if (v == null) {
            return in.clone();
        }
        if (v instanceof List<?> l && !l.isEmpty() && l.size() <= in.length) {
            int[] s = new int[l.size()];
            boolean ok = true;
            for (int k = 0; k < s.length; k++) {
                ok &= l.get(k) instanceof Long n && n == in[in.length - s.length + k];
                s[k] = ok ? (int) (long) (Long) l.get(k) : 0;
            }
            if (ok) {
                return s;
            }
        }
        throw f.fault("normalized_shape", "a trailing part of the input shape " + Arrays.toString(in), v);
    }
}
