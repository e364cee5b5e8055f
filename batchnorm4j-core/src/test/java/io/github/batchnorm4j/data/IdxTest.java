package io.github.batchnorm4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxTest {
    @TempDir
    Path dir;

    static byte[] bytes(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 37 + 11);
        }
        return b;
    }

    @Test
    void roundTripsRawAndGzip() throws IOException {
        for (String name : new String[] {"a-idx3-ubyte", "a-idx3-ubyte.gz"}) {
            Path f = dir.resolve(name);
            Idx.write(f, new int[] {3, 4, 5}, bytes(60));
            Idx.Array a = Idx.read(f);
            assertArrayEquals(new int[] {3, 4, 5}, a.dims());
            assertArrayEquals(bytes(60), a.data());
            assertEquals(20, a.itemSize());
        }
    }

    private Path raw(byte[] content) throws IOException {
        Path f = dir.resolve("x-idx-ubyte");
        Files.write(f, content);
        return f;
    }

    private Path gz(byte[] content) throws IOException {
        ByteArrayOutputStream z = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(z)) {
            g.write(content);
        }
        Path f = dir.resolve("x-idx-ubyte.gz");
        Files.write(f, z.toByteArray());
        return f;
    }

    static byte[] header(int magic, int... dims) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length).putInt(magic);
        for (int d : dims) {
            b.putInt(d);
        }
        return b.array();
    }

    @Test
    void rejectsBadMagic() throws IOException {
        Path f = raw(header(0x0D03, 1, 1, 1));
        IOException e = assertThrows(IOException.class, () -> Idx.read(f));
        assertEquals("Invalid IDX file " + f + ": expected magic 0x000008NN (unsigned bytes, 1 to 4 dimensions),"
                + " got 0x00000d03", e.getMessage());
    }

    @Test
    void rejectsTruncatedRawFileBeforeAllocating() throws IOException {
        byte[] h = header(0x0803, 60000, 28, 28);
        Path f = raw(Arrays.copyOf(h, h.length + 100));
        IOException e = assertThrows(IOException.class, () -> Idx.read(f));
        assertEquals("Invalid IDX file " + f + ": dimensions [60000, 28, 28] need 47040016 bytes, the file has 116"
                + " (truncated?)", e.getMessage());
    }

    @Test
    void rejectsHugeDimensions() throws IOException {
        Path f = raw(header(0x0803, 65536, 65536, 2));
        IOException e = assertThrows(IOException.class, () -> Idx.read(f));
        assertEquals("Invalid IDX file " + f + ": dimensions [65536, 65536] exceed the largest supported size of "
                + "2147483639 elements", e.getMessage());
    }

    @Test
    void rejectsTruncatedGzipWithoutTrustingTheHeader() throws IOException {
        // The header claims 2 GB; only 10 bytes follow. The reader must fail on the data, not allocate 2 GB.
        byte[] h = header(0x0801, Integer.MAX_VALUE - 8);
        Path f = gz(Arrays.copyOf(h, h.length + 10));
        IOException e = assertThrows(IOException.class, () -> Idx.read(f));
        assertEquals("Invalid IDX file " + f + ": dimensions [2147483639] need 2147483639 data bytes, got 10"
                + " (truncated?)", e.getMessage());
    }

    @Test
    void rejectsCutGzipStream() throws IOException {
        Path f = dir.resolve("c-idx1-ubyte.gz");
        Idx.write(f, new int[] {1000}, bytes(1000));
        byte[] all = Files.readAllBytes(f);
        Files.write(f, Arrays.copyOf(all, all.length / 2));
        IOException e = assertThrows(IOException.class, () -> Idx.read(f));
        assertEquals("Invalid IDX file " + f + ": it ends early (truncated gzip stream)", e.getMessage());
    }

    @Test
    void rejectsShortHeader() throws IOException {
        Path f = raw(new byte[] {0, 0, 8, 3, 0, 0});
        IOException e = assertThrows(IOException.class, () -> Idx.read(f));
        assertEquals("Invalid IDX file " + f + ": it ends inside the header (3 dimensions expected)", e.getMessage());
    }

    @Test
    void rejectsNonGzipData() throws IOException {
        Path f = dir.resolve("n-idx1-ubyte.gz");
        Files.write(f, header(0x0801, 1));
        IOException e = assertThrows(IOException.class, () -> Idx.read(f));
        assertEquals("Invalid IDX file " + f + ": it is not valid gzip data (Not in GZIP format)", e.getMessage());
    }
}
