package io.github.batchnorm4j.optim;

/**
 * A learning rate as a pure function of the 0-based optimizer step, so that a resumed run gets exactly the
 * rates of an uninterrupted one without saving any schedule state.
 */
@FunctionalInterface
public interface LrSchedule {
    double lr(long step);

    static LrSchedule constant(double lr) {
        return step -> lr;
    }

    /** {@code lr · gamma^floor(step / stepSize)} (PyTorch's StepLR, counted in steps). */
    static LrSchedule step(double lr, long stepSize, double gamma) {
        if (stepSize <= 0) {
            throw new IllegalArgumentException("Expected a step size > 0, got " + stepSize);
        }
        return step -> lr * Math.pow(gamma, Math.floorDiv(step, stepSize));
    }

    /**
     * Cosine annealing from {@code lr} at step 0 to {@code minLr} at {@code totalSteps}:
     * {@code minLr + (lr - minLr)·(1 + cos(π·step/totalSteps))/2}, held at {@code minLr} afterwards.
     */
    static LrSchedule cosine(double lr, long totalSteps, double minLr) {
        if (totalSteps <= 0) {
            throw new IllegalArgumentException("Expected total steps > 0, got " + totalSteps);
        }
        return step -> {
            double f = Math.min(1.0, (double) step / totalSteps);
            return minLr + (lr - minLr) * 0.5 * (1 + Math.cos(Math.PI * f));
        };
    }

    /**
     * Linear warm-up in front of this schedule: {@code lr(step)·(step + 1)/warmupSteps} for the first
     * {@code warmupSteps} steps, so the first step already moves and step {@code warmupSteps - 1} reaches the full rate.
     */
    default LrSchedule withWarmup(long warmupSteps) {
        if (warmupSteps < 0) {
            throw new IllegalArgumentException("Expected warm-up steps >= 0, got " + warmupSteps);
        }
        LrSchedule inner = this;
        return step -> step < warmupSteps ? inner.lr(step) * (step + 1) / warmupSteps : inner.lr(step);
    }
}
