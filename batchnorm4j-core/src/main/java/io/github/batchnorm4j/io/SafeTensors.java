package io.github.batchnorm4j.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header mapping each tensor name to
 * {@code {"dtype", "shape", "data_offsets": [begin, end]}} (offsets relative to the data section) plus an
 * optional string-to-string {@code "__metadata__"}, then the raw little-endian data.
 *
 * <p>Reading is defensive: the header length is bounded (100 MB, and by the file size), every offset range is
 * checked against the data section and against the dtype and shape before anything is allocated, so a corrupt
 * or truncated file is rejected with a {@link MalformedFileException} naming the file and the problem.
 * Supported dtypes: F32, F64, I64.
 */
public final class SafeTensors {
    /** Largest JSON header we accept, as the reference implementation does. */
    public static final long MAX_HEADER = 100_000_000L;

    private SafeTensors() {}

    /** One tensor: dtype ({@code F32}, {@code F64} or {@code I64}), shape and little-endian bytes. */
    public record Entry(String dtype, int[] shape, byte[] bytes) {
        public static Entry f32(float[] data, int... shape) {
            ByteBuffer b = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(data);
            return new Entry("F32", shape.clone(), b.array());
        }

        public static Entry f64(double[] data, int... shape) {
            ByteBuffer b = ByteBuffer.allocate(data.length * 8).order(ByteOrder.LITTLE_ENDIAN);
            b.asDoubleBuffer().put(data);
            return new Entry("F64", shape.clone(), b.array());
        }

        public static Entry i64(long[] data, int... shape) {
            ByteBuffer b = ByteBuffer.allocate(data.length * 8).order(ByteOrder.LITTLE_ENDIAN);
            b.asLongBuffer().put(data);
            return new Entry("I64", shape.clone(), b.array());
        }

        /** The values as floats (F32 exactly; F64 rounded); throws for integer dtypes. */
        public float[] toFloats() {
            ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
            switch (dtype) {
                case "F32": {
                    float[] out = new float[bytes.length / 4];
                    b.asFloatBuffer().get(out);
                    return out;
                }
                case "F64": {
                    float[] out = new float[bytes.length / 8];
                    for (int i = 0; i < out.length; i++) {
                        out[i] = (float) b.getDouble(i * 8);
                    }
                    return out;
                }
                default:
                    throw new IllegalArgumentException("Expected a floating-point tensor (F32 or F64), got " + dtype);
            }
        }

        /** The values as longs (I64); throws for other dtypes. */
        public long[] toLongs() {
            if (!dtype.equals("I64")) {
                throw new IllegalArgumentException("Expected an I64 tensor, got " + dtype);
            }
            long[] out = new long[bytes.length / 8];
            ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out);
            return out;
        }

        public long numel() {
            long n = 1;
            for (int d : shape) {
                n *= d;
            }
            return n;
        }
    }

    /** A whole file: metadata (possibly empty) and tensors in file order. */
    public record Contents(Map<String, String> metadata, Map<String, Entry> tensors) {}

    /** Raised for a file that is not valid safetensors; the message names the file and what is wrong. */
    public static final class MalformedFileException extends IOException {
        public MalformedFileException(Path file, String problem) {
            super(file + ": " + problem);
        }
    }

    static int dtypeSize(String dtype) {
        return switch (dtype) {
            case "F32" -> 4;
            case "F64", "I64" -> 8;
            default -> -1;
        };
    }

    public static Contents read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new MalformedFileException(file, "file of " + size + " bytes is shorter than the 8-byte header length");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0);
            long headerLen = lenBuf.getLong(0);
            if (headerLen < 2 || headerLen > MAX_HEADER || headerLen > size - 8) {
                throw new MalformedFileException(file, "header length " + headerLen + " is invalid for a file of "
                        + size + " bytes");
            }
            ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
            readFully(ch, hb, 8);
            Object parsed;
            try {
                parsed = Json.parse(new String(hb.array(), StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                throw new MalformedFileException(file, "header is not valid JSON: " + e.getMessage());
            }
            if (!(parsed instanceof Map<?, ?> header)) {
                throw new MalformedFileException(file, "header is not a JSON object");
            }
            long dataStart = 8 + headerLen;
            long dataSize = size - dataStart;
            Map<String, String> metadata = new LinkedHashMap<>();
            TreeMap<Long, String> byOffset = new TreeMap<>();
            Map<String, long[]> ranges = new LinkedHashMap<>();
            Map<String, Entry> shells = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : header.entrySet()) {
                String name = (String) e.getKey();
                if (name.equals("__metadata__")) {
                    if (!(e.getValue() instanceof Map<?, ?> m)) {
                        throw new MalformedFileException(file, "__metadata__ is not an object");
                    }
                    for (Map.Entry<?, ?> me : m.entrySet()) {
                        if (!(me.getValue() instanceof String v)) {
                            throw new MalformedFileException(file, "__metadata__ value of '" + me.getKey()
                                    + "' is not a string");
                        }
                        metadata.put((String) me.getKey(), v);
                    }
                    continue;
                }
                Entry shell = describe(file, name, e.getValue(), dataSize, ranges);
                shells.put(name, shell);
                long[] r = ranges.get(name);
                if (r[1] > r[0] && byOffset.put(r[0], name) != null) {
                    throw new MalformedFileException(file, "tensor '" + name + "' overlaps another tensor");
                }
            }
            // Ranges must not overlap (sorted by start, each must end before the next begins).
            long prevEnd = 0;
            for (Map.Entry<Long, String> e : byOffset.entrySet()) {
                long[] r = ranges.get(e.getValue());
                if (r[0] < prevEnd) {
                    throw new MalformedFileException(file, "tensor '" + e.getValue() + "' overlaps another tensor");
                }
                prevEnd = r[1];
            }
            Map<String, Entry> tensors = new LinkedHashMap<>();
            for (Map.Entry<String, Entry> e : shells.entrySet()) {
                long[] r = ranges.get(e.getKey());
                ByteBuffer data = ByteBuffer.allocate((int) (r[1] - r[0]));
                readFully(ch, data, dataStart + r[0]);
                tensors.put(e.getKey(), new Entry(e.getValue().dtype(), e.getValue().shape(), data.array()));
            }
            return new Contents(metadata, tensors);
        }
    }

    private static Entry describe(Path file, String name, Object value, long dataSize, Map<String, long[]> ranges)
            throws MalformedFileException {
        if (!(value instanceof Map<?, ?> t)) {
            throw new MalformedFileException(file, "entry '" + name + "' is not an object");
        }
        if (!(t.get("dtype") instanceof String dtype) || dtypeSize(dtype) < 0) {
            throw new MalformedFileException(file, "tensor '" + name + "' has unsupported dtype " + t.get("dtype")
                    + " (expected F32, F64 or I64)");
        }
        if (!(t.get("shape") instanceof List<?> shapeList)) {
            throw new MalformedFileException(file, "tensor '" + name + "' has no shape list");
        }
        if (!(t.get("data_offsets") instanceof List<?> offs) || offs.size() != 2) {
            throw new MalformedFileException(file, "tensor '" + name + "' has no [begin, end] data_offsets");
        }
        int[] shape = new int[shapeList.size()];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            if (!(shapeList.get(i) instanceof Long d) || d < 0 || d > Integer.MAX_VALUE) {
                throw new MalformedFileException(file, "tensor '" + name + "' has an invalid shape " + shapeList);
            }
            shape[i] = (int) (long) d;
            numel *= d;
            if (numel > Integer.MAX_VALUE) {
                throw new MalformedFileException(file, "tensor '" + name + "' is too large: shape " + shapeList);
            }
        }
        if (!(offs.get(0) instanceof Long begin) || !(offs.get(1) instanceof Long end) || begin < 0 || end < begin) {
            throw new MalformedFileException(file, "tensor '" + name + "' has invalid data_offsets " + offs);
        }
        long expected = numel * dtypeSize(dtype);
        if (end - begin != expected) {
            throw new MalformedFileException(file, "tensor '" + name + "' has " + (end - begin) + " bytes but "
                    + dtype + " " + Arrays.toString(shape) + " needs " + expected);
        }
        if (end > dataSize) {
            throw new MalformedFileException(file, "tensor '" + name + "' ends at byte " + end
                    + " beyond the data section of " + dataSize + " bytes (truncated file?)");
        }
        ranges.put(name, new long[] {begin, end});
        return new Entry(dtype, shape, null);
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos + buf.position());
            if (n < 0) {
                throw new IOException("unexpected end of file");
            }
        }
    }

    /** Writes {@code tensors} (in map order) and {@code metadata} atomically (temp file + rename). */
    public static void write(Path file, Map<String, Entry> tensors, Map<String, String> metadata) throws IOException {
        StringBuilder h = new StringBuilder("{");
        if (metadata != null && !metadata.isEmpty()) {
            h.append("\"__metadata__\":{");
            boolean first = true;
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                h.append(first ? "" : ",").append(Json.quote(e.getKey())).append(':').append(Json.quote(e.getValue()));
                first = false;
            }
            h.append('}');
        }
        long offset = 0;
        for (Map.Entry<String, Entry> e : tensors.entrySet()) {
            Entry t = e.getValue();
            if (dtypeSize(t.dtype()) < 0 || t.bytes().length != t.numel() * dtypeSize(t.dtype())) {
                throw new IllegalArgumentException("Expected " + t.numel() + " " + t.dtype() + " values for tensor '"
                        + e.getKey() + "' of shape " + Arrays.toString(t.shape()) + ", got " + t.bytes().length + " bytes");
            }
            h.append(h.length() > 1 ? "," : "").append(Json.quote(e.getKey())).append(":{\"dtype\":\"")
                    .append(t.dtype()).append("\",\"shape\":").append(Arrays.toString(t.shape()).replace(" ", ""))
                    .append(",\"data_offsets\":[").append(offset).append(',').append(offset + t.bytes().length)
                    .append("]}");
            offset += t.bytes().length;
        }
        h.append('}');
        // Pad the header with spaces to a multiple of 8 bytes so the data is aligned, as the reference writer does.
        byte[] raw = h.toString().getBytes(StandardCharsets.UTF_8);
        byte[] header = Arrays.copyOf(raw, (raw.length + 7) / 8 * 8);
        Arrays.fill(header, raw.length, header.length, (byte) ' ');
        AtomicFiles.write(file, out -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length);
            out.write(len.array());
            out.write(header);
            for (Entry t : tensors.values()) {
                out.write(t.bytes());
            }
        });
    }
}
