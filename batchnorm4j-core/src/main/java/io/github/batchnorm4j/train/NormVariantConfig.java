package io.github.batchnorm4j.train;

import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.nn.norm.BatchRenorm;
import io.github.batchnorm4j.nn.norm.GhostBatchNorm;
import io.github.batchnorm4j.nn.norm.NormOptions;
import io.github.batchnorm4j.nn.norm.RenormSchedule;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * The settings of the BatchNorm variants of a training run ({@code --norm brn|ghost}, {@code --freeze-bn}),
 * stored in checkpoint metadata under {@code variant.*} next to the run configuration so that a resumed run
 * rebuilds the same layers; checkpoints without them read as {@link #DEFAULT}.
 *
 * @param ghostBatchSize samples per virtual batch of {@code --norm ghost}
 * @param rmax           BatchRenorm's rmax schedule ({@code --rmax})
 * @param dmax           BatchRenorm's dmax schedule ({@code --dmax})
 * @param freezeBn       replace every BatchNorm by a FrozenBatchNorm before training ({@code --freeze-bn})
 * @param runningSigma   how BatchRenorm averages its running sigma ({@code --brn-running-sigma})
 */
public record NormVariantConfig(int ghostBatchSize, RenormSchedule rmax, RenormSchedule dmax, boolean freezeBn,
                                BatchRenorm.RunningSigma runningSigma) {
    /** Ghost batches of 32, the paper's BatchRenorm schedules, BatchNorm's running variance, nothing frozen. */
    public static final NormVariantConfig DEFAULT = new NormVariantConfig(32, RenormSchedule.paperRmax(),
            RenormSchedule.paperDmax(), false);

    public NormVariantConfig {
        if (ghostBatchSize <= 0) {
            throw new IllegalArgumentException("Expected a ghost batch size > 0, got " + ghostBatchSize);
        }
        java.util.Objects.requireNonNull(runningSigma, "runningSigma");
    }

    /** With BatchRenorm's default running statistics (an average of variances, as BatchNorm). */
    public NormVariantConfig(int ghostBatchSize, RenormSchedule rmax, RenormSchedule dmax, boolean freezeBn) {
        this(ghostBatchSize, rmax, dmax, freezeBn, BatchRenorm.RunningSigma.VARIANCE);
    }

    /** Parses {@code --brn-running-sigma}: {@code variance} (BatchNorm's convention) or {@code sigma} (the paper's). */
    public static BatchRenorm.RunningSigma parseRunningSigma(String text) {
        return switch (text) {
            case "variance" -> BatchRenorm.RunningSigma.VARIANCE;
            case "sigma" -> BatchRenorm.RunningSigma.SIGMA;
            default -> throw new IllegalArgumentException("Expected --brn-running-sigma variance or sigma, got "
                    + text);
        };
    }

    /**
     * The factory of the BatchNorm-like layers for {@code norm} ({@code bn}, {@code brn}, {@code ghost}), given the
     * channel count; null for the other norms.
     */
    public IntFunction<Module> batchNormFactory(String norm) {
        return switch (norm) {
            case "bn" -> BatchNorm::new;
            case "brn" -> c -> new BatchRenorm(c, NormOptions.BATCH_NORM, rmax, dmax, runningSigma);
            case "ghost" -> c -> new GhostBatchNorm(c, ghostBatchSize);
            default -> null;
        };
    }

    /**
     * Parses a schedule option: {@code LIMIT} (a constant limit) or {@code LIMIT:START:END} (from {@code base} —
     * 1 for rmax, 0 for dmax — until step START, then linearly to LIMIT at step END, as in the paper).
     */
    public static RenormSchedule parseSchedule(String option, String text, double base) {
        String[] parts = text.split(":", -1);
        try {
            if (parts.length == 1) {
                return RenormSchedule.constant(Double.parseDouble(parts[0]));
            }
            if (parts.length == 3) {
                return new RenormSchedule(base, Double.parseDouble(parts[0]), Long.parseLong(parts[1]),
                        Long.parseLong(parts[2]));
            }
        } catch (NumberFormatException e) {
            // reported below with the expected form
        }
        throw new IllegalArgumentException("Expected " + option + " as LIMIT or LIMIT:START:END (e.g. 3:5000:40000),"
                + " got " + text);
    }

    /** The option text of a schedule (inverse of {@link #parseSchedule} for the schedules it makes). */
    public static String formatSchedule(RenormSchedule s) {
        if (s.from() == s.to() && s.start() == 0 && s.end() == 0) {
            return fmt(s.to());
        }
        return fmt(s.to()) + ":" + s.start() + ":" + s.end();
    }

    private static String fmt(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : String.format(Locale.ROOT, "%s", v);
    }

    public Map<String, String> toMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("variant.ghostBatchSize", Integer.toString(ghostBatchSize));
        m.put("variant.rmax", rmax.from() + ":" + rmax.to() + ":" + rmax.start() + ":" + rmax.end());
        m.put("variant.dmax", dmax.from() + ":" + dmax.to() + ":" + dmax.start() + ":" + dmax.end());
        m.put("variant.freezeBn", Boolean.toString(freezeBn));
        m.put("variant.brnRunningSigma", runningSigma.name().toLowerCase(Locale.ROOT));
        return m;
    }

    /** Reads {@link #toMetadata()}; missing keys take the {@link #DEFAULT} values (older checkpoints). */
    public static NormVariantConfig fromMetadata(Map<String, String> meta) {
        try {
            String g = meta.get("variant.ghostBatchSize");
            String r = meta.get("variant.rmax");
            String d = meta.get("variant.dmax");
            String f = meta.get("variant.freezeBn");
            String rs = meta.get("variant.brnRunningSigma");
            return new NormVariantConfig(g == null ? DEFAULT.ghostBatchSize : Integer.parseInt(g),
                    r == null ? DEFAULT.rmax : full(r), d == null ? DEFAULT.dmax : full(d),
                    f != null && Boolean.parseBoolean(f), rs == null ? DEFAULT.runningSigma : parseRunningSigma(rs));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("Expected valid variant.* metadata in the checkpoint, got "
                    + e.getMessage(), e);
        }
    }

    private static RenormSchedule full(String s) {
        String[] p = s.split(":");
        if (p.length != 4) {
            throw new IllegalArgumentException("a schedule from:to:start:end, got " + s);
        }
        return new RenormSchedule(Double.parseDouble(p[0]), Double.parseDouble(p[1]), Long.parseLong(p[2]),
                Long.parseLong(p[3]));
    }
}
