package io.github.batchnorm4j.train;

import io.github.batchnorm4j.nn.LongState;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.Parameter;
import io.github.batchnorm4j.tensor.Tensor;

/**
 * What {@code train --on-nonfinite skip} needs to throw a training step away exactly.
 *
 * <p>A step changes the model in two places: the forward pass updates the buffers (running statistics and
 * {@code num_batches_tracked}), and the optimizer step updates the weights and the optimizer state. The optimizer
 * step is simply not taken when the loss or a gradient is not finite, so only the buffers need a copy: before each
 * forward {@link #snapshot} copies them into arrays allocated once (2C floats and one long per normalization layer:
 * a few kilobytes, nothing allocated per step), and {@link #restore} copies them back. Gradients are checked with
 * {@link #gradientsFinite}, one integer pass over them that the JIT vectorizes.
 */
final class NonFiniteGuard {
    private static final int EXPONENT = 0x7f800000;

    // Arrays, not lists: indexed loops allocate nothing whatever the JIT's escape analysis decides.
    private final Tensor[] buffers;
    private final LongState[] longBuffers;
    private final Parameter[] parameters;
    private final float[][] saved;
    private final long[] savedLongs;

    NonFiniteGuard(Module model) {
        buffers = model.namedBuffers().values().toArray(Tensor[]::new);
        longBuffers = model.namedLongBuffers().values().toArray(LongState[]::new);
        parameters = model.namedParameters().values().toArray(Parameter[]::new);
        saved = new float[buffers.length][];
        for (int i = 0; i < saved.length; i++) {
            saved[i] = new float[buffers[i].data().length];
        }
        savedLongs = new long[longBuffers.length];
    }

    /** Copies every buffer of the model (before a forward pass that may change them). */
    void snapshot() {
        for (int i = 0; i < saved.length; i++) {
            System.arraycopy(buffers[i].data(), 0, saved[i], 0, saved[i].length);
        }
        for (int i = 0; i < savedLongs.length; i++) {
            savedLongs[i] = longBuffers[i].get();
        }
    }

    /** Puts back the buffers copied by the last {@link #snapshot}. */
    void restore() {
        for (int i = 0; i < saved.length; i++) {
            System.arraycopy(saved[i], 0, buffers[i].data(), 0, saved[i].length);
        }
        for (int i = 0; i < savedLongs.length; i++) {
            longBuffers[i].set(savedLongs[i]);
        }
    }

    /** Whether every parameter gradient is finite (a float is NaN or infinite exactly when its exponent is all ones). */
    boolean gradientsFinite() {
        for (int i = 0; i < parameters.length; i++) {
            if (!finite(parameters[i].grad().data())) {
                return false;
            }
        }
        return true;
    }

    static boolean finite(float[] a) {
        int max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Float.floatToRawIntBits(a[i]) & EXPONENT);
        }
        return max != EXPONENT;
    }
}
