package io.github.batchnorm4j.nn;

import io.github.batchnorm4j.kernel.WorkerPool;
import io.github.batchnorm4j.tensor.Tensor;

/**
 * An elementwise activation whose derivative is a function of its output ({@code y}), so backward needs only the
 * last output. Works on any shape and memory format (the output keeps the input's format). Large tensors are cut
 * into fixed chunks of {@link #CHUNK} elements run as {@link WorkerPool} tasks (elementwise: any split gives the
 * same bits).
 */
abstract class Activation extends Module {
    static final int CHUNK = 1 << 16;
    private Tensor output;
    private Tensor gradInput;

    /** {@code y[i] = f(x[i])} for {@code i} in {@code [from, to)}. */
    abstract void apply(float[] x, float[] y, int from, int to);

    /** {@code dx[i] = dy[i] * f'(x[i])}, written in terms of {@code y[i]}, for {@code i} in {@code [from, to)}. */
    abstract void derivative(float[] y, float[] dy, float[] dx, int from, int to);

    private static void chunked(int n, java.util.function.IntConsumer chunk) {
        int tasks = (n + CHUNK - 1) / CHUNK;
        if (tasks <= 1) {
            chunk.accept(0);
        } else {
            WorkerPool.parallelFor(tasks, chunk);
        }
    }

    @Override
    public Tensor forward(Tensor x) {
        output = Buffers.resultLike(this, output, x);
        float[] xs = x.data();
        float[] ys = output.data();
        int n = x.numel();
        chunked(n, t -> apply(xs, ys, t * CHUNK, Math.min(n, (t + 1) * CHUNK)));
        return output;
    }

    @Override
    public Tensor backward(Tensor gradOutput) {
        Buffers.checkGrad(this, output, gradOutput);
        Tensor dy = gradOutput.to(output.format());
        gradInput = Buffers.resultLike(this, gradInput, output);
        float[] ys = output.data();
        float[] g = dy.data();
        float[] dx = gradInput.data();
        int n = ys.length;
        chunked(n, t -> derivative(ys, g, dx, t * CHUNK, Math.min(n, (t + 1) * CHUNK)));
        return gradInput;
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "()";
    }
}
