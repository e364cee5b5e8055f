package io.github.batchnorm4j.nn.norm;

/**
 * A limit of Batch Renormalization that relaxes linearly with the training step, as in Ioffe (2017), Sec. 4:
 * {@code from} up to step {@code start}, then linearly to {@code to} at step {@code end}, and {@code to} after.
 * The paper's ImageNet schedules are {@code rmax: 1 -> 3} over steps 5k..40k and {@code dmax: 0 -> 5} over
 * 5k..25k; {@link #constant} fixes a limit (rmax = 1, dmax = 0 is plain BatchNorm).
 */
public record RenormSchedule(double from, double to, long start, long end) {
    public RenormSchedule {
        if (!Double.isFinite(from) || !Double.isFinite(to) || start < 0 || end < start) {
            throw new IllegalArgumentException("Expected finite limits and 0 <= start <= end, got from=" + from
                    + ", to=" + to + ", start=" + start + ", end=" + end);
        }
    }

    /** The same value at every step. */
    public static RenormSchedule constant(double value) {
        return new RenormSchedule(value, value, 0, 0);
    }

    /** The paper's rmax schedule: 1 until step 5000, then linearly to 3 at step 40000. */
    public static RenormSchedule paperRmax() {
        return new RenormSchedule(1, 3, 5_000, 40_000);
    }

    /** The paper's dmax schedule: 0 until step 5000, then linearly to 5 at step 25000. */
    public static RenormSchedule paperDmax() {
        return new RenormSchedule(0, 5, 5_000, 25_000);
    }

    /** The limit at training step {@code step} (0-based). */
    public double at(long step) {
        if (step <= start) {
            return from;
        }
        if (step >= end) {
            return to;
        }
        return from + (to - from) * ((double) (step - start) / (end - start));
    }
}
