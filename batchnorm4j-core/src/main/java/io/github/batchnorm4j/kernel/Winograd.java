package io.github.batchnorm4j.kernel;

/**
 * The transforms of Winograd's minimal filtering algorithm F(2x2, 3x3) (Lavin and Gray, 2016), for 3x3
 * convolutions with stride 1: each 2x2 block ("tile") of output is {@code Y = A^T [(G g G^T) . (B^T d B)] A} for the
 * 4x4 input patch {@code d} under it and the 3x3 filter {@code g}, with
 * <pre>
 * B^T = | 1  0 -1  0 |    G = | 1    0    0  |    A^T = | 1  1  1  0 |
 *       | 0  1  1  0 |        | 1/2  1/2  1/2 |          | 0  1 -1 -1 |
 *       | 0 -1  1  0 |        | 1/2 -1/2  1/2 |
 *       | 0  1  0 -1 |        | 0    0    1  |
 * </pre>
 * Summed over input channels, the elementwise product becomes 16 matrix products (one per transform position
 * {@code xi = 4*r + c}), 2.25 times fewer multiply-adds than the direct convolution.
 *
 * <p>The transforms run over {@code n} tiles at once, laid out so that every operand is contiguous: the padded
 * input plane is given as its four polyphase components {@code P_ab[i][j] = xpad[2i + a][2j + b]}, each with
 * rows of {@code row} floats, and tile {@code t} reads {@code d[r][c] = P_(r%2)(c%2)[t + (r/2)*row + c/2]}: the
 * tile index runs along a component's rows (a tile grid of {@code row - 1} tiles per row plus one that the caller
 * ignores). Transformed values of position {@code xi} lie {@code xi * stride} apart.
 */
public final class Winograd {
    /** Transform positions per tile (4x4). */
    public static final int POSITIONS = 16;

    private Winograd() {}

    /**
     * {@code v[vOff + xi*vStride + t] = (B^T d_t B)[xi / 4][xi % 4]} for {@code t < n}, {@code d_t} read from the
     * components starting at {@code p00, p01, p10, p11} of {@code p} as described on the class.
     */
    public static void input(float[] p, int p00, int p01, int p10, int p11, int row, float[] v, int vOff,
                             int vStride, int n) {
        if (n <= 0) {
            return;
        }
        int span = n + row + 1; // tile t reads up to t + row + 1
        check("input component", p, p00, span);
        check("input component", p, p01, span);
        check("input component", p, p10, span);
        check("input component", p, p11, span);
        check("transformed input", v, vOff, (POSITIONS - 1) * vStride + n);
        if (vStride < n) {
            throw new IllegalArgumentException("Expected vStride >= n, got " + vStride + " < " + n);
        }
        Kernels.dense().winogradInput(p, p00, p01, p10, p11, row, v, vOff, vStride, n);
    }

    /**
     * The output transform of {@code n} tiles plus bias and optional ReLU: with {@code M_xi[t] = m[mOff + xi*mStride
     * + t]} and {@code Y_t = A^T M_t A + bias} (ReLU'd when {@code relu}), writes {@code Y_t[a][b]} to
     * {@code y[yOff + (2a + b)*yStride + t]}, or with {@code pool} only {@code max_ab Y_t[a][b]} to
     * {@code y[yOff + t]} (a 2x2 max pool of the output, stride 2).
     */
    public static void output(float[] m, int mOff, int mStride, int n, float bias, boolean relu, boolean pool,
                              float[] y, int yOff, int yStride) {
        if (n <= 0) {
            return;
        }
        check("transformed output", m, mOff, (POSITIONS - 1) * mStride + n);
        check("output", y, yOff, pool ? n : 3 * yStride + n);
        Kernels.dense().winogradOutput(m, mOff, mStride, n, bias, relu, pool, y, yOff, yStride);
    }

    /**
     * The transformed filter {@code U = G g G^T} of one 3x3 filter {@code g = w[wOff .. wOff + 9)} (row-major),
     * computed in double and rounded once; {@code u[uOff + xi*uStride]} receives position {@code xi}.
     */
    public static void filter(float[] w, int wOff, float[] u, int uOff, int uStride) {
        double[] gg = new double[12]; // G g: 4x3
        for (int c = 0; c < 3; c++) {
            double g0 = w[wOff + c], g1 = w[wOff + 3 + c], g2 = w[wOff + 6 + c];
            gg[c] = g0;
            gg[3 + c] = 0.5 * (g0 + g1 + g2);
            gg[6 + c] = 0.5 * (g0 - g1 + g2);
            gg[9 + c] = g2;
        }
        for (int r = 0; r < 4; r++) {
            double h0 = gg[3 * r], h1 = gg[3 * r + 1], h2 = gg[3 * r + 2];
            u[uOff + (4 * r) * uStride] = (float) h0;
            u[uOff + (4 * r + 1) * uStride] = (float) (0.5 * (h0 + h1 + h2));
            u[uOff + (4 * r + 2) * uStride] = (float) (0.5 * (h0 - h1 + h2));
            u[uOff + (4 * r + 3) * uStride] = (float) h2;
        }
    }

    private static void check(String what, float[] a, int off, int len) {
        if (off < 0 || len < 0 || off > a.length - len) {
            throw new IllegalArgumentException("Expected the " + what + " to span [" + off + ", " + (off + len)
                    + ") of an array of " + a.length + " floats");
        }
    }
}
