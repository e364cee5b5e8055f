package io.github.batchnorm4j.train;

import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.tensor.Tensor;

/**
 * Hooks the trainer calls so that diagnostics, activation tracking and reports can observe training without
 * the trainer knowing them. All methods default to doing nothing; {@code step} counts optimizer steps from 0.
 */
public interface TrainerCallback {
    /** Before the forward pass of a training step, with the model in train mode. */
    default void beforeTrainStep(Module model, long step, Tensor input) {}

    /** After the optimizer step; {@code loss} is the batch's mean loss. */
    default void afterTrainStep(Module model, long step, double loss) {}

    /** Before an evaluation pass starts; {@code model.isTraining()} tells whether the caller forgot eval(). */
    default void beforeEvaluate(Module model, long step) {}

    /** After an evaluation pass with its accuracy in [0, 1] and mean loss. */
    default void afterEvaluate(Module model, long step, double accuracy, double loss) {}

    /** At the end of each epoch (0-based). */
    default void afterEpoch(Module model, int epoch) {}
}
