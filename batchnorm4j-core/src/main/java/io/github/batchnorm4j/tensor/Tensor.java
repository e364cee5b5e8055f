package io.github.batchnorm4j.tensor;

import java.util.Arrays;
import java.util.Objects;

/**
 * A dense float32 tensor: a logical shape ({@code [N, C, ...]} for batched data), a backing array and its
 * {@link MemoryFormat}. The backing array is exposed on purpose: kernels work on {@code float[]} + offsets.
 *
 * <p>For {@link MemoryFormat#CHANNELS_LAST} (4-D or 5-D only) element {@code [n, c, s...]} lives at
 * {@code ((n * S + s) * C + c)} where {@code s} is the flattened spatial index and {@code S} the spatial size.
 */
public final class Tensor {
    private final int[] shape;
    private final float[] data;
    private final MemoryFormat format;

    private Tensor(float[] data, MemoryFormat format, int[] shape) {
        this.shape = shape.clone();
        this.data = data;
        this.format = format;
    }

    /** Wraps {@code data} (not copied) as a contiguous tensor of the given shape. */
    public static Tensor of(float[] data, int... shape) {
        return wrap(data, MemoryFormat.CONTIGUOUS, shape);
    }

    /** Wraps {@code data} (not copied), whose elements are stored in {@code format} order. */
    public static Tensor wrap(float[] data, MemoryFormat format, int... shape) {
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(format, "format");
        int n = Shapes.numel(shape);
        if (data.length != n) {
            throw new IllegalArgumentException("Expected " + n + " values for shape " + Shapes.str(shape)
                    + ", got " + data.length);
        }
        if (format == MemoryFormat.CHANNELS_LAST && shape.length != 4 && shape.length != 5) {
            throw new IllegalArgumentException("Expected a 4-D or 5-D shape for channels_last, got shape "
                    + Shapes.str(shape));
        }
        return new Tensor(data, format, shape);
    }

    public static Tensor zeros(int... shape) {
        return of(new float[Shapes.numel(shape)], shape);
    }

    public static Tensor zeros(MemoryFormat format, int... shape) {
        return wrap(new float[Shapes.numel(shape)], format, shape);
    }

    public static Tensor full(float value, int... shape) {
        float[] d = new float[Shapes.numel(shape)];
        Arrays.fill(d, value);
        return of(d, shape);
    }

    /** A new zero tensor with this tensor's shape and memory format. */
    public Tensor zerosLike() {
        return wrap(new float[data.length], format, shape);
    }

    public int[] shape() {
        return shape.clone();
    }

    public int dim(int i) {
        return shape[i];
    }

    public int rank() {
        return shape.length;
    }

    public int numel() {
        return data.length;
    }

    /** The backing array, in {@link #format()} order. */
    public float[] data() {
        return data;
    }

    public MemoryFormat format() {
        return format;
    }

    /** Product of the dimensions after the first two (1 for rank &lt; 3). */
    public int spatialSize() {
        return Shapes.product(shape, Math.min(2, shape.length), shape.length);
    }

    public String shapeString() {
        return Shapes.str(shape);
    }

    /** Deep copy in the same memory format. */
    public Tensor copy() {
        return new Tensor(data.clone(), format, shape);
    }

    /** Same data with a new shape of equal size; contiguous tensors only. */
    public Tensor reshape(int... newShape) {
        if (format != MemoryFormat.CONTIGUOUS) {
            throw new IllegalStateException("reshape needs a contiguous tensor, got " + format);
        }
        return of(data, newShape);
    }

    /** This tensor in {@code target} memory format: itself when already there, otherwise a permuted copy. */
    public Tensor to(MemoryFormat target) {
        if (target == format) {
            return this;
        }
        return copyTo(wrap(new float[data.length], target, shape));
    }

    /** Storage index of a logical index. */
    public int offset(int... index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException("Expected " + shape.length + " indices, got " + index.length);
        }
        for (int i = 0; i < index.length; i++) {
            Objects.checkIndex(index[i], shape[i]);
        }
        if (format == MemoryFormat.CONTIGUOUS) {
            int off = 0;
            for (int i = 0; i < index.length; i++) {
                off = off * shape[i] + index[i];
            }
            return off;
        }
        int s = 0;
        for (int i = 2; i < index.length; i++) {
            s = s * shape[i] + index[i];
        }
        return (index[0] * spatialSize() + s) * shape[1] + index[1];
    }

    public float get(int... index) {
        return data[offset(index)];
    }

    public void set(float value, int... index) {
        data[offset(index)] = value;
    }

    /** Values in logical (contiguous) order; a copy for channels-last tensors. */
    public float[] toContiguousArray() {
        return format == MemoryFormat.CONTIGUOUS ? data.clone() : to(MemoryFormat.CONTIGUOUS).data;
    }

    @Override
    public String toString() {
        return "Tensor" + shapeString() + (format == MemoryFormat.CHANNELS_LAST ? " channels_last" : "");
    }

    /** Whether {@code other} has this tensor's shape (compared without copying either shape). */
    public boolean sameShape(Tensor other) {
        return Arrays.equals(shape, other.shape);
    }

    /** Whether this tensor has shape {@code dims} (compared without copying the shape). */
    public boolean hasShape(int[] dims) {
        return Arrays.equals(shape, dims);
    }

    /**
     * Copies this tensor's values into {@code out}, which has the same shape and either memory format (permuting
     * when the formats differ), and returns {@code out}: {@link #to} into a buffer the caller reuses.
     */
    public Tensor copyTo(Tensor out) {
        if (!Arrays.equals(out.shape, shape)) {
            throw new IllegalArgumentException("Expected a destination of shape " + shapeString() + ", got "
                    + out.shapeString());
        }
        if (out.format == format) {
            System.arraycopy(data, 0, out.data, 0, data.length);
            return out;
        }
        int n = shape[0];
        int c = shape[1];
        int s = spatialSize();
        float[] src = data;
        float[] dst = out.data;
        for (int i = 0; i < n; i++) {
            for (int ch = 0; ch < c; ch++) {
                for (int j = 0; j < s; j++) {
                    int nchw = (i * c + ch) * s + j;
                    int nhwc = (i * s + j) * c + ch;
                    if (out.format == MemoryFormat.CHANNELS_LAST) {
                        dst[nhwc] = src[nchw];
                    } else {
                        dst[nchw] = src[nhwc];
                    }
                }
            }
        }
        return out;
    }
}
