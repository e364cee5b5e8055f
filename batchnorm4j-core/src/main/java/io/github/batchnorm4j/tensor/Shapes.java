package io.github.batchnorm4j.tensor;

import java.util.Arrays;

/** Small helpers for shapes given as {@code int[]}. */
public final class Shapes {
    private Shapes() {}

    /** Number of elements; throws if it does not fit an {@code int} or a dimension is negative. */
    public static int numel(int... shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("Expected non-negative dimensions, got shape " + str(shape));
            }
            n *= d;
            if (n > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("Expected at most " + Integer.MAX_VALUE
                        + " elements, got shape " + str(shape));
            }
        }
        return (int) n;
    }

    /** PyTorch-style rendering, e.g. {@code [1, 3]}. */
    /** {@code shape} without dimension {@code dim} (a mask's shape: the input's without the channels). */
    public static int[] without(int[] shape, int dim) {
        int[] out = new int[shape.length - 1];
        for (int i = 0, j = 0; i < shape.length; i++) {
            if (i != dim) {
                out[j++] = shape[i];
            }
        }
        return out;
    }

    public static String str(int... shape) {
        return Arrays.toString(shape);
    }

    /** Product of {@code shape[from..to)}. */
    public static int product(int[] shape, int from, int to) {
        int p = 1;
        for (int i = from; i < to; i++) {
            p *= shape[i];
        }
        return p;
    }
}
