package io.github.batchnorm4j.nn;

/**
 * Index maps of a 2-D convolution for one input size, computed once and cached by {@link Conv2d}.
 *
 * <p>The convolution is a matrix product {@code Y (Cout x Q) = W (Cout x K) * B (K x Q)} with
 * {@code K = Cin*k*k}. Row {@code r = (ci, ky, kx)} of the implicit im2col matrix {@code B} is read from a
 * <em>source</em> array starting at {@code rows[r]}:
 * <ul>
 *   <li>stride 1 ({@link #implicit}): the source is the zero-padded input {@code (Cin, Hp, Wp)} and row {@code r}
 *       is the window starting at {@code ci*Hp*Wp + ky*Wp + kx}; output pixel {@code (oy, ox)} is column
 *       {@code oy*Wp + ox}. Columns with {@code ox >= Wo} wrap into the next row: computed and discarded, which
 *       costs {@code Wp/Wo - 1} extra work but needs no im2col copy.</li>
 *   <li>other strides: the source is a real im2col matrix {@code (K, Ho*Wo)}, {@code rows[r] = r*Ho*Wo}.</li>
 * </ul>
 * For stride 1 the input gradient is itself such a product: the padded output gradient {@code (Cout, Hq, Wq)}
 * with {@code Hq = Ho + 2(k-1)}, {@code Wq = Wo + 2(k-1)}, correlated with the flipped, transposed weights,
 * gives the gradient of the padded input on a grid of width {@code Wq}; {@link #flipRows} are its row starts.
 */
final class ConvGeometry {
    final int inC, outC, k, stride, pad;
    final int h, w, ho, wo, hp, wp;
    final boolean implicit;
    /** Width of the output grid (Wp for stride 1, Wo otherwise) and its column count {@code Ho * wg}. */
    final int wg, q;
    final int kdim;
    final int[] rows;
    /** Floats of the source array (the last window reads up to k-1 values past the padded image). */
    final int srcLen;
    final int hq, wq;
    final int[] flipRows;
    final int dyqLen;

    ConvGeometry(int inC, int outC, int k, int stride, int pad, int h, int w) {
        this.inC = inC;
        this.outC = outC;
        this.k = k;
        this.stride = stride;
        this.pad = pad;
        this.h = h;
        this.w = w;
        this.hp = h + 2 * pad;
        this.wp = w + 2 * pad;
        this.ho = (hp - k) / stride + 1;
        this.wo = (wp - k) / stride + 1;
        this.implicit = stride == 1;
        this.kdim = inC * k * k;
        this.wg = implicit ? wp : wo;
        this.q = ho * wg;
        this.rows = new int[kdim];
        for (int ci = 0; ci < inC; ci++) {
            for (int ky = 0; ky < k; ky++) {
                for (int kx = 0; kx < k; kx++) {
                    int r = (ci * k + ky) * k + kx;
                    rows[r] = implicit ? ci * hp * wp + ky * wp + kx : r * ho * wo;
                }
            }
        }
        this.srcLen = implicit ? inC * hp * wp + k : kdim * ho * wo;
        if (implicit) {
            hq = ho + 2 * (k - 1);
            wq = wo + 2 * (k - 1);
            flipRows = new int[outC * k * k];
            for (int co = 0; co < outC; co++) {
                for (int ky = 0; ky < k; ky++) {
                    for (int kx = 0; kx < k; kx++) {
                        flipRows[(co * k + ky) * k + kx] = co * hq * wq + ky * wq + kx;
                    }
                }
            }
            dyqLen = outC * hq * wq + k;
        } else {
            hq = 0;
            wq = 0;
            flipRows = null;
            dyqLen = 0;
        }
    }

    boolean matches(int height, int width) {
        return h == height && w == width;
    }

    /** Writes the source of sample {@code x[xOff ..]} (NCHW) into {@code src}: padded image or im2col matrix. */
    void fillSource(float[] x, int xOff, float[] src) {
        if (implicit) {
            int plane = hp * wp;
            for (int ci = 0; ci < inC; ci++) {
                int base = ci * plane;
                java.util.Arrays.fill(src, base, base + pad * wp, 0f);
                for (int y = 0; y < h; y++) {
                    int row = base + (y + pad) * wp;
                    java.util.Arrays.fill(src, row, row + pad, 0f);
                    System.arraycopy(x, xOff + (ci * h + y) * w, src, row + pad, w);
                    java.util.Arrays.fill(src, row + pad + w, row + wp, 0f);
                }
                java.util.Arrays.fill(src, base + (pad + h) * wp, base + plane, 0f);
            }
            java.util.Arrays.fill(src, inC * plane, srcLen, 0f);
            return;
        }
        int p = ho * wo;
        for (int ci = 0; ci < inC; ci++) {
            for (int ky = 0; ky < k; ky++) {
                for (int kx = 0; kx < k; kx++) {
                    int dst = ((ci * k + ky) * k + kx) * p;
                    for (int oy = 0; oy < ho; oy++) {
                        int iy = oy * stride - pad + ky;
                        int d = dst + oy * wo;
                        if (iy < 0 || iy >= h) {
                            java.util.Arrays.fill(src, d, d + wo, 0f);
                            continue;
                        }
                        int xrow = xOff + (ci * h + iy) * w;
                        for (int ox = 0; ox < wo; ox++) {
                            int ix = ox * stride - pad + kx;
                            src[d + ox] = ix >= 0 && ix < w ? x[xrow + ix] : 0f;
                        }
                    }
                }
            }
        }
    }

    /** Adds the im2col-shaped gradient {@code dcol (K, Ho*Wo)} into the sample's input gradient (not stride 1). */
    void col2im(float[] dcol, float[] dx, int dxOff) {
        int p = ho * wo;
        for (int ci = 0; ci < inC; ci++) {
            for (int ky = 0; ky < k; ky++) {
                for (int kx = 0; kx < k; kx++) {
                    int srcRow = ((ci * k + ky) * k + kx) * p;
                    for (int oy = 0; oy < ho; oy++) {
                        int iy = oy * stride - pad + ky;
                        if (iy < 0 || iy >= h) {
                            continue;
                        }
                        int xrow = dxOff + (ci * h + iy) * w;
                        int s = srcRow + oy * wo;
                        for (int ox = 0; ox < wo; ox++) {
                            int ix = ox * stride - pad + kx;
                            if (ix >= 0 && ix < w) {
                                dx[xrow + ix] += dcol[s + ox];
                            }
                        }
                    }
                }
            }
        }
    }
}
