package io.github.batchnorm4j.data;

import java.util.SplittableRandom;

/** Seeded Fisher–Yates shuffles, the only source of randomness in data order. */
final class Shuffle {
    private Shuffle() {}

    static void permute(int[] a, SplittableRandom rng) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    /** The generator for epoch {@code epoch} of a run seeded {@code seed}: a pure function of the two. */
    static SplittableRandom forEpoch(long seed, long epoch) {
        // SplittableRandom mixes its seed, so nearby (seed, epoch) pairs still give unrelated streams.
        return new SplittableRandom(seed * 0x9E3779B97F4A7C15L + (epoch + 1) * 0xBF58476D1CE4E5B9L);
    }
}
