package io.github.batchnorm4j.nn.norm;

import io.github.batchnorm4j.reference.Float64Reference;
import io.github.batchnorm4j.reference.Float64Reference.Grouping;
import io.github.batchnorm4j.tensor.MemoryFormat;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The registry of named layer cases the parity test runs, and how each expands over the odd sizes.
 *
 * <p>Every case runs once per channel count in {@link #CHANNELS}; the spatial size, the rank and the input
 * offset rotate with the channel index and the case index, so every case sees every spatial size (where legal),
 * several ranks and the offsets 0, 1e4 and 1e6, while the total stays a few hundred small runs. Every option
 * combination of each family is its own case.
 */
final class NormLayerCases {
    static final int[] CHANNELS = {1, 3, 7, 8, 9, 13, 33};
    static final int[] SPATIAL = {1, 5, 64, 97};
    static final double[] OFFSETS = {0, 1e4, 1e6};

    enum Family { BATCH, INSTANCE, GROUP, LAYER }

    /** How GroupNorm picks its groups from the channel count. */
    enum Groups { ONE, SMALLEST_FACTOR, ALL }

    /**
     * One named configuration.
     *
     * @param groups   GroupNorm only
     * @param lnRank   LayerNorm only: how many trailing dimensions are normalised (clamped to rank - 1)
     */
    record LayerCase(String name, Family family, NormOptions options, Groups groups, int lnRank, MemoryFormat layout,
                     int batch, int[] spatials, int[] ranks) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** One case at one size. */
    record Run(LayerCase layerCase, int channels, int[] shape, double offset) {
        int groups() {
            return switch (layerCase.groups()) {
                case ONE -> 1;
                case ALL -> channels;
                case SMALLEST_FACTOR -> smallestFactor(channels);
            };
        }

        int[] normalizedShape() {
            int r = Math.min(layerCase.lnRank(), shape.length - 1);
            return Arrays.copyOfRange(shape, shape.length - r, shape.length);
        }

        NormLayer build() {
            NormOptions o = layerCase.options();
            return switch (layerCase.family()) {
                case BATCH -> new BatchNorm(channels, o);
                case INSTANCE -> new InstanceNorm(channels, o);
                case GROUP -> new GroupNorm(groups(), channels, o.eps(), o.affine());
                case LAYER -> new LayerNorm(normalizedShape(), o.eps(), o.affine());
            };
        }

        Grouping grouping() {
            return switch (layerCase.family()) {
                case BATCH -> Float64Reference.batchNorm(shape);
                case INSTANCE -> Float64Reference.instanceNorm(shape);
                case GROUP -> Float64Reference.groupNorm(shape, groups());
                case LAYER -> Float64Reference.layerNorm(shape, normalizedShape().length);
            };
        }

        /** Whether the layer has running statistics (BN/IN with tracking). */
        boolean tracks() {
            Family f = layerCase.family();
            return (f == Family.BATCH || f == Family.INSTANCE) && layerCase.options().trackRunningStats();
        }

        @Override
        public String toString() {
            return layerCase.name() + " " + Arrays.toString(shape) + (offset == 0 ? "" : " offset " + offset)
                    + (layerCase.family() == Family.GROUP ? " groups " + groups() : "");
        }
    }

    private NormLayerCases() {}

    static List<LayerCase> batchNormCases() {
        List<LayerCase> out = new ArrayList<>();
        for (NormOptions o : optionCombinations()) {
            for (MemoryFormat layout : MemoryFormat.values()) {
                out.add(bn(name("bn", o, layout), o, layout, 3));
            }
        }
        NormOptions d = NormOptions.BATCH_NORM;
        out.add(new LayerCase("bn_3d_input_nchw", Family.BATCH, d, null, 0, MemoryFormat.CONTIGUOUS, 2, SPATIAL,
                new int[] {5}));
        out.add(new LayerCase("bn_3d_input_nhwc", Family.BATCH, d, null, 0, MemoryFormat.CHANNELS_LAST, 2, SPATIAL,
                new int[] {5}));
        out.add(new LayerCase("bn_rank2_input", Family.BATCH, d, null, 0, MemoryFormat.CONTIGUOUS, 5, new int[] {1},
                new int[] {2}));
        out.add(bn("bn_batch_of_2_nchw", d, MemoryFormat.CONTIGUOUS, 2));
        out.add(bn("bn_batch_of_2_nhwc", d, MemoryFormat.CHANNELS_LAST, 2));
        out.add(new LayerCase("bn_batch_of_1", Family.BATCH, d, null, 0, MemoryFormat.CONTIGUOUS, 1,
                new int[] {5, 64, 97}, new int[] {3, 4, 5}));
        out.add(bn("bn_momentum_0", d.withMomentum(0.0), MemoryFormat.CONTIGUOUS, 3));
        out.add(bn("bn_momentum_1", d.withMomentum(1.0), MemoryFormat.CHANNELS_LAST, 3));
        out.add(bn("bn_eps_0.5", d.withEps(0.5), MemoryFormat.CONTIGUOUS, 3));
        return out;
    }

    static List<LayerCase> instanceNormCases() {
        List<LayerCase> out = new ArrayList<>();
        for (NormOptions o : optionCombinations()) {
            for (MemoryFormat layout : MemoryFormat.values()) {
                int[] ranks = layout == MemoryFormat.CHANNELS_LAST ? new int[] {4, 5} : new int[] {3, 4, 5};
                // Spatial size 1 is rejected in training (tested in the error tests).
                out.add(new LayerCase(name("in", o, layout), Family.INSTANCE, o, null, 0, layout, 2,
                        new int[] {5, 64, 97}, ranks));
            }
        }
        out.add(new LayerCase("in_defaults", Family.INSTANCE, NormOptions.INSTANCE_NORM, null, 0,
                MemoryFormat.CONTIGUOUS, 3, new int[] {5, 64, 97}, new int[] {3, 4, 5}));
        out.add(new LayerCase("in_eps_0.5_batch_of_1", Family.INSTANCE, NormOptions.BATCH_NORM.withEps(0.5), null, 0,
                MemoryFormat.CONTIGUOUS, 1, new int[] {5, 64, 97}, new int[] {3, 4, 5}));
        return out;
    }

    static List<LayerCase> groupNormCases() {
        List<LayerCase> out = new ArrayList<>();
        for (Groups groups : Groups.values()) {
            for (boolean affine : new boolean[] {true, false}) {
                for (MemoryFormat layout : MemoryFormat.values()) {
                    NormOptions o = NormOptions.BATCH_NORM.withAffine(affine);
                    String name = "gn_groups_" + groups.name().toLowerCase() + (affine ? "_affine" : "_no_affine")
                            + layoutName(layout);
                    out.add(new LayerCase(name, Family.GROUP, o, groups, 0, layout, 2, SPATIAL, ranks(layout)));
                }
            }
        }
        out.add(new LayerCase("gn_eps_0.5", Family.GROUP, NormOptions.BATCH_NORM.withEps(0.5), Groups.SMALLEST_FACTOR,
                0, MemoryFormat.CONTIGUOUS, 1, SPATIAL, ranks(MemoryFormat.CONTIGUOUS)));
        return out;
    }

    static List<LayerCase> layerNormCases() {
        List<LayerCase> out = new ArrayList<>();
        for (int lnRank = 1; lnRank <= 3; lnRank++) {
            for (boolean affine : new boolean[] {true, false}) {
                for (MemoryFormat layout : MemoryFormat.values()) {
                    NormOptions o = NormOptions.BATCH_NORM.withAffine(affine);
                    String name = "ln_last_" + lnRank + "_dims" + (affine ? "_affine" : "_no_affine")
                            + layoutName(layout);
                    out.add(new LayerCase(name, Family.LAYER, o, null, lnRank, layout, 2, SPATIAL, ranks(layout)));
                }
            }
        }
        out.add(new LayerCase("ln_eps_0.5", Family.LAYER, NormOptions.BATCH_NORM.withEps(0.5), null, 1,
                MemoryFormat.CONTIGUOUS, 3, SPATIAL, ranks(MemoryFormat.CONTIGUOUS)));
        return out;
    }

    /** Expands cases over the channel counts, rotating spatial size, rank and offset. */
    static List<Run> runs(List<LayerCase> cases) {
        List<Run> out = new ArrayList<>();
        for (int ci = 0; ci < cases.size(); ci++) {
            LayerCase lc = cases.get(ci);
            for (int j = 0; j < CHANNELS.length; j++) {
                int rot = ci + j;
                int s = lc.spatials()[rot % lc.spatials().length];
                int[] legal = Arrays.stream(lc.ranks()).filter(r -> r != 2 || s == 1).toArray();
                int rank = legal[rot % legal.length];
                out.add(new Run(lc, CHANNELS[j], shape(rank, lc.batch(), CHANNELS[j], s), OFFSETS[rot % 3]));
            }
        }
        return out;
    }

    /** {@code [n, c]} + a factorisation of {@code s} into {@code rank - 2} dimensions. */
    static int[] shape(int rank, int n, int c, int s) {
        return switch (rank) {
            case 2 -> new int[] {n, c};
            case 3 -> new int[] {n, c, s};
            case 4 -> s == 64 ? new int[] {n, c, 8, 8} : new int[] {n, c, 1, s};
            case 5 -> s == 64 ? new int[] {n, c, 4, 4, 4} : new int[] {n, c, s, 1, 1};
            default -> throw new IllegalArgumentException("rank " + rank);
        };
    }

    static int smallestFactor(int c) {
        for (int f = 2; f <= c; f++) {
            if (c % f == 0) {
                return f;
            }
        }
        return 1;
    }

    /** affine × momentum {0.1, null (cumulative average)} × trackRunningStats. */
    private static List<NormOptions> optionCombinations() {
        List<NormOptions> out = new ArrayList<>();
        for (boolean affine : new boolean[] {true, false}) {
            for (Double momentum : new Double[] {0.1, null}) {
                for (boolean track : new boolean[] {true, false}) {
                    out.add(new NormOptions(1e-5, momentum, affine, track));
                }
            }
        }
        return out;
    }

    private static LayerCase bn(String name, NormOptions o, MemoryFormat layout, int batch) {
        return new LayerCase(name, Family.BATCH, o, null, 0, layout, batch, SPATIAL, ranks(layout));
    }

    private static int[] ranks(MemoryFormat layout) {
        return layout == MemoryFormat.CHANNELS_LAST ? new int[] {4, 5} : new int[] {2, 3, 4, 5};
    }

    private static String name(String prefix, NormOptions o, MemoryFormat layout) {
        return prefix + (o.affine() ? "_affine" : "_no_affine")
                + (o.momentum() == null ? "_cumulative_average" : "_momentum_" + o.momentum())
                + (o.trackRunningStats() ? "_tracking" : "_no_tracking") + layoutName(layout);
    }

    private static String layoutName(MemoryFormat layout) {
        return layout == MemoryFormat.CHANNELS_LAST ? "_nhwc" : "_nchw";
    }
}
