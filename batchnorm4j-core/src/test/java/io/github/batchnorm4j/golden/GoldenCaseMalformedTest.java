package io.github.batchnorm4j.golden;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.batchnorm4j.io.SafeTensors;
import io.github.batchnorm4j.io.SafeTensors.MalformedFileException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Malformed golden cases are rejected before they run, with a message naming the file and what is wrong. */
class GoldenCaseMalformedTest {
    @TempDir
    Path dir;

    /** bn2d_train: BatchNorm, x [3, 7, 5, 9], affine, running statistics tracked. */
    private static final String BN = "bn2d_train";

    private String problem(Path file) {
        MalformedFileException e = assertThrows(MalformedFileException.class, () -> GoldenCase.read(file));
        return e.getMessage();
    }

    private Path edit(String name, Consumer<Map<String, String>> md, Consumer<Map<String, SafeTensors.Entry>> t)
            throws IOException {
        return GoldenFiles.edited(name, dir.resolve("case" + GoldenCase.SUFFIX), md, t);
    }

    @Test
    void truncatedFile() throws IOException {
        byte[] all = Files.readAllBytes(GoldenFiles.committed(BN));
        long headerLen = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        Path f = Files.write(dir.resolve("t.safetensors"), Arrays.copyOf(all, (int) (8 + headerLen + 10)));
        assertEquals(f + ": tensor 'x' ends at byte 3780 beyond the data section of 10 bytes (truncated file?)",
                problem(f));
    }

    @Test
    void fileShorterThanTheHeaderLength() throws IOException {
        Path f = Files.write(dir.resolve("s.safetensors"), new byte[] {1, 2, 3});
        assertEquals(f + ": file of 3 bytes is shorter than the 8-byte header length", problem(f));
    }

    @Test
    void badHeaderLength() throws IOException {
        byte[] all = Files.readAllBytes(GoldenFiles.committed(BN));
        ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1_000_000_000_000L);
        Path f = Files.write(dir.resolve("h.safetensors"), all);
        assertEquals(f + ": header length 1000000000000 is invalid for a file of " + all.length + " bytes",
                problem(f));
    }

    @Test
    void missingMetadataKey() throws IOException {
        Path f = edit(BN, md -> md.remove("eps"), null);
        assertEquals(f + ": missing metadata key 'eps'", problem(f));
    }

    @Test
    void missingRunningStatisticsKeyForBatchNorm() throws IOException {
        Path f = edit(BN, md -> md.remove("num_batches_tracked"), null);
        assertEquals(f + ": missing metadata key 'num_batches_tracked'", problem(f));
    }

    @Test
    void missingGroupCount() throws IOException {
        Path f = edit("gn_g3_train", md -> md.remove("num_groups"), null);
        assertEquals(f + ": missing metadata key 'num_groups'", problem(f));
    }

    @Test
    void unknownOp() throws IOException {
        Path f = edit(BN, md -> md.put("op", "batchnorm"), null);
        assertEquals(f + ": metadata 'op': expected batch_norm, layer_norm, group_norm or instance_norm,"
                + " got 'batchnorm'", problem(f));
    }

    @Test
    void invalidMomentum() throws IOException {
        Path f = edit(BN, md -> md.put("momentum", "fast"), null);
        assertEquals(f + ": metadata 'momentum': expected a number in [0, 1] or none, got 'fast'", problem(f));
    }

    @Test
    void invalidBoolean() throws IOException {
        Path f = edit(BN, md -> md.put("training", "yes"), null);
        assertEquals(f + ": metadata 'training': expected true or false, got 'yes'", problem(f));
    }

    @Test
    void nonPositiveEps() throws IOException {
        Path f = edit(BN, md -> md.put("eps", "0"), null);
        assertEquals(f + ": metadata 'eps': expected a positive finite number, got '0'", problem(f));
    }

    @Test
    void layerNormCannotTrackRunningStatistics() throws IOException {
        Path f = edit("ln_last_train", md -> md.put("track_running_stats", "true"), null);
        assertEquals(f + ": metadata 'track_running_stats': expected false for layer_norm (it has no running"
                + " statistics), got 'true'", problem(f));
    }

    @Test
    void groupsMustDivideChannels() throws IOException {
        Path f = edit("gn_g3_train", md -> md.put("num_groups", "4"), null);
        assertEquals(f + ": metadata 'num_groups': expected a divisor of the 6 channels of x, got 4", problem(f));
    }

    @Test
    void channelsLastNeedsFourOrFiveDimensions() throws IOException {
        Path f = edit("bn0d_train", md -> md.put("memory_format", "channels_last"), null);
        assertEquals(f + ": metadata 'memory_format': channels_last needs a 4-D or 5-D x, got x of shape [8, 7]",
                problem(f));
    }

    @Test
    void missingTensor() throws IOException {
        Path f = edit(BN, null, t -> t.remove("grad_y"));
        assertEquals(f + ": missing tensor 'grad_y'", problem(f));
    }

    @Test
    void missingAffineTensorSaysWhyItIsNeeded() throws IOException {
        Path f = edit(BN, null, t -> t.remove("grad_weight"));
        assertEquals(f + ": missing tensor 'grad_weight' (affine is true)", problem(f));
    }

    @Test
    void unexpectedTensor() throws IOException {
        Path f = edit("ln_2d_noaffine_train", null, t -> t.put("weight", SafeTensors.Entry.f32(new float[33], 33)));
        assertEquals(f + ": unexpected tensor 'weight'; with affine=false and track_running_stats=false a layer_norm"
                + " case holds exactly x, grad_y, y, grad_x", problem(f));
    }

    @Test
    void wrongShapeOfAnOutput() throws IOException {
        Path f = edit(BN, null, t -> t.put("y", SafeTensors.Entry.f32(new float[3 * 7 * 5 * 8], 3, 7, 5, 8)));
        assertEquals(f + ": tensor 'y': expected shape [3, 7, 5, 9] (the shape of x), got [3, 7, 5, 8]", problem(f));
    }

    @Test
    void wrongShapeOfAParameter() throws IOException {
        Path f = edit(BN, null, t -> t.put("weight", SafeTensors.Entry.f32(new float[6], 6)));
        assertEquals(f + ": tensor 'weight': expected shape [7], got [6]", problem(f));
    }

    @Test
    void layerNormInputMustEndInTheNormalizedShape() throws IOException {
        Path f = edit("ln_last2_train", md -> md.put("normalized_shape", "5,8"), null);
        assertEquals(f + ": tensor 'x': expected shape [*, 5, 8] (normalized_shape 5,8), got [2, 3, 5, 9]",
                problem(f));
    }

    @Test
    void wrongDtype() throws IOException {
        Path f = edit(BN, null, t -> t.put("running_mean", SafeTensors.Entry.f64(new double[7], 7)));
        assertEquals(f + ": tensor 'running_mean': expected dtype F32, got F64", problem(f));
    }

    @Test
    void nonFiniteValue() throws IOException {
        float[] x = new float[3 * 7 * 5 * 9];
        x[5] = Float.NaN;
        Path f = edit(BN, null, t -> t.put("x", SafeTensors.Entry.f32(x, 3, 7, 5, 9)));
        assertEquals(f + ": tensor 'x': expected finite values, got NaN at index 5", problem(f));
    }
    @Test
    void maskedCaseWithoutItsMask() throws IOException {
        Path f = edit("bn2d_masked_train", null, t -> t.remove("mask"));
        assertEquals(f + ": missing tensor 'mask' (masked is true)", problem(f));
    }

    @Test
    void maskWithTheWrongShapeOrValues() throws IOException {
        Path f = edit("bn2d_masked_train", null, t -> t.put("mask", SafeTensors.Entry.f32(new float[3 * 5 * 4], 3, 5,
                4)));
        assertEquals(f + ": tensor 'mask': expected shape [3, 4, 6], got [3, 5, 4]", problem(f));
        float[] m = new float[3 * 4 * 6];
        java.util.Arrays.fill(m, 1f);
        m[7] = 0.5f;
        Path g = edit("bn2d_masked_train", null, t -> t.put("mask", SafeTensors.Entry.f32(m, 3, 4, 6)));
        assertEquals(g + ": tensor 'mask': expected values 0 or 1, got 0.5 at index 7", problem(g));
    }

    @Test
    void maskInAnUnmaskedCase() throws IOException {
        Path f = edit("bn2d_masked_train", md -> md.remove("masked"), null);
        assertEquals(f + ": unexpected tensor 'mask'; with affine=true and track_running_stats=true a batch_norm case"
                + " holds exactly x, grad_y, weight, bias, running_mean, running_var, y, grad_x, grad_weight,"
                + " grad_bias, running_mean_after, running_var_after", problem(f));
    }
}
