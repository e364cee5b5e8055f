package io.github.batchnorm4j.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

/**
 * Reader of the IDX format of MNIST and Fashion-MNIST, raw or gzip-compressed ({@code .gz}): a big-endian magic
 * {@code 0x00 0x00 type ndims}, {@code ndims} big-endian 32-bit dimensions, then the values row-major. Only the
 * unsigned-byte type ({@code 0x08}) is supported, which is what both data sets use.
 *
 * <p>Nothing is allocated from an unchecked header: a raw file's size must equal header plus data exactly; a
 * compressed file's data buffer grows only as bytes actually arrive, so a lying header in a small file cannot
 * trigger a large allocation.
 */
public final class Idx {
    /** Largest number of elements accepted (a Java array limit). */
    static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;
    private static final int MAX_DIMS = 4;

    private Idx() {}

    /** An IDX array: dimensions and unsigned bytes (use {@code b & 0xff}). */
    public record Array(int[] dims, byte[] data) {
        public int count() {
            return dims[0];
        }

        /** Elements per item: product of the dimensions after the first. */
        public int itemSize() {
            int s = 1;
            for (int i = 1; i < dims.length; i++) {
                s *= dims[i];
            }
            return s;
        }
    }

    public static Array read(Path file) throws IOException {
        boolean gz = file.getFileName().toString().endsWith(".gz");
        long fileSize = Files.size(file);
        try (InputStream raw = Files.newInputStream(file);
             InputStream in = gz ? new GZIPInputStream(new BufferedInputStream(raw), 1 << 16)
                     : new BufferedInputStream(raw, 1 << 16)) {
            DataInputStream d = new DataInputStream(in);
            int magic;
            try {
                magic = d.readInt();
            } catch (EOFException e) {
                throw bad(file, "it is shorter than the 4-byte magic number");
            }
            int type = (magic >>> 8) & 0xff;
            int ndims = magic & 0xff;
            if ((magic >>> 16) != 0 || type != 0x08 || ndims < 1 || ndims > MAX_DIMS) {
                throw bad(file, String.format("expected magic 0x000008NN (unsigned bytes, 1 to %d dimensions), got 0x%08x",
                        MAX_DIMS, magic));
            }
            int[] dims = new int[ndims];
            long numel = 1;
            for (int i = 0; i < ndims; i++) {
                try {
                    dims[i] = d.readInt();
                } catch (EOFException e) {
                    throw bad(file, "it ends inside the header (" + ndims + " dimensions expected)");
                }
                if (dims[i] < 0) {
                    throw bad(file, "dimension " + i + " is negative: " + Integer.toUnsignedString(dims[i]));
                }
                numel *= dims[i];
                if (numel > MAX_ELEMENTS) {
                    throw bad(file, "dimensions " + Arrays.toString(Arrays.copyOf(dims, i + 1))
                            + " exceed the largest supported size of " + MAX_ELEMENTS + " elements");
                }
            }
            long header = 4L + 4L * ndims;
            if (!gz && fileSize != header + numel) {
                throw bad(file, "dimensions " + Arrays.toString(dims) + " need " + (header + numel)
                        + " bytes, the file has " + fileSize + (fileSize < header + numel ? " (truncated?)" : ""));
            }
            byte[] data = gz ? readGrowing(file, in, (int) numel) : d.readNBytes((int) numel);
            if (data.length != numel) {
                throw bad(file, "dimensions " + Arrays.toString(dims) + " need " + numel + " data bytes, got "
                        + data.length + " (truncated?)");
            }
            if (gz && in.read() >= 0) {
                throw bad(file, "it has data after the " + numel + " bytes of dimensions " + Arrays.toString(dims));
            }
            return new Array(dims, data);
        } catch (java.util.zip.ZipException e) {
            throw bad(file, "it is not valid gzip data (" + e.getMessage() + ")");
        } catch (EOFException e) {
            throw bad(file, "it ends early (truncated gzip stream)");
        }
    }

    /** Reads up to {@code n} bytes, allocating only as data arrives (doubling from 1 MiB). */
    private static byte[] readGrowing(Path file, InputStream in, int n) throws IOException {
        byte[] buf = new byte[Math.min(n, 1 << 20)];
        int len = 0;
        while (len < n) {
            if (len == buf.length) {
                buf = Arrays.copyOf(buf, (int) Math.min(n, 2L * buf.length));
            }
            int r = in.read(buf, len, buf.length - len);
            if (r < 0) {
                break;
            }
            len += r;
        }
        return len == buf.length ? buf : Arrays.copyOf(buf, len);
    }

    private static IOException bad(Path file, String problem) {
        return new IOException("Invalid IDX file " + file + ": " + problem);
    }

    /** Writes an unsigned-byte IDX file (gzip-compressed when the name ends in {@code .gz}); used by tests and tools. */
    public static void write(Path file, int[] dims, byte[] data) throws IOException {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.io.DataOutputStream out = new java.io.DataOutputStream(bytes)) {
            out.writeInt(0x0800 | dims.length);
            for (int dim : dims) {
                out.writeInt(dim);
            }
            out.write(data);
        }
        byte[] content = bytes.toByteArray();
        if (file.getFileName().toString().endsWith(".gz")) {
            java.io.ByteArrayOutputStream z = new java.io.ByteArrayOutputStream();
            try (java.util.zip.GZIPOutputStream g = new java.util.zip.GZIPOutputStream(z)) {
                g.write(content);
            }
            content = z.toByteArray();
        }
        io.github.batchnorm4j.io.AtomicFiles.write(file, content);
    }
}
