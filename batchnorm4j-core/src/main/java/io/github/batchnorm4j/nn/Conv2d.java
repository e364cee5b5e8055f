package io.github.batchnorm4j.nn;

import io.github.batchnorm4j.kernel.Gemm;
import io.github.batchnorm4j.kernel.RowDots;
import io.github.batchnorm4j.kernel.WorkerPool;
import io.github.batchnorm4j.tensor.MemoryFormat;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * 2-D convolution (cross-correlation, as PyTorch): input {@code (N, Cin, H, W)}, square kernel {@code k}, stride
 * and zero padding; output {@code (N, Cout, Ho, Wo)} with {@code Ho = (H + 2p - k) / stride + 1}:
 * {@code y[n][co][oy][ox] = b[co] + sum_{ci,ky,kx} w[co][ci][ky][kx] * x[n][ci][oy*s - p + ky][ox*s - p + kx]}.
 * Parameters {@code weight [Cout, Cin, k, k]} and optional {@code bias [Cout]}, initialised
 * U(-1/sqrt(Cin*k*k), 1/sqrt(Cin*k*k)) as PyTorch.
 *
 * <p>Each sample is a {@link Gemm} product over an implicit im2col matrix (see {@link ConvGeometry}); samples are
 * {@link WorkerPool} tasks. Backward: {@code dW += dY * B^T} per sample, summed within fixed chunks of samples
 * and then over chunks in order (bit-identical for any thread count); {@code dX} for stride 1 is the correlation
 * of the padded output gradient with the flipped weights, otherwise {@code W^T dY} scattered back (col2im).
 * Scratch arrays are per thread and outputs are layer-held, so steady-state calls do not allocate large arrays.
 * Channels-last input is converted to NCHW first (one copy).
 */
public final class Conv2d extends Module {
    /** Samples per backward chunk are chosen so there are at most this many chunks (partial dW buffers). */
    private static final int MAX_CHUNKS = 16;
    /** Below this many weight columns (Cin*k*k) the weight gradient uses row dot products instead of GEMM. */
    private static final int SMALL_K = 32;
    private static final ThreadLocal<float[]> SRC = new ThreadLocal<>();
    private static final ThreadLocal<float[]> GRID = new ThreadLocal<>();
    private static final ThreadLocal<float[]> DY = new ThreadLocal<>();
    private static final ThreadLocal<float[]> DX = new ThreadLocal<>();

    private final int inChannels;
    private final int outChannels;
    private final int kernelSize;
    private final int stride;
    private final int padding;
    private final Parameter weight;
    private final Parameter bias;
    private boolean inputGrad = true;
    private ConvGeometry geo;
    private Tensor input;
    private Tensor output;
    private Tensor gradInput;
    private float[][] dwParts = new float[0][];
    private double[][] dbParts = new double[0][];
    private float[] flipped = new float[0];
    private Gemm.PackedA packedWeight;
    private Gemm.PackedA packedFlipped;

    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride, int padding, boolean bias,
                  RandomGenerator rng) {
        if (inChannels <= 0 || outChannels <= 0 || kernelSize <= 0 || stride <= 0 || padding < 0) {
            throw new IllegalArgumentException("Expected in_channels, out_channels, kernel_size, stride > 0 and "
                    + "padding >= 0, got in_channels=" + inChannels + ", out_channels=" + outChannels
                    + ", kernel_size=" + kernelSize + ", stride=" + stride + ", padding=" + padding);
        }
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.kernelSize = kernelSize;
        this.stride = stride;
        this.padding = padding;
        double bound = 1.0 / Math.sqrt((double) inChannels * kernelSize * kernelSize);
        this.weight = registerParameter("weight",
                Init.uniform(rng, bound, outChannels, inChannels, kernelSize, kernelSize));
        this.bias = bias ? registerParameter("bias", Init.uniform(rng, bound, outChannels)) : null;
    }

    public Parameter weight() {
        return weight;
    }

    /** The bias, or null when built without one. */
    public Parameter bias() {
        return bias;
    }

    public int kernelSize() {
        return kernelSize;
    }

    public int stride() {
        return stride;
    }

    public int padding() {
        return padding;
    }

    public int inChannels() {
        return inChannels;
    }

    public int outChannels() {
        return outChannels;
    }

    /** Whether backward computes the input gradient (default true); off for a first layer, then it returns null. */
    public Conv2d setInputGradient(boolean compute) {
        this.inputGrad = compute;
        return this;
    }

    @Override
    public Tensor forward(Tensor x) {
        return forward(x, false);
    }

    /**
     * {@link #forward(Tensor)} with {@code relu(...)} applied as the output is written (one pass, for inference
     * plans such as {@link io.github.batchnorm4j.infer.Predictor}); {@code relu = false} is the plain forward.
     * {@link #backward} is the gradient of the plain convolution: after a fused forward the caller gates the
     * gradient itself.
     */
    public Tensor forward(Tensor x, boolean relu) {
        String expected = "[N, " + inChannels + ", H, W]";
        if (x.rank() != 4 || x.dim(1) != inChannels) {
            throw Buffers.badInput(this, expected, x);
        }
        if (x.dim(2) + 2 * padding < kernelSize || x.dim(3) + 2 * padding < kernelSize) {
            throw Buffers.badInput(this, expected + " with H + 2*padding >= " + kernelSize
                    + " and W + 2*padding >= " + kernelSize, x);
        }
        Tensor xc = x.to(MemoryFormat.CONTIGUOUS);
        int n = xc.dim(0);
        if (geo == null || !geo.matches(xc.dim(2), xc.dim(3))) {
            geo = new ConvGeometry(inChannels, outChannels, kernelSize, stride, padding, xc.dim(2), xc.dim(3));
        }
        ConvGeometry g = geo;
        output = Buffers.result(this, output, n, outChannels, g.ho, g.wo);
        float[] xs = xc.data();
        float[] y = output.data();
        float[] w = weight.data();
        float[] b = bias == null ? null : bias.data();
        int inSize = inChannels * g.h * g.w;
        int outPlane = g.ho * g.wo;
        packedWeight = Gemm.pack(false, outChannels, g.kdim, 1f, w, 0, g.kdim, packedWeight); // once, not per sample
        Gemm.PackedA pw = packedWeight;
        WorkerPool.parallelFor(n, s -> {
            float[] src = Buffers.scratch(SRC, g.srcLen);
            float[] grid = Buffers.scratch(GRID, outChannels * g.q);
            g.fillSource(xs, s * inSize, src);
            Gemm.sgemmRows(pw, false, g.q, src, g.rows, 0f, grid, 0, g.q);
            int yOff = s * outChannels * outPlane;
            for (int co = 0; co < outChannels; co++) {
                float bv = b == null ? 0f : b[co];
                for (int oy = 0; oy < g.ho; oy++) {
                    int from = co * g.q + oy * g.wg;
                    int to = yOff + co * outPlane + oy * g.wo;
                    if (relu) {
                        for (int ox = 0; ox < g.wo; ox++) {
                            y[to + ox] = Math.max(grid[from + ox] + bv, 0f);
                        }
                    } else {
                        for (int ox = 0; ox < g.wo; ox++) {
                            y[to + ox] = grid[from + ox] + bv;
                        }
                    }
                }
            }
        });
        input = xc;
        return output;
    }

    @Override
    public Tensor backward(Tensor gradOutput) {
        Buffers.checkGrad(this, output, gradOutput);
        ConvGeometry g = geo;
        int n = input.dim(0);
        float[] xs = input.data();
        float[] dy = gradOutput.to(MemoryFormat.CONTIGUOUS).data();
        float[] w = weight.data();
        int kd = g.kdim;
        int chunk = Math.max(1, (n + MAX_CHUNKS - 1) / MAX_CHUNKS);
        int chunks = (n + chunk - 1) / chunk;
        ensureParts(chunks, outChannels * kd);
        float[] dx;
        if (inputGrad) {
            gradInput = Buffers.result(this, gradInput, input.shape());
            dx = gradInput.data();
            if (g.implicit) {
                flipWeights(w, g);
                int kk = outChannels * kernelSize * kernelSize;
                packedFlipped = Gemm.pack(false, inChannels, kk, 1f, flipped, 0, kk, packedFlipped);
            }
        } else {
            dx = null;
        }
        boolean doInput = inputGrad;
        boolean doBias = bias != null;
        int inSize = inChannels * g.h * g.w;
        int outPlane = g.ho * g.wo;
        Gemm.PackedA fw = packedFlipped;
        WorkerPool.parallelFor(chunks, t -> {
            float[] part = dwParts[t];
            double[] bpart = dbParts[t];
            Arrays.fill(part, 0f);
            Arrays.fill(bpart, 0);
            float[] src = Buffers.scratch(SRC, g.srcLen);
            for (int s = t * chunk, end = Math.min(n, s + chunk); s < end; s++) {
                int dyOff = s * outChannels * outPlane;
                g.fillSource(xs, s * inSize, src);
                float[] dyg;
                int dygOff;
                if (g.implicit) {
                    // the output gradient on the wide grid, zero in the wrapped columns
                    dyg = Buffers.scratch(GRID, outChannels * g.q);
                    dygOff = 0;
                    for (int co = 0; co < outChannels; co++) {
                        for (int oy = 0; oy < g.ho; oy++) {
                            int to = co * g.q + oy * g.wg;
                            System.arraycopy(dy, dyOff + co * outPlane + oy * g.wo, dyg, to, g.wo);
                            Arrays.fill(dyg, to + g.wo, to + g.wg, 0f);
                        }
                    }
                } else {
                    dyg = dy;
                    dygOff = dyOff;
                }
                if (kd < SMALL_K) {
                    RowDots.accumulate(outChannels, kd, g.q, dyg, dygOff, g.q, src, g.rows, part, 0, kd);
                } else {
                    Gemm.sgemmRows(false, true, outChannels, kd, g.q, 1f, dyg, dygOff, g.q, src, g.rows, 1f,
                            part, 0, kd);
                }
                if (doBias) {
                    for (int co = 0; co < outChannels; co++) {
                        double acc = 0;
                        int o = dyOff + co * outPlane;
                        for (int i = 0; i < outPlane; i++) {
                            acc += dy[o + i];
                        }
                        bpart[co] += acc;
                    }
                }
                if (doInput) {
                    inputGradient(g, dy, dyOff, w, fw, dx, s * inSize);
                }
            }
        });
        float[] gw = weight.grad().data();
        for (int t = 0; t < chunks; t++) {
            float[] part = dwParts[t];
            for (int i = 0; i < gw.length; i++) {
                gw[i] += part[i];
            }
        }
        if (doBias) {
            float[] gb = bias.grad().data();
            for (int co = 0; co < outChannels; co++) {
                double acc = 0;
                for (int t = 0; t < chunks; t++) {
                    acc += dbParts[t][co];
                }
                gb[co] += (float) acc;
            }
        }
        return doInput ? gradInput : null;
    }

    /** dX of one sample: stride 1 through the flipped-kernel product, otherwise W^T dY and col2im. */
    private void inputGradient(ConvGeometry g, float[] dy, int dyOff, float[] w, Gemm.PackedA fw, float[] dx,
                               int dxOff) {
        int outPlane = g.ho * g.wo;
        int k = kernelSize;
        if (g.implicit) {
            float[] dyq = Buffers.scratch(DY, g.dyqLen);
            Arrays.fill(dyq, 0, g.dyqLen, 0f);
            int qPlane = g.hq * g.wq;
            for (int co = 0; co < outChannels; co++) {
                for (int oy = 0; oy < g.ho; oy++) {
                    System.arraycopy(dy, dyOff + co * outPlane + oy * g.wo, dyq,
                            co * qPlane + (oy + k - 1) * g.wq + k - 1, g.wo);
                }
            }
            int cols = g.hp * g.wq;
            float[] grid = Buffers.scratch(DX, inChannels * cols);
            Gemm.sgemmRows(fw, false, cols, dyq, g.flipRows, 0f, grid, 0, cols);
            for (int ci = 0; ci < inChannels; ci++) {
                for (int y = 0; y < g.h; y++) {
                    System.arraycopy(grid, ci * cols + (y + padding) * g.wq + padding, dx,
                            dxOff + (ci * g.h + y) * g.w, g.w);
                }
            }
        } else {
            int p = outPlane;
            float[] dcol = Buffers.scratch(DX, g.kdim * p);
            Gemm.sgemm(true, false, g.kdim, p, outChannels, 1f, w, 0, g.kdim, dy, dyOff, p, 0f, dcol, 0, p);
            Arrays.fill(dx, dxOff, dxOff + inChannels * g.h * g.w, 0f);
            g.col2im(dcol, dx, dxOff);
        }
    }

    /** {@code flipped[ci][co][ky][kx] = w[co][ci][k-1-ky][k-1-kx]}: the weights of the transposed correlation. */
    private void flipWeights(float[] w, ConvGeometry g) {
        int k = kernelSize;
        int kk = k * k;
        int size = inChannels * outChannels * kk;
        if (flipped.length != size) {
            flipped = new float[size];
        }
        for (int ci = 0; ci < inChannels; ci++) {
            for (int co = 0; co < outChannels; co++) {
                for (int ky = 0; ky < k; ky++) {
                    for (int kx = 0; kx < k; kx++) {
                        flipped[((ci * outChannels + co) * k + ky) * k + kx] =
                                w[((co * inChannels + ci) * k + (k - 1 - ky)) * k + (k - 1 - kx)];
                    }
                }
            }
        }
    }

    private void ensureParts(int chunks, int size) {
        if (dwParts.length < chunks || (chunks > 0 && dwParts[0].length != size)) {
            dwParts = new float[chunks][size];
            dbParts = new double[chunks][outChannels];
        }
    }

    @Override
    public String toString() {
        return "Conv2d(in_channels=" + inChannels + ", out_channels=" + outChannels + ", kernel_size=" + kernelSize
                + ", stride=" + stride + ", padding=" + padding + ")";
    }
}
