package io.github.batchnorm4j.kernel;

/**
 * How one normalization sees its input, the seam that lets a single core serve BN, LN, GN and IN.
 *
 * <p>The storage is viewed as {@code [a][k][d]}: statistics are computed per {@code k} over all {@code (a, d)}
 * ({@code count = a * d} values each). The inner block splits as {@code d = p * q}; element {@code (a, k, p, q)}
 * lives at {@code (a * k + k') * d + p' * q + q'} and its affine parameter (gamma, beta) is
 * {@code (k' % kMod) * p + p'}. Running statistics, where a layer has them, are indexed by {@code k' % kMod}.
 *
 * <table>
 *   <caption>Geometries of the family</caption>
 *   <tr><th>layer</th><th>a</th><th>k</th><th>d</th><th>kMod</th><th>p</th><th>q</th></tr>
 *   <tr><td>BN, NCHW</td><td>N</td><td>C</td><td>H*W</td><td>C</td><td>1</td><td>H*W</td></tr>
 *   <tr><td>BN, NHWC or (N,C)</td><td>N*H*W</td><td>C</td><td>1</td><td>C</td><td>1</td><td>1</td></tr>
 *   <tr><td>GN(G)</td><td>1</td><td>N*G</td><td>C/G*H*W</td><td>G</td><td>C/G</td><td>H*W</td></tr>
 *   <tr><td>IN</td><td>1</td><td>N*C</td><td>H*W</td><td>C</td><td>1</td><td>H*W</td></tr>
 *   <tr><td>LN(M)</td><td>1</td><td>numel/M</td><td>M</td><td>1</td><td>M</td><td>1</td></tr>
 * </table>
 */
public record NormGeometry(int a, int k, int d, int kMod, int p, int q) {
    public NormGeometry {
        if (a < 0 || k < 0 || d < 0 || kMod <= 0 || p <= 0 || q < 0 || (long) p * q != d || (k > 0 && k % kMod != 0)) {
            throw new IllegalArgumentException("Inconsistent normalization geometry a=" + a + " k=" + k + " d=" + d
                    + " kMod=" + kMod + " p=" + p + " q=" + q);
        }
    }

    /** BatchNorm over {@code [outer][channels][inner]}. */
    public static NormGeometry perChannel(int outer, int channels, int inner) {
        return new NormGeometry(outer, channels, inner, Math.max(channels, 1), 1, inner);
    }

    /** Number of values behind each statistic. */
    public long count() {
        return (long) a * d;
    }

    /** Number of affine parameters (gamma or beta entries). */
    public int affineSize() {
        return kMod * p;
    }

    /** Total number of elements. */
    public long numel() {
        return (long) a * k * d;
    }
}
