package io.github.batchnorm4j.nn;

import io.github.batchnorm4j.kernel.Gemm;
import io.github.batchnorm4j.kernel.RowDots;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.random.RandomGenerator;

/**
 * Fully connected layer: {@code y = x W^T + b} for input {@code (N, in)} and output {@code (N, out)}; parameters
 * {@code weight [out, in]} and {@code bias [out]} (optional), both initialised U(-1/sqrt(in), 1/sqrt(in)) as
 * PyTorch does (weight drawn first, row-major, then bias).
 *
 * <p>Forward goes through {@link Gemm}, or for a single row ({@value #GEMV_ROWS}) through {@link RowDots} (one dot
 * product per output; the two paths round differently, each the same way for every call of its kind).
 * Backward: {@code dW += dy^T x}, {@code db += sum_n dy}, {@code dx = dy W}, all through {@link Gemm}.
 * Output and input-gradient tensors are new per call, or layer-held and refilled with {@link #reuseBuffers}.
 */
public final class Linear extends Module {
    /**
     * Inputs of at most this many rows are dot products, not a GEMM (see the class comment). One: serving a single
     * item is where packing for the GEMM costs most, and training batches (the reproduction's tiny batches of 2
     * and 4 included) keep the GEMM's rounding.
     */
    static final int GEMV_ROWS = 1;

    private final int inFeatures;
    private final int outFeatures;
    private final Parameter weight;
    private final Parameter bias;
    private boolean inputGrad = true;
    private Tensor input;
    private Tensor output;
    private Tensor gradInput;
    private double[] biasSums = new double[0];
    private int[] weightRows = new int[0];

    public Linear(int inFeatures, int outFeatures, boolean bias, RandomGenerator rng) {
        if (inFeatures <= 0 || outFeatures <= 0) {
            throw new IllegalArgumentException("Expected in_features > 0 and out_features > 0, got in_features="
                    + inFeatures + ", out_features=" + outFeatures);
        }
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        double bound = 1.0 / Math.sqrt(inFeatures);
        this.weight = registerParameter("weight", Init.uniform(rng, bound, outFeatures, inFeatures));
        this.bias = bias ? registerParameter("bias", Init.uniform(rng, bound, outFeatures)) : null;
    }

    public Parameter weight() {
        return weight;
    }

    /** The bias, or null when built without one. */
    public Parameter bias() {
        return bias;
    }

    public int inFeatures() {
        return inFeatures;
    }

    public int outFeatures() {
        return outFeatures;
    }

    /**
     * Whether {@link #backward} computes the input gradient (default true). A first layer whose input needs no
     * gradient can switch it off to save a third of its backward; backward then returns null.
     */
    public Linear setInputGradient(boolean compute) {
        this.inputGrad = compute;
        return this;
    }

    @Override
    public Tensor forward(Tensor x) {
        if (x.rank() != 2 || x.dim(1) != inFeatures) {
            throw Buffers.badInput(this, "[N, " + inFeatures + "]", x);
        }
        Tensor xc = x.to(io.github.batchnorm4j.tensor.MemoryFormat.CONTIGUOUS);
        int n = xc.dim(0);
        output = Buffers.result(this, output, n, outFeatures);
        float[] y = output.data();
        float beta = 0f;
        if (bias != null) {
            float[] b = bias.data();
            for (int i = 0; i < n; i++) {
                System.arraycopy(b, 0, y, i * outFeatures, outFeatures);
            }
            beta = 1f;
        }
        if (n <= GEMV_ROWS) {
            // A few rows (inference at batch 1): dot products along the rows of x and W, no packing, which GEMM's
            // 8 x 48 panels would make mostly padding.
            if (bias == null) {
                java.util.Arrays.fill(y, 0, n * outFeatures, 0f);
            }
            if (weightRows.length != outFeatures) {
                weightRows = new int[outFeatures];
                for (int j = 0; j < outFeatures; j++) {
                    weightRows[j] = j * inFeatures;
                }
            }
            RowDots.accumulate(n, outFeatures, inFeatures, xc.data(), 0, inFeatures, weight.data(), weightRows, y, 0,
                    outFeatures);
        } else {
            Gemm.sgemm(false, true, n, outFeatures, inFeatures, 1f, xc.data(), 0, inFeatures,
                    weight.data(), 0, inFeatures, beta, y, 0, outFeatures);
        }
        input = xc;
        return output;
    }

    @Override
    public Tensor backward(Tensor gradOutput) {
        Buffers.checkGrad(this, output, gradOutput);
        int n = input.dim(0);
        float[] dy = gradOutput.data();
        Gemm.sgemm(true, false, outFeatures, inFeatures, n, 1f, dy, 0, outFeatures, input.data(), 0, inFeatures,
                1f, weight.grad().data(), 0, inFeatures);
        if (bias != null) {
            if (biasSums.length != outFeatures) {
                biasSums = new double[outFeatures];
            }
            java.util.Arrays.fill(biasSums, 0);
            for (int i = 0; i < n; i++) {
                int row = i * outFeatures;
                for (int j = 0; j < outFeatures; j++) {
                    biasSums[j] += dy[row + j];
                }
            }
            float[] gb = bias.grad().data();
            for (int j = 0; j < outFeatures; j++) {
                gb[j] += (float) biasSums[j];
            }
        }
        if (!inputGrad) {
            return null;
        }
        gradInput = Buffers.result(this, gradInput, n, inFeatures);
        Gemm.sgemm(false, false, n, inFeatures, outFeatures, 1f, dy, 0, outFeatures, weight.data(), 0, inFeatures,
                0f, gradInput.data(), 0, inFeatures);
        return gradInput;
    }

    @Override
    public String toString() {
        return "Linear(in_features=" + inFeatures + ", out_features=" + outFeatures + ")";
    }
}
