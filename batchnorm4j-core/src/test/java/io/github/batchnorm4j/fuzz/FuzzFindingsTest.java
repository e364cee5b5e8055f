package io.github.batchnorm4j.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.data.CsvTable;
import io.github.batchnorm4j.data.ImageFolder;
import io.github.batchnorm4j.models.ModelBuilder;
import io.github.batchnorm4j.models.ModelFile;
import io.github.batchnorm4j.train.Checkpoint;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/**
 * The fuzzers' findings, each as a plain test of the fixed behaviour (the inputs also stay in the seed corpus as
 * {@code finding-*}, where the fuzz targets' regression mode replays them).
 */
class FuzzFindingsTest {
    static byte[] input(String target, String method, String name) throws IOException {
        try (InputStream in = FuzzFindingsTest.class.getResourceAsStream(target + "Inputs/" + method + "/" + name)) {
            return in.readAllBytes();
        }
    }

    /** A checkpoint with an optimizer slot of an unknown parameter: the message named the slot but not the file. */
    @Test
    void unexpectedOptimizerStateNamesTheCheckpointFile() throws IOException {
        Path f = FuzzSupport.file(Checkpoint.FILE_NAME,
                input("CheckpointFuzzTest", "checkpoint", "finding-unexpected-optimizer-key"));
        IOException e = assertThrows(IOException.class,
                () -> Checkpoint.restore(f, CheckpointFuzzTest.MODEL, CheckpointFuzzTest.OPTIMIZER));
        assertTrue(e.getMessage().startsWith(f + ": Expected optimizer state ["), e.getMessage());
        assertTrue(e.getMessage().contains("got unexpected '2.we*ght.momentum_buffer'"), e.getMessage());
    }

    /** A model file that is not UTF-8: the decoder's exception named neither the file nor the problem. */
    @Test
    void aModelFileThatIsNotUtf8NamesTheFile() throws IOException {
        Path f = FuzzSupport.file("model.json", input("ModelFileFuzzTest", "modelFile", "finding-not-utf8"));
        IOException e = assertThrows(IOException.class, () -> ModelFile.read(f));
        assertTrue(e.getMessage().equals(f + ": expected a model file in UTF-8, got bytes that are not UTF-8"),
                e.getMessage());
    }

    /** A few bytes of JSON asking for 13 billion weights are refused before anything is allocated. */
    @Test
    void aModelFileAskingForTooManyParametersIsRefusedBeforeAllocating() {
        byte[] text = "{\"layers\": [{\"type\": \"linear\", \"out\": 16777216}]}".getBytes(StandardCharsets.UTF_8);
        ModelFile mf = ModelFile.parse(new String(text, StandardCharsets.UTF_8), "big.json");
        FuzzSupport.bounded("a huge linear layer", text.length, 2048, 4 << 20, () -> {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> mf.build(new ModelBuilder.Options(new int[] {784}, 10, new SplittableRandom(1))));
            assertTrue(e.getMessage().startsWith("big.json: $.layers[0]: expected a model of at most 268435456"
                    + " parameters and buffers, got more with this layer (13170114560 for it)"), e.getMessage());
        });
    }

    /** An input of three dimensions of 2^24 overflowed the flattened size; now it is refused by name. */
    @Test
    void anInputShapeBeyondTheItemBoundIsRefused() {
        ModelFile mf = ModelFile.parse("{\"input\": [16777216, 16777216, 16777216], \"layers\": [{\"type\":"
                + " \"flatten\"}]}", "wide.json");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> mf.build(new ModelBuilder.Options(null, 10, new SplittableRandom(1))));
        assertTrue(e.getMessage().startsWith("wide.json: $.input: expected at most 67108864 values per item"),
                e.getMessage());
    }

    /** A CSV file that is not UTF-8: the decoder's exception named neither the file nor the problem. */
    @Test
    void aCsvFileThatIsNotUtf8NamesTheFile() {
        byte[] data = {'x', ',', 'l', 'a', 'b', 'e', 'l', '\n', '1', ',', (byte) 0xe9, '\n'};
        Path f = FuzzSupport.file("t.csv", data);
        IOException e = assertThrows(IOException.class, () -> CsvTable.read(f, "label", false, null, null));
        assertTrue(e.getMessage().equals(f + ": expected UTF-8 text, got bytes that are not UTF-8"), e.getMessage());
    }

    /**
     * A field of one letter followed by many quote characters: each quote used to copy the field so far to test
     * whether it was blank, quadratic in the line length (a 1 MB line took minutes). Now the reader stays within
     * the fuzz target's allocation bound (and the quotes stay part of the label, as RFC 4180 has it for a field
     * that does not start with one).
     */
    @Test
    void manyQuotesInAnUnquotedFieldStayLinear() {
        StringBuilder b = new StringBuilder("x,label\n1,a\n2,b\n3,x");
        b.append("\"".repeat(200_000)).append('\n');
        byte[] data = b.toString().getBytes(StandardCharsets.UTF_8);
        Path f = FuzzSupport.file("q.csv", data);
        FuzzSupport.bounded("a field of quotes", data.length, CsvTableFuzzTest.PER_BYTE, 1 << 20, () -> {
            try {
                assertEquals(3, CsvTable.read(f, "label", false, null, null).info().classes().size());
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        });
    }

    /** A 70-byte PNG whose header declares 60000 x 60000 pixels is refused from its header, not decoded. */
    @Test
    void anImageDeclaringTooManyPixelsIsRefusedBeforeDecoding() throws IOException {
        BufferedImage im = new BufferedImage(2, 2, BufferedImage.TYPE_INT_RGB);
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(im, "png", png);
        byte[] bytes = png.toByteArray();
        ByteBuffer bb = ByteBuffer.wrap(bytes); // signature (8), IHDR length (4), "IHDR" (4), width, height, ...
        bb.putInt(16, 60000).putInt(20, 60000);
        CRC32 crc = new CRC32();
        crc.update(bytes, 12, 17);
        bb.putInt(29, (int) crc.getValue());
        Path dir = Files.createTempDirectory("bn4j-big-image");
        Files.createDirectories(dir.resolve("a"));
        Files.createDirectories(dir.resolve("b"));
        Files.write(dir.resolve("a/big.png"), bytes);
        ImageIO.write(im, "png", dir.resolve("b/ok.png").toFile());
        FuzzSupport.bounded("a huge declared image", bytes.length, 512, 8 << 20, () -> {
            IOException e = assertThrows(IOException.class, () -> ImageFolder.read(dir, null, false, null));
            assertTrue(e.getMessage().equals(dir.resolve("a/big.png") + ": expected a PNG or JPEG image of at most "
                    + ImageFolder.MAX_PIXELS + " pixels, got 60000 x 60000 (--skip-bad skips such files)"),
                    e.getMessage());
        });
    }
}
