package io.github.batchnorm4j.infer;

import io.github.batchnorm4j.kernel.Gemm;
import io.github.batchnorm4j.kernel.Scratch;
import io.github.batchnorm4j.kernel.Winograd;
import io.github.batchnorm4j.kernel.WorkerPool;
import io.github.batchnorm4j.nn.Conv2d;
import io.github.batchnorm4j.nn.MaxPool2d;
import io.github.batchnorm4j.tensor.MemoryFormat;
import io.github.batchnorm4j.tensor.Tensor;

/**
 * A {@link Conv2d} with a 3x3 kernel, stride 1 and padding 1 run by Winograd's F(2x2, 3x3) ({@link Winograd}), with
 * the ReLU after it applied as the output is written and, when the plan has one, the 2x2 stride-2 max pool after
 * that taken in the same pass (the pooled output is all that is written). For a {@link Predictor}: the filters are
 * transformed and packed once, when the step is built, so later changes to the convolution's weights are not seen.
 *
 * <p>Per group of samples (one sample, or several small ones sharing a block; groups depend on the input size
 * only and are {@link WorkerPool} tasks, so results do not depend on the thread count): each padded input is split
 * into its four polyphase components, once; then, over blocks of tiles small enough for the
 * transformed data to stay in cache, the input transform, 16 matrix products {@code M_xi = U_xi V_xi}
 * ({@code U_xi}: {@code [Cout, Cin]} transformed filters, {@code V_xi}: {@code [Cin, tiles]}) and the output
 * transform with bias, ReLU and pool. The tile grid has one tile per row more than the image needs (the transforms
 * then read every operand at a fixed offset, see {@link Winograd}); its results are never written out.
 *
 * <p>Rounding differs from the direct convolution's (the transforms add and subtract inputs before multiplying):
 * on the built-in models the outputs agree to about 1e-6 relative to the largest.
 */
final class WinogradConv {
    /** Below this many input channels the transforms cost more than the products save; the GEMM path is used. */
    static final int MIN_IN_CHANNELS = 8;
    /**
     * Below this height or width the direct convolution runs instead: a 7x7 image wastes a third of its 4x5 tile
     * grid (an odd size and the extra tile per row), and the Winograd step measured 1.4-1.7x slower there.
     */
    static final int MIN_SIZE = 12;
    /** Floats of transformed input and output per block: 256K floats (1 MiB), a core's L2 cache on this machine. */
    private static final int BLOCK_FLOATS = 1 << 18;
    private static final ThreadLocal<float[]> PHASES = new ThreadLocal<>();
    private static final ThreadLocal<float[]> V = new ThreadLocal<>();
    private static final ThreadLocal<float[]> M = new ThreadLocal<>();
    private static final ThreadLocal<float[]> Y = new ThreadLocal<>();

    private final Conv2d conv;
    private final MaxPool2d pool;
    private final boolean relu;
    private final int cin;
    private final int cout;
    private final int blockLimit;
    private final float[] bias;
    private final Gemm.PackedA[] filters = new Gemm.PackedA[Winograd.POSITIONS];
    private Tensor out;
    private Tensor unpooled;
    private Geometry geo;

    /** Whether {@code conv} can run here: 3x3 kernel, stride 1, padding 1, at least {@link #MIN_IN_CHANNELS} inputs. */
    static boolean eligible(Conv2d conv) {
        return conv.kernelSize() == 3 && conv.stride() == 1 && conv.padding() == 1
                && conv.inChannels() >= MIN_IN_CHANNELS;
    }

    /** {@code pool} (or null): a 2x2 stride-2 max pool that follows the convolution (and the ReLU, if any). */
    WinogradConv(Conv2d conv, boolean relu, MaxPool2d pool) {
        this(conv, relu, pool, 0);
    }

    /** As above, with at most {@code blockTiles} tiles per block when positive (tests force many blocks). */
    WinogradConv(Conv2d conv, boolean relu, MaxPool2d pool, int blockTiles) {
        if (!eligible(conv)) {
            throw new IllegalArgumentException("Expected a 3x3 convolution with stride 1, padding 1 and at least "
                    + MIN_IN_CHANNELS + " input channels, got " + conv);
        }
        if (pool != null && (pool.kernelSize() != 2 || pool.stride() != 2)) {
            throw new IllegalArgumentException("Expected a 2x2 max pool with stride 2, got " + pool);
        }
        this.conv = conv;
        this.relu = relu;
        this.pool = pool;
        this.cin = conv.inChannels();
        this.cout = conv.outChannels();
        int fit = Math.max(16, BLOCK_FLOATS / (Winograd.POSITIONS * (cin + cout)) / 16 * 16);
        this.blockLimit = blockTiles > 0 ? blockTiles : fit;
        this.bias = conv.bias() == null ? new float[cout] : conv.bias().value().toContiguousArray();
        float[] w = conv.weight().value().toContiguousArray();
        int plane = cout * cin;
        float[] u = new float[Winograd.POSITIONS * plane];
        for (int i = 0; i < plane; i++) { // filter (co, ci) -> u[xi][co][ci]
            Winograd.filter(w, 9 * i, u, i, plane);
        }
        for (int xi = 0; xi < Winograd.POSITIONS; xi++) {
            filters[xi] = Gemm.pack(false, cout, cin, 1f, u, xi * plane, cin, null);
        }
    }

    /** The tile grid and buffer layout for one input size. */
    private static final class Geometry {
        final int h, w, th, tw, row, tiles, plane, group, block;
        final int[][] rows;

        Geometry(int h, int w, int cin, int blockLimit) {
            this.h = h;
            this.w = w;
            this.th = (h + 1) / 2;
            this.tw = (w + 1) / 2;
            this.row = tw + 1;
            this.tiles = th * row;
            // tile t reads up to t + row + 1 < (th + 1) * row: two component rows beyond the grid's last suffice
            this.plane = (th + 2) * row;
            this.group = Math.max(1, blockLimit / tiles); // images per task: small images share a block
            this.block = Math.min(blockLimit, (group * tiles + 15) / 16 * 16);
            this.rows = new int[Winograd.POSITIONS][cin];
            for (int xi = 0; xi < Winograd.POSITIONS; xi++) {
                for (int ci = 0; ci < cin; ci++) {
                    rows[xi][ci] = (xi * cin + ci) * block;
                }
            }
        }
    }

    /** The step's output for {@code x [N, Cin, H, W]}: conv (+ ReLU) (+ pool), in a buffer kept between calls. */
    Tensor run(Tensor x) {
        if (x.rank() != 4 || x.dim(1) != cin) {
            return conv.forward(x); // throws the convolution's own message for a wrong shape
        }
        if (x.dim(2) < MIN_SIZE || x.dim(3) < MIN_SIZE) {
            Tensor y = conv.forward(x, relu);
            return pool == null ? y : pool.forward(y);
        }
        Tensor xc = x.to(MemoryFormat.CONTIGUOUS);
        int n = xc.dim(0), h = xc.dim(2), w = xc.dim(3);
        if (geo == null || geo.h != h || geo.w != w) {
            geo = new Geometry(h, w, cin, blockLimit);
        }
        boolean fusePool = pool != null && h % 2 == 0 && w % 2 == 0;
        Tensor y;
        if (fusePool) {
            out = keep(out, n, cout, h / 2, w / 2);
            y = out;
        } else {
            unpooled = keep(unpooled, n, cout, h, w);
            y = unpooled;
        }
        Geometry g = geo;
        float[] xs = xc.data(), ys = y.data();
        int groups = (n + g.group - 1) / g.group;
        WorkerPool.parallelFor(groups, t -> group(g, xs, t * g.group, Math.min(g.group, n - t * g.group), ys,
                y.dim(2) * y.dim(3), fusePool));
        return pool != null && !fusePool ? pool.forward(unpooled) : y;
    }

    /** {@code t} when it has {@code shape}, else a new zero tensor of that shape. */
    static Tensor keep(Tensor t, int... shape) {
        return t != null && java.util.Arrays.equals(t.shape(), shape) ? t : Tensor.zeros(shape);
    }

    /**
     * Samples {@code [s0, s0 + count)}: their tile grids side by side as the columns of the products, in blocks of
     * at most {@code g.block} columns (a large image is several blocks, small images share one).
     */
    private void group(Geometry g, float[] x, int s0, int count, float[] y, int outPlane, boolean fusePool) {
        int image = 4 * cin * g.plane;
        float[] ph = Scratch.floats(PHASES, count * image);
        for (int k = 0; k < count; k++) {
            split(g, x, (s0 + k) * cin * g.h * g.w, ph, k * image);
        }
        float[] v = Scratch.floats(V, Winograd.POSITIONS * cin * g.block);
        float[] m = Scratch.floats(M, Winograd.POSITIONS * cout * g.block);
        int parts = fusePool ? 1 : 4;
        int cols = count * g.tiles;
        float[] yb = Scratch.floats(Y, parts * cout * cols);
        for (int c0 = 0; c0 < cols; c0 += g.block) {
            int nb = Math.min(g.block, cols - c0);
            for (int k = c0 / g.tiles; k * g.tiles < c0 + nb; k++) { // the images this block covers
                int from = Math.max(c0, k * g.tiles), to = Math.min(c0 + nb, (k + 1) * g.tiles);
                for (int ci = 0; ci < cin; ci++) {
                    int c = k * image + 4 * ci * g.plane + from - k * g.tiles;
                    Winograd.input(ph, c, c + g.plane, c + 2 * g.plane, c + 3 * g.plane, g.row, v,
                            ci * g.block + from - c0, cin * g.block, to - from);
                }
            }
            for (int xi = 0; xi < Winograd.POSITIONS; xi++) {
                Gemm.sgemmRows(filters[xi], false, nb, v, g.rows[xi], 0f, m, xi * cout * g.block, g.block);
            }
            for (int co = 0; co < cout; co++) {
                Winograd.output(m, co * g.block, cout * g.block, nb, bias[co], relu, fusePool, yb,
                        co * parts * cols + c0, cols);
            }
        }
        for (int k = 0; k < count; k++) {
            int yOff = (s0 + k) * cout * outPlane;
            if (fusePool) {
                for (int co = 0; co < cout; co++) {
                    for (int ty = 0; ty < g.th; ty++) {
                        System.arraycopy(yb, co * cols + k * g.tiles + ty * g.row, y, yOff + co * outPlane
                                + ty * g.tw, g.tw);
                    }
                }
            } else {
                interleave(g, yb, k * g.tiles, cols, y, yOff);
            }
        }
    }

    /** {@code ph[ci][a][b][i][j] = xpad[ci][2i + a][2j + b]} (padding 1, zeros outside the image). */
    private void split(Geometry g, float[] x, int xOff, float[] ph, int phOff) {
        int pairs = g.w / 2; // full (even, odd) column pairs of an image row
        for (int ci = 0; ci < cin; ci++) {
            int src = xOff + ci * g.h * g.w;
            for (int a = 0; a < 2; a++) {
                int d0 = phOff + (4 * ci + 2 * a) * g.plane, d1 = d0 + g.plane;
                for (int i = 0; i < g.th + 2; i++) {
                    int yy = 2 * i + a - 1;
                    int r0 = d0 + i * g.row, r1 = d1 + i * g.row;
                    if (yy < 0 || yy >= g.h) {
                        for (int j = 0; j < g.row; j++) {
                            ph[r0 + j] = 0f;
                            ph[r1 + j] = 0f;
                        }
                        continue;
                    }
                    // padded column 2j + b is image column 2j + b - 1: b = 1 takes the even ones, b = 0 the odd
                    int s = src + yy * g.w;
                    ph[r0] = 0f;
                    for (int j = 0; j < pairs; j++) {
                        ph[r1 + j] = x[s + 2 * j];
                        ph[r0 + 1 + j] = x[s + 2 * j + 1];
                    }
                    // row = pairs + 1 (w even) or pairs + 2 (w odd, whose last column is even)
                    ph[r1 + pairs] = g.w % 2 != 0 ? x[s + g.w - 1] : 0f;
                    for (int j = pairs + 1; j < g.row; j++) {
                        ph[r1 + j] = 0f;
                        ph[r0 + j] = 0f;
                    }
                }
            }
        }
    }

    /**
     * {@code y[co][2ty + a][2tx + b] = yb[co][2a + b][col + ty * row + tx]} inside the image, {@code yb}'s rows
     * being {@code cols} long.
     */
    private void interleave(Geometry g, float[] yb, int col, int cols, float[] y, int yOff) {
        for (int co = 0; co < cout; co++) {
            int base = co * 4 * cols + col;
            for (int ty = 0; ty < g.th; ty++) {
                for (int a = 0; a < 2; a++) {
                    int oy = 2 * ty + a;
                    if (oy >= g.h) {
                        break;
                    }
                    int dst = yOff + (co * g.h + oy) * g.w;
                    int p0 = base + 2 * a * cols + ty * g.row, p1 = p0 + cols;
                    int full = g.w / 2;
                    for (int tx = 0; tx < full; tx++) {
                        y[dst + 2 * tx] = yb[p0 + tx];
                        y[dst + 2 * tx + 1] = yb[p1 + tx];
                    }
                    if (g.w % 2 != 0) {
                        y[dst + g.w - 1] = yb[p0 + full];
                    }
                }
            }
        }
    }
}
