package io.github.batchnorm4j.nn;

import io.github.batchnorm4j.kernel.WorkerPool;
import io.github.batchnorm4j.tensor.MemoryFormat;
import io.github.batchnorm4j.tensor.Tensor;

/**
 * What max and average pooling share: a square window {@code kernel}, a {@code stride}, no padding, floor
 * rounding: {@code (N, C, H, W) -> (N, C, (H - k) / s + 1, (W - k) / s + 1)}. Planes are independent
 * {@link WorkerPool} tasks per sample.
 */
abstract class Pool2d extends Module {
    final int kernel;
    final int stride;
    int h;
    int w;
    int ho;
    int wo;
    Tensor output;
    Tensor gradInput;
    private int[] inputShape;

    Pool2d(int kernel, int stride) {
        if (kernel <= 0 || stride <= 0) {
            throw new IllegalArgumentException("Expected kernel_size > 0 and stride > 0, got kernel_size=" + kernel
                    + ", stride=" + stride);
        }
        this.kernel = kernel;
        this.stride = stride;
    }

    public int kernelSize() {
        return kernel;
    }

    public int stride() {
        return stride;
    }

    /** Pools the planes of sample {@code s}. */
    abstract void forwardSample(float[] x, float[] y, int s, int c);

    /** Writes the input gradient of sample {@code s} (the whole slice, zeros included). */
    abstract void backwardSample(float[] dy, float[] dx, int s, int c);

    @Override
    public Tensor forward(Tensor x) {
        if (x.rank() != 4 || x.dim(2) < kernel || x.dim(3) < kernel) {
            throw Buffers.badInput(this, "[N, C, H, W] with H >= " + kernel + " and W >= " + kernel, x);
        }
        Tensor xc = x.to(MemoryFormat.CONTIGUOUS);
        inputShape = xc.shape();
        int n = xc.dim(0), c = xc.dim(1);
        h = xc.dim(2);
        w = xc.dim(3);
        ho = (h - kernel) / stride + 1;
        wo = (w - kernel) / stride + 1;
        output = Buffers.result(this, output, n, c, ho, wo);
        float[] xs = xc.data();
        float[] y = output.data();
        prepare(xc);
        WorkerPool.parallelFor(n, s -> forwardSample(xs, y, s, c));
        return output;
    }

    /** Hook before the forward loop (max pooling sizes its index buffer). */
    void prepare(Tensor x) {}

    @Override
    public Tensor backward(Tensor gradOutput) {
        Buffers.checkGrad(this, output, gradOutput);
        float[] dy = gradOutput.to(MemoryFormat.CONTIGUOUS).data();
        gradInput = Buffers.result(this, gradInput, inputShape);
        float[] dx = gradInput.data();
        int c = inputShape[1];
        WorkerPool.parallelFor(inputShape[0], s -> backwardSample(dy, dx, s, c));
        return gradInput;
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "(kernel_size=" + kernel + ", stride=" + stride + ")";
    }
}
