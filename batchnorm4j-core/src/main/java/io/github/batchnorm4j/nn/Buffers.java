package io.github.batchnorm4j.nn;

import io.github.batchnorm4j.tensor.MemoryFormat;
import io.github.batchnorm4j.tensor.Shapes;
import io.github.batchnorm4j.tensor.Tensor;

/**
 * Layer-held buffers. Results ({@link #result}, {@link #resultLike}): the tensors {@code forward}/{@code backward}
 * return are new per call unless the layer opted into reuse ({@link Module#reuseBuffers}); then the layer keeps the
 * tensor it returned and refills it while the shape stays the same, so the training loop does not allocate per
 * batch. Internal buffers ({@link #ensure}, {@link #ensureLike}), which no caller sees, are always reused.
 */
final class Buffers {
    private Buffers() {}

    /** {@code t} when it already has {@code shape} (contiguous), otherwise a new zero tensor of that shape. */
    static Tensor ensure(Tensor t, int... shape) {
        if (t != null && t.format() == MemoryFormat.CONTIGUOUS && t.rank() == shape.length) {
            boolean same = true;
            for (int i = 0; i < shape.length && same; i++) {
                same = t.dim(i) == shape[i];
            }
            if (same) {
                return t;
            }
        }
        return Tensor.zeros(shape);
    }

    /** A result tensor of {@code shape}: {@code t} when {@code owner} reuses buffers and it fits, else a new one. */
    static Tensor result(Module owner, Tensor t, int... shape) {
        return ensure(owner.reusesBuffers() ? t : null, shape);
    }

    /** {@link #result} with the shape and memory format of {@code like}. */
    static Tensor resultLike(Module owner, Tensor t, Tensor like) {
        return ensureLike(owner.reusesBuffers() ? t : null, like);
    }

    /** Like {@link #ensure(Tensor, int...)} with the shape and memory format of {@code like}. */
    static Tensor ensureLike(Tensor t, Tensor like) {
        if (t != null && t.format() == like.format() && t.numel() == like.numel()
                && java.util.Arrays.equals(t.shape(), like.shape())) {
            return t;
        }
        return Tensor.zeros(like.format(), like.shape());
    }

    /** A per-thread scratch array of at least {@code size} floats (contents undefined). */
    static float[] scratch(ThreadLocal<float[]> slot, int size) {
        return io.github.batchnorm4j.kernel.Scratch.floats(slot, size);
    }

    /** The message for a rejected input: {@code "<layer>: expected input of shape <expected>, got <shape>"}. */
    static IllegalArgumentException badInput(Object layer, String expected, Tensor got) {
        return new IllegalArgumentException(layer + ": expected input of shape " + expected + ", got "
                + got.shapeString());
    }

    /** The message for a gradient whose shape differs from the last output's. */
    static IllegalArgumentException badGrad(Object layer, Tensor output, Tensor got) {
        return new IllegalArgumentException(layer + ": expected gradient of shape "
                + (output == null ? "(no forward yet)" : output.shapeString()) + ", got " + got.shapeString());
    }

    static void checkGrad(Object layer, Tensor output, Tensor grad) {
        if (output == null) {
            throw new IllegalStateException(layer + ": backward called before forward");
        }
        if (output.rank() != grad.rank() || output.numel() != grad.numel()
                || !java.util.Arrays.equals(output.shape(), grad.shape())) {
            throw badGrad(layer, output, grad);
        }
    }

    static String str(int... shape) {
        return Shapes.str(shape);
    }
}
