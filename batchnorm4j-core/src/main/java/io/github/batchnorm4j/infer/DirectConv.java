package io.github.batchnorm4j.infer;

import io.github.batchnorm4j.kernel.Scratch;
import io.github.batchnorm4j.kernel.Taps;
import io.github.batchnorm4j.kernel.WorkerPool;
import io.github.batchnorm4j.nn.Conv2d;
import io.github.batchnorm4j.tensor.MemoryFormat;
import io.github.batchnorm4j.tensor.Tensor;

/**
 * A stride-1 {@link Conv2d} with few weights per output ({@code Cin * k * k < 32}, such as a first layer on grey or
 * RGB images) computed directly, for inference plans: for every output channel, the {@code Cin * k * k} shifted
 * copies of the padded input plane are multiplied by their weight and added over the whole plane at once (the plane
 * as one row of {@code Ho * Wp} values, {@code Wp} the padded width; the {@code Wp - Wo} wrapped columns of each row
 * are computed and never written out), starting from the bias, with the optional ReLU applied before the store.
 * Such a layer leaves the GEMM path's micro-kernel mostly idle (a reduction of 9 for one grey channel); these long
 * sums run as {@link Taps} (vectorized along the plane) instead: from the bias, over {@code ci, ky, kx} in that
 * order by fused multiply-adds.
 *
 * <p>Samples are {@link WorkerPool} tasks (results do not depend on the thread count); the weights are copied when
 * the step is built.
 */
final class DirectConv {
    /** Weights per output value below which this path runs (the GEMM kernel reduces in blocks larger than this). */
    static final int MAX_WEIGHTS = 32;
    private static final ThreadLocal<float[]> PADDED = new ThreadLocal<>();
    private static final ThreadLocal<float[]> ACC = new ThreadLocal<>();

    private final Conv2d conv;
    private final boolean relu;
    private final int cin;
    private final int cout;
    private final int k;
    private final int pad;
    private final float[] weight;
    private final float[] bias;
    private Tensor out;
    private int[] offsets = new int[0];
    private int offsetsH = -1;
    private int offsetsW = -1;

    /** Whether {@code conv} can run here: stride 1 and {@code Cin * k * k < MAX_WEIGHTS}. */
    static boolean eligible(Conv2d conv) {
        return conv.stride() == 1 && conv.inChannels() * conv.kernelSize() * conv.kernelSize() < MAX_WEIGHTS;
    }

    DirectConv(Conv2d conv, boolean relu) {
        if (!eligible(conv)) {
            throw new IllegalArgumentException("Expected a stride-1 convolution with in_channels * kernel_size^2 < "
                    + MAX_WEIGHTS + ", got " + conv);
        }
        this.conv = conv;
        this.relu = relu;
        this.cin = conv.inChannels();
        this.cout = conv.outChannels();
        this.k = conv.kernelSize();
        this.pad = conv.padding();
        this.weight = conv.weight().value().toContiguousArray();
        this.bias = conv.bias() == null ? new float[cout] : conv.bias().value().toContiguousArray();
    }

    /** {@code relu?(conv(x))} for {@code x [N, Cin, H, W]}, into a buffer kept between calls of the same shape. */
    Tensor run(Tensor x) {
        if (x.rank() != 4 || x.dim(1) != cin || x.dim(2) + 2 * pad < k || x.dim(3) + 2 * pad < k) {
            return conv.forward(x, relu); // throws the convolution's own message
        }
        Tensor xc = x.to(MemoryFormat.CONTIGUOUS);
        int n = xc.dim(0), h = xc.dim(2), w = xc.dim(3);
        int hp = h + 2 * pad, wp = w + 2 * pad, ho = hp - k + 1, wo = wp - k + 1;
        out = WinogradConv.keep(out, n, cout, ho, wo);
        if (h != offsetsH || w != offsetsW) {
            offsets = offsets(h, w);
            offsetsH = h;
            offsetsW = w;
        }
        float[] xs = xc.data(), ys = out.data();
        int[] offs = offsets;
        WorkerPool.parallelFor(n, s -> sample(xs, s * cin * h * w, h, w, offs, ys, s * cout * ho * wo));
        return out;
    }

    /** Where tap {@code (ci, ky, kx)} starts reading the padded planes, for input size {@code h x w}. */
    private int[] offsets(int h, int w) {
        int wp = w + 2 * pad, stride = (h + 2 * pad) * wp + wp;
        int[] o = new int[cin * k * k];
        for (int ci = 0; ci < cin; ci++) {
            for (int ky = 0; ky < k; ky++) {
                for (int kx = 0; kx < k; kx++) {
                    o[(ci * k + ky) * k + kx] = ci * stride + ky * wp + kx;
                }
            }
        }
        return o;
    }

    private void sample(float[] x, int xOff, int h, int w, int[] offs, float[] y, int yOff) {
        int hp = h + 2 * pad, wp = w + 2 * pad, ho = hp - k + 1, wo = wp - k + 1;
        int plane = hp * wp;
        // one more padded row: the last output row's wrapped columns read up to k - 1 values past the plane
        float[] p = Scratch.floats(PADDED, cin * (plane + wp));
        java.util.Arrays.fill(p, 0, cin * (plane + wp), 0f);
        for (int ci = 0; ci < cin; ci++) {
            for (int r = 0; r < h; r++) {
                System.arraycopy(x, xOff + (ci * h + r) * w, p, ci * (plane + wp) + (r + pad) * wp + pad, w);
            }
        }
        int len = ho * wp;
        float[] acc = Scratch.floats(ACC, len);
        for (int co = 0; co < cout; co++) {
            Taps.sum(p, offs, weight, co * cin * k * k, cin * k * k, bias[co], relu, acc, 0, len);
            for (int oy = 0; oy < ho; oy++) { // drop the wrapped columns
                System.arraycopy(acc, oy * wp, y, yOff + (co * ho + oy) * wo, wo);
            }
        }
    }
}
