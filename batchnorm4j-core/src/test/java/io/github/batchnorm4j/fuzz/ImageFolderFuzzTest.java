package io.github.batchnorm4j.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.github.batchnorm4j.data.ImageFolder;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/**
 * {@link ImageFolder#read} of a folder {@code cat/a.png} (the fuzzed bytes, read first, so it decides the input
 * shape), {@code cat/b.png} and {@code dog/c.jpg} (valid 5x3 images), strict and with {@code --skip-bad}, and with
 * a model input of [1, 8, 8]: loads, or throws an {@link IOException} naming the file. Images are capped at
 * {@value #MAX_PIXELS} pixels for the fuzzer (the product's cap is 4096 x 4096; the check is the same code).
 * Allocation bound: {@value #PER_BYTE} bytes per input byte, plus 48 bytes per pixel of the cap (decoded image,
 * its RGB copy and the [C, H, W] bytes), plus 8 MiB (the image readers and the two valid images).
 */
public class ImageFolderFuzzTest {
    static final long PER_BYTE = 512;
    static final long MAX_PIXELS = 256 * 256;
    private static final Path DIR = folder();

    private static Path folder() {
        try {
            Path dir = FuzzSupport.file("images", new byte[0]).resolveSibling(
                    Thread.currentThread().threadId() + "-image-folder");
            Files.createDirectories(dir.resolve("cat"));
            Files.createDirectories(dir.resolve("dog"));
            BufferedImage im = new BufferedImage(5, 3, BufferedImage.TYPE_INT_RGB);
            for (int k = 0; k < 15; k++) {
                im.setRGB(k % 5, k / 5, k * 0x101010);
            }
            ImageIO.write(im, "png", dir.resolve("cat/b.png").toFile());
            ImageIO.write(im, "jpg", dir.resolve("dog/c.jpg").toFile());
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static void fuzzerTestOneInput(byte[] data) {
        Path f = DIR.resolve("cat/a.png");
        try {
            Files.write(f, data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        FuzzSupport.bounded("ImageFolder.read", data.length, PER_BYTE * 3, 3 * (48 * MAX_PIXELS + (8 << 20)), () -> {
            for (int mode = 0; mode < 3; mode++) {
                try {
                    ImageFolder.read(DIR, mode == 2 ? new int[] {1, 8, 8} : null, mode == 1, null, MAX_PIXELS);
                } catch (IOException e) {
                    FuzzSupport.expectDocumented(e, f, IOException.class);
                }
            }
        });
    }

    @FuzzTest
    void imageFolder(byte[] data) {
        fuzzerTestOneInput(data);
    }
}
