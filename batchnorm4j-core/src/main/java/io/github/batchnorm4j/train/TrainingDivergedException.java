package io.github.batchnorm4j.train;

/** Thrown when the loss becomes NaN or infinite; the message names the step and the intact last checkpoint. */
public final class TrainingDivergedException extends RuntimeException {
    private final long step;

    public TrainingDivergedException(String message, long step) {
        super(message);
        this.step = step;
    }

    /** The 0-based step whose loss was not finite. */
    public long step() {
        return step;
    }
}
