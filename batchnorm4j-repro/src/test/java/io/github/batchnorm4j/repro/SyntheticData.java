package io.github.batchnorm4j.repro;

import io.github.batchnorm4j.data.DataSet;
import io.github.batchnorm4j.data.Idx;
import java.util.SplittableRandom;

/**
 * Small learnable stand-ins for Fashion-MNIST: class k lights a 7x7 block at one of ten fixed places of a 28x28
 * image, on a noisy background, so the harness can be exercised in seconds without the real data.
 */
final class SyntheticData {
    private SyntheticData() {}

    static ReproData make(int train, int test, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        return new ReproData(set(train, rng), set(test, rng), "synthetic " + train + "/" + test);
    }

    private static DataSet set(int n, SplittableRandom rng) {
        byte[] px = new byte[n * 784];
        byte[] lb = new byte[n];
        for (int i = 0; i < n; i++) {
            int k = rng.nextInt(10);
            lb[i] = (byte) k;
            int r0 = (k / 5) * 14 + 3, c0 = (k % 5) * 5 + 1;
            for (int p = 0; p < 784; p++) {
                int r = p / 28, c = p % 28;
                boolean on = r >= r0 && r < r0 + 7 && c >= c0 && c < c0 + 5;
                int v = (on ? 170 : 20) + rng.nextInt(80);
                px[i * 784 + p] = (byte) Math.min(255, v);
            }
        }
        return DataSet.of(new Idx.Array(new int[] {n, 28, 28}, px), new Idx.Array(new int[] {n}, lb), 10);
    }
}
