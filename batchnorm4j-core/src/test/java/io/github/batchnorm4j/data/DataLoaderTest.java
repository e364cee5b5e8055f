package io.github.batchnorm4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataLoaderTest {
    /** n items of 1x2x2 whose first pixel is the item's index, label index % 10. */
    static DataSet items(int n) {
        byte[] px = new byte[n * 4];
        byte[] lb = new byte[n];
        for (int i = 0; i < n; i++) {
            px[i * 4] = (byte) i;
            px[i * 4 + 1] = (byte) 255;
            lb[i] = (byte) (i % 10);
        }
        return DataSet.of(new Idx.Array(new int[] {n, 2, 2}, px), new Idx.Array(new int[] {n}, lb), 10);
    }

    static int id(DataLoader.Batch b, int i) {
        return Math.round(b.input().data()[i * 4] * 255f);
    }

    @Test
    void eachEpochIsAPermutationAndDependsOnlyOnSeedAndEpoch() {
        DataSet d = items(23);
        DataLoader a = new DataLoader(d, 5, true, false, 42, 0f, 1f);
        DataLoader b = new DataLoader(d, 5, true, false, 42, 0f, 1f);
        assertEquals(5, a.batchesPerEpoch());
        int[][] orders = new int[2][23];
        for (int epoch = 0; epoch < 2; epoch++) {
            Set<Integer> seen = new HashSet<>();
            for (int k = 0; k < 5; k++) {
                DataLoader.Batch x = a.batch(epoch, k);
                assertEquals(k == 4 ? 3 : 5, x.size());
                for (int i = 0; i < x.size(); i++) {
                    int item = id(x, i);
                    assertTrue(seen.add(item));
                    assertEquals(item % 10, x.labels()[i]);
                    orders[epoch][k * 5 + i] = item;
                }
            }
            assertEquals(23, seen.size());
        }
        assertFalse(java.util.Arrays.equals(orders[0], orders[1]), "epochs are shuffled differently");
        // Random access (as after a resume) gives the same batch as the sequential pass.
        DataLoader.Batch again = b.batch(1, 2);
        for (int i = 0; i < 5; i++) {
            assertEquals(orders[1][10 + i], id(again, i));
        }
    }

    @Test
    void dropLastSkipsThePartialBatch() {
        DataLoader l = new DataLoader(items(23), 5, false, true, 0, 0f, 1f);
        assertEquals(4, l.batchesPerEpoch());
        DataLoader.Batch last = l.batch(0, 3);
        assertEquals(5, last.size());
        assertEquals(19, id(last, 4));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> l.batch(0, 4));
        assertEquals("Expected a batch index in [0, 4), got 4", e.getMessage());
    }

    @Test
    void normalisesPixels() {
        DataLoader l = new DataLoader(items(3), 3, false, false, 0, 0.5f, 0.25f);
        float[] x = l.batch(0, 0).input().data();
        assertEquals((1f - 0.5f) / 0.25f, x[1], 1e-6); // pixel 255 -> 1.0
        assertEquals((2f / 255f - 0.5f) / 0.25f, x[8], 1e-6); // item 2's first pixel
        assertArrayEquals(new int[] {3, 1, 2, 2}, l.batch(0, 0).input().shape());
    }

    @Test
    void splitIsSeededAndDisjoint() {
        DataSet d = items(50);
        DataSet[] s1 = d.split(10, 7);
        DataSet[] s2 = d.split(10, 7);
        assertEquals(40, s1[0].size());
        assertEquals(10, s1[1].size());
        Set<Integer> all = new HashSet<>();
        float[] buf = new float[4];
        for (DataSet part : s1) {
            for (int i = 0; i < part.size(); i++) {
                part.copyItem(i, buf, 0, 0f, 1f);
                assertTrue(all.add(Math.round(buf[0] * 255f)));
            }
        }
        assertEquals(50, all.size());
        for (int i = 0; i < 10; i++) {
            assertEquals(s1[1].label(i), s2[1].label(i));
        }
    }

    @TempDir
    Path dir;

    @Test
    void locatorPrefersOptionThenEnvironmentThenDebian() throws IOException {
        Path a = Files.createDirectories(dir.resolve("a"));
        for (String n : new String[] {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte.gz"}) {
            Files.write(a.resolve(n), new byte[0]);
        }
        Path empty = Files.createDirectories(dir.resolve("empty"));
        assertEquals(a, DataLocator.locate(a.toString(), empty.toString(), empty));
        assertEquals(a, DataLocator.locate(null, a.toString(), empty));
        assertEquals(a, DataLocator.locate(null, null, a));
        IOException e = assertThrows(IOException.class, () -> DataLocator.locate(null, null, empty));
        assertEquals("Expected Fashion-MNIST (or MNIST) IDX files train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz],"
                + " t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz], got none in --data (not given), BN4J_DATA"
                + " (not set), " + empty + ". To get them on Debian: sudo apt-get install dataset-fashion-mnist (installs into"
                + " /usr/share/datasets/fashion-mnist); or download the four files of Fashion-MNIST and pass --data DIR or"
                + " set BN4J_DATA=DIR.", e.getMessage());
        e = assertThrows(IOException.class, () -> DataLocator.locate(empty.toString(), null, a));
        assertTrue(e.getMessage().contains("got none in --data " + empty + "."), e.getMessage());
    }
}
