package io.github.batchnorm4j.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * F(2x2, 3x3) end to end on single tiles: filter transform, input transform, the elementwise product summed over
 * channels in double, output transform; against the direct 3x3 correlation of the 4x4 patches in float64. The
 * error allowed is a few float roundings of the terms' magnitudes, since every stage is a short float sum.
 */
class WinogradTest {
    @Test
    void tilesEqualTheDirectCorrelation() {
        SplittableRandom rng = new SplittableRandom(3);
        int channels = 5, tiles = 23, row = 4; // 23 tiles: a vector body and a scalar tail
        int comp = tiles + row + 2;
        for (DenseKernels k : new DenseKernels[] {ScalarDenseKernels.INSTANCE, VectorDenseKernels.INSTANCE}) {
            float[][] p = new float[channels][4 * comp];
            float[] g = new float[channels * 9];
            for (int c = 0; c < channels; c++) {
                for (int i = 0; i < p[c].length; i++) {
                    p[c][i] = (float) rng.nextDouble(-2, 2);
                }
            }
            for (int i = 0; i < g.length; i++) {
                g[i] = (float) rng.nextDouble(-1, 1);
            }
            double[] m = new double[16 * tiles];
            for (int c = 0; c < channels; c++) {
                float[] v = new float[16 * tiles];
                k.winogradInput(p[c], 0, comp, 2 * comp, 3 * comp, row, v, 0, tiles, tiles);
                float[] u = new float[16];
                Winograd.filter(g, 9 * c, u, 0, 1);
                for (int xi = 0; xi < 16; xi++) {
                    for (int t = 0; t < tiles; t++) {
                        m[xi * tiles + t] += (double) u[xi] * v[xi * tiles + t];
                    }
                }
            }
            float[] mf = new float[m.length];
            for (int i = 0; i < m.length; i++) {
                mf[i] = (float) m[i];
            }
            float bias = 0.25f;
            float[] y = new float[4 * tiles];
            float[] pooled = new float[tiles];
            k.winogradOutput(mf, 0, tiles, tiles, bias, false, false, y, 0, tiles);
            k.winogradOutput(mf, 0, tiles, tiles, bias, true, true, pooled, 0, tiles);
            for (int t = 0; t < tiles; t++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int a = 0; a < 2; a++) {
                    for (int b = 0; b < 2; b++) {
                        double exact = bias, scale = Math.abs(bias);
                        for (int c = 0; c < channels; c++) {
                            for (int ky = 0; ky < 3; ky++) {
                                for (int kx = 0; kx < 3; kx++) {
                                    int r = a + ky, col = b + kx; // patch position
                                    float d = p[c][component(r, col, comp) + t + (r / 2) * row + col / 2];
                                    exact += (double) g[9 * c + 3 * ky + kx] * d;
                                    scale += Math.abs((double) g[9 * c + 3 * ky + kx] * d);
                                }
                            }
                        }
                        double got = y[(2 * a + b) * tiles + t];
                        assertEquals(exact, got, 64 * 0x1p-24 * scale, k + " tile " + t + " (" + a + ", " + b + ")");
                        max = Math.max(max, got);
                    }
                }
                assertEquals((float) Math.max(max, 0), pooled[t], 0f, k + " pooled tile " + t);
            }
        }
    }

    /** Offset of polyphase component (r % 2, c % 2) when the four are laid out 00, 01, 10, 11. */
    private static int component(int r, int c, int comp) {
        return (2 * (r % 2) + (c % 2)) * comp;
    }

    @Test
    void boundsAreChecked() {
        float[] small = new float[8];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Winograd.input(small, 0, 0, 0, 0, 3, new float[100], 0, 5, 5));
        assertTrue(e.getMessage().contains("input component"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> Winograd.output(new float[100], 0, 5, 5, 0f, false, false, new float[4], 0, 5));
        Winograd.input(small, 0, 0, 0, 0, 3, new float[0], 0, 0, 0); // n = 0 does nothing
    }
}
