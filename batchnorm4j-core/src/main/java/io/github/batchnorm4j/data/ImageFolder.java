package io.github.batchnorm4j.data;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Labelled images from a folder with one subfolder per class ({@code DIR/<class>/*.png|jpg|jpeg}; the class
 * names are the subfolder names in text order), read with {@code javax.imageio} and converted to the model's
 * input {@code [C, H, W]}: C = 1 takes the luminance ({@code 0.299 R + 0.587 G + 0.114 B}), C = 3 the RGB
 * channels; images of another size are scaled (bilinear). Without a model input the first image decides: its
 * size, and 1 channel when it is grayscale, else 3. A folder holding {@code train/} and {@code test/}, each with
 * the class subfolders, gives both splits. An unreadable image is an error naming the file, or, with
 * {@code skipBad}, skipped and counted. Pixels are kept as bytes and normalised like IDX images.
 */
public final class ImageFolder {
    /** Most images read from one folder (a bound on memory). */
    public static final int MAX_IMAGES = 2_000_000;
    /**
     * Most pixels an image may declare (4096 x 4096), checked from its header before it is decoded: a small file
     * can declare a huge image, and decoding allocates 4 to 8 bytes per declared pixel.
     */
    public static final long MAX_PIXELS = 4096L * 4096;
    /** Most bytes of pixels one split may hold (one Java array). */
    public static final long MAX_BYTES = Integer.MAX_VALUE - 8;

    private ImageFolder() {}

    /** Whether {@code dir} looks like an image folder: a subfolder (or train/ holding one) containing an image. */
    public static boolean looksLike(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        Path base = Files.isDirectory(dir.resolve("train")) ? dir.resolve("train") : dir;
        for (Path sub : subfolders(base)) {
            if (!images(sub).isEmpty()) {
                return true;
            }
        }
        return false;
    }

    /**
     * Reads {@code dir}; {@code shape} is the model's input {@code [C, H, W]} or null, {@code classes} the class
     * names of a trained model (null: from the folder).
     */
    public static DataLocator.Splits read(Path dir, int[] shape, boolean skipBad, List<String> classes)
            throws IOException {
        return read(dir, shape, skipBad, classes, MAX_PIXELS);
    }

    /** {@link #read(Path, int[], boolean, List)} with images of at most {@code maxPixels} pixels. */
    public static DataLocator.Splits read(Path dir, int[] shape, boolean skipBad, List<String> classes,
                                          long maxPixels) throws IOException {
        if (shape != null && (shape.length != 3 || (long) shape[1] * shape[2] > maxPixels)) {
            throw new IllegalArgumentException("Expected a model input [C, H, W] of at most " + maxPixels
                    + " pixels for the images of " + dir + ", got " + java.util.Arrays.toString(shape));
        }
        boolean split = Files.isDirectory(dir.resolve("train")) && Files.isDirectory(dir.resolve("test"));
        Path trainDir = split ? dir.resolve("train") : dir;
        List<String> names = classes;
        if (names == null) {
            names = new ArrayList<>();
            for (Path sub : subfolders(trainDir)) {
                names.add(sub.getFileName().toString());
            }
        }
        if (names.size() < 2) {
            throw new IOException(trainDir + ": expected a subfolder per class (at least 2) holding PNG or JPEG"
                    + " images, got " + names);
        }
        int[][] shapeBox = {shape == null ? null : shape.clone()};
        int[] skipped = {0};
        DataSet train = readSet(trainDir, names, shapeBox, skipBad, skipped, classes != null, maxPixels);
        DataSet test = split ? readSet(dir.resolve("test"), names, shapeBox, skipBad, skipped, true, maxPixels) : null;
        return new DataLocator.Splits(train, test, dir, new DataInfo("images", names, null, null, skipBad, skipped[0]));
    }

    private static DataSet readSet(Path dir, List<String> names, int[][] shape, boolean skipBad, int[] skipped,
                                   boolean fixedClasses, long maxPixels) throws IOException {
        List<Path> subs = subfolders(dir);
        for (Path sub : subs) {
            String n = sub.getFileName().toString();
            if (!names.contains(n)) {
                throw new IOException(sub + ": expected a class folder the model knows " + names + ", got '" + n
                        + "'");
            }
        }
        List<byte[]> items = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (int c = 0; c < names.size(); c++) {
            Path sub = dir.resolve(names.get(c));
            if (!Files.isDirectory(sub)) {
                if (fixedClasses) {
                    continue; // evaluation data need not hold every class
                }
                throw new IOException(sub + ": expected a class folder, got none");
            }
            for (Path img : images(sub)) {
                if (items.size() >= MAX_IMAGES) {
                    throw new IOException(dir + ": expected at most " + MAX_IMAGES + " images, got more");
                }
                BufferedImage im;
                String bad = null;
                try {
                    im = decode(img, maxPixels);
                } catch (TooLarge e) {
                    im = null;
                    bad = e.getMessage();
                } catch (IOException | RuntimeException e) {
                    im = null;
                }
                if (im == null || im.getWidth() <= 0 || im.getHeight() <= 0) {
                    if (skipBad) {
                        skipped[0]++;
                        continue;
                    }
                    throw new IOException(img + ": expected a PNG or JPEG image" + (bad != null ? " of at most "
                            + maxPixels + " pixels, got " + bad : ", got a file javax.imageio cannot read")
                            + " (--skip-bad skips such files)");
                }
                if (shape[0] == null) {
                    boolean gray = im.getColorModel().getNumColorComponents() == 1;
                    shape[0] = new int[] {gray ? 1 : 3, im.getHeight(), im.getWidth()};
                }
                long size = (long) shape[0][0] * shape[0][1] * shape[0][2];
                if ((items.size() + 1) * size > MAX_BYTES) {
                    throw new IOException(dir + ": expected at most " + MAX_BYTES + " bytes of pixels, got more with "
                            + img + " (" + (items.size() + 1) + " images of " + size + " bytes)");
                }
                items.add(pixels(im, shape[0]));
                labels.add(c);
            }
        }
        if (items.isEmpty()) {
            throw new IOException(dir + ": expected PNG or JPEG images in the class folders, got none"
                    + (skipped[0] > 0 ? " (" + skipped[0] + " unreadable skipped)" : ""));
        }
        int[] s = shape[0];
        int size = s[0] * s[1] * s[2];
        byte[] all = new byte[items.size() * size];
        int[] y = new int[items.size()];
        for (int i = 0; i < y.length; i++) {
            System.arraycopy(items.get(i), 0, all, i * size, size);
            y[i] = labels.get(i);
        }
        return DataSet.ofBytes(all, y, s, names.size());
    }

    /** An image whose header declares more pixels than allowed; the message gives its size. */
    private static final class TooLarge extends IOException {
        TooLarge(String message) {
            super(message);
        }
    }

    /**
     * Decodes {@code img} with the first javax.imageio reader that knows its format, after checking the size its
     * header declares; null when no reader knows it.
     */
    private static BufferedImage decode(Path img, long maxPixels) throws IOException {
        try (ImageInputStream in = ImageIO.createImageInputStream(img.toFile())) {
            Iterator<ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
            if (readers == null || !readers.hasNext()) {
                return null;
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                long w = reader.getWidth(0);
                long h = reader.getHeight(0);
                if (w <= 0 || h <= 0) {
                    return null;
                }
                if (w * h > maxPixels) {
                    throw new TooLarge(w + " x " + h);
                }
                return reader.read(0);
            } finally {
                reader.dispose();
            }
        }
    }

    /** The image as {@code [C, H, W]} bytes, scaled to H x W. */
    static byte[] pixels(BufferedImage im, int[] shape) {
        int c = shape[0];
        int h = shape[1];
        int w = shape[2];
        if (c != 1 && c != 3) {
            throw new IllegalArgumentException("Expected a model input of 1 or 3 channels for images, got " + c);
        }
        BufferedImage src = im;
        if (im.getWidth() != w || im.getHeight() != h || im.getType() != BufferedImage.TYPE_INT_RGB) {
            src = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = src.createGraphics();
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.drawImage(im, 0, 0, w, h, null);
            g.dispose();
        }
        byte[] out = new byte[c * h * w];
        boolean gray = im.getType() == BufferedImage.TYPE_BYTE_GRAY && im.getWidth() == w && im.getHeight() == h;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int rgb = src.getRGB(x, y);
                int r = rgb >> 16 & 0xff;
                int gr = rgb >> 8 & 0xff;
                int b = rgb & 0xff;
                if (c == 1) {
                    // A grayscale image at its size keeps its exact values (its raster), others take the luminance.
                    int v = gray ? im.getRaster().getSample(x, y, 0) : (int) Math.round(0.299 * r + 0.587 * gr
                            + 0.114 * b);
                    out[y * w + x] = (byte) Math.min(255, v);
                } else {
                    out[y * w + x] = (byte) r;
                    out[h * w + y * w + x] = (byte) gr;
                    out[2 * h * w + y * w + x] = (byte) b;
                }
            }
        }
        return out;
    }

    private static List<Path> subfolders(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isDirectory).filter(p -> !p.getFileName().toString().startsWith(".")).sorted()
                    .toList();
        }
    }

    private static List<Path> images(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile).filter(p -> {
                String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
                return n.endsWith(".png") || n.endsWith(".jpg") || n.endsWith(".jpeg");
            }).sorted().toList();
        }
    }
}
