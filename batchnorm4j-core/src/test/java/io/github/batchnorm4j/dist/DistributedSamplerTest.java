package io.github.batchnorm4j.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class DistributedSamplerTest {

    @Test
    void slicesConcatenateToTheSingleProcessBatch() {
        for (int n : new int[] {1, 7, 64, 100, 150}) {
            for (int ranks : new int[] {1, 2, 3, 4}) {
                for (int b : new int[] {1, 5, 32}) {
                    for (boolean dropLast : new boolean[] {false, true}) {
                        if (dropLast && n < b * ranks) {
                            continue;
                        }
                        DistributedSampler single = new DistributedSampler(n, b * ranks, 0, 1, dropLast);
                        for (int g = 0; g < single.batchesPerEpoch(); g++) {
                            int pos = single.from(g);
                            for (int r = 0; r < ranks; r++) {
                                DistributedSampler s = new DistributedSampler(n, b, r, ranks, dropLast);
                                assertEquals(single.batchesPerEpoch(), s.batchesPerEpoch());
                                assertEquals(pos, s.from(g), "start of rank " + r + " batch " + g);
                                if (single.globalCount(g) == b * ranks) {
                                    assertEquals(b, s.localCount(g), "full batches give b per rank");
                                }
                                // An uneven last batch differs by at most one item between ranks.
                                int m = single.globalCount(g);
                                assertEquals(true, Math.abs(s.localCount(g) * ranks - m) < ranks);
                                pos = s.to(g);
                            }
                            assertEquals(single.to(g), pos, "slices cover the global batch");
                        }
                    }
                }
            }
        }
    }

    @Test
    void lastPartialBatchIsSplitAcrossRanks() {
        // 150 items, 3 ranks x 32: batches of 96 and 54; the 54 split 18/18/18.
        DistributedSampler s = new DistributedSampler(150, 32, 2, 3, false);
        assertEquals(2, s.batchesPerEpoch());
        assertEquals(96 + 36, s.from(1));
        assertEquals(150, s.to(1));
        assertEquals(new DistributedSampler(150, 32, 2, 3, true).batchesPerEpoch(), 1);
    }

    @Test
    void badArgumentsAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new DistributedSampler(10, 4, 2, 2, false));
        assertEquals("Expected 0 <= rank < world size, got rank 2 of 2", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new DistributedSampler(10, 0, 0, 2, false));
        assertEquals("Expected a per-rank batch size > 0, got 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new DistributedSampler(10, 4, 0, 3, true));
        assertEquals("Expected at least one full global batch of 12 (4 per rank x 3 ranks) with drop-last, got 10"
                + " items", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new DistributedSampler(10, 4, 0, 2, false).from(3));
        assertEquals("Expected a batch index in [0, 2), got 3", e.getMessage());
    }
}
